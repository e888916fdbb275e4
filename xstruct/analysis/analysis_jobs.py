"""Which model views and evaluation sets each analysis needs, derived from the study and `config.analysis`.

Models (run ids as `xstruct.paths.run_id` spells them):
  mono(xx)       the monolingual model of xx, reading xx text; for the English-prime language (`prime.lang`)
                 it is the English model of seed `prime.seed` reading the prime text (the paper's en');
  bilingual(xx)  the en-xx model of condition `models.bilingual` (`prime.bilingual` for en'), one view per side;
  random(xx)     mono(xx)'s architecture and tokenizer, randomly initialised (seed `cka.random_seed`): the
                 no-pretraining control of CKA, and of sentence retrieval and word translation.
"""
from __future__ import annotations

from dataclasses import dataclass

from xstruct import paths
from xstruct.study import ConfigError, Study
from xstruct.tasks import TaskDataError, task_kind
from xstruct.tasks.transfer_jobs import active_tasks, transfer_runs

SETTINGS = ("mono", "bi", "random")
KINDS = ("bli", "retrieval", "cka", "correlation", "alignment", "alignment_transfer")   # result tables by analysis


@dataclass(frozen=True)
class View:
    init: str    # trained | random
    run: str     # pretraining run id
    lang: str    # the model's language view (paths.view)
    text: str    # the language of the text it encodes

    @property
    def model_dir(self) -> str:
        return paths.view(self.run, self.lang)

    def features(self, set_id: str) -> str:
        return paths.features(self.init, self.run, self.lang, set_id, self.text)


