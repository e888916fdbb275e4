"""Downstream tasks for zero-shot cross-lingual transfer.

A task is prepared once into a folder of JSON-lines files, `{lang}.{split}.jsonl`, whose records have one of three
shapes (the task's *kind*):

- pair:  {"id", "a", "b", "label"}              sentence-pair classification (XNLI, the Bible `xref` stand-in)
- tag:   {"id", "words", "tags"}                 word tagging with BIO tags (WikiAnn NER, the `punct` stand-in)
- parse: {"id", "words", "heads", "deprels"}     dependency trees, 1-based heads, 0 = root (UD)

Fine-tuning (`xstruct.finetune`) reads only these files, so every data source ends in the same place.
"""
from __future__ import annotations

# data format (config `transfer.tasks.<name>.format`) -> task kind
KINDS = {"xnli": "pair", "xref": "pair", "wikiann": "tag", "punct": "tag", "ud": "parse"}
SPLITS = ("train", "dev", "test")


class TaskDataError(ValueError):
    """Task data missing or malformed; the message is one line naming the file or key and what was expected."""


class MissingLabels(TaskDataError):
    """A split file without labels (XTREME ships its test sets so); the caller names the option to use."""


def task_kind(spec: dict, name: str = "?") -> str:
    fmt = spec.get("format")
    if fmt not in KINDS:
        raise TaskDataError(f"transfer.tasks.{name}.format: {fmt!r} must be one of {', '.join(KINDS)}")
    return KINDS[fmt]
