"""The whole workflow on configs/smoke.yaml, in a fresh working directory: every stage, a no-op rerun, the report.

This is the slowest test (a few minutes on 2 cores): it trains four tiny models and fine-tunes them for real.
"""
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow


def snakemake(workdir, *args, timeout=1500):
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"), "--directory", str(workdir),
           "--configfile", str(ROOT / "configs/smoke.yaml"), "--cores", "2", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("smoke")
    # reuse downloaded Debian packages between test runs (they are inputs, not results)
    cache = ROOT / "resources"
    cache.mkdir(exist_ok=True)
    (workdir / "resources").symlink_to(cache, target_is_directory=True)
    out = snakemake(workdir)
    assert out.returncode == 0, out.stderr[-4000:]
    return workdir


def test_vocabularies_and_corpora(smoke_run):
    r = smoke_run / "results"
    stats = json.loads((r / "corpus/bible/fr.stats.json").read_text())
    assert stats["a"]["lines"] > 10000 and stats["valid"]["lines"] > 100
    joint = json.loads((r / "vocab/joint/bible.en+bible.fr/meta.json").read_text())
    assert joint["global_size"] <= 600
    ids = np.load(r / "vocab/union/bible.en+bible.fr/ids/fr.b.npy", mmap_mode="r")
    assert ids.max() < json.loads((r / "vocab/union/bible.en+bible.fr/meta.json").read_text())["global_size"]
    assert (ids == 3).sum() == json.loads((r / "vocab/union/bible.en+bible.fr/ids/fr.b.json").read_text())["lines"]


def test_pretrained_views_load_with_plain_transformers(smoke_run):
    from transformers import AutoModelForMaskedLM, AutoTokenizer

    run = smoke_run / "results/pretrain/sep_emb_l1_3.en-fr.s1"
    sharing = json.loads((run / "sharing.json").read_text())
    assert any("embeddings" in p for p in sharing["separate"])
    for lang in ("en", "fr"):
        model = AutoModelForMaskedLM.from_pretrained(run / lang)
        tok = AutoTokenizer.from_pretrained(run / lang)
        batch = tok(["In the beginning God created the heaven and the earth."], return_tensors="pt")
        assert model(**batch).logits.shape[-1] == len(tok)


def test_transfer_scores_for_both_stand_in_tasks(smoke_run):
    for task in ("xref", "punct"):
        for run in ("default.en-fr.s1", "sep_emb_l1_3.en-fr.s1"):
            result = json.loads((smoke_run / f"results/transfer/{task}/{run}.json").read_text())
            assert result["target"] == "fr" and 0.0 <= result["test"] <= 1.0 and result["selected"]


def test_analyses_and_report(smoke_run):
    r = smoke_run / "results"
    cka = pd.read_csv(r / "analysis/cka/en-fr.csv")
    assert set(cka["setting"]) == {"mono", "bi", "random"} and cka["cka"].between(0, 1.0001).all()
    retrieval = pd.read_csv(r / "analysis/retrieval/en-fr.csv")
    assert len(retrieval) == 2 * 2 * 4   # trained and random encoder x embeddings + 3 layers, with and without the map
    assert set(retrieval["encoder"]) == {"trained", "random"}
    table = (r / "tables/table1.md").read_text()
    assert "Default" in table and "Sep Emb + L1-3" in table and "not run" in table
    assert "Random init (control, not in paper)" in table   # no treebank configured
    claims = pd.read_csv(r / "claims.csv")
    assert set(claims["state"]) <= {"holds", "does not hold", "uninformative", "not measured"} and len(claims) > 10
    assert (r / "figures/fig3_transfer.png").stat().st_size > 5000


def test_rerun_does_nothing_and_html_report(smoke_run):
    out = snakemake(smoke_run, "-n")
    assert out.returncode == 0 and "Nothing to be done" in out.stdout + out.stderr
    out = snakemake(smoke_run, "--report", str(smoke_run / "report.html"))
    assert out.returncode == 0, out.stderr[-3000:]
    assert (smoke_run / "report.html").stat().st_size > 10000


