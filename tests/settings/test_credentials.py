"""Secrets that never print, basic credentials, and URLs with their credentials taken out."""

from __future__ import annotations

import pytest

from evp.credentials import BasicCredentials, Secret, redact_url, split_credentials


def test_secret_prints_as_a_mask() -> None:
    """repr, str and f-strings of a Secret show *** and never the value."""
    secret = Secret("s3cret")
    assert (repr(secret), str(secret), f"{secret}") == ("Secret('***')", "***", "***")
    assert secret.reveal() == "s3cret"


def test_basic_credentials_print_the_user_only() -> None:
    """str and repr of credentials name the user and mask the password."""
    credentials = BasicCredentials.parse("ci:s3cret")
    assert str(credentials) == "ci:***"
    assert "s3cret" not in repr(credentials)
    assert credentials.user_info() == "ci:s3cret"


def test_user_info_password_may_hold_colons() -> None:
    """Only the first colon separates user and password, as in Confluent's client."""
    assert BasicCredentials.parse("ci:a:b").password.reveal() == "a:b"


@pytest.mark.parametrize("user_info", ["s3cret", ":s3cret"])
def test_malformed_user_info_error_does_not_quote_it(user_info: str) -> None:
    """A value without user or colon is refused without repeating it."""
    with pytest.raises(ValueError, match="expected user:password") as raised:
        BasicCredentials.parse(user_info)
    assert "s3cret" not in str(raised.value)


def test_credentials_are_split_out_of_a_url() -> None:
    """user:password@ leaves the URL and comes back percent-decoded."""
    url, credentials = split_credentials("https://ci:p%40ss@registry:8081/base?x=1")
    assert url == "https://registry:8081/base?x=1"
    assert credentials == BasicCredentials("ci", Secret("p@ss"))


def test_a_url_without_credentials_is_unchanged() -> None:
    """No userinfo: the URL as given, and no credentials."""
    assert split_credentials("http://registry:8081") == ("http://registry:8081", None)


@pytest.mark.parametrize(
    ("url", "redacted"),
    [
        ("https://ci:s3cret@registry:8081", "https://registry:8081"),
        ("https://ci@registry/path@x", "https://registry/path@x"),
        ("ci:s3cret@registry:8081", "registry:8081"),
        ("http://[::1]:8081/", "http://[::1]:8081/"),
    ],
)
def test_redacted_urls_hold_no_userinfo(url: str, redacted: str) -> None:
    """redact_url drops the userinfo and keeps host, port and path."""
    assert redact_url(url) == redacted
