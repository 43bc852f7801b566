"""The gate's git baseline: the histories in ``schemas/`` as a git revision had them.

Like ``buf breaking --against .git#ref=...``: no registry is needed to tell which versions
a change adds, rewrites or removes.
"""

from __future__ import annotations

import io
import subprocess
import tarfile
import tempfile
from pathlib import Path

from evp.contract.catalog import load_catalog
from evp.contract.history import SubjectHistory, history_from_catalog
from evp_codegen.errors import SchemaToolingError

__all__ = ["BaselineUnavailable", "history_from_git"]


class BaselineUnavailable(SchemaToolingError):
    """The baseline to compare against cannot be read (a bad git revision, no git)."""


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
