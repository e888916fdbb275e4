"""Universal Dependencies treebanks in CoNLL-U, read with `conllu`, from a local folder or a release URL.

A treebank file is `{source}/{treebank}-ud-{split}.conllu`, e.g. source `../shared/data/ud` (or an https URL
prefix) and treebank `UD_English-EWT/en_ewt`. Only syntactic words are kept (multiword-token ranges and empty
nodes are not scored by LAS); relations keep their subtypes here and are compared on the universal part.
"""
from __future__ import annotations

import io
from pathlib import Path

import conllu

from xstruct.io import atomic_write, download
from xstruct.tasks import TaskDataError

FILE_SPLITS = {"train": "train", "dev": "dev", "test": "test"}


def treebank_location(source: str, treebank: str, split: str) -> str:
    return f"{source.rstrip('/')}/{treebank}-ud-{FILE_SPLITS[split]}.conllu"


def read_text(location: str) -> str:
    if location.startswith(("http://", "https://")):
        return download(location, "run online once, or point transfer.tasks.<task>.source at a local folder"
                        ).decode("utf-8")
    path = Path(location)
    if not path.is_file():
        raise TaskDataError(f"{path}: CoNLL-U file not found (transfer.tasks.<task>.source/treebanks)")
    return path.read_text(encoding="utf-8")


def is_word(token) -> bool:
    return isinstance(token["id"], int)


def parse_trees(text: str, name: str) -> list[dict]:
    out = []
    for i, sent in enumerate(conllu.parse_incr(io.StringIO(text)), start=1):
        words = [t for t in sent if is_word(t)]
        if not words:
            continue
        out.append({"id": sent.metadata.get("sent_id", f"{name}:{i}"), "words": [t["form"] for t in words],
                    "heads": [int(t["head"]) for t in words], "deprels": [t["deprel"] for t in words]})
    return out


def read_treebank(source: str, treebank: str, split: str) -> list[dict]:
    location = treebank_location(source, treebank, split)
    return parse_trees(read_text(location), location)


def write_predictions(gold_path: str | Path, heads: list[list[int]], deprels: list[list[str]],
                      out_path: str | Path) -> None:
    """Copy a gold CoNLL-U file with HEAD and DEPREL of every syntactic word replaced by predictions
    (sentences in file order), so the official CoNLL 2018 scorer can evaluate them."""
    sentences = conllu.parse(Path(gold_path).read_text(encoding="utf-8"))
    sentences = [s for s in sentences if any(is_word(t) for t in s)]
    if len(sentences) != len(heads):
        raise ValueError(f"{gold_path}: {len(sentences)} sentences but {len(heads)} predicted trees")
    with atomic_write(out_path) as f:
        for sent, hs, rs in zip(sentences, heads, deprels):
            words = [t for t in sent if is_word(t)]
            if len(words) != len(hs):
                raise ValueError(f"{gold_path}: sentence {sent.metadata.get('sent_id')} has {len(words)} words, "
                                 f"{len(hs)} predictions")
            for t, h, r in zip(words, hs, rs):
                t["head"], t["deprel"] = int(h), r
            f.write(sent.serialize())
