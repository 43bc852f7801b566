"""SQL migrations of the registry's tables, applied by :func:`evp.postgres.migrate`."""
