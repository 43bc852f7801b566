"""The boot step between the registry and the services: ``schemas/`` registered, in order.

Registration is the same plan ``evp schemas register`` applies (every subject's history,
oldest first, with its compatibility level; refused as a whole when the registry holds a
conflicting history). The step is healthy when planning again finds nothing to do.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from evp.contract.catalog import load_catalog
from evp.contract.errors import ContractError
from evp.contract.registration import plan_registration
from evp.credentials import BasicCredentials
from evp.up.errors import StepFailed

__all__ = ["pending_registrations", "register_schemas"]


def register_schemas(
    schemas: Path,
    url: str,
    *,
    credentials: BasicCredentials | None = None,
    report: Callable[[str], None] = lambda line: None,
) -> int:
    """Bring the registry in line with ``schemas``; how many changes that took.

    Blocking (the registry client is synchronous): run it on a worker thread.
    """
    from confluent_kafka.schema_registry import SchemaRegistryClient

    try:
        catalog = load_catalog(schemas).require_valid()
        with SchemaRegistryClient(_client_config(url, credentials)) as client:
            plan = plan_registration(catalog, client, url)
            plan.apply(client, report)
            left = plan_registration(catalog, client, url).changes
    except ContractError as error:
        raise StepFailed("schemas", str(error)) from error
    if left:
        raise StepFailed("schemas", f"{left} change(s) still pending after registering")
    return plan.changes


def pending_registrations(
    schemas: Path, url: str, *, credentials: BasicCredentials | None = None
) -> int:
    """How many writes registering ``schemas`` would still make (0: all registered)."""
    from confluent_kafka.schema_registry import SchemaRegistryClient

    catalog = load_catalog(schemas).require_valid()
    with SchemaRegistryClient(_client_config(url, credentials)) as client:
        return plan_registration(catalog, client, url).changes


def _client_config(url: str, credentials: BasicCredentials | None) -> dict[str, Any]:
    config: dict[str, Any] = {"url": url}
    if credentials is not None:
        config["basic.auth.user.info"] = credentials.user_info()
    return config
