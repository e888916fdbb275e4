"""Resumable training checkpoints in the run's checkpoint folder (`xstruct.paths.checkpoints`: not a rule
output, so Snakemake never deletes it).

`last.pt` holds everything a resumed run needs to continue exactly where the saved one was (model, optimizer,
scheduler, the step, every generator state and the data sampler position); `best.pt` holds the model weights
with the best validation perplexity. Saves are atomic (temporary file + rename), so a kill at any moment leaves
the previous checkpoint intact. Each file carries a digest of its own content, checked on load, so bytes changed
on disk are caught even where they still unpickle. A checkpoint that cannot be read, whose content does not match
its digest, or that was written for a different setup (its fingerprint differs), is reported in one line and
renamed aside, never loaded. Opening the folder removes temporary files a killed save left behind and all but the
newest set-aside file of each checkpoint.
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
import torch

from .io import atomic_write


def digest(state) -> str:
    """sha256 over a checkpoint state: every tensor's bytes and every other value's repr, in a fixed order."""
    h = hashlib.sha256()

    def walk(x) -> None:
        if isinstance(x, torch.Tensor):
            h.update(f"{x.dtype}{x.numel()}".encode())
            h.update(_bytes(x))
        elif isinstance(x, dict):
            for k in sorted(x, key=str):
                h.update(repr(k).encode())
                walk(x[k])
        elif isinstance(x, (list, tuple)):
            h.update(b"[")
            for v in x:
                walk(v)
            h.update(b"]")
        else:
            h.update(repr(x).encode())
    walk(state)
    return h.hexdigest()


def _bytes(x) -> np.ndarray:
    """The raw bytes of a tensor or array, as a flat uint8 view (no copy where it is already contiguous)."""
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy()
    return np.ascontiguousarray(x).reshape(-1).view(np.uint8)


def array_digest(arr) -> str:
    """sha256 of an array's bytes (memmaps are read in 64 MB chunks)."""
    flat = _bytes(arr)
    h = hashlib.sha256()
    for i in range(0, len(flat), 1 << 26):
        h.update(flat[i:i + (1 << 26)])
    return h.hexdigest()[:16]


def fingerprint(setup: dict) -> str:
    """Hash of everything that decides a run's trajectory (a checkpoint only resumes the same trajectory)."""
    return hashlib.sha256(json.dumps(setup, sort_keys=True, default=str).encode()).hexdigest()[:16]


class Checkpoints:
    def __init__(self, folder: str | Path, fingerprint: str, log=None):
        self.folder = Path(folder)
        self.fingerprint = fingerprint
        self.log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))
        self._tidy()

    def path(self, name: str) -> Path:
        return self.folder / f"{name}.pt"

    def save(self, name: str, state: dict) -> None:
        with atomic_write(self.path(name), "wb") as f:
            torch.save({"fingerprint": self.fingerprint, "digest": digest(state), **state}, f)

    def load(self, name: str) -> dict | None:
        """The checkpoint `name`, or None if there is none or it was set aside."""
        path = self.path(name)
        if not path.exists():
            return None
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as err:  # noqa: BLE001 - any unreadable file is set aside the same way
            return self._set_aside(path, "corrupt", f"unreadable ({type(err).__name__}: {str(err)[:80]})")
        if not isinstance(state, dict) or "digest" not in state:
            return self._set_aside(path, "corrupt",
                                   "without a content digest (not written by this version of the pipeline)")
        content = {k: v for k, v in state.items() if k not in ("fingerprint", "digest")}
        if digest(content) != state["digest"]:
            return self._set_aside(path, "corrupt", "damaged (its content does not match its digest)")
        if state.get("fingerprint") != self.fingerprint:
            return self._set_aside(path, "incompatible", f"written for another setup (fingerprint "
                                                         f"{state.get('fingerprint')}, expected {self.fingerprint})")
        return content

    def set_aside(self, name: str, tag: str, why: str) -> None:
        """Rename checkpoint `name` aside (it stays for inspection) and say why in one line."""
        self._set_aside(self.path(name), tag, why)

    def _set_aside(self, path: Path, tag: str, why: str) -> None:
        aside = path.with_name(f"{path.name}.{tag}-{time.strftime('%Y%m%d-%H%M%S')}")
        try:
            os.replace(path, aside)
        except FileNotFoundError:          # absent, or another DDP rank set it aside first
            return
        self.log(f"checkpoint {path} is {why}; moved to {aside.name} and not loaded")

    def _tidy(self) -> None:
        """Remove what killed saves left (atomic_write's `.<name>.*.tmp`) and all but the newest set-aside file
        of each checkpoint name."""
        if not self.folder.is_dir():
            return
        for tmp in self.folder.glob(".*.tmp"):
            tmp.unlink(missing_ok=True)
        for name in {p.name.split(".pt.")[0] for p in self.folder.glob("*.pt.*-*")}:
            aside = sorted(self.folder.glob(f"{name}.pt.*-*"), key=lambda p: p.stat().st_ctime)
            for old in aside[:-1]:
                old.unlink(missing_ok=True)
