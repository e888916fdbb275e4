"""The transfer half of the report: Table 1, its side-by-side with the paper, Fig. 3 and the claims' evidence."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from xstruct.report import figures
from xstruct.report.table1 import DELTA, collect_transfer, display_labels, side_by_side, table1
from xstruct.report.table_formats import write_table


def write_transfer_report(result_paths: list[str], study, tasks: dict[str, dict], skipped: dict[str, str],
                          targets: list[str], tables_dir: str | Path, figures_dir: str | Path,
                          name: str) -> tuple[dict[tuple[str, str, str], float], dict[tuple[str, str], dict]]:
    """Write Table 1 (+ seeds, + paper side by side) and Fig. 3; return the claims' evidence: percent scores
    keyed by (paper role, condition, target) of the pretrained conditions, and the floors (see `floors`)."""
    tables_dir, figures_dir = Path(tables_dir), Path(figures_dir)
    conditions = [c for c in study.conditions if c != "mono"]
    labels = display_labels(study.conditions)
    scores = collect_transfer(result_paths, study.by_id)
    order = [t for t in tasks if t not in skipped]
    num, disp = table1(scores, conditions, labels, order, targets, skipped)
    stand_in = [t for t in order if tasks[t].get("stand_in")]
    note = (f" Stand-in tasks ({', '.join(tasks[t]['label'] for t in stand_in)}) are not the paper's datasets."
            if stand_in else "")
    skip_note = "".join(f" {tasks[t]['label']}: {why}." for t, why in skipped.items())
    caption = (f"Table 1 ({name}): zero-shot transfer from English, target-language test scores (%), "
               f"Δ = mean over {', '.join(targets)} minus Default.{note}{skip_note}")
    write_table(num, tables_dir / "table1", caption, display=disp)
    scores.to_csv(tables_dir / "table1_seeds.csv", index=False)

    paper_cols = {t: tasks[t]["paper"] for t in order if tasks[t].get("paper")}
    both = side_by_side(num, conditions, labels, paper_cols, targets)
    cmp_caption = (f"Table 1 ({name}) next to the paper's Table 1 (Conneau et al. 2020)."
                   + (" For stand-in tasks only the pattern of Δ across conditions is comparable, not the values."
                      if stand_in else ""))
    write_table(both, tables_dir / "table1_vs_paper", cmp_caption)

    if order:
        figures.transfer_bars(num.drop(columns=[(t, DELTA) for t in order], errors="ignore"),
                              {t: tasks[t]["label"] for t in order}, targets, figures_dir / "fig3_transfer",
                              f"Fig. 3 ({name}): zero-shot transfer of bilingual MLMs under each condition.")
    controls = {c for c, cond in study.conditions.items() if cond.is_control}
    evidence = {}
    for row in scores.groupby(["task", "condition", "target"], as_index=False)["score"].mean().itertuples():
        role = tasks.get(row.task, {}).get("paper")
        if role and row.condition not in controls:
            evidence[(role, row.condition, row.target)] = float(row.score)
    return evidence, floors(scores, tasks, controls, labels)


def floors(scores: pd.DataFrame, tasks: dict[str, dict], controls: set[str], labels: dict[str, str]
           ) -> dict[tuple[str, str], dict[str, float]]:
    """(task and its paper role, target) -> {source: percent}: what a model that learnt nothing transferable
    scores: each control condition's score (mean over seeds) and each test-data baseline rule."""
    out: dict[tuple[str, str], dict[str, float]] = {}
    ctrl = scores[scores.condition.isin(controls)].groupby(["task", "condition", "target"])["score"].mean()
    base = scores.dropna(subset=["baseline"]).groupby(["task", "baseline_rule", "target"])["baseline"].first()
    found = [((t, l), labels.get(c, c), v) for (t, c, l), v in ctrl.items()]
    found += [((t, l), f"baseline: {rule}", v) for (t, rule, l), v in base.items()]
    for (task, lang), source, value in found:
        for key in {task, tasks.get(task, {}).get("paper") or task}:
            out.setdefault((key, lang), {})[source] = float(value)
    return out
