"""Corpora of the study: the Bible, Debian documentation, Hub text, and bilingual dictionaries.

Submodules: `text` (cleaning, scripts, segmentation, part hashing, shared by all sources), `bible`, `debian`,
`hub`, `dictionaries`.
"""
from __future__ import annotations

import contextlib
import logging
from pathlib import Path


@contextlib.contextmanager
def logging_to(path: str | Path):
    """Send a job's log records and its stderr (tqdm progress bars, warnings) to the rule's log file."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f, contextlib.redirect_stderr(f):
        handler = logging.StreamHandler(f)
        handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
        root = logging.getLogger()
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        try:
            yield
        finally:
            root.removeHandler(handler)
