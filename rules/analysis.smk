# Similarity of BERT models (paper §5, Figs. 4-8): every (model view, evaluation set) is encoded once
# (analysis_features); the per-layer tables for word translation, sentence retrieval, CKA and contextual word
# alignment read only those arrays. Which views each pair needs comes from xstruct.analysis.analysis_jobs.
from xstruct.analysis.analysis_jobs import AnalysisPlan
from xstruct.analysis.texts import resolve_sets, set_paths, split_set_id
from xstruct.tasks.transfer_jobs import task_spec

# Without an `analysis:` block the rules stay defined but plan nothing; settings are looked up lazily (A()).
# Sets read from pipeline artifacts or fetched by rule analysis_set get their `path` here.
try:
    if "analysis" in config:
        config["analysis"]["sets"] = resolve_sets(config["analysis"]["sets"])
    APLAN = AnalysisPlan(STUDY, config) if "analysis" in config else None
except (ConfigError, ValueError) as err:
    raise WorkflowError(f"config error: {err}") from None


def analysis_targets():
    return APLAN.targets() if APLAN else []


def A(*keys):
    """A setting under config `analysis`, looked up when a job is planned."""
    value = config["analysis"]
    for k in keys:
        value = value[k]
    return value


def _param(*keys):
    return lambda wc: A(*keys)


def _pair_set(name, xx):
    return APLAN.set_id(A(name, "set"), xx)


def _set_spec(set_id):
    """Only the named set's entry, so that editing another set re-runs nothing."""
    name = split_set_id(set_id)[0]
    return {name: A("sets", name)}


def _correlation_pairs():
    return APLAN.correlation_pairs() if APLAN else []


def _bli_inputs(wc):
    s = A("bli")
    out = {"en": APLAN.mono("en").features(s["set"]), "xx": APLAN.mono(wc.xx).features(s["set"]),
           "random_en": APLAN.random("en").features(s["set"]), "random_xx": APLAN.random(wc.xx).features(s["set"]),
           "train": paths.dictionary(wc.xx, "train"), "test": paths.dictionary(wc.xx, "test")}
    if s.get("fasttext"):
        out |= {"fasttext_en": paths.fasttext("en"), "fasttext_xx": paths.fasttext(wc.xx)}
    return out


def _retrieval_inputs(wc):
    """The monolingual models' features, and (random_*) their randomly initialised encoders': the control."""
    train, test = APLAN.retrieval_sets(wc.xx)
    out = {}
    for prefix, (en, xx) in {"": (APLAN.mono("en"), APLAN.mono(wc.xx)),
                             "random_": (APLAN.random("en"), APLAN.random(wc.xx))}.items():
        out |= {f"{prefix}en": en.features(train), f"{prefix}xx": xx.features(train),
                f"{prefix}en_eval": en.features(test), f"{prefix}xx_eval": xx.features(test)}
    return out


def _cka_inputs(wc):
    set_id = _pair_set("cka", wc.xx)
    out = {}
    for setting, (en, xx) in APLAN.cka_views(wc.xx).items():
        out[f"{setting}_en"], out[f"{setting}_xx"] = en.features(set_id), xx.features(set_id)
    return out


def _alignment_inputs(wc):
    set_id = _pair_set("alignment", wc.xx)
    en, xx = APLAN.alignment_views(wc.xx, wc.setting)
    return {"links": f"{paths.alignment(wc.xx)}/links.txt", "en": en.features(set_id), "xx": xx.features(set_id)}


def _alignment_transfer_inputs(wc):
    out = {"data": paths.task_data(wc.task)}
    for setting, v in APLAN.transfer_views(wc.xx).items():
        key = setting.replace("+", "_")
        out[f"{key}_en"], out[f"{key}_xx"] = v["source"], v["target"]
        if v["maps"]:
            out[f"{key}_maps"] = v["maps"]
    return out


localrules: analysis_set, analysis_cka_correlation   # a download (no network on many nodes), and seconds of work

rule analysis_set:
    output:
        f"{paths.fetched_set('{name}')}/{{file}}",
    wildcard_constraints:
        name=r"[a-z][a-z0-9_]*",
        file=r"[^/]+",
    params:
        spec=lambda wc: A("sets", wc.name),
    log:
        f"{paths.LOGS}/data/sets/{{name}}/{{file}}.log",
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    message:
        "fetch {wildcards.file} of analysis set {wildcards.name}"
    conda:
        "../envs/xstruct.yaml"
    script:
        "../workflow_scripts/analysis_set.py"


