"""Configs and modes, set globally or per subject, as Confluent resolves them.

A subject's own setting wins over the global one (field by field for configs), except that
a global ``READONLY_OVERRIDE`` mode wins over everything. Soft-deleting a subject's last version
forgets its own settings, as Confluent's registry does.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace

from evp.registry.config import Config
from evp.registry.config_cache import ConfigCache
from evp.registry.errors import (
    CompatibilityNotConfiguredError,
    ModeNotConfiguredError,
    OperationNotPermittedError,
    SubjectNotFoundError,
)
from evp.registry.mode import Mode
from evp.registry.requests import validate_subject
from evp.registry.store import (
    GLOBAL_SCOPE,
    RegistryReads,
    RegistryStore,
    RegistryTransaction,
    Setting,
)
from evp.schema.compatibility import CompatibilityLevel

__all__ = ["Configuration"]


class Configuration:
    """Reading and changing configs and modes; the base of the registry service."""

    def __init__(self, store: RegistryStore, default_compatibility: CompatibilityLevel) -> None:
        self.store = store
        self.default_compatibility = default_compatibility
        self._configs = ConfigCache()

    @asynccontextmanager
    async def _writing(self) -> AsyncIterator[RegistryTransaction]:
        """A transaction that may change configs: the cache forgets them once it ended."""
        try:
            async with self.store.transaction() as tx:
                yield tx
        finally:
            self._configs.changed()

    async def config(
        self, subject: str | None = None, *, default_to_global: bool = False
    ) -> Config:
        """The config of ``subject`` (or the global one); 40408 if the subject has none set.

        The global config always names a level (the server's default when none is set);
        with ``default_to_global`` a subject's unset fields come from the global config.
        """
        _check_scope(subject)
        async with self.store.reads() as reads:
            if subject is None or default_to_global:
                return await self._effective_config(reads, subject)
            own = await self._own_config(reads, subject)
            if own.is_empty:
                raise CompatibilityNotConfiguredError(subject)
            return own

    async def update_config(self, body: object, subject: str | None = None) -> Config:
        """Change the fields ``body`` names in the config of ``subject`` (or the global one).

        Returns the scope's config as stored afterwards, which Confluent's registry echoes.
        """
        Config().updated(body)  # a bad body is refused before any lock is taken
        scope = GLOBAL_SCOPE if subject is None else validate_subject(subject)
        async with self._writing() as tx:
            await self._lock(tx, subject)
            await self._require_writable(tx, subject)
            current = await self._own_config(tx, scope)
            updated = current.updated(body)
            if updated.is_empty:
                await tx.delete_setting(Setting.CONFIG, scope)
            else:
                await tx.put_setting(Setting.CONFIG, scope, updated.to_stored())
        return updated

    async def set_compatibility(
        self, level: object, subject: str | None = None
    ) -> CompatibilityLevel:
        """Set only the level of ``subject`` (or the global one)."""
        updated = await self.update_config({"compatibility": level}, subject)
        assert updated.compatibility is not None
        return updated.compatibility

    async def delete_config(self, subject: str | None = None) -> Config:
        """Forget the config of ``subject`` (or reset the global one); return what it was."""
        _check_scope(subject)
        async with self._writing() as tx:
            await self._lock(tx, subject)
            await self._require_writable(tx, subject)
            if subject is None:
                previous = await self._effective_config(tx, None)
                await tx.delete_setting(Setting.CONFIG, GLOBAL_SCOPE)
                return previous
            own = await self._own_config(tx, subject)
            if own.is_empty:
                raise SubjectNotFoundError(subject)
            await tx.delete_setting(Setting.CONFIG, subject)
            return own

    async def mode(self, subject: str | None = None, *, default_to_global: bool = False) -> Mode:
        """The mode of ``subject`` (or the global one); 40409 if the subject has none of its own."""
        _check_scope(subject)
        async with self.store.reads() as reads:
            if subject is None or default_to_global:
                return await self._effective_mode(reads, subject)
            global_mode = await self._global_mode(reads)
            if global_mode is Mode.READONLY_OVERRIDE:
                return global_mode
            own = await reads.setting(Setting.MODE, subject)
            if own is None:
                raise ModeNotConfiguredError(subject)
            return Mode(own)

    async def set_mode(
        self, mode: object, subject: str | None = None, *, force: bool = False
    ) -> Mode:
        """Set the mode of ``subject`` (or the global one); ``None`` clears it.

        Switching to IMPORT requires that no live schema exists in scope, unless ``force``:
        imported ids would otherwise collide with the ones already handed out. Clearing
        answers the mode that applies afterwards (the global one, or the default).
        """
        parsed = None if mode is None else Mode.parse(mode)
        scope = GLOBAL_SCOPE if subject is None else validate_subject(subject)
        async with self.store.transaction() as tx:
            await self._lock(tx, subject)
            if parsed is None:
                await tx.delete_setting(Setting.MODE, scope)
                return await self._effective_mode(tx, subject)
            current = await self._effective_mode(tx, subject)
            if parsed is Mode.IMPORT and current is not Mode.IMPORT and not force:
                if subject is None:
                    occupied = bool(await tx.subjects(prefix="", deleted=False, deleted_only=False))
                else:
                    occupied = bool(await tx.versions(subject, deleted=False))
                if occupied:
                    raise OperationNotPermittedError(
                        "Cannot import since found existing subjects", subject=subject
                    )
            await tx.put_setting(Setting.MODE, scope, parsed.value)
        return parsed

    async def delete_mode(self, subject: str | None = None, *, recursive: bool = False) -> Mode:
        """Forget the mode of ``subject`` (or reset the global one); return what it was.

        ``recursive`` (global only) also forgets every subject's own mode.
        """
        _check_scope(subject)
        async with self.store.transaction() as tx:
            await self._lock(tx, subject)
            if subject is None:
                previous = await self._global_mode(tx)
                if recursive:
                    await tx.delete_settings(Setting.MODE)
                else:
                    await tx.delete_setting(Setting.MODE, GLOBAL_SCOPE)
                return previous
            own = await tx.setting(Setting.MODE, subject)
            if own is None:
                raise SubjectNotFoundError(subject)
            await tx.delete_setting(Setting.MODE, subject)
            return Mode(own)

    async def _lock(self, tx: RegistryTransaction, subject: str | None) -> None:
        if subject is None:
            await tx.lock_registry()
        else:
            await tx.lock_subject(subject)

    async def _global_mode(self, tx: RegistryReads) -> Mode:
        value = await tx.setting(Setting.MODE, GLOBAL_SCOPE)
        return Mode.READWRITE if value is None else Mode(value)

    async def _effective_mode(self, tx: RegistryReads, subject: str | None) -> Mode:
        global_mode = await self._global_mode(tx)
        if subject is None or global_mode is Mode.READONLY_OVERRIDE:
            return global_mode
        own = await tx.setting(Setting.MODE, subject)
        return global_mode if own is None else Mode(own)

    async def _own_config(self, tx: RegistryReads, scope: str) -> Config:
        return Config.from_stored(await tx.setting(Setting.CONFIG, scope))

    async def _effective_config(self, tx: RegistryReads, subject: str | None) -> Config:
        """The config that applies to ``subject``: its own fields, then the global ones.

        The global config applies to every subject, but a global ``alias`` names no subject.
        """
        default = Config(compatibility=self.default_compatibility)
        if subject is None:
            return (await self._own_config(tx, GLOBAL_SCOPE)).over(default)
        # Both in one read: a lookup asks this of every request.
        stored = await tx.settings(Setting.CONFIG, (GLOBAL_SCOPE, subject))
        effective = Config.from_stored(stored.get(GLOBAL_SCOPE)).over(default)
        own = Config.from_stored(stored.get(subject))
        return own.over(replace(effective, alias=None))

    async def _aliased_config(self, tx: RegistryReads, subject: str) -> tuple[str, Config]:
        """The subject ``subject``'s own config sends reads to (``subject`` itself without
        an alias), and the config that applies there, from the cache when it has them.

        Only a subject's own config counts: a global alias would send every subject to one.
        For reads only: a write reads configs in its transaction, under its locks.
        """
        config = await self._cached_config(tx, subject)
        if config.alias is None:  # the effective alias is the subject's own (see above)
            return subject, config
        target = validate_subject(config.alias)
        return target, await self._cached_config(tx, target)

    async def _cached_config(self, tx: RegistryReads, subject: str) -> Config:
        config = self._configs.get(subject)
        if config is None:
            generation = self._configs.generation
            config = await self._effective_config(tx, subject)
            self._configs.put(subject, config, generation)
        return config

    async def _effective_compatibility(
        self, tx: RegistryReads, subject: str | None
    ) -> CompatibilityLevel:
        level = (await self._effective_config(tx, subject)).compatibility
        return self.default_compatibility if level is None else level

    async def _require_writable(self, tx: RegistryTransaction, subject: str | None) -> None:
        if (await self._effective_mode(tx, subject)).read_only:
            where = "The registry" if subject is None else f"Subject {subject}"
            raise OperationNotPermittedError(f"{where} is in read-only mode", subject=subject)

    async def _forget_subject_settings(self, tx: RegistryTransaction, subject: str) -> None:
        await tx.delete_setting(Setting.CONFIG, subject)
        await tx.delete_setting(Setting.MODE, subject)


def _check_scope(subject: str | None) -> None:
    # The empty subject is the store's global scope: it must never pass for a subject.
    if subject is not None:
        validate_subject(subject)
