"""Contextual word alignment (paper §5.1.2, Figs. 5 and 8): eflomal links on parallel sentences, symmetrised,
then one Procrustes map per layer from the target model's word vectors to the English model's.

Links are "i-j" pairs (Pharaoh format): i indexes a word of the target-language sentence, j a word of the
English one. eflomal seeds its sampler from /dev/urandom, so the links are written once as a workflow output
and everything after them is deterministic.
"""
from __future__ import annotations

import math
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from xstruct.io import atomic_write

from .align import Map, fit_map
from .extract import Features
from .nn_precision import retrieval_p_at_1

Links = list[set[tuple[int, int]]]
SYMMETRIZE = ("intersection", "union", "grow-diag-final-and")


def read_links(path: str | Path) -> Links:
    out = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            try:
                out.append({(int(a), int(b)) for a, b in (p.split("-") for p in line.split())})
            except ValueError:
                raise ValueError(f"{path}:{n}: expected space-separated 'i-j' links") from None
    return out


def write_links(path: str | Path, links: Links) -> None:
    with atomic_write(path) as f:
        f.writelines(" ".join(f"{i}-{j}" for i, j in sorted(s)) + "\n" for s in links)


def eflomal_links(src: list[str], tgt: list[str], *, model: int = 3, n_samplers: int = 3, null_prior: float = 0.2,
                  rel_iterations: float = 1.0) -> tuple[Links, Links]:
    """Forward and reverse eflomal links (both as src-tgt pairs) for whitespace-tokenised parallel sentences."""
    import eflomal

    if len(src) != len(tgt):
        raise ValueError(f"eflomal: {len(src)} source but {len(tgt)} target sentences; they must be parallel")
    with tempfile.TemporaryDirectory() as d:
        aligner = eflomal.Aligner(model=model, n_samplers=n_samplers, null_prior=null_prior,
                                  rel_iterations=rel_iterations)
        aligner.align([s + "\n" for s in src], [t + "\n" for t in tgt],
                      links_filename_fwd=f"{d}/fwd", links_filename_rev=f"{d}/rev", quiet=True)
        return read_links(f"{d}/fwd"), read_links(f"{d}/rev")


def symmetrize(fwd: Links, rev: Links, method: str) -> Links:
    """Intersection, union, or grow-diag-final-and (Koehn et al., 2005) of two directional alignments."""
    if method not in SYMMETRIZE:
        raise ValueError(f"analysis.alignment.symmetrize: {method!r} must be one of {', '.join(SYMMETRIZE)}")
    out = []
    for f, r in zip(fwd, rev, strict=True):
        if method == "intersection":
            out.append(f & r)
        elif method == "union":
            out.append(f | r)
        else:
            out.append(_grow_diag_final_and(f, r))
    return out


def _grow_diag_final_and(f: set, r: set) -> set:
    union, a = f | r, set(f & r)
    neighbours = [(-1, 0), (0, -1), (1, 0), (0, 1), (-1, -1), (-1, 1), (1, -1), (1, 1)]
    grown = True
    while grown:
        grown = False
        for i, j in sorted(a):
            for di, dj in neighbours:
                p = (i + di, j + dj)
                if p in union and p not in a and (all(x[0] != p[0] for x in a) or all(x[1] != p[1] for x in a)):
                    a.add(p)
                    grown = True
    for directional in (f, r):  # final-and: unaligned on both sides
        for p in sorted(directional):
            if p not in a and all(x[0] != p[0] for x in a) and all(x[1] != p[1] for x in a):
                a.add(p)
    return a


def link_rows(links: Links, src_offsets: np.ndarray, tgt_offsets: np.ndarray, sentences) -> tuple[np.ndarray, np.ndarray]:
    """Word-vector rows (src, tgt) of every link of the given sentences."""
    pairs = [(src_offsets[s] + i, tgt_offsets[s] + j) for s in sentences for i, j in sorted(links[s])]
    return (np.array([p[0] for p in pairs], dtype=np.int64), np.array([p[1] for p in pairs], dtype=np.int64))


