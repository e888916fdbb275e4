"""Held-out Bible verses for the offline stand-in tasks, and their deterministic split by book.

Train, dev and test are whole books (config `dev_books` / `test_books`; every other held-out book trains), so a
verse never appears in two splits, and every language gets the same verse keys in the same split.
"""
from __future__ import annotations

from pathlib import Path

from xstruct.tasks import TaskDataError


def book(key: str) -> int:
    return int(key.split(".", 1)[0])


def chapter(key: str) -> tuple[int, int]:
    b, c, _ = key.split(".")
    return int(b), int(c)


def read_verses(path: str | Path) -> dict[str, str]:
    """`key<TAB>text` lines -> {key: text}, in file order."""
    path = Path(path)
    if not path.is_file():
        raise TaskDataError(f"{path}: held-out verse file not found")
    out = {}
    with path.open(encoding="utf-8") as f:
        for i, line in enumerate(f, start=1):
            key, sep, text = line.rstrip("\n").partition("\t")
            if not sep or key.count(".") != 2 or not all(p.isdigit() for p in key.split(".")):
                raise TaskDataError(f"{path}:{i}: expected book.chapter.verse<TAB>text")
            out[key] = text
    return out


def read_crossrefs(path: str | Path) -> list[tuple[str, str]]:
    path = Path(path)
    if not path.is_file():
        raise TaskDataError(f"{path}: cross-reference file not found")
    out = []
    with path.open(encoding="utf-8") as f:
        for i, line in enumerate(f, start=1):
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 2:
                raise TaskDataError(f"{path}:{i}: expected key_from<TAB>key_to")
            out.append((parts[0], parts[1]))
    return out


def book_splits(keys: list[str], dev_books: list[int], test_books: list[int], where: str) -> dict[str, str]:
    """verse key -> train | dev | test by its book; every split must receive verses."""
    books = {book(k) for k in keys}
    for name, chosen in (("dev_books", dev_books), ("test_books", test_books)):
        missing = sorted(set(chosen) - books)
        if missing:
            raise TaskDataError(f"{where}.{name}: books {missing} are not among the held-out books {sorted(books)}")
    if set(dev_books) & set(test_books):
        raise TaskDataError(f"{where}: dev_books and test_books overlap")
    split = {k: "dev" if book(k) in dev_books else "test" if book(k) in test_books else "train" for k in keys}
    empty = {"train", "dev", "test"} - set(split.values())
    if empty:
        raise TaskDataError(f"{where}: no held-out book left for split(s) {', '.join(sorted(empty))}")
    return split
