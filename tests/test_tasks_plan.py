"""Which transfer jobs a config plans: tasks x bilingual runs, settings merged over the defaults."""
import pytest
from conftest import ROOT, load_config

from xstruct.study import Study
from xstruct.tasks import TaskDataError
from xstruct.tasks.transfer_jobs import NOT_RUN_NO_TREEBANK, active_tasks, skipped_tasks, task_spec, transfer_runs

TRANSFER = {
    "languages": ["fr", "ru", "zh"], "top_k": 2,
    "defaults": {"epochs": 3, "batch_size": [32], "lr": [1e-4], "schedule": "linear", "warmup": 0.1,
                 "weight_decay": 0.0, "max_grad_norm": 1.0, "max_length": 128, "eval_batch_size": 64, "bucket": 50,
                 "seeds": [1], "head": {"dropout": 0.1}},
    "tasks": {"xref": {"format": "xref", "dev_books": [43], "test_books": [45], "seed": 1, "epochs": 5},
              "parsing": {"format": "ud", "source": None, "head": {"arc_dim": 500, "rel_dim": 100}}},
}


def test_table1_runs_are_the_bilingual_runs_into_a_target_language():
    study = Study(load_config(), root=ROOT)
    runs = transfer_runs(study.runs, TRANSFER)
    table1 = [r for r in study.runs if len(r.langs) == 2 and r.langs[1] in TRANSFER["languages"]
              and (r.condition.section.startswith("4") or r.condition.is_control)]
    assert {r.id for r in runs} == {r.id for r in table1} and runs
    assert all(r.langs[0] == "en" for r in runs)
    assert not any(r.langs[1] in ("de", "en2") for r in runs)  # the §5.2 CKA models are not transfer runs


def test_task_settings_merge_over_defaults():
    spec = task_spec(TRANSFER, "xref")
    assert spec["epochs"] == 5 and spec["lr"] == [1e-4] and spec["head"] == {"dropout": 0.1}
    parse = task_spec(TRANSFER, "parsing")
    assert parse["head"] == {"dropout": 0.1, "arc_dim": 500, "rel_dim": 100}
    assert TRANSFER["defaults"]["head"] == {"dropout": 0.1}  # the defaults are not modified


def test_parsing_without_a_treebank_is_planned_as_not_run():
    assert active_tasks(TRANSFER) == ["xref"]
    assert skipped_tasks(TRANSFER) == {"parsing": NOT_RUN_NO_TREEBANK}
    with_ud = {**TRANSFER, "tasks": {**TRANSFER["tasks"], "parsing": {**TRANSFER["tasks"]["parsing"],
                                                                      "source": "../shared/data/ud"}}}
    assert active_tasks(with_ud) == ["xref", "parsing"]
    assert active_tasks({**TRANSFER, "run": ["parsing"]}) == []


def test_bad_task_settings_are_one_line_errors():
    with pytest.raises(TaskDataError, match=r"transfer.run: unknown task\(s\) ner"):
        active_tasks({**TRANSFER, "run": ["ner"]})
    bad = {**TRANSFER, "defaults": {k: v for k, v in TRANSFER["defaults"].items() if k != "lr"}}
    with pytest.raises(TaskDataError, match=r"transfer.tasks.xref: missing lr"):
        task_spec(bad, "xref")
    with pytest.raises(TaskDataError, match="format"):
        task_spec({**TRANSFER, "tasks": {"x": {"format": "conll"}}}, "x")
