"""Resumable training checkpoints in results/checkpoints/{run}/ (not a rule output, so Snakemake never deletes it).

`last.pt` holds everything a resumed run needs to continue exactly where the saved one was (model, optimizer,
scheduler, the step, every generator state and the data sampler position); `best.pt` holds the model weights
with the best validation perplexity. Saves are atomic (temporary file + rename), so a kill at any moment leaves
the previous checkpoint intact. A checkpoint that cannot be read, or that was written for a different setup
(its fingerprint differs), is reported in one line and renamed aside, never loaded.
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
import time
from pathlib import Path

import torch

from .io import atomic_write


def fingerprint(setup: dict) -> str:
    """Hash of everything that decides a run's trajectory (a checkpoint only resumes the same trajectory)."""
    return hashlib.sha256(json.dumps(setup, sort_keys=True, default=str).encode()).hexdigest()[:16]


class Checkpoints:
    def __init__(self, folder: str | Path, fingerprint: str, log=None):
        self.folder = Path(folder)
        self.fingerprint = fingerprint
        self.log = log or (lambda msg: print(msg, file=sys.stderr, flush=True))

    def path(self, name: str) -> Path:
        return self.folder / f"{name}.pt"

    def save(self, name: str, state: dict) -> None:
        with atomic_write(self.path(name), "wb") as f:
            torch.save({"fingerprint": self.fingerprint, **state}, f)

    def load(self, name: str) -> dict | None:
        """The checkpoint `name`, or None if there is none or it was set aside."""
        path = self.path(name)
        if not path.exists():
            return None
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as err:  # noqa: BLE001 - any unreadable file is set aside the same way
            return self._set_aside(path, "corrupt", f"unreadable ({type(err).__name__}: {str(err)[:80]})")
        if not isinstance(state, dict) or state.get("fingerprint") != self.fingerprint:
            got = state.get("fingerprint") if isinstance(state, dict) else None
            return self._set_aside(path, "incompatible",
                                   f"written for another setup (fingerprint {got}, expected {self.fingerprint})")
        return state

    def _set_aside(self, path: Path, tag: str, why: str) -> None:
        aside = path.with_name(f"{path.name}.{tag}-{time.strftime('%Y%m%d-%H%M%S')}")
        os.replace(path, aside)
        self.log(f"checkpoint {path} is {why}; moved to {aside.name} and not loaded")