def test_changed_export_is_re_exported_by_a_plain_rerun(smoke_run):
    """Snakemake cannot see an edit inside a folder output; the checksums in sharing.json can."""
    run = smoke_run / "results/pretrain/default.en-fr.s1"
    weights = run / "fr/model.safetensors"
    original = weights.read_bytes()
    data = bytearray(original)
    data[len(data) // 2:len(data) // 2 + 64] = bytes(64)           # same size, other weights
    weights.write_bytes(bytes(data))
    out = snakemake(smoke_run)
    assert out.returncode == 0, out.stderr[-3000:]
    assert f"{weights.relative_to(smoke_run)}: its content differs from the checksum" in out.stderr
    assert weights.read_bytes() == original                         # re-exported from the checkpoint
    result = smoke_run / "results/transfer/punct/default.en-fr.s1.json"
    assert result.stat().st_mtime > weights.stat().st_mtime - 1     # and the score recomputed on it


@pytest.mark.parametrize("config, expected", [
    # analysis_set: XNLI dev + test for en, fr, de, ru, zh and Tatoeba's two sides for four pairs; MUSE, no dictd
    # bilingual: 10 conditions + the random-init control on three pairs, Default en-de, Sep Emb en-en'
    # nothing of the embedded study: no Bible or Debian text, held-out verses, cross-references or dictd packages
    ("paper", {"pretrain_bilingual": 35, "pretrain_monolingual": 6, "finetune": 99, "corpus_hub": None,
               "analysis_set": 18, "debian_package": 0, "corpus_debian": 0, "corpus_bible": 0, "corpus_heldout": 0,
               "corpus_crossref": 0}),
    ("bible-long", {"pretrain_bilingual": 35, "pretrain_monolingual": 6}),
])
def test_full_study_plans_on_the_slurm_profile(tmp_path, config, expected):
    """The paper's study dry-runs through the SLURM executor profile on a machine with no cluster."""
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"), "--directory", str(tmp_path),
           "--workflow-profile", str(ROOT / "profiles/slurm"), "--configfile", str(ROOT / f"configs/{config}.yaml"),
           "-n"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    counts = dict(line.split() for line in out.stdout.splitlines()
                  if len(line.split()) == 2 and line.split()[1].isdigit())
    for rule, n in expected.items():
        assert (rule in counts) if n is None else int(counts.get(rule, 0)) == n, (rule, counts.get(rule))


def _ship(root):
    """Empty stand-ins for every dataset the local overlay names, laid out as the datasets ship them."""
    files = [f"wiki/{l}/wiki_00.txt" for l in ("en", "fr", "de", "ru", "zh")] + \
            [f"cc/{l}.txt" for l in ("fr", "ru", "zh")] + \
            [f"muse/en-{l}.{span}.txt" for l in ("fr", "de", "ru", "zh") for span in ("0-5000", "5000-6500")] + \
            ["xtreme/xnli/train-en.tsv", "xtreme/panx/train-en.tsv", "xtreme/panx/dev-en.tsv"] + \
            [f"xtreme/xnli/{s}-{l}.tsv" for s in ("dev", "test") for l in ("en", "fr", "de", "ru", "zh")] + \
            [f"xtreme/panx/test-{l}.tsv" for l in ("en", "fr", "ru", "zh")] + \
            [f"ud/UD_English-EWT/en_ewt-ud-{s}.conllu" for s in ("train", "dev", "test")] + \
            ["ud/UD_French-GSD/fr_gsd-ud-test.conllu", "ud/UD_Russian-GSD/ru_gsd-ud-test.conllu",
             "ud/UD_Chinese-GSDSimp/zh_gsdsimp-ud-test.conllu"] + \
            [f"tatoeba/tatoeba.{c}-eng.{side}" for c in ("fra", "deu", "rus", "cmn") for side in (c, "eng")]
    for f in files:
        (root / f).parent.mkdir(parents=True, exist_ok=True)
        (root / f).write_text("x\n")


def test_the_local_overlay_plans_the_paper_study_offline_and_names_a_missing_file(tmp_path):
    data = tmp_path / "data"
    _ship(data)
    overlay = tmp_path / "local.yaml"
    overlay.write_text((ROOT / "configs/paper-local.example.yaml").read_text().replace("/data/xstruct", str(data)))
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"), "--directory",
           str(tmp_path / "work"), "--workflow-profile", str(ROOT / "profiles/slurm"), "--configfile",
           str(ROOT / "configs/paper.yaml"), str(overlay), "-n"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert out.returncode == 0, out.stderr[-3000:]
    counts = dict(line.split() for line in out.stdout.splitlines()
                  if len(line.split()) == 2 and line.split()[1].isdigit())
    # Wikipedia in six languages (en' reads English) + Common Crawl in three, no download of any kind
    assert int(counts["corpus_text"]) == 9 and "corpus_hub" not in counts and "analysis_set" not in counts
    assert int(counts["pretrain_bilingual"]) == 35 and int(counts["finetune"]) == 99
    (data / "xtreme/panx/test-ru.tsv").unlink()
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert out.returncode != 0
    missing = f"config error: transfer.tasks.ner.files.test: {data}/xtreme/panx/test-ru.tsv not found"
    assert missing in out.stdout + out.stderr


def _slurm(tmp_path, *args, until=lambda: True):
    """What SLURM would receive: the paper study with the local overlay, submitted through the SLURM profile to
    stand-in sbatch/sacct/sacctmgr that record the plugin's calls (no cluster needed); one line per submission."""
    data, bin_dir, calls = tmp_path / "data", tmp_path / "bin", tmp_path / "sbatch.calls"
    overlay = tmp_path / "local.yaml"
    overlay.write_text((ROOT / "configs/paper-local.example.yaml").read_text().replace("/data/xstruct", str(data)))
    bin_dir.mkdir()
    tools = {"sbatch": f'echo "$@" >> {calls}; echo 4242',
             "sacct": 'if echo "$@" | grep -qi account; then echo myaccount; else echo "4242|FAILED"; fi',
             "sacctmgr": "echo myaccount", "squeue": "exit 0", "scontrol": "exit 0"}
    for name, body in tools.items():
        (bin_dir / name).write_text(f"#!/bin/bash\n{body}\n")
        (bin_dir / name).chmod(0o755)
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"), "--directory",
           str(tmp_path / "work"), "--workflow-profile", str(ROOT / "profiles/slurm"), "--configfile",
           str(ROOT / "configs/paper.yaml"), str(overlay), "--retries", "0", "--keep-going",
           "--slurm-init-seconds-before-status-checks", "1", "--seconds-between-status-checks", "1", *args]
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "HF_HUB_OFFLINE": "1"}
    log = tmp_path / "snakemake.log"
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        try:        # once the jobs are under way, what SLURM was asked is known
            for _ in range(600):
                if calls.exists() and until() or proc.poll() is not None:
                    break
                time.sleep(0.1)
            time.sleep(2)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)                            # it would poll the stand-in job
            proc.wait()
    assert calls.exists(), log.read_text()[-3000:]
    return [line.split(" --wrap=")[0] for line in calls.read_text().splitlines()]


