# Tokenizers: SentencePiece BPE per language and joint, the global vocabulary of every vocabulary id
# (joint | union | disjoint, see xstruct/vocab), one Hugging Face tokenizer per language view, and the corpus
# parts encoded once into global-id arrays that pretraining memory-maps. Requesting anchors.json builds it all.
from xstruct.corpora.text import PARTS
from xstruct.study import parse_vocab_id
from xstruct.vocab import paths as vocab_paths
from xstruct.vocab.train import character_coverage

VOCAB = config["vocab"]


rule spm_language:
    input:
        unpack(lambda wc: vocab_paths.training_texts(RESULTS, {wc.lang: wc.domain})),
    output:
        model=f"{RESULTS}/vocab/spm/{{domain}}.{{lang}}.model",
    params:
        name=lambda wc: f"{wc.domain}.{wc.lang}",
        size=VOCAB["language_size"],
        size_key="vocab.language_size",
        coverage=lambda wc: character_coverage(VOCAB, wc.lang),
        max_sentences=VOCAB["max_sentences"],
        seed=config["seed"],
    log:
        f"{RESULTS}/logs/vocab/spm/{{domain}}.{{lang}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/vocab/spm/{{domain}}.{{lang}}.tsv",
    priority: PRIORITY["pretrain_inputs"]
    threads: 1
    resources:
        mem_mb=4000,
        runtime=60,
    message:
        "SentencePiece BPE for {wildcards.domain}.{wildcards.lang} ({params.size} pieces)"
    conda:
        "../envs/xstruct.yaml"
    script:
        "../workflow_scripts/vocab_spm.py"


rule vocab_joint:
    input:
        unpack(lambda wc: vocab_paths.training_texts(RESULTS, vocab_paths.domains(f"joint/{wc.spec}"))),
    output:
        model=f"{RESULTS}/vocab/joint/{{spec}}/spm.model",
    wildcard_constraints:
        spec=r"[a-z0-9_.+]+",
    params:
        name=lambda wc: f"joint/{wc.spec}",
        size=VOCAB["joint_size"],
        size_key="vocab.joint_size",
        alpha=VOCAB["sample_alpha"],
        coverage=character_coverage(VOCAB),
        max_sentences=VOCAB["max_sentences"],
        seed=config["seed"],
    log:
        f"{RESULTS}/logs/vocab/joint/{{spec}}/spm.log",
    benchmark:
        f"{RESULTS}/benchmarks/vocab/joint/{{spec}}/spm.tsv",
    priority: PRIORITY["pretrain_inputs"]
    threads: 1
    resources:
        mem_mb=8000,
        runtime=120,
    message:
        "joint SentencePiece BPE for {wildcards.spec} ({params.size} pieces, languages sampled ^{params.alpha})"
    conda:
        "../envs/xstruct.yaml"
    script:
        "../workflow_scripts/vocab_spm.py"


rule vocab_table:
    input:
        unpack(lambda wc: vocab_paths.models(RESULTS, wc.vocab)),
    output:
        tsv=f"{RESULTS}/vocab/{{vocab}}/vocab.tsv",
        meta=f"{RESULTS}/vocab/{{vocab}}/meta.json",
    params:
        mode=lambda wc: parse_vocab_id(wc.vocab)[0],
        domains=lambda wc: vocab_paths.domains(wc.vocab),
    log:
        f"{RESULTS}/logs/vocab/{{vocab}}/table.log",
    benchmark:
        f"{RESULTS}/benchmarks/vocab/{{vocab}}/table.tsv",
    priority: PRIORITY["pretrain_inputs"]
    threads: 1
    resources:
        mem_mb=2000,
        runtime=10,
    message:
        "global vocabulary {wildcards.vocab}"
    conda:
        "../envs/xstruct.yaml"
    script:
        "../workflow_scripts/vocab_table.py"


rule vocab_view:
    input:
        model=lambda wc: vocab_paths.model(RESULTS, wc.vocab, wc.lang),
        tsv=rules.vocab_table.output.tsv,
        meta=rules.vocab_table.output.meta,
        texts=lambda wc: vocab_paths.view_texts(RESULTS, wc.vocab, wc.lang),
    output:
        hf=directory(f"{RESULTS}/vocab/{{vocab}}/hf/{{lang}}"),
        map=f"{RESULTS}/vocab/{{vocab}}/ids/{{lang}}.map.npy",
        ids=[f"{RESULTS}/vocab/{{vocab}}/ids/{{lang}}.{part}.npy" for part in PARTS],
        stats=[f"{RESULTS}/vocab/{{vocab}}/ids/{{lang}}.{part}.json" for part in PARTS],
    log:
        f"{RESULTS}/logs/vocab/{{vocab}}/view.{{lang}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/vocab/{{vocab}}/view.{{lang}}.tsv",
    priority: PRIORITY["pretrain_inputs"]
    threads: 1   # a 2-thread job starves behind 1-thread jobs on 2 cores; clusters raise it with set-threads
    resources:
        mem_mb=4000,
        runtime=120,
    message:
        "tokenizer, id map and encoded corpus parts of {wildcards.vocab}, view {wildcards.lang}"
    conda:
        "../envs/xstruct.yaml"
    script:
        "../workflow_scripts/vocab_view.py"


rule vocab_anchors:
    input:
        tsv=rules.vocab_table.output.tsv,
        meta=rules.vocab_table.output.meta,
        arrays=lambda wc: vocab_paths.arrays(RESULTS, wc.vocab),
    output:
        f"{RESULTS}/vocab/{{vocab}}/anchors.json",
    params:
        layout=lambda wc: vocab_paths.layout(wc.vocab),
    log:
        f"{RESULTS}/logs/vocab/{{vocab}}/anchors.log",
    benchmark:
        f"{RESULTS}/benchmarks/vocab/{{vocab}}/anchors.tsv",
    priority: PRIORITY["pretrain_inputs"]
    threads: 1
    resources:
        mem_mb=4000,
        runtime=10,
    message:
        "anchor statistics of {wildcards.vocab}"
    conda:
        "../envs/xstruct.yaml"
    script:
        "../workflow_scripts/vocab_anchors.py"
