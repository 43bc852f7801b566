"""NotificationsSettings from the environment: defaults, the SMTP server, bad values."""

from __future__ import annotations

import pytest

from evp.settings import SettingsError
from shop.notifications.settings import NotificationsSettings


def test_no_smtp_host_means_the_embedded_sink() -> None:
    """With nothing set, mail goes to the sink from shop@shop.local."""
    settings = NotificationsSettings.from_env({})
    assert settings.smtp is None
    assert settings.sender == "shop@shop.local"
    assert settings.max_attempts == 5


def test_an_smtp_server_is_read_and_its_password_never_printed() -> None:
    """Host, port, credentials and STARTTLS are read; the password shows as ***."""
    settings = NotificationsSettings.from_env(
        {
            "NOTIFICATIONS_SMTP_HOST": "mail.example.org",
            "NOTIFICATIONS_SMTP_PORT": "587",
            "NOTIFICATIONS_SMTP_USERNAME": "shop",
            "NOTIFICATIONS_SMTP_PASSWORD": "hunter2",
            "NOTIFICATIONS_SMTP_STARTTLS": "true",
        }
    )
    smtp = settings.smtp
    assert smtp is not None
    assert (smtp.host, smtp.port, smtp.username, smtp.starttls) == (
        "mail.example.org",
        587,
        "shop",
        True,
    )
    assert smtp.password is not None
    assert smtp.password.reveal() == "hunter2"
    assert "hunter2" not in repr(settings)


@pytest.mark.parametrize(
    ("environ", "key"),
    [
        ({"NOTIFICATIONS_SMTP_HOST": "h", "NOTIFICATIONS_SMTP_USERNAME": "u"}, "SMTP_PASSWORD"),
        ({"NOTIFICATIONS_SMTP_HOST": "h", "NOTIFICATIONS_SMTP_PORT": "70000"}, "SMTP_PORT"),
        ({"NOTIFICATIONS_SMTP_FROM": "not an address"}, "SMTP_FROM"),
        ({"NOTIFICATIONS_MAX_ATTEMPTS": "0"}, "MAX_ATTEMPTS"),
    ],
)
def test_a_bad_setting_fails_naming_it(environ: dict[str, str], key: str) -> None:
    """A malformed or incomplete value raises SettingsError naming the variable."""
    with pytest.raises(SettingsError) as caught:
        NotificationsSettings.from_env(environ)
    assert caught.value.key == f"NOTIFICATIONS_{key}"
