"""What each pretraining run learned: validation loss against the unigram plateau, per run and language.

A run whose masked-token accuracy (every predicted position of held-out text masked) is not at least twice that of
always answering the most frequent piece has not left the unigram plateau (`xstruct.mlm.left_plateau`): its
transfer and similarity numbers describe a model that ignores context. The table says so for every run, and its
first line names the trained runs that did not leave.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from xstruct.io import atomic_write, read_json


def pretraining_table(metrics_paths: list[str], controls: set[str]) -> pd.DataFrame:
    """One row per (run, language) of the best (exported) checkpoint."""
    rows = []
    for path in metrics_paths:
        m = read_json(path)
        if "left_plateau" not in m:
            raise ValueError(f"{path}: no left_plateau entry (written by an older pipeline; retrain the run)")
        for lang in m["languages"]:
            best = m["best"][lang]
            rows.append({"run": m["run"], "lang": lang, "control": m["run"].split(".")[0] in controls,
                         "tokens": m["tokens"], "best_step": m["best_step"],
                         "valid_loss": round(best["loss"], 3), "unigram_loss": round(m["unigram_loss"][lang], 3),
                         "masked_acc": round(100 * best["masked_acc"], 1),
                         "most_frequent_acc": round(100 * m["most_frequent_acc"][lang], 1),
                         "left_plateau": bool(m["left_plateau"][lang]),
                         "train_minutes": round(m["train_seconds"] / 60, 1), "tokens_per_s": m["tokens_per_s"]})
    return pd.DataFrame(rows)


def plateau_line(table: pd.DataFrame) -> str:
    trained = table[~table["control"]]
    stuck = sorted({f"{r.run} ({r.lang})" for r in trained.itertuples() if not r.left_plateau})
    n_runs = trained["run"].nunique()
    if not stuck:
        return f"All {n_runs} trained runs left the unigram plateau in every language"
    return (f"{n_runs - len({s.split(' ')[0] for s in stuck})} of {n_runs} trained runs left the unigram plateau "
            f"in every language; not left: {', '.join(stuck)}")


def write_pretraining_report(metrics_paths: list[str], controls: set[str], tables: Path) -> str:
    """tables/pretraining.{csv,md}; returns the one-line plateau summary."""
    table = pretraining_table(metrics_paths, controls)
    line = plateau_line(table)
    tables.mkdir(parents=True, exist_ok=True)
    with atomic_write(tables / "pretraining.csv") as f:
        table.to_csv(f, index=False)
    with atomic_write(tables / "pretraining.md") as f:
        f.write(f"{line}.\n\nValidation (held-out Old Testament verses for the embedded study) at the exported "
                "checkpoint: loss in nats against the training text's unigram distribution; masked-token accuracy "
                "with every predicted position masked (%) against always answering the most frequent piece. "
                "Left the plateau: accuracy at least twice that baseline. Controls are never trained.\n\n")
        f.write(table.drop(columns=["control"]).to_markdown(index=False) + "\n")
    return line
