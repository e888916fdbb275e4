"""The whole workflow on configs/smoke.yaml, in a fresh working directory: every stage, a no-op rerun, the report.

This is the slowest test (a few minutes on 2 cores): it trains four tiny models and fine-tunes them for real.
"""
import json
import subprocess
import sys

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
           "--profile", str(ROOT / "profiles/slurm"), "--configfile", str(ROOT / f"configs/{config}.yaml"), "-n"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    counts = dict(line.split() for line in out.stdout.splitlines()
                  if len(line.split()) == 2 and line.split()[1].isdigit())
    for rule, n in expected.items():
        assert (rule in counts) if n is None else int(counts.get(rule, 0)) == n, (rule, counts.get(rule))
