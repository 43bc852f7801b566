"""Credentials that never print: a secret value, HTTP basic credentials, and URLs without them.

A URL may carry ``user:password@`` (``https://ci:s3cret@registry:8081``). Settings move
such credentials out of the URL with :func:`split_credentials`, so the rest of the code
holds a URL it can log; anything that prints or logs a URL it did not get from settings
passes it through :func:`redact_url` first. Imports nothing of the runtime, so that
settings, clients and command-line tools can all use it.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import final
from urllib.parse import unquote, urlsplit, urlunsplit

__all__ = ["BasicCredentials", "Secret", "mask_password", "redact_url", "split_credentials"]

MASK = "***"


@final
class Secret:
    """A string that shows as ``***`` in ``repr``, ``str`` and f-strings; :meth:`reveal` it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The secret itself, for the one call that must send it."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret({MASK!r})"

    def __str__(self) -> str:
        return MASK

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class BasicCredentials:
    """A user and password for HTTP basic authentication; prints as ``user:***``."""

    user: str
    password: Secret

    @classmethod
    def parse(cls, user_info: str) -> BasicCredentials:
        """``user:password`` (Confluent's ``basic.auth.user.info``); the password may hold ``:``.

        Raises :class:`ValueError` whose message never quotes ``user_info``.
        """
        user, colon, password = user_info.partition(":")
        if not colon or not user:
            raise ValueError("expected user:password")
        return cls(user, Secret(password))

    def user_info(self) -> str:
        """``user:password`` with the password revealed, for the HTTP client's configuration."""
        return f"{self.user}:{self.password.reveal()}"

    def __str__(self) -> str:
        return f"{self.user}:{MASK}"


def split_credentials(url: str) -> tuple[str, BasicCredentials | None]:
    """``url`` without its ``user:password@`` part, and those credentials (percent-decoded)."""
    scheme, separator, rest = url.partition("://")
    if not separator:
        scheme, rest = "", url
    # The authority ends at the first "/", "?" or "#"; a password may hold "@" only encoded,
    # but take the last "@" anyway, as browsers do.
    end = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    authority, path = rest[:end], rest[end:]
    user_info, at, host = authority.rpartition("@")
    if not at:
        return url, None
    stripped = f"{scheme}{separator}{host}{path}"
    user, _, password = user_info.partition(":")
    if not user:
        return stripped, None
    return stripped, BasicCredentials(unquote(user), Secret(unquote(password)))


def redact_url(url: str) -> str:
    """``url`` without any ``user:password@``, fit for logs, errors and command output."""
    return split_credentials(url)[0]


def mask_password(url: str) -> str:
    """``url`` with any password in it replaced by ``***``, the user kept (which database
    account, not its secret: for descriptions like ``evp up``'s state file)."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    user = parts.username or ""
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))
