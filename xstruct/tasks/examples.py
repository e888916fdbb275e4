"""Prepared task files: one JSON record per line, `{lang}.{split}.jsonl` inside a task folder."""
from __future__ import annotations

import json
from pathlib import Path

from xstruct.io import atomic_write
from xstruct.tasks import TaskDataError

FIELDS = {"pair": ("id", "a", "b", "label"), "tag": ("id", "words", "tags"),
          "parse": ("id", "words", "heads", "deprels")}


def example_path(folder: str | Path, lang: str, split: str) -> Path:
    return Path(folder) / f"{lang}.{split}.jsonl"


def write_examples(path: str | Path, examples: list[dict]) -> None:
    with atomic_write(path) as f:
        for ex in examples:
            f.write(json.dumps(ex, ensure_ascii=False) + "\n")


def read_examples(path: str | Path, kind: str) -> list[dict]:
    """Read a prepared file and check every record has the fields of its kind (and aligned word lists)."""
    path = Path(path)
    if not path.is_file():
        raise TaskDataError(f"{path}: prepared task file not found")
    fields = FIELDS[kind]
    out = []
    with path.open(encoding="utf-8") as f:
        for i, line in enumerate(f, start=1):
            ex = json.loads(line)
            missing = [k for k in fields if k not in ex]
            if missing:
                raise TaskDataError(f"{path}:{i}: a {kind} record needs {', '.join(missing)}")
            if kind != "pair" and any(len(ex[k]) != len(ex["words"]) for k in fields[2:]):
                raise TaskDataError(f"{path}:{i}: {', '.join(fields[2:])} must have one entry per word")
            out.append(ex)
    if not out:
        raise TaskDataError(f"{path}: no examples")
    return out
