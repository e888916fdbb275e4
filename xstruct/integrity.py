"""Checksums that travel with artifacts: recorded where a file is made, checked where it is read and whenever
a run is planned, so a file changed after it was made is rebuilt or refused instead of silently used.

A file's entry (`io.file_entry`: bytes, mtime_ns, sha256) is kept in the manifest its rule writes last (a
corpus's stats.json, a run's sharing.json). Planning compares size and modification time (one stat per file)
and hashes only a file whose stat changed, so a copy that kept the content costs a hash, not a rebuild. Readers
verify the sha256, which costs no more than reading the file.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Iterable, Mapping

from .io import sha256_file


class ArtifactError(RuntimeError):
    """An artifact differs from the checksum recorded when it was made; the message is one line."""


def changed(path: Path, recorded: Mapping) -> str | None:
    """Why `path` is no longer the file `recorded` describes, or None if it still is."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return "it is missing"
    if "bytes" in recorded and st.st_size != recorded["bytes"]:
        return f"now {st.st_size} bytes, {recorded['bytes']} when it was made"
    if (st.st_size, st.st_mtime_ns) == (recorded.get("bytes"), recorded.get("mtime_ns")):
        return None
    if "sha256" in recorded and sha256_file(path) != recorded["sha256"]:
        return "its content differs from the checksum recorded when it was made"
    return None


def verify(files: Mapping[Path, Mapping], manifest: Path) -> None:
    """Raise ArtifactError if a file differs from its recorded sha256 (read in full: for readers)."""
    for path, recorded in files.items():
        if not Path(path).is_file():
            raise ArtifactError(f"{path}: missing, though {manifest} lists it; rerun snakemake to rebuild it")
        if "sha256" in recorded and sha256_file(path) != recorded["sha256"]:
            raise ArtifactError(f"{path}: content differs from the sha256 in {manifest} (changed after it was "
                                f"made); rerun snakemake, which rebuilds it")


def drop_stale(manifests: Iterable[Path], listed: Callable[[Path], Mapping[Path, Mapping]]) -> list[str]:
    """Remove every existing manifest that lists a changed file, and the changed file: the rule's outputs are
    then missing, so a plain rerun rebuilds them (and what depends on them), and no job that runs before can
    read the changed file. One line per manifest removed, saying why."""
    said = []
    for manifest in map(Path, manifests):
        if not manifest.is_file():
            continue
        try:
            files = listed(manifest)
        except (OSError, ValueError) as err:
            why, path = f"unreadable ({type(err).__name__})", manifest
        else:
            why, path = next(((w, p) for p, r in files.items() if (w := changed(p, r))), (None, None))
        if why:
            removed = [manifest] + ([path] if path != manifest and path.exists() else [])
            for f in removed:
                f.unlink()
            said.append(f"{path}: {why}; removed {' and '.join(map(str, reversed(removed)))} so that a rerun "
                        "rebuilds them")
    return said
