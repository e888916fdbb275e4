"""Which model views each analysis uses, derived from the study config."""
import copy

import pytest
import yaml
from conftest import ROOT, load_config

from xstruct.analysis.plan import AnalysisPlan
from xstruct.study import ConfigError, Study

# Used only until config.yaml carries its own `analysis:` block.
PROPOSED = yaml.safe_load("""
device: auto
precision: fp32
batch_size: 64
max_length: 128
block_size: 4096
norm_iters: 5
csls_k: 10
models: {mono: mono, bilingual: default, prime: {lang: en2, seed: 2, bilingual: sep_emb}}
sets:
  heldout: {format: tsv, path: "results/corpus/bible/heldout/{lang}.tsv", max_sentences: 4000, word_sentences: 2000}
  corpus: {format: lines, path: ["results/corpus/bible/{lang}.a.txt", "results/corpus/bible/{lang}.b.txt"],
           max_sentences: 5000, types: {min_count: 3, max_vocab: 20000}, embeddings: true}
bli: {pairs: [fr, de, ru, zh], set: corpus, train: "results/dict/en-{xx}.train.txt",
      test: "results/dict/en-{xx}.test.txt",
      fasttext: {dim: 100, epochs: 5, min_count: 3, window: 5, minn: 3, maxn: 6, skipgram: true}}
retrieval: {pairs: [fr, de, ru, zh], train_set: heldout, eval_set: heldout, n_train: 3000, n_eval: 1000}
cka: {pairs: [en2, fr, de, ru, zh], settings: [mono, bi, random], set: heldout, n_sentences: 1000,
      debiased: false, random_seed: 1, correlate: {setting: mono, mapped: true}}
alignment: {pairs: [fr, ru, zh], settings: [mono, bi], set: heldout, n_sentences: 2000, test_fraction: 0.1,
            symmetrize: intersection, eflomal: {model: 3, n_samplers: 3, null_prior: 0.2, rel_iterations: 1.0}}
""")


@pytest.fixture
def config():
    cfg = load_config()
    cfg.setdefault("analysis", copy.deepcopy(PROPOSED))
    return cfg


def test_views_follow_the_paper(config):
    plan = AnalysisPlan(Study(config, root=ROOT), config)
    s = config["seed"]
    prime = plan.mono("en2")
    assert (prime.run, prime.lang, prime.text) == (f"mono.en.s{config['analysis']['models']['prime']['seed']}", "en", "en2")
    assert prime.model_dir.endswith(f"/pretrain/{prime.run}/en")
    assert [v.run for v in plan.bilingual("en2")] == [f"sep_emb.en-en2.s{s}"] * 2
    assert [v.lang for v in plan.bilingual("fr")] == ["en", "fr"]
    views = plan.cka_views("zh")
    assert views["random"][0] == plan.mono("en") and views["random"][1].init == "random"
    assert views["random"][1].run == plan.mono("zh").run
    assert plan.mono("fr").features("heldout").endswith(f"features/trained/mono.fr.s{s}/fr/heldout.fr")
    targets = plan.targets()
    assert len(targets) == len(set(targets))
    assert all(any(t.endswith(f"{kind}/en-fr.csv") for t in targets) for kind in ("bli", "retrieval", "cka"))


def test_missing_run_is_a_config_error(config):
    config["analysis"]["cka"]["pairs"] = ["it"]
    with pytest.raises(ConfigError, match="mono.it"):
        AnalysisPlan(Study(config, root=ROOT), config)


def test_tatoeba_sets_are_per_pair(config):
    config["analysis"]["sets"]["tatoeba"] = {"format": "tatoeba", "path": "x", "codes": {"fr": "fra"}}
    config["analysis"]["retrieval"]["eval_set"] = "tatoeba"
    plan = AnalysisPlan(Study(config, root=ROOT), config)
    assert plan.retrieval_sets("fr") == ("heldout", "tatoeba-fr")
