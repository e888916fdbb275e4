# Similarity of BERT models (paper §5, Figs. 4-8): every (model view, evaluation set) is encoded once
# (analysis_features); the per-layer tables for word translation, sentence retrieval, CKA and contextual word
# alignment read only those arrays. Which views each pair needs comes from xstruct.analysis.analysis_jobs.

localrules: analysis_set, analysis_cka_correlation   # a download (no network on many nodes), and seconds of work

rule analysis_set:
    output:
        f"{RESULTS}/data/sets/{{name}}/{{file}}",
    wildcard_constraints:
        name=r"[a-z][a-z0-9_]*",
        file=r"[^/]+",
    params:
        spec=lambda wc: A("sets", wc.name),
    log:
        f"{RESULTS}/logs/data/sets/{{name}}/{{file}}.log",
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
        model=lambda wc: f"{RESULTS}/pretrain/{wc.run}/{wc.view}",
        texts=lambda wc: set_paths(A("sets"), wc.set, wc.text),
    output:
        features=directory(f"{RESULTS}/analysis/features/{{init}}/{{run}}/{{view}}/{{set}}.{{text}}"),
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
        f"{RESULTS}/logs/analysis/features/{{init}}/{{run}}/{{view}}/{{set}}.{{text}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/analysis/features/{{init}}/{{run}}/{{view}}/{{set}}.{{text}}.tsv",
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
        vectors=directory(f"{RESULTS}/analysis/fasttext/{{lang}}"),
    params:
        seed=config["seed"],
        fasttext=_param("bli", "fasttext"),
    log:
        f"{RESULTS}/logs/analysis/fasttext/{{lang}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/analysis/fasttext/{{lang}}.tsv",
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
        table=f"{RESULTS}/analysis/bli/en-{{xx}}.csv",
    wildcard_constraints:
        xx=r"[a-z][a-z0-9]*",
    params:
        norm_iters=_param("norm_iters"),
        k=_param("csls_k"),
        block=_param("block_size"),
    log:
        f"{RESULTS}/logs/analysis/bli/en-{{xx}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/analysis/bli/en-{{xx}}.tsv",
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
        table=f"{RESULTS}/analysis/retrieval/en-{{xx}}.csv",
    wildcard_constraints:
        xx=r"[a-z][a-z0-9]*",
    params:
        n_train=_param("retrieval", "n_train"),
        n_eval=_param("retrieval", "n_eval"),
        seed=config["seed"],
        norm_iters=_param("norm_iters"),
        block=_param("block_size"),
    log:
        f"{RESULTS}/logs/analysis/retrieval/en-{{xx}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/analysis/retrieval/en-{{xx}}.tsv",
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
        table=f"{RESULTS}/analysis/cka/en-{{xx}}.csv",
    wildcard_constraints:
        xx=r"[a-z][a-z0-9]*",
    params:
        settings=_param("cka", "settings"),
        n_sentences=_param("cka", "n_sentences"),
        seed=config["seed"],
        debiased=_param("cka", "debiased"),
    log:
        f"{RESULTS}/logs/analysis/cka/en-{{xx}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/analysis/cka/en-{{xx}}.tsv",
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
        cka=[f"{RESULTS}/analysis/cka/en-{xx}.csv" for xx in _correlation_pairs()],
        retrieval=[f"{RESULTS}/analysis/retrieval/en-{xx}.csv" for xx in _correlation_pairs()],
    output:
        table=f"{RESULTS}/analysis/cka/correlation.csv",
    params:
        pairs=[f"en-{xx}" for xx in _correlation_pairs()],
        setting=_param("cka", "correlate", "setting"),
        mapped=_param("cka", "correlate", "mapped"),
    log:
        f"{RESULTS}/logs/analysis/cka/correlation.log",
    benchmark:
        f"{RESULTS}/benchmarks/analysis/cka/correlation.tsv",
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
        links=f"{RESULTS}/analysis/alignment/en-{{xx}}/links.txt",
    wildcard_constraints:
        xx=r"[a-z][a-z0-9]*",
    params:
        sets=lambda wc: _set_spec(_pair_set("alignment", wc.xx)),
        set=lambda wc: _pair_set("alignment", wc.xx),
        n_sentences=_param("alignment", "n_sentences"),
        symmetrize=_param("alignment", "symmetrize"),
        eflomal=_param("alignment", "eflomal"),
    log:
        f"{RESULTS}/logs/analysis/alignment/en-{{xx}}/links.log",
    benchmark:
        f"{RESULTS}/benchmarks/analysis/alignment/en-{{xx}}/links.tsv",
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
        table=f"{RESULTS}/analysis/alignment/en-{{xx}}/{{setting}}.csv",
        maps=f"{RESULTS}/analysis/alignment/en-{{xx}}/{{setting}}.maps.pt",
    wildcard_constraints:
        xx=r"[a-z][a-z0-9]*",
        setting=r"mono|bi",
    params:
        test_fraction=_param("alignment", "test_fraction"),
        seed=config["seed"],
        norm_iters=_param("norm_iters"),
        block=_param("block_size"),
    log:
        f"{RESULTS}/logs/analysis/alignment/en-{{xx}}/{{setting}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/analysis/alignment/en-{{xx}}/{{setting}}.tsv",
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
        table=f"{RESULTS}/analysis/alignment_transfer/en-{{xx}}.{{task}}.csv",
    wildcard_constraints:
        xx=r"[a-z][a-z0-9]*",
        task=r"[a-z][a-z0-9_]*",
    params:
        spec=lambda wc: _task_spec(config["transfer"], wc.task),
        views=lambda wc: APLAN.transfer_views(wc.xx),
        source=lambda wc: config["transfer"].get("source", "en"),
        recipe=lambda wc: {k: A("alignment", "transfer", k)
                           for k in ("top_layers", "dropout", "epochs", "lr", "batch_size")},
        max_examples=_param("alignment", "transfer", "max_examples"),
        seed=config["seed"],
        device=_param("device"),
    log:
        f"{RESULTS}/logs/analysis/alignment_transfer/en-{{xx}}.{{task}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/analysis/alignment_transfer/en-{{xx}}.{{task}}.tsv",
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
