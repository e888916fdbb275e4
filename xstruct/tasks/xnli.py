"""XNLI (sentence-pair classification): the Hub dataset `facebook/xnli`, or local files in their original formats.

Local formats: XTREME-style TSV (`premise<TAB>hypothesis<TAB>label`, no header) for dev/test in any language, and
MultiNLI JSON lines (`sentence1`, `sentence2`, `gold_label`) for the English training set. Examples without a
gold label (MultiNLI's "-") are dropped.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

from xstruct.tasks import MissingLabels, TaskDataError
from xstruct.tasks.hub_datasets import load_hub_split

LABELS = ("entailment", "neutral", "contradiction")  # the Hub's class order
HUB_SPLITS = {"train": "train", "dev": "validation", "test": "test"}


def read_xtreme_tsv(path: str | Path) -> list[dict]:
    path = Path(path)
    out = []
    with path.open(encoding="utf-8", newline="") as f:
        for i, row in enumerate(csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE), start=1):
            if len(row) == 2:
                raise MissingLabels(f"{path}:{i}: premise<TAB>hypothesis without a label")
            if len(row) != 3 or row[2].strip() not in LABELS:
                raise TaskDataError(f"{path}:{i}: expected premise<TAB>hypothesis<TAB>label with label in "
                                    f"{', '.join(LABELS)}")
            out.append({"id": f"{path.stem}:{i}", "a": row[0], "b": row[1], "label": row[2].strip()})
    return out


def read_multinli_jsonl(path: str | Path) -> list[dict]:
    path = Path(path)
    out = []
    with path.open(encoding="utf-8") as f:
        for i, line in enumerate(f, start=1):
            rec = json.loads(line)
            if rec.get("gold_label") not in LABELS:
                continue
            out.append({"id": str(rec.get("pairID", i)), "a": rec["sentence1"], "b": rec["sentence2"],
                        "label": rec["gold_label"]})
    return out


def read_local(path: str | Path) -> list[dict]:
    path = Path(path)
    if not path.is_file():
        raise TaskDataError(f"{path}: XNLI file not found")
    if path.suffix == ".jsonl":
        return read_multinli_jsonl(path)
    if path.suffix == ".tsv":
        return read_xtreme_tsv(path)
    raise TaskDataError(f"{path}: expected an XTREME .tsv or a MultiNLI .jsonl file")


def read_hub(hub: str, revision: str, lang: str, split: str) -> list[dict]:
    ds = load_hub_split(hub, lang, revision, HUB_SPLITS[split])
    return [{"id": f"{lang}.{split}:{i}", "a": r["premise"], "b": r["hypothesis"], "label": LABELS[r["label"]]}
            for i, r in enumerate(ds)]
