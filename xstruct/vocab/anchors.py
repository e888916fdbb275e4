"""Anchor statistics of a vocabulary: how many pieces the languages share and how much of their text they cover.

Two notions, both over non-special pieces:
- shared_pieces: pieces in the vocabulary of two or more language views (joint: every piece; union: the identical
  strings of the two models; disjoint: none);
- shared_pieces_used: pieces that occur in the training text of two or more languages, the anchors the model can
  actually learn from (for a joint vocabulary the informative count).
token_share / token_share_used: the share of a language's training tokens ([SEP] excluded) that are such pieces.
Training text is the parts the tokenizers were trained on (a and b); tokens counts every part.
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from xstruct.io import read_json, write_json
from xstruct.vocab import SEP, SPECIALS, TRAINING_PARTS, UNK
from xstruct.vocab.table import read_table


def id_counts(path: str | Path, size: int, chunk: int = 1 << 24) -> np.ndarray:
    """How often each global id occurs in an id array, read in chunks (bincount would widen it all to int64)."""
    ids = np.load(path, mmap_mode="r")
    counts = np.zeros(size, dtype=np.int64)
    for start in range(0, len(ids), chunk):
        part = np.bincount(ids[start:start + chunk], minlength=size)
        if len(part) != size:
            raise ValueError(f"{path}: id {len(part) - 1} is beyond the global vocabulary of {size}")
        counts += part
    return counts


def anchor_stats(tsv: str | Path, meta: str | Path, arrays: Mapping[str, Mapping[str, str | Path]]) -> dict:
    """Statistics from vocab.tsv, meta.json and the id arrays ({lang: {part: .npy}}) of a vocabulary."""
    rows = read_table(tsv)
    info = read_json(meta)
    langs, size = info["languages"], info["global_size"]
    if len(rows) != size:
        raise ValueError(f"{tsv}: {len(rows)} rows but {meta} says global_size {size}")
    content = np.ones(size, dtype=bool)
    content[:len(SPECIALS)] = False
    views = np.array([[lang in ls for _, ls in rows] for lang in langs])           # (languages, global ids)
    counts = {lang: {part: id_counts(path, size) for part, path in arrays[lang].items()} for lang in langs}
    missing = [f"{l}.{p}" for l in langs for p in TRAINING_PARTS if p not in counts[l]]
    if missing:
        raise ValueError(f"anchor statistics need the training parts' arrays; missing {', '.join(missing)}")
    train = np.array([sum(counts[l][p] for p in TRAINING_PARTS) for l in langs])  # (languages, global ids)
    shared = content & (views.sum(0) >= 2)
    shared_used = content & ((train > 0).sum(0) >= 2)

    def share(i: int, mask: np.ndarray) -> float:
        total = train[i].sum() - train[i, SEP]
        return round(float(train[i, mask].sum() / total), 6) if total else 0.0

    return {
        "mode": info["mode"],
        "languages": langs,
        "global_size": size,
        "sizes": info["sizes"],
        "shared_pieces": int(shared.sum()),
        "shared_pieces_used": int(shared_used.sum()),
        "token_share": {l: share(i, shared) for i, l in enumerate(langs)},
        "token_share_used": {l: share(i, shared_used) for i, l in enumerate(langs)},
        "unk_rate": {l: share(i, np.arange(size) == UNK) for i, l in enumerate(langs)},
        "tokens": {l: {p: int(c.sum() - c[SEP]) for p, c in counts[l].items()} for l in langs},
        "training_parts": list(TRAINING_PARTS),
    }


def write_anchor_stats(tsv: str | Path, meta: str | Path, arrays: Mapping[str, Mapping[str, str | Path]],
                       out: str | Path) -> dict:
    stats = anchor_stats(tsv, meta, arrays)
    write_json(out, stats)
    return stats
