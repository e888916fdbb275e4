"""Word translation / bilingual lexicon induction (paper §5.1.1, Fig. 4).

Supervised Procrustes on the train dictionary (iterative normalisation fitted on each whole vocabulary), then
precision@1 with CSLS over the whole target vocabulary for the test dictionary's source words. Coverage (pairs
and words kept because both sides are in the vocabularies) is reported with every score.
"""
from __future__ import annotations

import sys

import pandas as pd
import torch

from .align import fit_map
from .extract import Features
from .fasttext import fasttext_vectors
from .nn_precision import retrieval_p_at_1


def bli_scores(src_words: list[str], src_vecs: torch.Tensor, tgt_words: list[str], tgt_vecs: torch.Tensor,
               train: list[tuple[str, str]], test: list[tuple[str, str]], *, norm_iters: int, k: int,
               block: int, what: str = "") -> dict:
    si = {w: i for i, w in enumerate(src_words)}
    ti = {w: i for i, w in enumerate(tgt_words)}
    pairs = [(si[s], ti[t]) for s, t in train if s in si and t in ti]
    gold: dict[str, set[int]] = {}                 # every test source word, with its in-vocabulary translations
    for s, t in test:
        entry = gold.setdefault(s, set())
        if s in si and t in ti:
            entry.add(ti[t])
    kept = [s for s, g in gold.items() if g and s in si]
    out = {"src_vocab": len(src_words), "tgt_vocab": len(tgt_words), "train_pairs": len(train),
           "train_kept": len(pairs), "test_words": len(gold), "test_kept": len(kept),
           "test_coverage": len(kept) / max(len(gold), 1), "p_at_1": float("nan")}
    if len(pairs) < 2:  # nothing to learn a map from: the row reports the coverage and no score
        print(f"BLI {what}: only {len(pairs)} of {len(train)} training pairs are in both vocabularies; "
              "no score", file=sys.stderr)
    elif kept:
        s_idx, t_idx = zip(*pairs)
        m = fit_map(src_vecs[list(s_idx)], tgt_vecs[list(t_idx)], norm_iters, x_fit=src_vecs, y_fit=tgt_vecs)
        queries = m.shared(src_vecs[[si[s] for s in kept]])
        out["p_at_1"] = retrieval_p_at_1(queries, m.target(tgt_vecs), [gold[s] for s in kept], "csls", k, block,
                                         query_pool=m.shared(src_vecs))
    return out


def _types(f: Features) -> tuple[list[str], torch.Tensor]:
    words, counts = f.types()
    return words, torch.from_numpy(counts > 0)


def _encoder_rows(model: str, en: Features, xx: Features, train, test, opts: dict) -> list[dict]:
    """The embedding row and one contextual row per layer of one pair of encoders."""
    en_w, en_v = en.embeddings()
    xx_w, xx_v = xx.embeddings()
    rows = [{"model": model, "vocabulary": "embedding", "layer": "",
             **bli_scores(en_w, en_v, xx_w, xx_v, train, test, what=f"{model} embedding layer", **opts)}]
    (en_t, en_ok), (xx_t, xx_ok) = _types(en), _types(xx)
    en_t, xx_t = [w for w, ok in zip(en_t, en_ok) if ok], [w for w, ok in zip(xx_t, xx_ok) if ok]
    for layer in range(en.n_layers):
        rows.append({"model": model, "vocabulary": "contextual", "layer": layer,
                     **bli_scores(en_t, en.type_vectors(layer)[en_ok], xx_t, xx.type_vectors(layer)[xx_ok],
                                  train, test, what=f"{model} contextual layer {layer}", **opts)})
    return rows


def bli_table(en: Features, xx: Features, train: list[tuple[str, str]], test: list[tuple[str, str]], *,
              norm_iters: int, k: int, block: int, fasttext_en=None, fasttext_xx=None,
              random_en: Features | None = None, random_xx: Features | None = None) -> pd.DataFrame:
    """Rows: BERT input embeddings (single-piece words), averaged contextual vectors per layer, the same for
    the randomly initialised encoders (model `random`: what no pretraining gives, when given), and fastText on
    each of the two BERT vocabularies (when fastText folders are given)."""
    opts = {"norm_iters": norm_iters, "k": k, "block": block}
    rows = _encoder_rows("bert", en, xx, train, test, opts)
    if random_en is not None:
        rows += _encoder_rows("random", random_en, random_xx, train, test, opts)
    en_w, xx_w = en.embeddings()[0], xx.embeddings()[0]
    (en_t, en_ok), (xx_t, xx_ok) = _types(en), _types(xx)
    en_t, xx_t = [w for w, ok in zip(en_t, en_ok) if ok], [w for w, ok in zip(xx_t, xx_ok) if ok]
    if fasttext_en is not None:
        for vocab, (a, b) in {"embedding": (en_w, xx_w), "contextual": (en_t, xx_t)}.items():
            rows.append({"model": "fasttext", "vocabulary": vocab, "layer": "",
                         **bli_scores(a, fasttext_vectors(fasttext_en, a), b, fasttext_vectors(fasttext_xx, b),
                                      train, test, what=f"fastText on the {vocab} vocabulary", **opts)})
    return pd.DataFrame(rows)


def run_bli(en_dir, xx_dir, train_path, test_path, out_csv, *, norm_iters: int, k: int, block: int,
            fasttext_en=None, fasttext_xx=None, random_en=None, random_xx=None) -> pd.DataFrame:
    from .csv_tables import write_csv_table
    from xstruct.corpora.dictionaries import read_dictionary

    rnd = {"random_en": Features(random_en), "random_xx": Features(random_xx)} if random_en else {}
    table = bli_table(Features(en_dir), Features(xx_dir), read_dictionary(train_path), read_dictionary(test_path),
                      norm_iters=norm_iters, k=k, block=block, fasttext_en=fasttext_en, fasttext_xx=fasttext_xx,
                      **rnd)
    write_csv_table(table, out_csv)
    return table
