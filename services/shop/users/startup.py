"""What the users service sets up as it starts: its settings, password hashing, the
admin account, and its signing keys; and the typed accessors routes read them with."""

from __future__ import annotations

import datetime
import logging
import uuid
from typing import TypeVar

from evp.eventstore import Repository
from evp.service import ServiceRuntime
from evp.web import KeySet, Role, TokenIssuer
from shop.users import accounts
from shop.users.accounts import Account
from shop.users.domain import User
from shop.users.keys import load_or_create_keys
from shop.users.passwords import Passwords
from shop.users.settings import UsersSettings

__all__ = [
    "configure",
    "create_admin",
    "load_keys",
    "passwords_of",
    "settings_of",
    "signing_keys_of",
    "token_issuer_of",
]

_log = logging.getLogger("shop.users")

T = TypeVar("T")


async def configure(runtime: ServiceRuntime) -> None:
    """Read the settings and get password hashing ready."""
    runtime.state["settings"] = UsersSettings.from_env()
    runtime.state["passwords"] = await Passwords.start()


async def create_admin(runtime: ServiceRuntime) -> None:
    """Create the admin account of the settings, once across restarts and replicas."""
    settings = settings_of(runtime)
    if settings.admin_password is None:
        _log.info(
            "users: no admin account is created: set USERS_ADMIN_PASSWORD (and "
            "USERS_ADMIN_EMAIL, now %s) and restart to create one",
            settings.admin_email,
        )
        return
    async with runtime.recorder.pool.acquire() as connection:
        existing = await accounts.find_by_email(connection, settings.admin_email)
    if existing is not None:
        if existing.role is not Role.ADMIN:
            # Promoting it would hand admin rights to whoever registered that address.
            _log.warning(
                "users: %s belongs to a customer account; no admin account is created",
                settings.admin_email,
            )
        return
    password_hash = await passwords_of(runtime).hash(settings.admin_password.reveal())
    admin = User.register(uuid.uuid4(), settings.admin_email, settings.admin_name)
    account = Account(admin.user_id, admin.email, password_hash, Role.ADMIN)
    async with runtime.store.transaction() as transaction:
        # A replica starting at the same time may have won: then nothing is stored here.
        created = await accounts.insert_unless_taken(transaction.connection, account)
        if created:
            await Repository(runtime.store, User).save(admin, transaction=transaction)
    if created:
        _log.info("users: created the admin account %s", settings.admin_email)


async def load_keys(runtime: ServiceRuntime) -> KeySet:
    """The signing keys (created at first start), and the token issuer signing with them."""
    keys = await load_or_create_keys(runtime.recorder.pool)
    runtime.state["keys"] = keys
    runtime.state["issuer"] = TokenIssuer(
        keys,
        issuer=runtime.settings.token_issuer,
        audience=runtime.settings.token_audience,
        expires_in=datetime.timedelta(seconds=settings_of(runtime).token_ttl_s),
    )
    return keys


def settings_of(runtime: ServiceRuntime) -> UsersSettings:
    """The users settings read at start."""
    return _state(runtime, "settings", UsersSettings)


def passwords_of(runtime: ServiceRuntime) -> Passwords:
    """The password hasher made at start."""
    return _state(runtime, "passwords", Passwords)


def signing_keys_of(runtime: ServiceRuntime) -> KeySet:
    """The keys tokens are signed with."""
    return _state(runtime, "keys", KeySet)


def token_issuer_of(runtime: ServiceRuntime) -> TokenIssuer:
    """The issuer of access tokens."""
    return _state(runtime, "issuer", TokenIssuer)


def _state(runtime: ServiceRuntime, name: str, kind: type[T]) -> T:
    found = runtime.state.get(name)
    if not isinstance(found, kind):
        raise RuntimeError(f"the users service has no {name}: its start-up did not run")
    return found
