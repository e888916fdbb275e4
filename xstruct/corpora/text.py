"""Text handling shared by every corpus source: normalisation, script checks, Chinese word segmentation,
line filtering, and the stable hash that assigns each line key to a corpus part.

One implementation for the Bible, Debian, hub text and the dictionaries, so that a word is the same string
wherever it appears.
"""
from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

import regex
from tqdm import tqdm

from xstruct.integrity import verify
from xstruct.io import atomic_write, read_json, text_stats, write_json

log = logging.getLogger(__name__)
PARTS = ("a", "b", "valid")

# Writing system of each study language (a Unicode script property name, as the `regex` module spells it).
SCRIPTS = {"en": "Latin", "en2": "Latin", "fr": "Latin", "de": "Latin", "ru": "Cyrillic", "zh": "Han"}

# A "unit" for script statistics: one Han character, or one run of other letters (a word).
_UNIT = regex.compile(r"\p{Han}|[[\p{L}\p{M}]--\p{Han}]+", regex.V1)
_WORD = regex.compile(r"^[\p{L}\p{M}]+$")
_SPACE = regex.compile(r"\s+")
# Chinese is written without spaces (the CNV Bible puts one after each punctuation mark): drop whitespace
# next to a Han character or CJK / full-width punctuation; spaces inside embedded Latin text stay.
_CJK_SPACE = regex.compile(r"(?<=[\p{Han}\u3000-\u303f\uff00-\uffef])\s+|\s+(?=[\p{Han}\u3000-\u303f\uff00-\uffef])")
# Invisible format and control characters (zero-width spaces, soft hyphens, BOMs).
_INVISIBLE = regex.compile(r"[\p{Cf}\p{Cc}--[\t\n\r]]", regex.V1)
# Full-width ASCII letters and digits and the ideographic space, but NOT full-width punctuation (kept in zh).
_FULLWIDTH = {c: c - 0xFEE0 for r in ((0xFF10, 0xFF19), (0xFF21, 0xFF3A), (0xFF41, 0xFF5A))
              for c in range(r[0], r[1] + 1)} | {0x3000: 0x20}
# Characters that are frequent in code, paths, option lists and tables and rare in running text.
CODE_CHARS = frozenset("{}[]<>=|\\/$#@%&*_~^`;+0123456789")


def script(lang: str) -> str:
    try:
        return SCRIPTS[lang]
    except KeyError:
        raise ValueError(f"language {lang!r}: no writing system known; add it to "
                         f"xstruct.corpora.text.SCRIPTS (known: {', '.join(SCRIPTS)})") from None


def is_han(lang: str) -> bool:
    return script(lang) == "Han"


def normalize(text: str, lang: str) -> str:
    """Unicode-normalise and collapse whitespace. NFKC everywhere except Chinese, whose full-width
    punctuation is meaningful; there only full-width letters/digits are folded to ASCII."""
    if is_han(lang):
        text = unicodedata.normalize("NFC", text).translate(_FULLWIDTH)
    else:
        text = unicodedata.normalize("NFKC", text)
    text = _INVISIBLE.sub("", text)
    text = _SPACE.sub(" ", text).strip()
    if is_han(lang):
        text = _CJK_SPACE.sub("", text)
    return text


@functools.cache
def _jieba():
    import jieba

    jieba.setLogLevel(logging.WARNING)   # it prints its dictionary loading on every process start
    jieba.initialize()
    return jieba


def segment(text: str, lang: str) -> str:
    """Words joined by single spaces: jieba for Chinese (deterministic, default dictionary, HMM on),
    whitespace for every other language."""
    if is_han(lang):
        return " ".join(w for w in _jieba().cut(text) if w.strip())
    return " ".join(text.split())


def is_word(token: str, lang: str) -> bool:
    """One word of letters only, written in the language's script (dictionary entries)."""
    return bool(_WORD.match(token)) and script_share(token, lang) == 1.0


def script_share(text: str, lang: str) -> float:
    """Share of letter units (words, or single Han characters) written in the language's script."""
    units = _UNIT.findall(text)
    if not units:
        return 0.0
    pattern = _script_pattern(script(lang))
    return sum(1 for u in units if pattern.match(u)) / len(units)


@functools.cache
def _script_pattern(name: str):
    return regex.compile(rf"\p{{{name}}}")


def symbol_share(text: str) -> float:
    chars = [c for c in text if not c.isspace()]
    return sum(c in CODE_CHARS for c in chars) / len(chars) if chars else 1.0


@functools.cache
def _identifier(candidates: tuple[str, ...]):
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    ident = LanguageIdentifier.from_model_file(MODEL_FILE)
    unknown = [c for c in candidates if c not in ident.nb_classes]
    if unknown:
        raise ValueError(f"language identification: {', '.join(unknown)} not among langid's languages")
    ident.set_languages(list(candidates))
    return ident


def identify(text: str, candidates: tuple[str, ...]) -> str:
    """The most likely of `candidates` (ISO 639-1 codes) for `text`, by langid's naive Bayes model."""
    return _identifier(tuple(sorted(candidates))).classify(text)[0]


