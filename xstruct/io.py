"""Atomic file output, downloads, a job's log, and small JSON/stat helpers shared by every stage."""
from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import sys
import tempfile
import urllib.request
from pathlib import Path


@contextlib.contextmanager
def atomic_write(path: str | Path, mode: str = "w", encoding: str | None = "utf-8"):
    """Open a temporary file next to `path`; it replaces `path` only if the block finishes without error."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode, encoding=None if "b" in mode else encoding) as f:
            yield f
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_dir(path: str | Path):
    """Yield a temporary folder next to `path`; it becomes `path` (replacing any old one) only on success."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        yield tmp
        if path.exists():
            shutil.rmtree(path)
        os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def log_to(path: str | Path, mode: str = "w") -> None:
    """Send the rest of this job's stderr (progress bars, warnings, and the traceback if it fails) and its log
    records to the rule's log file, the one Snakemake points to. Not a context manager on purpose: the
    traceback of an uncaught error is printed after every `with` block has exited."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    sys.stderr = open(path, mode, encoding="utf-8", buffering=1)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    logging.getLogger().addHandler(handler)
    logging.getLogger().setLevel(logging.INFO)


def is_url(location: str) -> bool:
    """A download address (http(s)://, file://, ...) rather than a local path."""
    return re.match(r"^[a-z]+://", str(location)) is not None


class FetchError(RuntimeError):
    """A remote file could not be fetched (offline, or wrong address); the message is one line."""


def download(url: str, hint: str) -> bytes:
    """The bytes at `url` (http(s) or file), or a one-line FetchError that ends with `hint` (what to do instead)."""
    try:
        with urllib.request.urlopen(url, timeout=120) as r:
            return r.read()
    except OSError as err:          # URLError, HTTPError and timeouts are all OSErrors
        raise FetchError(f"cannot download {url}: {getattr(err, 'reason', err)} -- {hint}") from None


def write_json(path: str | Path, obj) -> None:
    with atomic_write(path) as f:
        json.dump(obj, f, indent=2, ensure_ascii=False, sort_keys=False)
        f.write("\n")


def read_json(path: str | Path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def file_entry(path: str | Path) -> dict:
    """Size, modification time and sha256 of a file: what xstruct.integrity checks it against later."""
    st = os.stat(path)
    return {"bytes": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": sha256_file(path)}


def text_stats(path: str | Path) -> dict:
    """Lines, whitespace words and characters of a UTF-8 text file, and its file entry."""
    lines = words = chars = 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            lines += 1
            words += len(line.split())
            chars += len(line.rstrip("\n"))
    return {"lines": lines, "words": words, "characters": chars} | file_entry(path)
