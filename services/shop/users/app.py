"""The users service: accounts and credentials, the access tokens every service trusts,
and the public keys that verify them."""

from __future__ import annotations

from evp.events import EmailChanged, ProfileUpdated, UserLoggedIn, UserRegistered
from evp.service import Service
from shop.users import routes, startup
from shop.users.tables import MIGRATIONS, MIGRATIONS_COMPONENT

__all__ = ["service"]

service = Service(
    "users",
    publishes=(UserRegistered, EmailChanged, ProfileUpdated, UserLoggedIn),
    description=(
        "Customer and admin accounts (event-sourced), passwords hashed with argon2, "
        "EdDSA access tokens and the JWKS document that verifies them."
    ),
)
service.migrate(MIGRATIONS_COMPONENT, MIGRATIONS)
service.include(routes.router)
service.on_startup(startup.configure)
service.on_startup(startup.create_admin)
service.signs_tokens(startup.load_keys)
