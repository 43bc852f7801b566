"""The user aggregate, email rules and settings, without a database."""

from __future__ import annotations

import uuid

import pytest

from evp.events import EmailChanged, ProfileUpdated, UserLoggedIn, UserRegistered
from evp.settings import SettingsError
from shop.users.domain import User, normalize_email, stream_of
from shop.users.settings import UsersSettings


def _registered() -> User:
    user = User.register(uuid.uuid4(), "ada@example.com", "Ada")
    user.mark_saved()
    return user


def test_registering_emits_user_registered_with_the_name_as_display_name() -> None:
    """A new account's one event carries its email and its name as display_name."""
    user_id = uuid.uuid4()
    user = User.register(user_id, "ada@example.com", "Ada")
    (event,) = user.pending_events
    assert isinstance(event, UserRegistered)
    assert (event.user_id, event.email, event.display_name) == (user_id, "ada@example.com", "Ada")
    assert user.id == stream_of(user_id)


def test_an_update_emits_one_event_per_changed_field() -> None:
    """A new name is ProfileUpdated and a new email EmailChanged from the old address."""
    user = _registered()
    user.update(name="Ada L.", email="ada@lovelace.org")
    updated, changed = user.pending_events
    assert isinstance(updated, ProfileUpdated)
    assert (updated.display_name, updated.changed_fields) == ("Ada L.", ["display_name"])
    assert isinstance(changed, EmailChanged)
    assert (changed.previous_email, changed.new_email) == ("ada@example.com", "ada@lovelace.org")
    assert (user.name, user.email) == ("Ada L.", "ada@lovelace.org")


def test_an_update_to_the_same_values_emits_nothing() -> None:
    """Nothing new, nothing stored."""
    user = _registered()
    user.update(name="Ada", email="ada@example.com")
    user.update()
    assert user.pending_events == ()


def test_replaying_the_events_rebuilds_the_account() -> None:
    """The state is the fold of the stream, logins included."""
    user = User.register(uuid.uuid4(), "ada@example.com", "Ada")
    user.update(email="ada@lovelace.org")
    user.log_in(ip_address="127.0.0.1", user_agent=None)
    replayed = User.replay(user.id, user.pending_events)
    assert isinstance(user.pending_events[-1], UserLoggedIn)
    assert (replayed.email, replayed.name, replayed.version) == ("ada@lovelace.org", "Ada", 3)


@pytest.mark.parametrize("text", ["Ada@Example.COM ", " ada@example.com"])
def test_an_email_is_trimmed_and_lower_cased(text: str) -> None:
    """One address, whatever its case, is one account."""
    assert normalize_email(text) == "ada@example.com"


@pytest.mark.parametrize("text", ["", "ada", "ada@", "@example.com", "ada@example", "a b@c.de"])
def test_a_malformed_email_is_refused(text: str) -> None:
    """Something not shaped like an address is a ValueError."""
    with pytest.raises(ValueError, match="not an email address"):
        normalize_email(text)


def test_settings_have_defaults() -> None:
    """With nothing set: tokens live an hour, 5 failures in 300 s, no admin password."""
    settings = UsersSettings.from_env({})
    assert settings.token_ttl_s == 3600
    assert (settings.login_max_failures, settings.login_window_s) == (5, 300.0)
    assert (settings.admin_email, settings.admin_password) == ("admin@shop.local", None)


def test_a_bad_setting_is_named() -> None:
    """A malformed variable fails with an error naming it."""
    with pytest.raises(SettingsError, match="USERS_LOGIN_MAX_FAILURES"):
        UsersSettings.from_env({"USERS_LOGIN_MAX_FAILURES": "many"})


def test_the_admin_password_does_not_print() -> None:
    """The settings' repr masks the admin password."""
    settings = UsersSettings.from_env({"USERS_ADMIN_PASSWORD": "hunter2-hunter2"})
    assert "hunter2" not in repr(settings)
    assert settings.admin_password is not None
    assert settings.admin_password.reveal() == "hunter2-hunter2"
