"""Sort the analysis stage's result files by analysis, for the report."""
from __future__ import annotations

from pathlib import Path

KINDS = ("bli", "retrieval", "cka", "alignment", "alignment_transfer")


def analysis_inputs(paths: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {k: [] for k in (*KINDS, "correlation")}
    for p in map(str, paths):
        if not p.endswith(".csv"):
            continue
        parts = Path(p).parts
        kind = parts[parts.index("analysis") + 1] if "analysis" in parts else None
        if kind == "cka" and Path(p).name == "correlation.csv":
            out["correlation"].append(p)
        elif kind in KINDS:
            out[kind].append(p)
    return out
