"""Generate the event library, write it atomically, or report which files are stale."""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from evp.contract.catalog import Catalog
from evp_codegen.errors import CodegenError
from evp_codegen.generate.model import build_library
from evp_codegen.generate.render import render_library
from evp_codegen.generate.source import SchemaSource, event_specs

__all__ = ["GeneratedLibrary", "generate"]


@dataclass(frozen=True)
class GeneratedLibrary:
    """The generated files, by path relative to the output folder."""

    package: str
    files: dict[str, str]

    def stale_files(self, out_dir: Path) -> list[str]:
        """Files that differ from (or are missing in, or are extra in) ``out_dir``."""
        stale = []
        for name, text in sorted(self.files.items()):
            path = out_dir / name
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
        if out_dir.is_dir():
            extra = {
                p.relative_to(out_dir).as_posix()
                for p in out_dir.rglob("*")
                if p.is_file() and "__pycache__" not in p.parts
            }
            stale += sorted(extra - set(self.files))
        return stale

    def write(self, out_dir: Path) -> None:
        """Replace ``out_dir`` with the generated files; on failure it is left as it was.

        The files are written to a sibling temporary folder first and swapped in with two
        renames, so a crash or a full disk never leaves half a library behind.
        """
        out_dir = out_dir.resolve()
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
        backup = out_dir.with_name(f".{out_dir.name}.old")
        try:
            for name, text in self.files.items():
                target = staging / name
                target.parent.mkdir(parents=True, exist_ok=True)
                with target.open("w", encoding="utf-8", newline="\n") as handle:
                    handle.write(text)
                    handle.flush()
                    os.fsync(handle.fileno())
            shutil.rmtree(backup, ignore_errors=True)
            if out_dir.exists():
                out_dir.rename(backup)
            staging.rename(out_dir)
        except OSError as error:
            shutil.rmtree(staging, ignore_errors=True)
            if backup.exists() and not out_dir.exists():
                backup.rename(out_dir)
            raise CodegenError(
                f"could not write the event library: {error}", path=str(out_dir)
            ) from error
        shutil.rmtree(backup, ignore_errors=True)


def generate(catalog: Catalog, source: SchemaSource, *, package: str) -> GeneratedLibrary:
    """Render the library for every subject of ``catalog``, schemas taken from ``source``."""
    catalog.require_valid()
    library = build_library(
        event_specs(catalog, source),
        namespace_root=catalog.namespace,
        envelope=catalog.envelope or None,
    )
    return GeneratedLibrary(package, render_library(library, package))
