"""`xref`: a sentence-pair stand-in for XNLI built from the Bible's human cross-reference table.

Three balanced classes of verse pairs inside one split: `crossref` (the table links them), `same_chapter` (same
chapter, not linked) and `other_book` (different books, not linked). Pairs are chosen once on verse keys, so every
language gets the same labelled pairs; only the verse texts differ.
"""
from __future__ import annotations

from collections import defaultdict

import numpy as np

from xstruct.tasks import SPLITS, TaskDataError
from xstruct.tasks.verse_splits import book, chapter

LABELS = ("crossref", "same_chapter", "other_book")


def build_pairs(keys: list[str], crossrefs: list[tuple[str, str]], split_of: dict[str, str],
                seed: int) -> list[dict]:
    """Labelled key pairs {split, a, b, label}; per split, n of each class with n = the smaller of the number of
    linked pairs and the number of unlinked same-chapter pairs."""
    order = {k: i for i, k in enumerate(keys)}
    linked = {frozenset(p) for p in crossrefs if p[0] in order and p[1] in order and p[0] != p[1]}
    out = []
    for s_index, split in enumerate(SPLITS):
        rng = np.random.default_rng([seed, s_index])
        verses = [k for k in keys if split_of[k] == split]
        positives = sorted((tuple(sorted(p, key=order.get)) for p in linked if all(split_of[k] == split for k in p)),
                           key=lambda p: (order[p[0]], order[p[1]]))
        by_chapter = defaultdict(list)
        for k in verses:
            by_chapter[chapter(k)].append(k)
        same = [(a, b) for ch in by_chapter.values() for i, a in enumerate(ch) for b in ch[i + 1:]
                if frozenset((a, b)) not in linked]
        if len({book(k) for k in verses}) < 2:
            raise TaskDataError(f"xref: split {split!r} holds one book; other_book pairs need at least two")
        n = min(len(positives), len(same))
        if n == 0:
            raise TaskDataError(f"xref: split {split!r} has no cross-referenced pair inside it; choose other books")
        chosen = {"crossref": [positives[i] for i in sorted(rng.choice(len(positives), n, replace=False))],
                  "same_chapter": [same[i] for i in sorted(rng.choice(len(same), n, replace=False))],
                  "other_book": []}
        seen = set()
        while len(chosen["other_book"]) < n:
            a, b = (verses[i] for i in rng.integers(len(verses), size=2))
            pair = frozenset((a, b))
            if book(a) != book(b) and pair not in linked and pair not in seen:
                seen.add(pair)
                chosen["other_book"].append((a, b))
        examples = []
        for label in LABELS:
            for a, b in chosen[label]:
                if rng.random() < 0.5:  # random order: the table's direction must not give the label away
                    a, b = b, a
                examples.append({"split": split, "a": a, "b": b, "label": label})
        out += [examples[i] for i in rng.permutation(len(examples))]
    return out


def pair_examples(pairs: list[dict], verses: dict[str, str], split: str, where: str) -> list[dict]:
    """The pairs of one split with the texts of one language."""
    out = []
    for p in pairs:
        if p["split"] != split:
            continue
        if p["a"] not in verses or p["b"] not in verses:
            raise TaskDataError(f"{where}: verse {p['a'] if p['a'] not in verses else p['b']} is missing")
        out.append({"id": f"{p['a']}|{p['b']}", "a": verses[p["a"]], "b": verses[p["b"]], "label": p["label"]})
    return out
