"""The global vocabulary of a vocabulary id and each language view's local -> global id map.

vocab.tsv has a header `id<TAB>piece<TAB>languages` and one row per global id in order: the piece string as
SentencePiece writes it ("▁" marks a word start) and the comma-separated languages whose view holds it. In a
disjoint vocabulary the language is the piece's tag, so the same string may appear once per language. Pieces may
be quote characters or strings like "nan": read the file with `read_table` (or pandas with quoting=3 and
keep_default_na=False).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import sentencepiece as spm

from xstruct.io import atomic_write, write_json
from xstruct.vocab import SPECIALS

HEADER = ("id", "piece", "languages")
Row = tuple[str, tuple[str, ...]]


def model_pieces(model: str | Path) -> list[str]:
    """The pieces of a SentencePiece model in id order, checked to start with the fixed specials."""
    sp = spm.SentencePieceProcessor(model_file=str(model))
    pieces = [sp.id_to_piece(i) for i in range(sp.get_piece_size())]
    if tuple(pieces[:len(SPECIALS)]) != SPECIALS:
        raise ValueError(f"{model}: first pieces {pieces[:len(SPECIALS)]} are not the specials {list(SPECIALS)}")
    return pieces


def build_table(mode: str, pieces: Mapping[str, Sequence[str]]) -> list[Row]:
    """Global vocabulary rows (piece, languages), in global id order, from each language's pieces.

    joint and union merge identical piece strings into one id (for joint every view is the same model, so all
    of its pieces are shared); disjoint keeps one id per (language, piece). Specials come first, shared by all.
    """
    if mode not in ("joint", "union", "disjoint"):
        raise ValueError(f"vocabulary mode {mode!r}: expected joint, union or disjoint")
    langs = tuple(pieces)
    if mode == "joint" and len({tuple(p) for p in pieces.values()}) != 1:
        raise ValueError(f"joint vocabulary: the views of {', '.join(langs)} must be the same model")
    rows: list[tuple[str, list[str]]] = [(s, list(langs)) for s in SPECIALS]
    index: dict[str, int] = {}
    for lang, lang_pieces in pieces.items():
        for piece in lang_pieces[len(SPECIALS):]:
            if mode != "disjoint" and piece in index:
                rows[index[piece]][1].append(lang)
            else:
                index[piece] = len(rows)
                rows.append((piece, [lang]))
    return [(piece, tuple(ls)) for piece, ls in rows]


def write_vocab(mode: str, domains: Mapping[str, str], models: Mapping[str, str | Path], tsv: str | Path,
                meta: str | Path) -> None:
    """vocab.tsv and meta.json of a vocabulary from its models ({lang: model}; joint: the same model for all)."""
    pieces = {lang: model_pieces(models[lang]) for lang in domains}
    rows = build_table(mode, pieces)
    with atomic_write(tsv) as f:
        f.write("\t".join(HEADER) + "\n")
        for i, (piece, langs) in enumerate(rows):
            if any(c in piece for c in "\t\n\r"):
                raise ValueError(f"{models}: piece {piece!r} holds a tab or newline; vocab.tsv cannot store it")
            f.write(f"{i}\t{piece}\t{','.join(langs)}\n")
    write_json(meta, {
        "mode": mode,
        "languages": list(domains),
        "domains": dict(domains),
        "sizes": {lang: len(p) for lang, p in pieces.items()},
        "global_size": len(rows),
        "specials": {s: i for i, s in enumerate(SPECIALS)},
    })


def read_table(tsv: str | Path) -> list[Row]:
    """vocab.tsv rows (piece, languages) in global id order."""
    rows: list[Row] = []
    with open(tsv, encoding="utf-8") as f:
        header = tuple(f.readline().rstrip("\n").split("\t"))
        if header != HEADER:
            raise ValueError(f"{tsv}: header {header} is not {HEADER}")
        for n, line in enumerate(f, start=2):
            fields = line.rstrip("\n").split("\t")
            if len(fields) != 3 or fields[0] != str(len(rows)):
                raise ValueError(f"{tsv}:{n}: expected '{len(rows)}<TAB>piece<TAB>languages', got {line!r}")
            rows.append((fields[1], tuple(fields[2].split(","))))
    return rows


def local_to_global(rows: Sequence[Row], lang: str, pieces: Sequence[str]) -> np.ndarray:
    """int64 array: local id (the view's model id) -> global id."""
    ids = {piece: i for i, (piece, langs) in enumerate(rows) if lang in langs}
    missing = [p for p in pieces if p not in ids]
    if missing or len(ids) != len(pieces):
        raise ValueError(f"view {lang!r}: its model's {len(pieces)} pieces do not match the {len(ids)} pieces "
                         f"vocab.tsv gives it (first missing: {missing[:3]})")
    return np.array([ids[p] for p in pieces], dtype=np.int64)

