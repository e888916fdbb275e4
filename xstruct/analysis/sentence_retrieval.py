"""Parallel sentence retrieval per layer (paper §5.1.3, Fig. 6).

Mean-pooled sentence vectors of two models; a Procrustes map learnt on parallel training sentences takes the
target language (queries) into English (keys); precision@1 by cosine nearest neighbour on held-out pairs, with
and without the map, in both directions.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .align import IterNorm, fit_map
from .extract import Features, same_sentences
from .nn_precision import retrieval_p_at_1


def split(n: int, n_eval: int, n_train: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Disjoint (eval, train) indices of n parallel sentences, from one seeded permutation."""
    if n_eval + n_train > n:
        raise ValueError(f"analysis.retrieval: n_eval {n_eval} + n_train {n_train} exceed the {n} sentences of the set")
    perm = np.random.default_rng(seed).permutation(n)
    return np.sort(perm[:n_eval]), np.sort(perm[n_eval:n_eval + n_train])


def retrieval_table(src: Features, tgt: Features, *, n_train: int, n_eval: int, seed: int, norm_iters: int,
                    block: int, src_eval: Features | None = None, tgt_eval: Features | None = None) -> pd.DataFrame:
    """One row per (layer, mapped): P@1 of src->tgt (`p_at_1`) and tgt->src (`p_at_1_reverse`).

    Without `*_eval` sets, evaluation and training pairs are disjoint parts of the same parallel set;
    with them (e.g. Tatoeba), training uses the first `n_train` of a seeded permutation of the training set.
    """
    same_sentences(src, tgt)
    if src_eval is None:
        eval_idx, train_idx = split(src.n, n_eval, n_train, seed)
        src_eval, tgt_eval = src, tgt
    else:
        same_sentences(src_eval, tgt_eval)
        train_idx = split(src.n, 0, n_train, seed)[1]
        eval_idx = np.arange(min(n_eval, src_eval.n))
    rows = []
    for layer in range(src.n_layers):
        xs, ys = src.sentences(layer, train_idx), tgt.sentences(layer, train_idx)
        xe, ye = src_eval.sentences(layer, eval_idx), tgt_eval.sentences(layer, eval_idx)
        m = fit_map(xs, ys, norm_iters)
        plain = IterNorm.fit(xs, norm_iters).apply(xe)
        for mapped, q in ((False, plain), (True, m.shared(xe))):
            k = m.target(ye)
            rows.append({"layer": layer, "mapped": mapped,
                         "p_at_1": retrieval_p_at_1(q, k, block=block),
                         "p_at_1_reverse": retrieval_p_at_1(k, q, block=block),
                         "n_train": len(train_idx), "n_eval": len(eval_idx)})
    return pd.DataFrame(rows)




def run_retrieval(en_dir, xx_dir, out_csv, *, n_train: int, n_eval: int, seed: int, norm_iters: int, block: int,
                  en_eval_dir=None, xx_eval_dir=None, random: dict | None = None) -> pd.DataFrame:
    """xx sentences (queries) mapped onto English ones (keys); see `retrieval_table`. The `encoder` column says
    whose features: `trained`, or `random` for the randomly initialised encoders of `random` (keys en, xx,
    en_eval, xx_eval: folders), the control that says what no pretraining gives."""
    from .csv_tables import write_csv_table

    encoders = {"trained": {"en": en_dir, "xx": xx_dir, "en_eval": en_eval_dir, "xx_eval": xx_eval_dir}}
    if random:
        encoders["random"] = random
    tables = []
    for name, d in encoders.items():
        separate = d.get("en_eval") is not None and str(d["en_eval"]) != str(d["en"])
        table = retrieval_table(Features(d["xx"]), Features(d["en"]), n_train=n_train, n_eval=n_eval, seed=seed,
                                norm_iters=norm_iters, block=block,
                                src_eval=Features(d["xx_eval"]) if separate else None,
                                tgt_eval=Features(d["en_eval"]) if separate else None)
        tables.append(table.assign(encoder=name))
    table = pd.concat(tables, ignore_index=True)
    write_csv_table(table, out_csv)
    return table
