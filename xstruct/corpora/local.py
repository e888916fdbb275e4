"""Pretraining text from local files (source `text`): a Wikipedia or Common Crawl extract already on shared
storage, one paragraph per line. A language's `files` entry is one file or a folder whose `*.txt` files are read
in name order; lines are filtered like the Hub and Debian text, keyed "file index:line number" and split into
parts by the same hash, so the same files always give the same parts.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

from xstruct.corpora.text import LineFilter, document_lines, write_parts
from xstruct.io import file_entry, write_json


def text_files(location: str | Path, key: str) -> list[Path]:
    """The files of one `files` entry; `key` (e.g. corpora.wiki.files.fr) names it in the one-line error."""
    location = Path(location)
    files = sorted(location.glob("*.txt")) if location.is_dir() else [location] if location.is_file() else []
    if not files:
        what = "has no .txt files" if location.is_dir() else "does not exist"
        raise FileNotFoundError(f"{key}: {location} {what} (give a text file or a folder of .txt files)")
    return files


def _paragraphs(files: Sequence[Path]) -> Iterator[tuple[str, str]]:
    for i, path in enumerate(files):
        with open(path, encoding="utf-8", errors="replace") as f:
            for n, line in enumerate(f):
                yield f"{i}:{n}", line.rstrip("\n")


def build_text(files: Sequence[str | Path], lang: str, cleaning: dict, max_bytes: int | None,
               valid_fraction: float, paths: dict[str, str], stats_path: str) -> dict:
    """Filter, cap and split one language's local text into parts a/b/valid."""
    files = [Path(f) for f in files]
    lines = document_lines(_paragraphs(files), LineFilter.from_config(lang, cleaning), max_bytes,
                           f"local text ({lang})")
    stats = write_parts(lines, paths, stats_path, valid_fraction)
    stats["source"] = {"files": {str(f): file_entry(f) for f in files}}    # what it was made from
    write_json(stats_path, stats)
    return stats
