"""The running service's own parts, its settings and its provider: one of each per runtime.

They are made on first use and kept in ``runtime.state``. The start-up hook makes them
(:func:`set_up`, so a malformed setting stops the start), but the consumers start before
the hooks run, so a handler asking first gets the same ones rather than an error.
"""

from __future__ import annotations

from typing import cast

from evp.service import ServiceRuntime
from shop.payments.provider import PaymentProvider, SimulatedProvider
from shop.payments.settings import PaymentsSettings

__all__ = ["provider_of", "set_up", "settings_of"]

_SETTINGS = "settings"
_PROVIDER = "provider"


def settings_of(runtime: ServiceRuntime) -> PaymentsSettings:
    """The service's settings, read from the environment once."""
    settings = runtime.state.get(_SETTINGS)
    if settings is None:
        settings = runtime.state[_SETTINGS] = PaymentsSettings.from_env()
    return cast(PaymentsSettings, settings)


def provider_of(runtime: ServiceRuntime) -> PaymentProvider:
    """The payment provider: the simulated one, the only one so far."""
    provider = runtime.state.get(_PROVIDER)
    if provider is None:
        settings = settings_of(runtime)
        provider = runtime.state[_PROVIDER] = SimulatedProvider(
            decline_above=settings.decline_above, slow_approval=settings.slow_approval
        )
    return cast(PaymentProvider, provider)


async def set_up(runtime: ServiceRuntime) -> None:
    """Read the settings and make the provider now (a start-up hook): a bad setting fails
    the start, naming the variable."""
    provider_of(runtime)
