"""The users service's HTTP API: accounts, access tokens, the caller's profile and history,
and the public keys other services verify tokens with."""

from __future__ import annotations

import datetime
import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request, Response
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, StringConstraints

from evp.eventstore import ConcurrencyError, Repository
from evp.postgres.migrations import AnyConnection
from evp.service import ServiceRuntime, current_runtime
from evp.web import CurrentUser, NotFound, RateLimited, Role, Unauthorized
from evp.web.auth import JWKS_PATH
from shop.api import NO_NUL
from shop.users import accounts
from shop.users.accounts import Account
from shop.users.domain import MAX_EMAIL_LENGTH, MAX_NAME_LENGTH, User, normalize_email, stream_of
from shop.users.settings import UsersSettings
from shop.users.startup import passwords_of, settings_of, signing_keys_of, token_issuer_of

__all__ = ["router"]

Runtime = Annotated[ServiceRuntime, Depends(current_runtime)]

MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 128
_LOGIN_ATTEMPTS = 5
"""Times a login retries recording itself when another login of the user won the append."""
_MAX_USER_AGENT_LENGTH = 512


def _password_length(password: SecretStr) -> SecretStr:
    length = len(password.get_secret_value())
    if not MIN_PASSWORD_LENGTH <= length <= MAX_PASSWORD_LENGTH:
        raise ValueError(
            f"a password has {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters"
        )
    return password


Email = Annotated[
    str,
    Field(max_length=MAX_EMAIL_LENGTH + 64, pattern=NO_NUL, examples=["ada@example.com"]),
    AfterValidator(normalize_email),
]
"""An email address, trimmed and lower-cased (one address, one account)."""
Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_NAME_LENGTH)
]
Password = Annotated[SecretStr, AfterValidator(_password_length)]


class NewUser(BaseModel):
    """An account to create."""

    model_config = ConfigDict(extra="forbid")

    email: Email
    password: Password
    name: Name


class UserOut(BaseModel):
    """An account as others may see it."""

    user_id: uuid.UUID
    email: str
    name: str


class Me(UserOut):
    """The caller's own account."""

    role: Role


class Credentials(BaseModel):
    """An email and password to exchange for an access token."""

    model_config = ConfigDict(extra="forbid")

    email: Annotated[str, Field(min_length=1, max_length=MAX_EMAIL_LENGTH + 64, pattern=NO_NUL)]
    password: Annotated[SecretStr, Field(min_length=1, max_length=1024)]


class TokenOut(BaseModel):
    """An OAuth 2 token response: a bearer JWT and its lifetime in seconds."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


class ProfileChange(BaseModel):
    """What to change of the caller's account; what is left out stays as it is."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    email: Email | None = None


class HistoryEntry(BaseModel):
    """One event of the caller's account."""

    event_type: str
    at: datetime.datetime
    version: int
    data: dict[str, Any]


router = APIRouter(tags=["users"])


@router.post(
    "/users",
    status_code=201,
    summary="Create a customer account",
    responses={409: {"description": "The email address has an account"}},
)
async def register(body: NewUser, runtime: Runtime) -> UserOut:
    """Store the account's credentials and its UserRegistered event, together."""
    async with runtime.recorder.pool.acquire() as connection:
        # Spares hashing for the common case; the unique email decides the race below.
        if await accounts.find_by_email(connection, body.email) is not None:
            raise accounts.EmailTaken(body.email)
    password_hash = await passwords_of(runtime).hash(body.password.get_secret_value())
    user = User.register(uuid.uuid4(), body.email, body.name)
    account = Account(user.user_id, user.email, password_hash, Role.CUSTOMER)
    async with runtime.store.transaction() as transaction:
        await accounts.insert(transaction.connection, account)
        await Repository(runtime.store, User).save(user, transaction=transaction)
    return UserOut(user_id=user.user_id, email=user.email, name=user.name)


@router.post(
    "/auth/token",
    summary="Exchange an email and password for an access token",
    responses={
        401: {"description": "The email or password is wrong"},
        429: {
            "description": "Too many failed logins for this email, or from this client"
            " address; see Retry-After"
        },
    },
)
async def issue_token(body: Credentials, request: Request, runtime: Runtime) -> TokenOut:
    """A bearer token for the account; each success stores UserLoggedIn."""
    settings = settings_of(runtime)
    email = body.email.strip().lower()
    address = request.client.host if request.client else None
    async with runtime.recorder.pool.acquire() as connection:
        await _check_login_limits(connection, settings, email, address)
        account = await accounts.find_by_email(connection, email)
    # Verified even when the account is unknown (against a decoy hash): same answer,
    # similar time, so neither tells whether an address has an account.
    stored_hash = account.password_hash if account is not None else None
    verified = await passwords_of(runtime).verify(stored_hash, body.password.get_secret_value())
    if account is None or not verified:
        async with runtime.recorder.pool.acquire() as connection:
            await accounts.record_failure(
                connection, email, window_s=settings.login_window_s, address=address
            )
        raise Unauthorized("the email address or the password is wrong", token_given=False)
    await _record_login(runtime, account, request)
    token = token_issuer_of(runtime).issue(account.user_id, account.email, account.role)
    return TokenOut(access_token=token.access_token, expires_in=token.expires_in)


