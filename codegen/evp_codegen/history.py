"""Subjects' version histories, from ``schemas/``, from a git revision, or from a registry.

A history is what a new schema version must stay compatible with: the CI gate compares the
working tree against a baseline history taken from git (no registry needed) or from the
registry that will have to accept the schemas.
"""

from __future__ import annotations

import io
import subprocess
import tarfile
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError

from evp_codegen.catalog import Catalog, load_catalog
from evp_codegen.errors import REGISTRY_CLIENT_ERRORS, RegistryRequestFailed, SchemaToolingError

__all__ = [
    "BaselineUnavailable",
    "SubjectHistory",
    "history_from_catalog",
    "history_from_git",
    "history_from_registry",
]

# Confluent's error codes for "no such subject" and "no subject-level compatibility".
_SUBJECT_NOT_FOUND = 40401
_SUBJECT_LEVEL_NOT_CONFIGURED = 40408


class BaselineUnavailable(SchemaToolingError):
    """The baseline to compare against cannot be read (bad git ref, unreachable registry)."""


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


def history_from_git(ref: str, schemas_dir: Path) -> dict[str, SubjectHistory]:
    """The histories in ``schemas_dir`` as they were at git revision ``ref``.

    A revision that has no ``schemas_dir`` yet has an empty baseline: everything is new.
    """
    schemas_dir = schemas_dir.resolve()
    top = Path(_git(schemas_dir, "rev-parse", "--show-toplevel").strip())
    _git(top, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", what=f"revision {ref!r}")
    relative = schemas_dir.relative_to(top).as_posix()
    if not _git(top, "ls-tree", "--name-only", ref, "--", relative).strip():
        return {}
    archive = subprocess.run(
        ["git", "archive", "--format=tar", ref, "--", relative],
        cwd=top,
        capture_output=True,
        check=False,
    )
    if archive.returncode != 0:
        raise BaselineUnavailable(
            f"git archive failed: {archive.stderr.decode(errors='replace').strip()}", ref=ref
        )
    with tempfile.TemporaryDirectory(prefix="evp-baseline-") as scratch:
        with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
            tar.extractall(scratch, filter="data")
        catalog = load_catalog(Path(scratch) / relative)
        return history_from_catalog(catalog)


def _git(cwd: Path, *args: str, what: str = "") -> str:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    except FileNotFoundError as error:
        raise BaselineUnavailable("git is not installed") from error
    if done.returncode != 0:
        reason = done.stderr.strip() or f"{what or 'git ' + args[0]} not found"
        raise BaselineUnavailable(f"cannot read git baseline: {reason}", directory=str(cwd))
    return done.stdout


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
