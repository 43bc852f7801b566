"""What the users service reads from the environment (``USERS_*``), once, at start-up."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from evp.credentials import Secret
from evp.settings import SettingsError, env_float, env_int, env_str

__all__ = ["DEFAULT_ADMIN_EMAIL", "UsersSettings"]

DEFAULT_ADMIN_EMAIL = "admin@shop.local"


@dataclass(frozen=True)
class UsersSettings:
    """Token lifetime, the login rate limit, and the admin account created at start."""

    token_ttl_s: int = 3600
    """How long an access token lives (``expires_in``)."""
    login_max_failures: int = 5
    """Failed logins for one email within the window before logins answer 429."""
    login_address_max_failures: int = 20
    """Failed logins from one client address (whatever the emails) within the window
    before logins from it answer 429: a shared address (an office, a NAT) needs room."""
    login_window_s: float = 300.0
    """The window, in seconds, over which failed logins are counted."""
    admin_email: str = DEFAULT_ADMIN_EMAIL
    admin_name: str = "Administrator"
    admin_password: Secret | None = None
    """Set: the admin account is created at start (once); unset: no admin account."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> UsersSettings:
        """Read ``USERS_TOKEN_TTL_S``, ``USERS_LOGIN_MAX_FAILURES``,
        ``USERS_LOGIN_ADDRESS_MAX_FAILURES``, ``USERS_LOGIN_WINDOW_S``, ``USERS_ADMIN_EMAIL``,
        ``USERS_ADMIN_NAME`` and ``USERS_ADMIN_PASSWORD``; :class:`~evp.settings.SettingsError`
        names a bad one."""
        env = os.environ if environ is None else environ
        admin_email = (env_str(env, "USERS_ADMIN_EMAIL", DEFAULT_ADMIN_EMAIL) or "").lower()
        if "@" not in admin_email:
            raise SettingsError("USERS_ADMIN_EMAIL", admin_email, "an email address")
        window = env_float(env, "USERS_LOGIN_WINDOW_S", 300.0)
        if window <= 0:
            raise SettingsError("USERS_LOGIN_WINDOW_S", str(window), "a number of seconds > 0")
        # Not stripped or otherwise touched: a password is taken exactly as given.
        password = env.get("USERS_ADMIN_PASSWORD", "")
        return cls(
            token_ttl_s=env_int(env, "USERS_TOKEN_TTL_S", 3600, minimum=1),
            login_max_failures=env_int(env, "USERS_LOGIN_MAX_FAILURES", 5, minimum=1),
            login_address_max_failures=env_int(
                env, "USERS_LOGIN_ADDRESS_MAX_FAILURES", 20, minimum=1
            ),
            login_window_s=window,
            admin_email=admin_email,
            admin_name=env_str(env, "USERS_ADMIN_NAME", "Administrator") or "Administrator",
            admin_password=Secret(password) if password else None,
        )