def check_links(links: Links, src: Features, tgt: Features) -> None:
    so, to = src.word_offsets(), tgt.word_offsets()
    if len(links) > min(len(so), len(to)) - 1:
        raise ValueError(f"{len(links)} aligned sentences but word vectors only for {min(len(so), len(to)) - 1} "
                         "(analysis.sets.<set>.word_sentences)")
    for s, ls in enumerate(links):
        if any(i >= so[s + 1] - so[s] or j >= to[s + 1] - to[s] for i, j in ls):
            raise ValueError(f"links of sentence {s} point past its words; links and word vectors disagree")


def alignment_table(src: Features, tgt: Features, links: Links, *, test_fraction: float, seed: int,
                    norm_iters: int, block: int) -> tuple[pd.DataFrame, list[Map]]:
    """Per layer: a map learnt on the links of the training sentences, and word retrieval P@1 (cosine, among
    the English words linked in the test sentences) with and without it."""
    check_links(links, src, tgt)
    n = len(links)
    perm = np.random.default_rng(seed).permutation(n)
    n_test = math.ceil(test_fraction * n)
    test, train = np.sort(perm[:n_test]), np.sort(perm[n_test:])
    so, to = src.word_offsets(), tgt.word_offsets()
    tr_s, tr_t = link_rows(links, so, to, train)
    te_s, te_t = link_rows(links, so, to, test)
    keys = np.unique(te_t)
    queries = np.unique(te_s)
    gold = {q: set() for q in queries.tolist()}
    for a, b in zip(te_s.tolist(), np.searchsorted(keys, te_t).tolist()):
        gold[a].add(b)
    rows, maps = [], []
    for layer in range(src.n_layers):
        xs, ys = src.words(layer, tr_s), tgt.words(layer, tr_t)
        ok = (xs.norm(dim=1) > 0) & (ys.norm(dim=1) > 0)  # words cut by truncation have no vector
        m = fit_map(xs[ok], ys[ok], norm_iters)
        maps.append(m)
        q, k = src.words(layer, queries), tgt.words(layer, keys)
        g = [gold[x] for x in queries.tolist()]
        mapped = m.shared(q)
        rows.append({"layer": layer, "train_links": int(ok.sum()), "test_links": len(te_s),
                     "p_at_1": retrieval_p_at_1(mapped, m.target(k), g, block=block),
                     "p_at_1_unmapped": retrieval_p_at_1(m.src_norm.apply(q), m.target(k), g, block=block),
                     "cosine": torch.nn.functional.cosine_similarity(m.shared(xs[ok]), m.target(ys[ok])).mean().item()})
    return pd.DataFrame(rows), maps


def save_maps(path: str | Path, maps: list[Map]) -> None:
    with atomic_write(path, "wb") as f:
        torch.save([m.state() for m in maps], f)


def load_maps(path: str | Path) -> list[Map]:
    return [Map.from_state(s) for s in torch.load(path, weights_only=True)]


def run_links(sets: dict, set_id: str, xx: str, n_sentences: int, out_links, *, symmetrize_with: str,
              eflomal: dict) -> int:
    """Align the first n_sentences of a parallel set (xx words i, English words j); returns the link count."""
    from .texts import read_set

    src, tgt = read_set(sets, set_id, xx)[:n_sentences], read_set(sets, set_id, "en")[:n_sentences]
    links = symmetrize(*eflomal_links(src, tgt, **eflomal), symmetrize_with)
    write_links(out_links, links)
    return sum(map(len, links))


def run_alignment(links_path, xx_dir, en_dir, out_csv, out_maps, *, test_fraction: float, seed: int,
                  norm_iters: int, block: int) -> pd.DataFrame:
    from .csv_tables import write_csv_table

    table, maps = alignment_table(Features(xx_dir), Features(en_dir), read_links(links_path),
                                  test_fraction=test_fraction, seed=seed, norm_iters=norm_iters, block=block)
    save_maps(out_maps, maps)
    write_csv_table(table, out_csv)
    return table