class AnalysisPlan:
    def __init__(self, study: Study, config: dict):
        self.study, self.cfg, self.seed = study, config["analysis"], config["seed"]
        self.models = self.cfg["models"]
        self.prime = self.models["prime"]
        for xx in self.all_pairs():
            self._check(self.mono(xx).run, f"mono model for {xx}")
        for xx in self.cfg["cka"]["pairs"]:
            if "bi" in self.cfg["cka"]["settings"]:
                self._check(self.bilingual(xx)[0].run, f"bilingual model for the en-{xx} CKA")
        for xx in self.cfg["alignment"]["pairs"]:
            if "bi" in self.cfg["alignment"]["settings"]:
                self._check(self.bilingual(xx)[0].run, f"bilingual model for the en-{xx} alignment")
        self.transfer = config.get("transfer") or {}
        self.alignment_transfer_tasks()  # config errors surface when the workflow is parsed

    def _check(self, run: str, what: str) -> None:
        if run not in self.study.by_id:
            raise ConfigError(f"analysis: the {what} is run {run!r}, which config 'runs' does not train")

    def all_pairs(self) -> list[str]:
        names = ("bli", "retrieval", "cka", "alignment")
        return sorted({"en", *(xx for n in names for xx in self.cfg[n]["pairs"])})

    def mono(self, xx: str) -> View:
        if xx == self.prime["lang"]:
            return View("trained", paths.run_id(self.models["mono"], ["en"], self.prime["seed"]), "en", xx)
        return View("trained", paths.run_id(self.models["mono"], [xx], self.seed), xx, xx)

    def bilingual(self, xx: str) -> tuple[View, View]:
        cond = self.prime["bilingual"] if xx == self.prime["lang"] else self.models["bilingual"]
        run = paths.run_id(cond, ["en", xx], self.seed)
        return View("trained", run, "en", "en"), View("trained", run, xx, xx)

    def random(self, xx: str) -> View:
        m = self.mono(xx)
        return View("random", m.run, m.lang, m.text)

    def cka_views(self, xx: str) -> dict[str, tuple[View, View]]:
        """setting -> (English side, xx side)."""
        views = {"mono": (self.mono("en"), self.mono(xx)), "bi": self.bilingual(xx),
                 "random": (self.mono("en"), self.random(xx))}
        bad = [s for s in self.cfg["cka"]["settings"] if s not in views]
        if bad:
            raise ConfigError(f"analysis.cka.settings: {bad} not among {', '.join(SETTINGS)}")
        return {s: views[s] for s in self.cfg["cka"]["settings"]}

    def alignment_views(self, xx: str, setting: str) -> tuple[View, View]:
        """(English side, xx side) whose word vectors a per-layer map is learnt between."""
        if setting == "mono":
            return self.mono("en"), self.mono(xx)
        if setting == "bi":
            return self.bilingual(xx)
        raise ConfigError(f"analysis.alignment.settings: {setting!r} must be 'mono' or 'bi'")

    def training_texts(self, view: View) -> list[str]:
        """The corpus files the view's model was pretrained on, for its language (fastText sees the same)."""
        run = self.study.run(view.run)
        domain = run.condition.domain_of(view.lang)
        parts = run.parts(self.study.config.get("parallel", False))[view.lang]
        return [paths.corpus_part(domain, view.lang, p) for p in parts]

    def retrieval_sets(self, xx: str) -> tuple[str, str]:
        """(training set id, evaluation set id) for the pair; tatoeba sets are per pair."""
        r = self.cfg["retrieval"]
        return self.set_id(r["train_set"], xx), self.set_id(r["eval_set"], xx)

    def set_id(self, name: str, xx: str) -> str:
        spec = self.cfg["sets"].get(name)
        if spec is None:
            raise ConfigError(f"analysis: set {name!r} is not defined under analysis.sets")
        return f"{name}-{xx}" if spec["format"] == "tatoeba" else name

    # --- targets -------------------------------------------------------------------------------------------
    def targets_by_kind(self) -> dict[str, list[str]]:
        """Every result table, by analysis (the report's named inputs)."""
        out = {kind: [paths.analysis_table(kind, xx) for xx in self.cfg[kind]["pairs"]]
               for kind in ("bli", "retrieval", "cka")}
        out["correlation"] = [paths.correlation_table()] if self.correlation_pairs() else []
        out["alignment"] = [paths.alignment_table(xx, s)
                            for xx in self.cfg["alignment"]["pairs"] for s in self.cfg["alignment"]["settings"]]
        out["alignment_transfer"] = self.alignment_transfer_targets()
        assert tuple(out) == KINDS
        return out

    def targets(self) -> list[str]:
        return [p for kind in self.targets_by_kind().values() for p in kind]

    def correlation_pairs(self) -> list[str]:
        return [xx for xx in self.cfg["cka"]["pairs"] if xx in self.cfg["retrieval"]["pairs"]]

    # --- transfer through contextual alignment (Figs. 5 and 8) ----------------------------------------------
    def alignment_transfer_tasks(self) -> list[str]:
        """Word-level tasks of `analysis.alignment.transfer.tasks` (none when the block is absent)."""
        spec = self.cfg["alignment"].get("transfer")
        if not spec:
            return []
        try:
            active = active_tasks(self.transfer)
        except TaskDataError as err:
            raise ConfigError(str(err)) from None
        for task in spec["tasks"]:
            if task not in active:
                raise ConfigError(f"analysis.alignment.transfer.tasks: {task!r} is not a task that runs "
                                  f"(transfer.tasks / transfer.run: {', '.join(active) or 'none'})")
            kind = task_kind(self.transfer["tasks"][task], task)
            if kind not in ("tag", "parse"):
                raise ConfigError(f"analysis.alignment.transfer.tasks: {task!r} is a {kind} task; only word-level "
                                  "(tag, parse) tasks transfer through word alignment")
        tested = {r.langs[1] for r in transfer_runs(self.study.runs, self.transfer)}
        missing = [xx for xx in self.cfg["alignment"]["pairs"] if xx not in tested]
        if spec["tasks"] and missing:
            raise ConfigError(f"analysis.alignment.pairs: {missing} get no task test data (transfer.languages with a "
                              f"bilingual en-xx run: {', '.join(sorted(tested)) or 'none'})")
        return list(spec["tasks"])

    def transfer_views(self, xx: str) -> dict[str, dict]:
        """setting -> {source: English model folder, target: xx model folder, maps: maps file or None}:
        mono (MLM align) and, when the bilingual maps are learnt, bi (biMLM, no map) and bi+align (Fig. 8)."""
        out = {}
        for setting in self.cfg["alignment"]["settings"]:
            en, other = self.alignment_views(xx, setting)
            view = {"source": en.model_dir, "target": other.model_dir}
            if setting == "mono":
                out["mono"] = {**view, "maps": paths.alignment_maps(xx, "mono")}
            else:
                out["bi"] = {**view, "maps": None}
                out["bi+align"] = {**view, "maps": paths.alignment_maps(xx, "bi")}
        return out

    def alignment_transfer_targets(self) -> list[str]:
        tasks = self.alignment_transfer_tasks()
        return [paths.alignment_transfer_table(xx, task) for xx in self.cfg["alignment"]["pairs"] for task in tasks]
