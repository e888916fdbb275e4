"""Write one table as CSV, Markdown and LaTeX, atomically, with its caption."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from xstruct.io import atomic_write

FORMATS = ("csv", "md", "tex")


def write_table(df: pd.DataFrame, stem: str | Path, caption: str, index: bool = True, digits: int = 1,
                display: pd.DataFrame | None = None) -> list[Path]:
    """`stem`.csv keeps full precision; the Markdown and LaTeX views show `display` (default: `df` rounded)."""
    stem = Path(stem)
    shown = (df if display is None else display).map(lambda v: fmt(v, digits))
    if isinstance(shown.columns, pd.MultiIndex):  # "xref fr" reads better than ('xref', 'fr')
        shown.columns = [" ".join(map(str, c)) for c in shown.columns]
    paths = []
    for ext in FORMATS:
        path = stem.with_suffix(f".{ext}")
        with atomic_write(path) as f:
            if ext == "csv":
                df.to_csv(f, index=index)
            elif ext == "md":
                f.write(f"{caption}\n\n{shown.to_markdown(index=index, disable_numparse=True)}\n")
            else:
                f.write(shown.to_latex(index=index, caption=caption, escape=True))
        paths.append(path)
    return paths


def fmt(value, digits: int = 1) -> str:
    if isinstance(value, float):
        return "" if pd.isna(value) else f"{value:.{digits}f}"
    return str(value)
