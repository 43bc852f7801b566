"""Subjects' version histories, as ``schemas/`` writes them or as a registry holds them.

A history is what a new schema version must stay compatible with: registration compares
``schemas/`` with what the registry holds, and the CI gate (:mod:`evp_codegen.gate`) with
a baseline it may also take from git.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError

from evp.contract.catalog import Catalog
from evp.contract.errors import REGISTRY_CLIENT_ERRORS, RegistryRequestFailed

__all__ = ["SubjectHistory", "history_from_catalog", "history_from_registry"]

# Confluent's error codes for "no such subject" and "no subject-level compatibility".
_SUBJECT_NOT_FOUND = 40401
_SUBJECT_LEVEL_NOT_CONFIGURED = 40408


@dataclass(frozen=True)
class SubjectHistory:
    """One subject's versions (number to schema text) and its level, where known."""

    subject: str
    versions: Mapping[int, str] = field(default_factory=dict)
    level: str | None = None
    files: Mapping[int, Path] = field(default_factory=dict)


def history_from_catalog(catalog: Catalog) -> dict[str, SubjectHistory]:
    """The histories written in ``schemas/``."""
    return {
        name: SubjectHistory(
            subject=name,
            versions={v.version: v.schema_text for v in subject.versions},
            level=subject.compatibility,
            files={v.version: v.path for v in subject.versions},
        )
        for name, subject in catalog.subjects.items()
    }


def history_from_registry(
    client: SchemaRegistryClient, subjects: Iterable[str], *, url: str = ""
) -> dict[str, SubjectHistory]:
    """The registered (not deleted) versions of ``subjects`` and their subject-level levels."""
    histories = {}
    for subject in subjects:
        try:
            numbers = client.get_versions(subject)
            versions = {n: str(client.get_version(subject, n).schema.schema_str) for n in numbers}
        except SchemaRegistryError as error:
            if error.error_code != _SUBJECT_NOT_FOUND:
                raise RegistryRequestFailed.from_client_error(
                    error, registry=url, subject=subject
                ) from error
            versions = {}
        except REGISTRY_CLIENT_ERRORS as error:
            raise RegistryRequestFailed.from_client_error(error, registry=url) from error
        histories[subject] = SubjectHistory(subject, versions, _subject_level(client, subject, url))
    return histories


def _subject_level(client: SchemaRegistryClient, subject: str, url: str) -> str | None:
    try:
        return str(client.get_compatibility(subject))
    except SchemaRegistryError as error:
        if error.error_code in (_SUBJECT_NOT_FOUND, _SUBJECT_LEVEL_NOT_CONFIGURED):
            return None
        raise RegistryRequestFailed.from_client_error(
            error, registry=url, subject=subject
        ) from error
