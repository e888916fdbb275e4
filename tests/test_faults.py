"""Faults injected into real artifacts (a trained run's export, a written corpus): an artifact changed after it
was made is refused by its readers in one line, and planning drops its manifest so a plain rerun rebuilds it."""
import os
import shutil

import pytest
from test_pretrain import spec
from test_pretrain_fixtures import bible_verses, make_vocab

from xstruct.corpora.text import check_parts, part_files, write_parts
from xstruct.export import check_view, view_files
from xstruct.finetune import load_encoder
from xstruct.integrity import ArtifactError, drop_stale
from xstruct.pretrain import pretrain


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
                    f"removed {export / 'sharing.json'} so that this run rebuilds it"]
    assert not (export / "sharing.json").exists()


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
                                             f"this run rebuilds it"]


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
    assert len(said) == 1 and said[0].startswith(f"{paths['a']}: ") and " bytes, 20" in said[0] and "now " in said[0]
    assert not (tmp_path / "fr.stats.json").exists()
