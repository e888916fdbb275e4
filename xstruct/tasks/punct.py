"""`punct`: a word-tagging stand-in for NER: punctuation restoration on held-out verses.

Punctuation is removed and every word is tagged with the class of the first classified mark that follows it
(B-COMMA, B-PERIOD, B-QUESTION, B-COLON) or O. Full-width Chinese marks map to the same classes; other marks
(quotes, brackets, dashes) are dropped. Words are what the stored text already separates (jieba words for zh),
with punctuation split off.
"""
from __future__ import annotations

import re

CLASSES = {
    "COMMA": ",，、､",
    "PERIOD": ".。．｡…",
    "QUESTION": "?!？！",
    "COLON": ":;：；",
}
MARK_CLASS = {m: c for c, marks in CLASSES.items() for m in marks}
# a word may hold inner hyphens and apostrophes (qu'il, LORD's); any other non-word character is punctuation
TOKEN = re.compile(r"\w+(?:[-'’]\w+)*|[^\w\s]")
WORD = re.compile(r"\w")


def tag_words(text: str) -> tuple[list[str], list[str]]:
    """Words of a verse without punctuation, and each word's tag."""
    words: list[str] = []
    tags: list[str] = []
    for tok in TOKEN.findall(text):
        if WORD.match(tok):
            words.append(tok)
            tags.append("O")
        elif tok in MARK_CLASS and words and tags[-1] == "O":
            tags[-1] = f"B-{MARK_CLASS[tok]}"
    return words, tags


def verse_examples(verses: dict[str, str], keys: list[str]) -> list[dict]:
    out = []
    for k in keys:
        words, tags = tag_words(verses[k])
        if words:
            out.append({"id": k, "words": words, "tags": tags})
    return out
