"""Bearer-token authentication: the users service's keys, tokens, and route access levels."""

from evp.web.auth.access import (
    VERIFIER_STATE,
    Access,
    CurrentAdmin,
    CurrentUser,
    require_admin,
    require_user,
    route_access,
)
from evp.web.auth.jwks import JWKS_PATH, RemoteJwks, jwks_router
from evp.web.auth.keys import ALGORITHM, KeySet, SigningKey
from evp.web.auth.tokens import (
    AccessToken,
    KeySource,
    LocalKeys,
    Principal,
    Role,
    TokenIssuer,
    TokenVerifier,
)

__all__ = [
    "ALGORITHM",
    "JWKS_PATH",
    "VERIFIER_STATE",
    "Access",
    "AccessToken",
    "CurrentAdmin",
    "CurrentUser",
    "KeySet",
    "KeySource",
    "LocalKeys",
    "Principal",
    "RemoteJwks",
    "Role",
    "SigningKey",
    "TokenIssuer",
    "TokenVerifier",
    "jwks_router",
    "require_admin",
    "require_user",
    "route_access",
]