rule analysis_features:
    input:
        model=lambda wc: paths.view(wc.run, wc.view),
        texts=lambda wc: set_paths(A("sets"), wc.set, wc.text),
    output:
        features=directory(paths.features("{init}", "{run}", "{view}", "{set}", "{text}")),
    wildcard_constraints:
        init=r"trained|random",
        view=r"[a-z][a-z0-9]*",
        set=r"[a-z][a-z0-9_]*(-[a-z][a-z0-9]*)?",
        text=r"[a-z][a-z0-9]*",
    params:
        sets=lambda wc: _set_spec(wc.set),
        seed=_param("cka", "random_seed"),
        batch_size=_param("batch_size"),
        max_length=_param("max_length"),
        device=_param("device"),
        precision=_param("precision"),
    log:
        f"{paths.LOGS}/analysis/features/{{init}}/{{run}}/{{view}}/{{set}}.{{text}}.log",
    benchmark:
        f"{paths.BENCHMARKS}/analysis/features/{{init}}/{{run}}/{{view}}/{{set}}.{{text}}.tsv",
    threads: 1
    resources:
        mem_mb=8000,
        runtime=120,
        gpu=lambda wc: int(A("device") == "cuda"),
    message:
        "encode {wildcards.set}.{wildcards.text} with {wildcards.init} {wildcards.run}/{wildcards.view}"
    conda:
        "../envs/xstruct.yaml"
    script:
        "../workflow_scripts/analysis_extract.py"


rule analysis_fasttext:
    input:
        texts=lambda wc: APLAN.training_texts(APLAN.mono(wc.lang)),
    output:
        vectors=directory(paths.fasttext("{lang}")),
    params:
        seed=config["seed"],
        fasttext=_param("bli", "fasttext"),
    log:
        f"{paths.LOGS}/analysis/fasttext/{{lang}}.log",
    benchmark:
        f"{paths.BENCHMARKS}/analysis/fasttext/{{lang}}.tsv",
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    message:
        "fastText vectors for {wildcards.lang} on its monolingual model's pretraining text"
    conda:
        "../envs/xstruct.yaml"
    script:
        "../workflow_scripts/analysis_fasttext.py"


rule analysis_bli:
    input:
        unpack(_bli_inputs),
    output:
        table=paths.analysis_table("bli", "{xx}"),
    wildcard_constraints:
        xx=r"[a-z][a-z0-9]*",
    params:
        norm_iters=_param("norm_iters"),
        k=_param("csls_k"),
        block=_param("block_size"),
    log:
        f"{paths.LOGS}/analysis/bli/en-{{xx}}.log",
    benchmark:
        f"{paths.BENCHMARKS}/analysis/bli/en-{{xx}}.tsv",
    threads: 1
    resources:
        mem_mb=8000,
        runtime=30,
    message:
        "word translation en-{wildcards.xx}: embedding layer, contextual layers, random encoder, fastText"
    conda:
        "../envs/xstruct.yaml"
    script:
        "../workflow_scripts/analysis_bli.py"


rule analysis_retrieval:
    input:
        unpack(_retrieval_inputs),
    output:
        table=paths.analysis_table("retrieval", "{xx}"),
    wildcard_constraints:
        xx=r"[a-z][a-z0-9]*",
    params:
        n_train=_param("retrieval", "n_train"),
        n_eval=_param("retrieval", "n_eval"),
        seed=config["seed"],
        norm_iters=_param("norm_iters"),
        block=_param("block_size"),
    log:
        f"{paths.LOGS}/analysis/retrieval/en-{{xx}}.log",
    benchmark:
        f"{paths.BENCHMARKS}/analysis/retrieval/en-{{xx}}.tsv",
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    message:
        "sentence retrieval en-{wildcards.xx} per layer, with and without a Procrustes map, trained and random"
    conda:
        "../envs/xstruct.yaml"
    script:
        "../workflow_scripts/analysis_retrieval.py"


rule analysis_cka:
    input:
        unpack(_cka_inputs),
    output:
        table=paths.analysis_table("cka", "{xx}"),
    wildcard_constraints:
        xx=r"[a-z][a-z0-9]*",
    params:
        settings=_param("cka", "settings"),
        n_sentences=_param("cka", "n_sentences"),
        seed=config["seed"],
        debiased=_param("cka", "debiased"),
    log:
        f"{paths.LOGS}/analysis/cka/en-{{xx}}.log",
    benchmark:
        f"{paths.BENCHMARKS}/analysis/cka/en-{{xx}}.tsv",
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    message:
        "linear CKA en-{wildcards.xx} per layer: {params.settings}"
    conda:
        "../envs/xstruct.yaml"
    script:
        "../workflow_scripts/analysis_cka.py"


