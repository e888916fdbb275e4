"""Loaders of evaluation sets and dictionaries: on small fixtures of our own, and on the real samples in shared/data."""
from pathlib import Path

import pytest

from xstruct.analysis.fetch import FetchError, fetch_set_file
from xstruct.analysis.texts import read_set, resolve_sets, set_paths
from xstruct.corpora.dictionaries import read_dictionary


def test_muse_dictionary_loader(shared_data):
    for pair in ("en-fr", "en-de", "en-ru", "en-zh"):
        pairs = read_dictionary(shared_data / "muse" / f"{pair}.0-5000.txt")
        assert len(pairs) == 300 and all(" " not in s and " " not in t for s, t in pairs)
    fr = read_dictionary(shared_data / "muse" / "en-fr.0-5000.txt")
    assert ("the", "le") in fr


def test_pipeline_dictionary_format_and_errors(tmp_path):
    (tmp_path / "d.txt").write_text("god\tdieu\nlight\tlumière\n\n")
    assert read_dictionary(tmp_path / "d.txt") == [("god", "dieu"), ("light", "lumière")]
    (tmp_path / "bad.txt").write_text("god dieu\nthree words here\n")
    with pytest.raises(ValueError, match=r"bad.txt:2: expected"):
        read_dictionary(tmp_path / "bad.txt")


def test_tatoeba_loader_pairs_sides_and_segments_chinese(shared_data):
    sets = {"tatoeba": {"format": "tatoeba", "path": str(shared_data / "tatoeba"),
                        "codes": {"fr": "fra", "de": "deu", "ru": "rus", "zh": "cmn"}, "max_sentences": 150}}
    assert set_paths(sets, "tatoeba-zh", "en")[0].endswith("tatoeba.cmn-eng.eng")
    for xx in ("fr", "de", "ru", "zh"):
        en, other = read_set(sets, f"tatoeba-{xx}", "en"), read_set(sets, f"tatoeba-{xx}", xx)
        assert len(en) == len(other) == 150 and all(en) and all(other)
    fr = read_set(sets, "tatoeba-fr", "fr")
    assert fr[0].startswith("Au commencement, Dieu")
    zh = read_set(sets, "tatoeba-zh", "zh")
    assert sum(len(s.split()) > 1 for s in zh) > 100          # jieba put spaces between words
    with pytest.raises(ValueError, match="pair-specific"):
        read_set(sets, "tatoeba", "en")


def test_xnli_set_lines_up_across_languages(shared_data):
    sets = {"xnli": {"format": "xnli", "path": str(shared_data / "xnli" / "dev-{lang}.tsv")}}
    en, fr, zh = (read_set(sets, "xnli", l) for l in ("en", "fr", "zh"))
    assert len(en) == len(fr) == len(zh) > 300               # distinct premises + 300 hypotheses
    assert len(set(en)) > 0.9 * len(en)


def test_fetched_and_pipeline_sets_resolve_to_where_their_rules_write():
    sets = resolve_sets({"xnli": {"format": "xnli", "hub": "facebook/xnli", "revision": "abc", "alias": {"en2": "en"}},
                         "tatoeba": {"format": "tatoeba", "url": "https://example.org/v1", "codes": {"fr": "fra"}},
                         "heldout": {"format": "tsv", "domain": "bible"},
                         "corpus": {"format": "lines", "domain": "wiki"}})
    assert set_paths(sets, "xnli", "en2") == ["results/data/sets/xnli/dev-en.tsv", "results/data/sets/xnli/test-en.tsv"]
    assert set_paths(sets, "tatoeba-fr", "fr") == ["results/data/sets/tatoeba/tatoeba.fra-eng.fra"]
    assert set_paths(sets, "heldout", "fr") == ["results/corpus/bible/heldout/fr.tsv"]
    assert set_paths(sets, "corpus", "zh") == ["results/corpus/wiki/zh.a.txt", "results/corpus/wiki/zh.b.txt"]
    with pytest.raises(ValueError, match="analysis.sets.x.domain: only tsv .* and lines"):
        resolve_sets({"x": {"format": "xnli", "domain": "bible"}})
    # an overlay that gives local files wins over the download settings it inherits (or sets to null)
    local = resolve_sets({"tatoeba": {"format": "tatoeba", "url": "https://example.org", "path": "/data/laser",
                                      "codes": {"fr": "fra"}},
                          "xnli": {"format": "xnli", "hub": None, "path": "/data/xnli/test-{lang}.tsv"}})
    assert set_paths(local, "tatoeba-fr", "fr") == ["/data/laser/tatoeba.fra-eng.fra"]
    assert set_paths(local, "xnli", "de") == ["/data/xnli/test-de.tsv"]
    overlay = resolve_sets({"corpus": {"format": "lines", "domain": "wiki", "path": "/data/wiki/{lang}.txt"}})
    assert set_paths(overlay, "corpus", "fr") == ["/data/wiki/fr.txt"]


