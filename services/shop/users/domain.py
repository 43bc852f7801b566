"""The user account as an event-sourced aggregate, and the rules its fields follow."""

from __future__ import annotations

import re
import uuid

from evp.events import EmailChanged, LoginMethod, ProfileUpdated, UserLoggedIn, UserRegistered
from evp.eventstore import Aggregate

__all__ = [
    "MAX_EMAIL_LENGTH",
    "MAX_NAME_LENGTH",
    "SOURCE",
    "User",
    "UserEvent",
    "normalize_email",
    "stream_of",
]

SOURCE = "users"
MAX_EMAIL_LENGTH = 254
MAX_NAME_LENGTH = 100

UserEvent = UserRegistered | EmailChanged | ProfileUpdated | UserLoggedIn

# Deliberately loose (one @, a dot in the domain, no spaces): the only real check of an
# address is mail reaching it, which is the notifications service's business.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$")


def normalize_email(text: str) -> str:
    """``text`` as an account's email: trimmed and lower-cased, so one address is one account.

    Raises :class:`ValueError` when it is not shaped like an address.
    """
    email = text.strip().lower()
    if len(email) > MAX_EMAIL_LENGTH or not _EMAIL.match(email):
        raise ValueError("not an email address")
    return email


def stream_of(user_id: uuid.UUID) -> str:
    """The event stream of one user."""
    return f"user-{user_id}"


class User(Aggregate[UserEvent]):
    """A user account: its email address and display name (credentials live elsewhere)."""

    EVENTS = (UserRegistered, EmailChanged, ProfileUpdated, UserLoggedIn)

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.user_id = uuid.UUID(int=0)
        self.email = ""
        self.name = ""

    @classmethod
    def register(cls, user_id: uuid.UUID, email: str, name: str) -> User:
        """A new account."""
        user = cls(stream_of(user_id))
        user.trigger(
            UserRegistered.new(user_id=user_id, email=email, display_name=name, source=SOURCE)
        )
        return user

    def update(self, *, name: str | None = None, email: str | None = None) -> None:
        """Change what differs of ``name`` and ``email``; what is unchanged emits nothing."""
        if name is not None and name != self.name:
            self.trigger(
                ProfileUpdated.new(
                    user_id=self.user_id,
                    display_name=name,
                    changed_fields=["display_name"],
                    source=SOURCE,
                )
            )
        if email is not None and email != self.email:
            self.trigger(
                EmailChanged.new(
                    user_id=self.user_id,
                    previous_email=self.email,
                    new_email=email,
                    source=SOURCE,
                )
            )

    def log_in(self, *, ip_address: str | None, user_agent: str | None) -> None:
        """Record a successful sign-in with a password."""
        self.trigger(
            UserLoggedIn.new(
                user_id=self.user_id,
                method=LoginMethod.PASSWORD,
                ip_address=ip_address,
                user_agent=user_agent,
                source=SOURCE,
            )
        )

    def apply(self, event: UserEvent) -> None:
        """Fold one event into the account's state."""
        match event:
            case UserRegistered():
                self.user_id = event.user_id
                self.email = event.email
                self.name = event.display_name
            case EmailChanged():
                self.email = event.new_email
            case ProfileUpdated():
                if event.display_name is not None:
                    self.name = event.display_name
            case UserLoggedIn():
                pass