def test_slurm_jobs_get_the_profiles_resources_and_downloads_stay_local(tmp_path):
    _ship(tmp_path / "data")
    (tmp_path / "data/wiki/en/wiki_00.txt").write_text("This is a sentence with enough words in it for the filter.\n" * 50)
    task_log = tmp_path / "work/results/logs/tasks/ner.log"
    submitted = _slurm(tmp_path, "results/corpus/wiki/en.stats.json", "results/tasks/ner", until=task_log.exists)
    assert len(submitted) == 1 and "rule_corpus_text" in submitted[0]         # task_data ran here, not in SLURM
    assert " -p cpu " in submitted[0] and " -t 600 " in submitted[0] and " --mem 32000 " in submitted[0]
    assert " --cpus-per-task=4" in submitted[0]                                # the profile's default-resources


def test_slurm_pretraining_job_gets_eight_gpus_and_the_preemption_signal(tmp_path):
    """One paper-scale pretraining job with stand-ins for its inputs (only its rule is allowed, so the inputs are
    taken as given): the request SLURM receives is the profile's, not a default."""
    _ship(tmp_path / "data")
    target = "results/pretrain/default.en-fr.s1/sharing.json"
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"), "--directory",
           str(tmp_path / "work"), "--configfile", str(ROOT / "configs/paper.yaml"), "--allowed-rules",
           "pretrain_bilingual", "-n", target]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    listed = out.stdout + out.stderr
    inputs = [line.strip() for line in listed.split("affected files:")[1].splitlines() if line.startswith(" " * 8)]
    assert any(i.endswith("meta.json") for i in inputs) and any(i.endswith("/hf/fr") for i in inputs), listed[-2000:]
    for name in inputs:
        path = tmp_path / "work" / name
        if path.suffix:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("stand-in\n")
        else:
            path.mkdir(parents=True)                                           # a tokenizer folder
    submitted = _slurm(tmp_path, target, "--allowed-rules", "pretrain_bilingual")   # the option takes a list
    assert len(submitted) == 1 and "rule_pretrain_bilingual" in submitted[0], submitted
    request = submitted[0]
    assert " -p gpu " in request and " -t 4320 " in request and " --mem 256000 " in request
    assert " --cpus-per-task=32" in request and "--signal=USR1@300" in request
    assert "gpu:8" in request or "--gpus=8" in request, request