async def _check_login_limits(
    connection: AnyConnection, settings: UsersSettings, email: str, address: str | None
) -> None:
    """:class:`RateLimited` when the email, or the client address, failed too often lately."""
    email_wait = await accounts.login_retry_after(
        connection,
        email,
        max_failures=settings.login_max_failures,
        window_s=settings.login_window_s,
    )
    address_wait = (
        None
        if address is None
        else await accounts.address_retry_after(
            connection,
            address,
            max_failures=settings.login_address_max_failures,
            window_s=settings.login_window_s,
        )
    )
    # When both limits hold, the caller must wait for the later of them.
    if address_wait is not None and (email_wait is None or address_wait > email_wait):
        raise RateLimited(
            "too many failed logins from this client address", retry_after=address_wait
        )
    if email_wait is not None:
        raise RateLimited("too many failed logins for this email address", retry_after=email_wait)


async def _record_login(runtime: ServiceRuntime, account: Account, request: Request) -> None:
    repository = Repository(runtime.store, User)
    agent = request.headers.get("user-agent")
    for attempt in range(1, _LOGIN_ATTEMPTS + 1):
        user = await repository.get(stream_of(account.user_id))
        user.log_in(
            ip_address=request.client.host if request.client else None,
            user_agent=agent[:_MAX_USER_AGENT_LENGTH] if agent else None,
        )
        try:
            async with runtime.store.transaction() as transaction:
                await accounts.clear_failures(transaction.connection, account.email)
                await repository.save(user, transaction=transaction)
        except ConcurrencyError:
            # Two logins of one user at once: both succeed, one after the other.
            if attempt == _LOGIN_ATTEMPTS:
                raise
        else:
            return


@router.get("/users/me", summary="The caller's account", responses={404: {}})
async def get_me(principal: CurrentUser, runtime: Runtime) -> Me:
    """The caller's account, folded from its events."""
    user, account = await _load(runtime, principal.user_id)
    return _me(user, account)


@router.patch(
    "/users/me",
    summary="Change the caller's name or email address",
    responses={404: {}, 409: {"description": "The new email address has an account"}},
)
async def update_me(body: ProfileChange, principal: CurrentUser, runtime: Runtime) -> Me:
    """Store ProfileUpdated for a new name and EmailChanged for a new address; nothing
    when nothing changes."""
    user, account = await _load(runtime, principal.user_id)
    previous_email = user.email
    user.update(name=body.name, email=body.email)
    if user.pending_events:
        async with runtime.store.transaction() as transaction:
            if user.email != previous_email:
                await accounts.change_email(transaction.connection, user.user_id, user.email)
            await Repository(runtime.store, User).save(user, transaction=transaction)
    return _me(user, account)


@router.get(
    "/users/me/history", summary="The caller's account events, oldest first", responses={404: {}}
)
async def my_history(principal: CurrentUser, runtime: Runtime) -> list[HistoryEntry]:
    """Every event of the caller's account, each with its fields but not its envelope."""
    recorded = await runtime.store.history(stream_of(principal.user_id))
    if not recorded:
        raise NotFound("user", principal.user_id)
    return [
        HistoryEntry(
            event_type=r.event.envelope.event_type,
            at=r.event.envelope.timestamp,
            version=r.stream_version,
            data={k: v for k, v in r.event.to_avro().items() if k != "envelope"},
        )
        for r in recorded
    ]


@router.get(JWKS_PATH, tags=["auth"], summary="The public keys that verify access tokens")
async def jwks(runtime: Runtime, response: Response) -> dict[str, Any]:
    """The signing keys' public halves (a JWKS document), for every other service."""
    # Short enough that a new key is picked up soon; verifiers refetch on unknown kids anyway.
    response.headers["Cache-Control"] = "public, max-age=300"
    return signing_keys_of(runtime).jwks_document()


async def _load(runtime: ServiceRuntime, user_id: uuid.UUID) -> tuple[User, Account]:
    """The caller's account; 404 when this service does not hold it."""
    events = await runtime.store.load(stream_of(user_id))
    async with runtime.recorder.pool.acquire() as connection:
        account = await accounts.find(connection, user_id)
    if not events or account is None:
        raise NotFound("user", user_id)
    return User.replay(stream_of(user_id), events), account


def _me(user: User, account: Account) -> Me:
    return Me(user_id=user.user_id, email=user.email, name=user.name, role=account.role)