def test_tatoeba_fetch_writes_the_files_the_local_loader_reads(shared_data, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    codes = {"fr": "fra", "zh": "cmn"}
    remote = resolve_sets({"tatoeba": {"format": "tatoeba", "url": (shared_data / "tatoeba").as_uri(), "codes": codes}})
    local = {"tatoeba": {"format": "tatoeba", "path": str(shared_data / "tatoeba"), "codes": codes}}
    for xx in codes:
        for lang in ("en", xx):
            for path in set_paths(remote, f"tatoeba-{xx}", lang):
                fetch_set_file("tatoeba", remote["tatoeba"], path)
            assert read_set(remote, f"tatoeba-{xx}", lang) == read_set(local, f"tatoeba-{xx}", lang)


def test_unreachable_url_fails_in_one_line_and_writes_nothing(tmp_path):
    spec = {"format": "tatoeba", "url": "http://127.0.0.1:9/tatoeba", "codes": {"fr": "fra"}}
    out = tmp_path / "tatoeba.fra-eng.fra"
    with pytest.raises(FetchError, match=r"^cannot download http://127.0.0.1:9/tatoeba/tatoeba.fra-eng.fra: .* "
                                         r"analysis.sets.tatoeba.path") as err:
        fetch_set_file("tatoeba", spec, out)
    assert "\n" not in str(err.value) and not list(tmp_path.iterdir())


def test_xnli_hub_set_is_written_in_xtreme_format(shared_data, tmp_path, monkeypatch):
    """The Hub rows (here: the real dev sample, standing in for the download) round-trip through the XTREME file."""
    from xstruct.tasks import xnli

    def hub_rows(hub, revision, lang, split):
        assert (hub, revision, split) == ("facebook/xnli", "abc", "dev")
        return xnli.read_xtreme_tsv(shared_data / "xnli" / f"dev-{lang}.tsv")
    monkeypatch.setattr(xnli, "read_hub", hub_rows)
    monkeypatch.chdir(tmp_path)
    remote = resolve_sets({"xnli": {"format": "xnli", "hub": "facebook/xnli", "revision": "abc", "splits": ["dev"],
                                    "alias": {"en2": "en"}}})
    local = {"xnli": {"format": "xnli", "path": str(shared_data / "xnli" / "dev-{lang}.tsv")}}
    for lang in ("en", "fr", "zh"):
        fetch_set_file("xnli", remote["xnli"], set_paths(remote, "xnli", lang)[0])
        assert read_set(remote, "xnli", lang) == read_set(local, "xnli", lang)
    assert read_set(remote, "xnli", "en2") == read_set(local, "xnli", "en")


FIXTURES = Path(__file__).parent / "fixtures"


def test_tatoeba_fixture_is_read_as_parallel_sides():
    """LASER's layout: tatoeba.<code>-eng.<code> and .eng, line i of one the translation of line i of the other."""
    sets = {"tatoeba": {"format": "tatoeba", "codes": {"fr": "fra"}, "path": str(FIXTURES / "tatoeba")}}
    fr, en = read_set(sets, "tatoeba-fr", "fr"), read_set(sets, "tatoeba-fr", "en")
    assert len(fr) == len(en) == 3 and fr[1] == "Où est la gare ?" and en[1] == "Where is the station?"
    assert set_paths(sets, "tatoeba-fr", "en") == [str(FIXTURES / "tatoeba" / "tatoeba.fra-eng.eng")]
    with pytest.raises(ValueError, match=r"analysis.sets.tatoeba.codes: no LASER code for 'de'"):
        set_paths(sets, "tatoeba-de", "de")


def test_muse_fixture_splits_are_used_as_given():
    """MUSE's own train (0-5000) and test (5000-6500) files, space-separated, read as they are."""
    from xstruct.corpora.dictionaries import muse_split_files, read_muse_file

    files = muse_split_files(str(FIXTURES / "muse"), "fr")
    assert files == {"train": str(FIXTURES / "muse" / "en-fr.0-5000.txt"),
                     "test": str(FIXTURES / "muse" / "en-fr.5000-6500.txt")}
    assert list(read_muse_file(files["test"])) == [("lighthouse", "phare"), ("harbour", "port")]
    assert read_dictionary(files["train"])[1] == ("house", "maison")
    assert muse_split_files(str(FIXTURES / "muse"), "de") is None      # no split files: re-split by frequency
