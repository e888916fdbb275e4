"""Linear CKA between two models' sentence representations per layer (paper §5.2, Fig. 7), and its
correlation with sentence retrieval across layers."""
from __future__ import annotations

import pandas as pd
from scipy.stats import pearsonr

from .cka import linear_cka
from .extract import Features, same_sentences
from .sentence_retrieval import split


def cka_table(settings: dict[str, tuple[Features, Features]], *, n_sentences: int, seed: int,
              debiased: bool) -> pd.DataFrame:
    """Rows (setting, layer, cka) for layers 0..L plus layer "avg" (mean over layers), on `n_sentences`
    parallel sentences chosen by the seeded permutation the retrieval evaluation also starts from."""
    rows = []
    for setting, (en, xx) in settings.items():
        same_sentences(en, xx)
        index = split(en.n, min(n_sentences, en.n), 0, seed)[0]
        values = [linear_cka(en.sentences(l, index), xx.sentences(l, index), debiased) for l in range(en.n_layers)]
        rows += [{"setting": setting, "layer": l, "cka": v, "n": len(index)} for l, v in enumerate(values)]
        rows.append({"setting": setting, "layer": "avg", "cka": sum(values) / len(values), "n": len(index)})
    return pd.DataFrame(rows)


def correlation_table(cka: dict[str, pd.DataFrame], retrieval: dict[str, pd.DataFrame], *, setting: str,
                      mapped: bool) -> pd.DataFrame:
    """Pearson r across layers between CKA (one setting) and retrieval P@1 (mapped or not), per pair."""
    rows = []
    for pair in sorted(set(cka) & set(retrieval)):
        c = cka[pair]
        c = c[(c.setting == setting) & (c.layer.astype(str) != "avg")].assign(layer=lambda d: d.layer.astype(int))
        r = retrieval[pair]
        r = r[r.mapped.astype(str).str.lower() == str(mapped).lower()]
        if "encoder" in r:   # the random-encoder control rows are not the models CKA compares
            r = r[r.encoder == "trained"]
        both = c.merge(r, on="layer")
        if len(both) < 3:
            raise ValueError(f"CKA/retrieval correlation for {pair}: only {len(both)} common layers (need 3)")
        res = pearsonr(both.cka, both.p_at_1)
        rows.append({"pair": pair, "setting": setting, "mapped": mapped, "pearson_r": float(res.statistic),
                     "p_value": float(res.pvalue), "layers": len(both)})
    return pd.DataFrame(rows, columns=["pair", "setting", "mapped", "pearson_r", "p_value", "layers"])


def run_cka(settings: dict[str, tuple[str, str]], out_csv, *, n_sentences: int, seed: int,
            debiased: bool) -> pd.DataFrame:
    """settings: name -> (English-side extraction folder, other-side extraction folder)."""
    from .csv_tables import write_csv_table

    table = cka_table({s: (Features(a), Features(b)) for s, (a, b) in settings.items()},
                      n_sentences=n_sentences, seed=seed, debiased=debiased)
    write_csv_table(table, out_csv)
    return table


def run_correlation(cka_csvs: dict[str, str], retrieval_csvs: dict[str, str], out_csv, *, setting: str,
                    mapped: bool) -> pd.DataFrame:
    from .csv_tables import read_csv_table, write_csv_table

    table = correlation_table({p: read_csv_table(c) for p, c in cka_csvs.items()},
                              {p: read_csv_table(r) for p, r in retrieval_csvs.items()}, setting=setting, mapped=mapped)
    write_csv_table(table, out_csv)
    return table
