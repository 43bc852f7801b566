"""A Confluent-Schema-Registry-compatible server for Avro, on Postgres.

This package namespace exports only what needs neither HTTP nor Postgres: the error root
and the modes. The schema model and compatibility checker it serves live in the leaf
:mod:`evp.schema`, which offline tools and consumers use without the server.
The server lives in :mod:`evp.registry.app` (``create_app``), :mod:`evp.registry.service`
(``Registry``) and :mod:`evp.registry.testing` (``running_registry``).
"""

from evp.registry.errors import RegistryError
from evp.registry.mode import Mode

__all__ = ["Mode", "RegistryError"]
