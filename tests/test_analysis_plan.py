"""Which model views each analysis uses, derived from the study config."""
import pytest
from conftest import ROOT, load_config

from xstruct.analysis.analysis_jobs import AnalysisPlan
from xstruct.study import ConfigError, Study


@pytest.fixture
def config():
    return load_config()


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
