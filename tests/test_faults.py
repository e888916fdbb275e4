"""Faults injected into real artifacts (a trained run's export, a written corpus): an artifact changed after it
was made is refused by its readers in one line, and planning drops its manifest so a plain rerun rebuilds it."""
import os
import shutil
import subprocess
import sys

import pytest
from test_pretrain import ROOT, spec
from helpers import bible_verses, make_vocab

from xstruct.corpora.text import check_parts, part_files, write_parts
from xstruct.export import check_view, view_files
from xstruct.finetune import load_encoder
from xstruct.integrity import ArtifactError, drop_stale
from xstruct.pretrain import pretrain
from xstruct.study import ConfigError, check_writable


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A short real run, exported as the pipeline exports it."""
    root = tmp_path_factory.mktemp("faults")
    vocab = make_vocab(root / "vocab", "union", {"en": bible_verses("en", 300), "fr": bible_verses("fr", 300)},
                       size=300)
    pretrain(**spec(vocab, root, steps=20, eval_every=20))
    return root / "out"


@pytest.fixture()
def export(run, tmp_path):
    """A fresh copy of the export (modification times kept, as a copy with -p or rsync -a keeps them)."""
    return shutil.copytree(run, tmp_path / "run", copy_function=shutil.copy2)


def flip_bytes(path, at: int, n: int = 64):
    """Overwrite `n` bytes in place: same size, new content (what a bad disk or a stray write leaves)."""
    with open(path, "r+b") as f:
        f.seek(at)
        old = f.read(n)
        f.seek(at)
        f.write(bytes(b ^ 0xFF for b in old))


def test_export_records_every_view_file(export):
    files = view_files(export / "sharing.json")
    assert {p.relative_to(export).as_posix() for p in files} >= {
        "en/model.safetensors", "en/config.json", "en/tokenizer.json", "fr/model.safetensors"}
    assert not drop_stale([export / "sharing.json"], view_files)       # an unchanged copy is not rebuilt
    check_view(export / "fr")


def test_changed_weights_of_the_same_size_are_refused_and_the_run_re_exported(export):
    weights = export / "fr" / "model.safetensors"
    flip_bytes(weights, at=weights.stat().st_size // 2)                 # inside the tensor data, past the header
    with pytest.raises(ArtifactError, match=rf"^{weights}: content differs from the sha256 in "
                                            rf"{export / 'sharing.json'} .*rerun snakemake"):
        load_encoder(export / "fr")
    load_encoder(export / "en")                                         # the other view is intact
    said = drop_stale([export / "sharing.json"], view_files)
    assert said == [f"{weights}: its content differs from the checksum recorded when it was made; "
                    f"removed {weights} and {export / 'sharing.json'} so that a rerun rebuilds them"]
    assert not (export / "sharing.json").exists() and not weights.exists()      # no job can read it any more


def test_a_touched_but_unchanged_file_is_hashed_not_rebuilt(export):
    weights = export / "en" / "model.safetensors"
    os.utime(weights, ns=(1, 1))
    assert not drop_stale([export / "sharing.json"], view_files)


def test_a_missing_view_file_or_unreadable_manifest_rebuilds(export):
    (export / "en" / "tokenizer.json").unlink()
    assert "it is missing" in drop_stale([export / "sharing.json"], view_files)[0]
    bad = export / "other.json"
    bad.write_text("{ not json")
    assert drop_stale([bad], view_files) == [f"{bad}: unreadable (JSONDecodeError); removed {bad} so that "
                                             f"a rerun rebuilds them"]


def test_truncated_corpus_part_is_refused_and_its_corpus_rebuilt(tmp_path):
    paths = {p: tmp_path / f"fr.{p}.txt" for p in ("a", "b", "valid")}
    lines = [(f"k{i}", text) for i, text in enumerate(bible_verses("fr", 400))]
    write_parts(lines, paths, tmp_path / "fr.stats.json", valid_fraction=0.05)
    check_parts(paths.values())
    kept = paths["a"].read_text(encoding="utf-8").splitlines(keepends=True)[:37]
    paths["a"].write_text("".join(kept), encoding="utf-8")
    with pytest.raises(ArtifactError, match=rf"^{paths['a']}: content differs from the sha256 in "):
        check_parts([paths["a"]])
    said = drop_stale([tmp_path / "fr.stats.json"], part_files)
    assert len(said) == 1 and said[0].startswith(f"{paths['a']}: now ") and " bytes, 20" in said[0]
    assert not (tmp_path / "fr.stats.json").exists() and not paths["a"].exists()


def test_a_corpus_without_validation_lines_fails_where_it_is_built(tmp_path):
    paths = {p: tmp_path / f"en.{p}.txt" for p in ("a", "b", "valid")}
    lines = [(f"k{i}", text) for i, text in enumerate(bible_verses("en", 20))]
    with pytest.raises(ValueError, match=rf"^{paths['valid']}: no lines in part 'valid' \(20 lines in all, "
                                         r"valid_fraction 0.001\); give the corpus more text"):
        write_parts(lines, paths, tmp_path / "en.stats.json", valid_fraction=0.001)
    assert not (tmp_path / "en.stats.json").exists()                   # so the job counts as failed


def test_a_results_folder_that_cannot_take_files_fails_before_any_job(tmp_path):
    results = tmp_path / "results"
    check_writable(results)                                             # not there yet: its parent will hold it
    results.mkdir()
    (results / "transfer").write_text("a file where a folder belongs")
    with pytest.raises(ConfigError, match=rf"^{results / 'transfer'}: expected a folder for results, found a file"):
        check_writable(results)
    (results / "transfer").unlink()
    (results / "transfer").mkdir()
    os.chmod(results / "transfer", 0o500)
    try:
        if os.geteuid() != 0:                                           # root may write anywhere
            with pytest.raises(ConfigError, match=rf"^{results / 'transfer'}: not writable by this user"):
                check_writable(results)
    finally:
        os.chmod(results / "transfer", 0o700)


def test_a_failing_job_leaves_its_error_in_the_log_snakemake_points_to(tmp_path):
    """Before, the corpus jobs' log kept only the warnings: the traceback came after the log was closed."""
    log = tmp_path / "logs" / "job.log"
    script = ("import logging, sys\nfrom xstruct.io import log_to\nlog_to(sys.argv[1])\n"
              "logging.getLogger('datasets').warning('retrying in 1s')\n"
              "from xstruct.corpora.hub_text import HubError\nraise HubError(\"hub corpus 'fr': cannot stream\")\n")
    out = subprocess.run([sys.executable, "-c", script, str(log)], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 1
    text = log.read_text(encoding="utf-8").splitlines()
    assert "retrying in 1s" in text[0] and text[-1] == "xstruct.corpora.hub_text.HubError: hub corpus 'fr': cannot stream"
