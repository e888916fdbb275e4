"""Table 1: zero-shot transfer of every bilingual condition, per task and target language, with each task's Δ.

Scores are in percent. Δ is the mean over target languages minus Default's, as the paper computes it. With
several seeds a cell is the mean over seeds and the Markdown/LaTeX views show mean ± std. Conditions the paper
does not have (the random-init control) are rows of their own, labelled "not in paper", with empty paper cells.
"""
from __future__ import annotations

import csv
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

from xstruct.io import read_json

DELTA = "Δ"
BASELINE = "default"


COLUMNS = ["task", "metric", "condition", "target", "seed", "score", "dev", "baseline", "baseline_rule"]


def collect_transfer(paths: list[str | Path], runs: dict) -> pd.DataFrame:
    """One row per (task, run): task, metric, condition, target, seed, score (percent, target-language test),
    and the no-learning baseline on that test set when the result records one (percent, and its rule)."""
    rows = []
    for path in paths:
        result = read_json(path)
        run = runs[result["run"]]
        baseline = result.get("baseline") or {}
        rows.append({"task": result["task"], "metric": result["metric"], "condition": run.condition.name,
                     "target": result["target"], "seed": run.seed, "score": 100.0 * result["test"],
                     "dev": 100.0 * result["dev"], "baseline": 100.0 * baseline.get("test", np.nan),
                     "baseline_rule": baseline.get("rule", "")})
    return pd.DataFrame(rows, columns=COLUMNS)


def display_labels(conditions: dict) -> dict[str, str]:
    """Row labels; a condition the paper's Table 1 does not have says so (e.g. the random-init control)."""
    paper = set(paper_table1().index)
    return {c: cond.label if c in paper else f"{cond.label} ({cond.section}, not in paper)"
            for c, cond in conditions.items()}


def seed_summary(scores: pd.DataFrame) -> pd.DataFrame:
    """Mean, std and count over seeds for each (task, condition, target)."""
    g = scores.groupby(["task", "condition", "target"], sort=False)["score"]
    return g.agg(mean="mean", std=lambda s: float(np.std(s, ddof=1)) if len(s) > 1 else 0.0, n="count").reset_index()


def table1(scores: pd.DataFrame, conditions: list[str], labels: dict[str, str], tasks: list[str],
           targets: list[str], skipped: dict[str, str] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(numeric table, display table): rows = conditions, columns = (task, target) and (task, Δ)."""
    summary = seed_summary(scores)
    mean = summary.pivot_table(index="condition", columns=["task", "target"], values="mean")
    std = summary.pivot_table(index="condition", columns=["task", "target"], values="std")
    n = summary.pivot_table(index="condition", columns=["task", "target"], values="n")
    rows = [c for c in conditions if c in mean.index]
    numeric, display = {}, {}
    for task in tasks:
        for lang in targets:
            key = (task, lang)
            m = mean[key].reindex(rows) if key in mean else pd.Series(np.nan, index=rows)
            numeric[key] = m
            if key in mean:
                display[key] = [cell(m[c], std[key].get(c, 0.0), n[key].get(c, 1)) for c in rows]
            else:
                display[key] = [""] * len(rows)
        avg = pd.DataFrame({lang: numeric[(task, lang)] for lang in targets}).mean(axis=1, skipna=False)
        base = avg.get(BASELINE, np.nan)
        numeric[(task, DELTA)] = avg - base
        display[(task, DELTA)] = [f"{d:+.1f}" if not pd.isna(d) else "" for d in numeric[(task, DELTA)]]
    for task in skipped or {}:
        for lang in [*targets, DELTA]:
            numeric[(task, lang)] = pd.Series(np.nan, index=rows)
            display[(task, lang)] = ["not run"] * len(rows)
    index = pd.Index([labels.get(c, c) for c in rows], name="model")
    num = pd.DataFrame(numeric, index=rows)
    num.index = index
    num.columns = pd.MultiIndex.from_tuples(num.columns, names=["task", "language"])
    disp = pd.DataFrame(display, index=index)
    disp.columns = num.columns
    return num, disp


def cell(mean: float, std: float, n: int) -> str:
    if pd.isna(mean):
        return ""
    return f"{mean:.1f} ± {std:.1f}" if n > 1 else f"{mean:.1f}"


def paper_table1() -> pd.DataFrame:
    """The paper's Table 1 (xstruct/data/paper_table1.tsv), indexed by condition id."""
    text = resources.files("xstruct.data").joinpath("paper_table1.tsv").read_text(encoding="utf-8")
    rows = list(csv.reader((l for l in text.splitlines() if l and not l.startswith("#")), delimiter="\t"))
    df = pd.DataFrame(rows[1:], columns=rows[0]).set_index("condition").astype(float)
    return df


def side_by_side(ours: pd.DataFrame, conditions: list[str], labels: dict[str, str], columns: dict[str, str],
                 targets: list[str]) -> pd.DataFrame:
    """Our Table 1 next to the paper's: for each of our tasks, its paper column (xnli / ner / parsing)."""
    paper = paper_table1()
    rows = [c for c in conditions if labels.get(c, c) in ours.index]   # ours only (controls): paper cells empty
    out = {}
    for task, paper_task in columns.items():
        if task not in ours.columns.get_level_values(0):
            continue
        for lang in [*targets, DELTA]:
            pcol = f"{paper_task}_{'delta' if lang == DELTA else lang}"
            out[(task, lang, "ours")] = [ours.loc[labels.get(c, c), (task, lang)] for c in rows]
            out[(task, lang, f"paper {paper_task}")] = [paper.loc[c, pcol] if pcol in paper and c in paper.index
                                                         else np.nan for c in rows]
    df = pd.DataFrame(out, index=pd.Index([labels.get(c, c) for c in rows], name="model"))
    df.columns = pd.MultiIndex.from_tuples(df.columns, names=["task", "language", "source"])
    return df
