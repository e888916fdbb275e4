"""Result tables: CSV written atomically, read back for summaries."""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from xstruct.io import atomic_write


def write_csv_table(df: pd.DataFrame, path: str | Path) -> None:
    with atomic_write(path) as f:
        df.to_csv(f, index=False, float_format="%.6g")


def read_csv_table(path: str | Path) -> pd.DataFrame:
    if not Path(path).is_file():
        raise FileNotFoundError(f"{path}: result table not found")
    return pd.read_csv(path)
