"""Extra anchors (paper §4.2): on-the-fly dictionary code-switching of piece streams, at word level.

A word is a run of pieces that starts with a SentencePiece word marker "▁" (specials stand alone). A word with a
dictionary entry is replaced, with probability `prob`, by one of its translations (uniformly: our dictionaries
carry no quality weights), never more than `max_rate` of the words of a stream, so never more than that share of
the words of a batch. Both directions: English words become foreign words and foreign words English ones.
Translations are tokenized once, with the tokenizer of their own language, into global ids.

Replacements change lengths, so each stream is cut from a longer window: the output takes as many (possibly
replaced) words as fill `seq_len` tokens and stays exactly `seq_len` long with no padding.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from .corpora.dictionaries import read_dictionary
from .model import N_SPECIALS

WORD_MARK = "\u2581"   # SentencePiece "▁"


class CodeSwitcher:
    def __init__(self, table: dict[str, dict[tuple, list[np.ndarray]]], word_start: np.ndarray,
                 prob: float, max_rate: float, seq_len: int, seed: int):
        self.table = table                    # {lang: {source word ids: [translation ids, ...]}}
        self.word_start = word_start          # bool over global ids: piece begins a word
        self.prob, self.max_rate, self.seq_len = prob, max_rate, seq_len
        self.rng = np.random.default_rng(seed)
        self.special = np.zeros(len(word_start), dtype=bool)
        self.special[:N_SPECIALS] = True

    @classmethod
    def from_files(cls, dictionary: str | Path, tokenizers: dict, maps: dict[str, np.ndarray], global_size: int,
                   prob: float, max_rate: float, seq_len: int, seed: int) -> CodeSwitcher:
        """`tokenizers`: {"en": hf tokenizer, xx: hf tokenizer} (local ids); `maps`: local -> global id arrays."""
        en, xx = list(tokenizers)
        word_start = np.zeros(global_size, dtype=bool)
        for lang, tok in tokenizers.items():
            pieces = tok.convert_ids_to_tokens(list(range(len(maps[lang]))))
            word_start[maps[lang]] = [p.startswith(WORD_MARK) for p in pieces]
        word_start[:N_SPECIALS] = False

        def encode(lang: str, words: list[str]) -> list[np.ndarray]:
            ids = tokenizers[lang](words, add_special_tokens=False)["input_ids"]
            return [maps[lang][np.asarray(i, dtype=np.int64)] for i in ids]

        pairs = read_dictionary(dictionary)
        # A sentence-initial word is capitalized in running text: give it the capitalized translation.
        pairs += [(a[:1].upper() + a[1:], b[:1].upper() + b[1:]) for a, b in pairs if a[:1].islower()]
        src_en, src_xx = encode(en, [a for a, _ in pairs]), encode(xx, [b for _, b in pairs])
        table: dict[str, dict[tuple, list[np.ndarray]]] = {en: {}, xx: {}}
        for (a, b), ia, ib in zip(pairs, src_en, src_xx):
            if " " not in a and len(ia):
                table[en].setdefault(tuple(ia.tolist()), []).append(ib)
            if " " not in b and len(ib):
                table[xx].setdefault(tuple(ib.tolist()), []).append(ia)
        for t in table.values():   # one copy of each translation, in a fixed order
            for k, v in t.items():
                t[k] = [np.asarray(x) for x in sorted({tuple(x.tolist()) for x in v})]
        return cls(table, word_start, prob, max_rate, seq_len, seed)

    def segments(self, ids: np.ndarray) -> np.ndarray:
        """Start index of every word (and of every special token) of a window, plus len(ids) at the end."""
        b = self.word_start[ids] | self.special[ids]
        b[1:] |= self.special[ids[:-1]]
        b[0] = True
        return np.append(np.flatnonzero(b), len(ids))

    def switch(self, lang: str, ids: np.ndarray, seq_len: int | None = None) -> tuple[np.ndarray, int, int]:
        """Code-switch one window; returns (seq_len ids, words in the output, replaced words in the output)."""
        S, table = seq_len or self.seq_len, self.table[lang]
        bounds = self.segments(ids)
        starts, ends = bounds[:-1], bounds[1:]
        is_word = self.word_start[ids[starts]]
        # a candidate is a whole word (followed by a boundary inside the window) starting in the first S tokens
        n_first = int(np.searchsorted(starts, S))
        cand = [i for i in np.flatnonzero(is_word[:n_first] & (ends[:n_first] < len(ids)))
                if tuple(ids[starts[i]:ends[i]].tolist()) in table]
        chosen = {i: None for i in (c for c in cand if self.rng.random() < self.prob)}
        for i in chosen:
            options = table[tuple(ids[starts[i]:ends[i]].tolist())]
            chosen[i] = options[self.rng.integers(len(options))]
        while True:
            lens = ends - starts
            words = is_word.astype(np.int64)
            for i, tr in chosen.items():
                lens[i], words[i] = len(tr), int(self.word_start[tr].sum())
            total = np.cumsum(lens)
            if total[-1] < S:                     # window too short after shrinking replacements: keep it as is
                return ids[:S].copy(), int(is_word[:n_first].sum()), 0
            n_emit = int(np.searchsorted(total, S)) + 1
            emitted = [i for i in chosen if i < n_emit]
            cap = math.floor(self.max_rate * words[:n_emit].sum())
            if len(emitted) <= cap:
                break
            for i in self.rng.choice(emitted, size=len(emitted) - cap, replace=False):
                del chosen[int(i)]
        out = np.concatenate([chosen[i] if i in chosen else ids[starts[i]:ends[i]] for i in range(n_emit)])[:S]
        return out, int(words[:n_emit].sum()), len(emitted)

    def __call__(self, lang: str, windows: list[np.ndarray], seq_len: int | None = None
                 ) -> tuple[np.ndarray, int, int]:
        """Code-switch a batch of windows into a (B, seq_len) array; returns it with its word/replacement counts."""
        rows, n_words, n_switched = [], 0, 0
        for w in windows:
            out, nw, ns = self.switch(lang, w, seq_len)
            rows.append(out)
            n_words += nw
            n_switched += ns
        return np.stack(rows), n_words, n_switched

    def state_dict(self) -> dict:
        return {"rng": self.rng.bit_generator.state}

    def load_state_dict(self, state: dict) -> None:
        self.rng.bit_generator.state = state["rng"]
