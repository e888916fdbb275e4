"""Loaders of evaluation sets and dictionaries on the real samples in shared/data."""
import pytest

from xstruct.analysis.texts import read_dictionary, read_set, set_paths


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