rule analysis_cka_correlation:
    input:
        cka=[paths.analysis_table("cka", xx) for xx in _correlation_pairs()],
        retrieval=[paths.analysis_table("retrieval", xx) for xx in _correlation_pairs()],
    output:
        table=paths.correlation_table(),
    params:
        pairs=[f"en-{xx}" for xx in _correlation_pairs()],
        setting=_param("cka", "correlate", "setting"),
        mapped=_param("cka", "correlate", "mapped"),
    log:
        f"{paths.LOGS}/analysis/cka/correlation.log",
    benchmark:
        f"{paths.BENCHMARKS}/analysis/cka/correlation.tsv",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    message:
        "Pearson correlation of CKA and sentence retrieval across layers"
    conda:
        "../envs/xstruct.yaml"
    script:
        "../workflow_scripts/analysis_cka_correlation.py"


rule analysis_links:
    input:
        xx=lambda wc: set_paths(A("sets"), _pair_set("alignment", wc.xx), wc.xx),
        en=lambda wc: set_paths(A("sets"), _pair_set("alignment", wc.xx), "en"),
    output:
        links=f"{paths.alignment('{xx}')}/links.txt",
    wildcard_constraints:
        xx=r"[a-z][a-z0-9]*",
    params:
        sets=lambda wc: _set_spec(_pair_set("alignment", wc.xx)),
        set=lambda wc: _pair_set("alignment", wc.xx),
        n_sentences=_param("alignment", "n_sentences"),
        symmetrize=_param("alignment", "symmetrize"),
        eflomal=_param("alignment", "eflomal"),
    log:
        f"{paths.LOGS}/analysis/alignment/en-{{xx}}/links.log",
    benchmark:
        f"{paths.BENCHMARKS}/analysis/alignment/en-{{xx}}/links.tsv",
    threads: 1
    resources:
        mem_mb=2000,
        runtime=15,
    message:
        "eflomal word links en-{wildcards.xx} ({params.symmetrize})"
    conda:
        "../envs/xstruct.yaml"
    script:
        "../workflow_scripts/analysis_links.py"


rule analysis_alignment:
    input:
        unpack(_alignment_inputs),
    output:
        table=paths.alignment_table("{xx}", "{setting}"),
        maps=paths.alignment_maps("{xx}", "{setting}"),
    wildcard_constraints:
        xx=r"[a-z][a-z0-9]*",
        setting=r"mono|bi",
    params:
        test_fraction=_param("alignment", "test_fraction"),
        seed=config["seed"],
        norm_iters=_param("norm_iters"),
        block=_param("block_size"),
    log:
        f"{paths.LOGS}/analysis/alignment/en-{{xx}}/{{setting}}.log",
    benchmark:
        f"{paths.BENCHMARKS}/analysis/alignment/en-{{xx}}/{{setting}}.tsv",
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    message:
        "per-layer word alignment maps en-{wildcards.xx} ({wildcards.setting} models)"
    conda:
        "../envs/xstruct.yaml"
    script:
        "../workflow_scripts/analysis_alignment.py"


# Zero-shot transfer through contextual alignment (Figs. 5 and 8): per layer i, a fresh top trained on the frozen
# first i layers of the English model, tested through the target model's first i layers (+ the layer-i map).
rule analysis_alignment_transfer:
    input:
        unpack(_alignment_transfer_inputs),
    output:
        table=paths.alignment_transfer_table("{xx}", "{task}"),
    wildcard_constraints:
        xx=r"[a-z][a-z0-9]*",
        task=r"[a-z][a-z0-9_]*",
    params:
        spec=lambda wc: task_spec(config["transfer"], wc.task),
        views=lambda wc: APLAN.transfer_views(wc.xx),
        source=lambda wc: config["transfer"].get("source", "en"),
        recipe=lambda wc: {k: A("alignment", "transfer", k)
                           for k in ("top_layers", "dropout", "epochs", "lr", "batch_size")},
        max_examples=_param("alignment", "transfer", "max_examples"),
        seed=config["seed"],
        device=_param("device"),
    log:
        f"{paths.LOGS}/analysis/alignment_transfer/en-{{xx}}.{{task}}.log",
    benchmark:
        f"{paths.BENCHMARKS}/analysis/alignment_transfer/en-{{xx}}.{{task}}.tsv",
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
        gpu=lambda wc: int(A("device") == "cuda"),
    message:
        "{wildcards.task} transfer en-{wildcards.xx} through the layer-i alignment, every layer (Figs. 5/8)"
    conda:
        "../envs/xstruct.yaml"
    script:
        "../workflow_scripts/analysis_align_transfer.py"
