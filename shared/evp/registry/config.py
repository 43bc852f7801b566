"""Confluent's ``Config`` entity: the compatibility level and the other settings of a scope.

A scope (the registry, or one subject) holds one config; every field is optional. An update
names the fields it changes: absent fields keep their value and a field sent as ``null``
is cleared, so ``{"normalize": true}`` changes only ``normalize``. Reads answer the entity
in Confluent's ``Config`` shape (``compatibilityLevel``); updates echo the scope's new config
in the ``ConfigUpdateRequest`` shape (``compatibility``), as Confluent's registry does. Both
shapes leave out unset fields (Jackson's ``NON_EMPTY``).

The level, ``normalize``, ``validateFields`` / ``validateNewSchemas`` and ``alias`` act on
Avro registrations; metadata, rule sets, ``validateRules`` and ``compatibilityGroup`` are
kept and answered but have nothing to act on, since this registry stores no schema
metadata or rules.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from evp.registry._translate import schema_errors
from evp.registry.errors import UnprocessableRequestError
from evp.schema.compatibility import CompatibilityLevel

__all__ = ["Config"]

_FLAGS = {
    "normalize": "normalize",
    "validateFields": "validate_fields",
    "validateNewSchemas": "validate_new_schemas",
    "validateRules": "validate_rules",
}
_TEXTS = {"alias": "alias", "compatibilityGroup": "compatibility_group"}
_OBJECTS = {
    "defaultMetadata": "default_metadata",
    "overrideMetadata": "override_metadata",
    "defaultRuleSet": "default_rule_set",
    "overrideRuleSet": "override_rule_set",
}
# Both spellings of the level are accepted in updates: "compatibility" is Confluent's
# request field; "compatibilityLevel" is what confluent-kafka's ServerConfig may send.
_LEVEL_KEYS = ("compatibility", "compatibilityLevel")


@dataclass(frozen=True)
class Config:
    """The settings of one scope; ``None`` means not set there."""

    compatibility: CompatibilityLevel | None = None
    alias: str | None = None
    normalize: bool | None = None
    validate_fields: bool | None = None
    validate_new_schemas: bool | None = None
    validate_rules: bool | None = None
    compatibility_group: str | None = None
    default_metadata: dict[str, Any] | None = None
    override_metadata: dict[str, Any] | None = None
    default_rule_set: dict[str, Any] | None = None
    override_rule_set: dict[str, Any] | None = None

    @property
    def is_empty(self) -> bool:
        """Whether no field is set (the scope then has no config at all)."""
        return all(getattr(self, f.name) is None for f in fields(self))

    @property
    def validates(self) -> bool:
        """Whether new schemas get the Java parser's strict checks (names, field names)."""
        return bool(self.validate_fields or self.validate_new_schemas)

    def updated(self, body: object) -> Config:
        """This config with the fields ``body`` (a decoded update request) names changed.

        Raises :class:`~evp.registry.errors.InvalidCompatibilityLevelError` (42203) for an
        unknown level and :class:`UnprocessableRequestError` (422) for a field of the
        wrong JSON type, as Jackson's mapping does for Confluent.
        """
        if not isinstance(body, Mapping):
            raise UnprocessableRequestError("the request body must be a JSON object")
        changes: dict[str, Any] = {}
        for key in _LEVEL_KEYS:
            if key in body:
                changes["compatibility"] = _level(body[key])
                break
        for key, name in _FLAGS.items():
            if key in body:
                changes[name] = _typed(key, body[key], bool)
        for key, name in _TEXTS.items():
            if key in body:
                changes[name] = _typed(key, body[key], str)
        for key, name in _OBJECTS.items():
            if key in body:
                changes[name] = _typed(key, body[key], dict)
        return replace(self, **changes)

    def over(self, parent: Config) -> Config:
        """This config with each unset field taken from ``parent`` (a subject over global)."""
        return Config(
            **{
                f.name: getattr(parent, f.name)
                if getattr(self, f.name) is None
                else getattr(self, f.name)
                for f in fields(self)
            }
        )

    def to_json(self) -> dict[str, Any]:
        """The entity as ``GET`` and ``DELETE /config`` answer it (Confluent's ``Config``)."""
        return self._json("compatibilityLevel")

    def to_update_json(self) -> dict[str, Any]:
        """The entity as ``PUT /config`` echoes it (Confluent's ``ConfigUpdateRequest``)."""
        return self._json("compatibility")

    def to_stored(self) -> str:
        """The entity as the store keeps it (JSON text)."""
        return json.dumps(self.to_json(), separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_stored(cls, text: str | None) -> Config:
        """The entity the store kept as ``text`` (the empty config for ``None``)."""
        if text is None:
            return cls()
        data = json.loads(text)
        level = data.get("compatibilityLevel")
        return cls(
            compatibility=None if level is None else CompatibilityLevel(level),
            **{name: data.get(key) for key, name in {**_FLAGS, **_TEXTS, **_OBJECTS}.items()},
        )

    def _json(self, level_key: str) -> dict[str, Any]:
        # Confluent's field order; unset fields (and empty objects) are left out.
        values: dict[str, Any] = {
            "alias": self.alias,
            **{key: getattr(self, name) for key, name in _FLAGS.items()},
            level_key: None if self.compatibility is None else self.compatibility.value,
            "compatibilityGroup": self.compatibility_group,
            **{key: getattr(self, name) or None for key, name in _OBJECTS.items()},
        }
        return {key: value for key, value in values.items() if value is not None}


def _level(value: object) -> CompatibilityLevel | None:
    if value is None:
        return None
    with schema_errors():
        return CompatibilityLevel.parse(value)


def _typed(key: str, value: object, kind: type) -> Any:
    if value is None or (isinstance(value, kind) and (kind is bool) == isinstance(value, bool)):
        # An empty string or object sets nothing: Jackson's NON_EMPTY would leave it out.
        return value if kind is bool else value or None
    raise UnprocessableRequestError(f"{key} must be a JSON {_JSON_NAMES[kind]} or null")


_JSON_NAMES = {bool: "boolean", str: "string", dict: "object"}
