"""What a pretraining run reports: its log (one row per training-loss window and per validation), written as
log.csv, and the metrics.json the report reads."""
from __future__ import annotations

import csv
from pathlib import Path

from .io import atomic_write
from .mlm import left_plateau

COLUMNS = ("step", "tokens", "split", "lang", "loss", "ppl", "acc", "masked_acc", "lr", "tokens_per_s",
           "elapsed_s")


def write_log(rows: list[dict], path: str | Path) -> None:
    with atomic_write(path) as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS)
        w.writeheader()
        w.writerows(rows)


def run_metrics(run: dict, rows: list[dict], best: dict, baselines: dict[str, dict[str, float]], step: int,
                tokens_per_step: int, train_seconds: float, **facts) -> dict:
    """metrics.json: the best checkpoint's validation scores (by English perplexity), the final ones, the unigram
    baselines and whether each language left the plateau, the budget spent; `facts` (FLOPs, model size, device,
    threads, memory, ...) follow as they are."""
    langs = list(run["langs"])
    final = {r["lang"]: {k: float(r[k]) for k in ("loss", "ppl", "acc", "masked_acc")} for r in rows
             if r["split"] == "valid" and r["step"] == step}
    rates = [r["tokens_per_s"] for r in rows if r["split"] == "train"]
    return {
        "run": run["id"], "languages": langs, "selected_by": "en" if "en" in langs else langs[0],
        "best_step": best["step"], "best": best["scores"], "final": final,
        "unigram_loss": {l: b["unigram_loss"] for l, b in baselines.items()},
        "most_frequent_acc": {l: b["most_frequent_acc"] for l, b in baselines.items()},
        "left_plateau": {l: left_plateau(best["scores"][l]["masked_acc"], b["most_frequent_acc"])
                         for l, b in baselines.items()},
        "steps": step, "tokens": step * tokens_per_step, "train_seconds": round(train_seconds, 1),
        "tokens_per_s": round(sum(rates) / len(rates)) if rates else None,
        **facts,
    }