@dataclass(frozen=True)
class LineFilter:
    """Which extracted lines count as running text of a language (Debian and hub sources)."""
    lang: str
    min_words: int              # after segmentation (jieba words for zh)
    min_script_share: float     # share of letter units in the language's script
    max_symbol_share: float     # share of code-like characters among non-space characters

    @classmethod
    def from_config(cls, lang: str, cleaning: dict) -> "LineFilter":
        keys = ("min_words", "min_script_share", "max_symbol_share")
        missing = [k for k in keys if k not in cleaning]
        if missing:
            raise ValueError(f"corpus cleaning settings: missing {', '.join(missing)} (got {', '.join(cleaning)})")
        return cls(lang, **{k: cleaning[k] for k in keys})

    def __call__(self, text: str) -> str | None:
        """The cleaned, segmented line, or None if it should be dropped."""
        text = normalize(text, self.lang)
        if not text or script_share(text, self.lang) < self.min_script_share:
            return None
        if symbol_share(text) > self.max_symbol_share:
            return None
        # Translations often leave paragraphs in English; the script test cannot see that for Latin scripts.
        if self.lang != "en" and identify(text, (self.lang, "en")) != self.lang:
            return None
        words = segment(text, self.lang)
        return words if len(words.split()) >= self.min_words else None


def document_lines(documents: Iterable[tuple[str, str]], line_filter: LineFilter, max_bytes: int | None,
                   what: str) -> Iterator[tuple[str, str]]:
    """(key "doc:line index", line) of the filtered lines of (document id, text) pairs, until `max_bytes` of
    UTF-8 text are kept (all of them when None); `what` names the corpus in the progress bar and warnings."""
    kept = 0
    with tqdm(total=max_bytes, unit="B", unit_scale=True, desc=what, mininterval=5) as bar:
        for doc, text in documents:
            for i, raw in enumerate(text.split("\n")):
                line = line_filter(raw)
                if line is None:
                    continue
                size = len(line.encode("utf-8")) + 1
                yield f"{doc}:{i}", line
                kept += size
                bar.update(size)
                if max_bytes is not None and kept >= max_bytes:
                    return
    if max_bytes is not None:
        log.warning("%s: the text ended after %d bytes, below max_bytes=%d", what, kept, max_bytes)


def hash_unit(key: str) -> float:
    """A stable pseudo-random number in [0, 1) for a line key (the same on every machine and run)."""
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "big") / 2.0 ** 64


def part_of(key: str, valid_fraction: float) -> str:
    """valid for the first `valid_fraction` of the hash range, then halves a and b of the rest.
    Depends only on the key, so the same verse lands in the same part in every language."""
    u = hash_unit(key)
    if u < valid_fraction:
        return "valid"
    return "a" if u < valid_fraction + (1.0 - valid_fraction) / 2 else "b"


def write_parts(lines: Iterable[tuple[str, str]], paths: dict[str, str | Path], stats_path: str | Path,
                valid_fraction: float) -> dict:
    """Write (key, text) lines to their parts atomically, then the stats file; returns the stats."""
    missing = set(PARTS) - set(paths)
    if missing:
        raise ValueError(f"write_parts: no output path for part(s) {', '.join(sorted(missing))}")
    with contextlib.ExitStack() as stack:
        files = {p: stack.enter_context(atomic_write(paths[p])) for p in PARTS}
        for key, text in lines:
            if "\n" in text or "\t" in text:
                raise ValueError(f"line {key!r}: text must be one line without tabs")
            files[part_of(key, valid_fraction)].write(text + "\n")
    stats = {p: text_stats(paths[p]) for p in PARTS}
    empty = [p for p in PARTS if not stats[p]["lines"]]
    if empty:       # caught here, before a tokenizer or model is trained on it; stats.json is not written
        total = sum(s["lines"] for s in stats.values())
        raise ValueError(f"{paths[empty[0]]}: no lines in part {empty[0]!r} ({total} lines in all, valid_fraction "
                         f"{valid_fraction}); give the corpus more text or change its valid_fraction")
    write_json(stats_path, stats)
    return stats


def part_files(stats_path: str | Path) -> dict[Path, dict]:
    """Each part file of a corpus (`{lang}.{part}.txt` beside `{lang}.stats.json`) -> its recorded stats."""
    stats_path = Path(stats_path)
    lang = stats_path.name.removesuffix(".stats.json")
    stats = read_json(stats_path)
    return {stats_path.with_name(f"{lang}.{part}.txt"): stats[part] for part in PARTS if part in stats}


def check_parts(paths: Iterable[str | Path]) -> None:
    """Raise integrity.ArtifactError if a corpus part is not the file its stats.json recorded (a text with no
    stats.json beside it, such as a user's own file, is taken as it is)."""
    for path in map(Path, paths):
        lang, _, part = path.name.removesuffix(".txt").rpartition(".")
        stats = path.with_name(f"{lang}.stats.json")
        if stats.is_file():
            verify({path: read_json(stats).get(part, {})}, stats)


def read_lines(paths: Iterable[str | Path]) -> Iterator[str]:
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for line in f:
                yield line.rstrip("\n")
