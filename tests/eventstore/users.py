"""The brief's example in the aggregate pattern: a user registers, then changes email."""

from __future__ import annotations

import uuid

from evp.events import EmailChanged, UserRegistered
from evp.eventstore import Aggregate

SOURCE = "users"


class EmailUnchanged(ValueError):
    """The new email address is the current one."""


class User(Aggregate[UserRegistered | EmailChanged]):
    """A user account: its email address and display name."""

    EVENTS = (UserRegistered, EmailChanged)

    def __init__(self, aggregate_id: str) -> None:
        super().__init__(aggregate_id)
        self.email = ""
        self.display_name = ""

    @classmethod
    def register(cls, user_id: uuid.UUID, email: str, display_name: str) -> User:
        """A new account."""
        user = cls(str(user_id))
        user.trigger(
            UserRegistered.new(
                user_id=user_id, email=email, display_name=display_name, source=SOURCE
            )
        )
        return user

    def change_email(self, new_email: str) -> None:
        """Move the account to ``new_email``; it must differ from the current address."""
        if new_email == self.email:
            raise EmailUnchanged(new_email)
        self.trigger(
            EmailChanged.new(
                user_id=uuid.UUID(self.id),
                previous_email=self.email,
                new_email=new_email,
                source=SOURCE,
            )
        )

    def apply(self, event: UserRegistered | EmailChanged) -> None:
        """Fold one event into the account's state."""
        match event:
            case UserRegistered():
                self.email = event.email
                self.display_name = event.display_name
            case EmailChanged():
                self.email = event.new_email
