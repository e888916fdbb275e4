"""The paper's figures with matplotlib: each saved as PNG and PDF, with the configuration name in the caption."""
from __future__ import annotations

import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

FORMATS = ("png", "pdf")


def save(fig, stem: str | Path, caption: str) -> list[Path]:
    """Write `stem`.png/.pdf atomically with `caption` under the axes."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    fig.text(0.01, 0.005, caption, fontsize=7, ha="left", va="bottom", wrap=True, color="0.3")
    paths = []
    for ext in FORMATS:
        path = stem.with_suffix(f".{ext}")
        tmp = path.with_name(f".{path.name}.tmp.{ext}")
        fig.savefig(tmp, dpi=150, bbox_inches="tight")
        os.replace(tmp, path)
        paths.append(path)
    plt.close(fig)
    return paths


def transfer_bars(table: pd.DataFrame, tasks: dict[str, str], targets: list[str], stem, caption: str):
    """Fig. 3: zero-shot transfer per condition, one panel per task, one bar per target language."""
    tasks = {t: label for t, label in tasks.items() if t in table.columns.get_level_values(0)}
    fig, axes = plt.subplots(1, len(tasks), figsize=(5.2 * len(tasks), 4.2), squeeze=False)
    x = np.arange(len(table.index))
    width = 0.8 / len(targets)
    for ax, (task, label) in zip(axes[0], tasks.items()):
        for i, lang in enumerate(targets):
            values = table[(task, lang)].to_numpy(dtype=float)
            ax.bar(x + (i - (len(targets) - 1) / 2) * width, values, width, label=f"en→{lang}")
        ax.set_xticks(x, table.index, rotation=55, ha="right", fontsize=8)
        ax.set_ylabel(f"{label} (%)")
        ax.set_title(label)
        ax.grid(axis="y", alpha=0.3)
    axes[0][0].legend(fontsize=8)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    return save(fig, stem, caption)


def per_layer(frames: dict[str, pd.DataFrame], x: str, y: str, series: str, stem, caption: str, ylabel: str,
              xlabel: str = "layer (0 = embeddings)", style: str | None = None, hlines: dict | None = None):
    """One panel per key of `frames` (e.g. a language pair), a line per value of `series`; `style` dashes the
    series whose name contains it; `hlines` draws a dotted reference level per panel."""
    fig, axes = plt.subplots(1, len(frames), figsize=(4.0 * len(frames), 3.4), squeeze=False, sharey=True)
    for ax, (title, df) in zip(axes[0], frames.items()):
        for name, g in df.groupby(series, sort=False):
            g = g.sort_values(x)
            ls = "--" if style and style in str(name) else "-"
            ax.plot(g[x], g[y], marker="o", ms=3, ls=ls, label=str(name))
        if hlines and title in hlines and not pd.isna(hlines[title]):
            ax.axhline(hlines[title], ls=":", color="0.3", label="fastText")
        ax.set_title(title)
        ax.set_xlabel(xlabel)
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel(ylabel)
    axes[0][-1].legend(fontsize=7)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    return save(fig, stem, caption)


def grouped_bars(table: pd.DataFrame, stem, ylabel: str, caption: str):
    """Bars per row of `table` (e.g. language pairs), one bar per column (e.g. model)."""
    fig, ax = plt.subplots(figsize=(1.4 * len(table.index) + 2, 3.6))
    x = np.arange(len(table.index))
    width = 0.8 / max(len(table.columns), 1)
    for i, col in enumerate(table.columns):
        ax.bar(x + (i - (len(table.columns) - 1) / 2) * width, table[col].to_numpy(dtype=float), width, label=str(col))
    ax.set_xticks(x, table.index)
    ax.set_ylabel(ylabel)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return save(fig, stem, caption)


def heatmaps(grids: dict[str, pd.DataFrame], stem, caption: str, label: str = "linear CKA"):
    """Fig. 7: one heat map per setting, rows = layers (+ average), columns = language pairs."""
    fig, axes = plt.subplots(1, len(grids), figsize=(3.3 * len(grids) + 1, 4.2), squeeze=False)
    for ax, (title, grid) in zip(axes[0], grids.items()):
        im = ax.imshow(grid.to_numpy(dtype=float), vmin=0, vmax=1, cmap="viridis", aspect="auto")
        ax.set_xticks(range(grid.shape[1]), grid.columns, rotation=45, ha="right", fontsize=8)
        ax.set_yticks(range(grid.shape[0]), grid.index, fontsize=8)
        ax.set_title(title)
        for (i, j), v in np.ndenumerate(grid.to_numpy(dtype=float)):
            if not np.isnan(v):
                ax.text(j, i, f"{v:.2f}", ha="center", va="center", fontsize=6,
                        color="white" if v < 0.6 else "black")
    fig.colorbar(im, ax=axes[0].tolist(), label=label, shrink=0.8)
    return save(fig, stem, caption)
