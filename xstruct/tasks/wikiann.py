"""WikiAnn NER (word tagging, BIO): the Hub dataset `unimelb-nlp/wikiann`, or XTREME-style TSV files
(`token<TAB>tag` per line, a blank line between sentences; an optional `lang:` token prefix is removed)."""
from __future__ import annotations

from pathlib import Path

from xstruct.tasks import MissingLabels, TaskDataError
from xstruct.tasks.hub_datasets import load_hub_split

HUB_SPLITS = {"train": "train", "dev": "validation", "test": "test"}


def read_xtreme_tsv(path: str | Path, lang: str) -> list[dict]:
    path = Path(path)
    if not path.is_file():
        raise TaskDataError(f"{path}: WikiAnn file not found")
    out, words, tags = [], [], []

    def flush():
        if words:
            out.append({"id": f"{path.stem}:{len(out) + 1}", "words": list(words), "tags": list(tags)})
            words.clear()
            tags.clear()

    with path.open(encoding="utf-8") as f:
        for i, line in enumerate(f, start=1):
            line = line.rstrip("\n")
            if not line.strip():
                flush()
                continue
            parts = line.split("\t")
            if len(parts) == 1:
                raise MissingLabels(f"{path}:{i}: a token without a tag")
            if len(parts) != 2 or not (parts[1] == "O" or parts[1][:2] in ("B-", "I-")):
                raise TaskDataError(f"{path}:{i}: expected token<TAB>BIO-tag")
            token = parts[0][len(lang) + 1:] if parts[0].startswith(f"{lang}:") else parts[0]
            words.append(token)
            tags.append(parts[1])
    flush()
    return out


def read_hub(hub: str, revision: str, lang: str, split: str) -> list[dict]:
    ds = load_hub_split(hub, lang, revision, HUB_SPLITS[split])
    names = ds.features["ner_tags"].feature.names
    return [{"id": f"{lang}.{split}:{i}", "words": list(r["tokens"]), "tags": [names[t] for t in r["ner_tags"]]}
            for i, r in enumerate(ds)]
