# Tokenizers: SentencePiece BPE per language and joint, the global vocabulary of every vocabulary id
# (joint | union | disjoint, see xstruct/vocab), one Hugging Face tokenizer per language view, and the corpus
# parts encoded once into global-id arrays that pretraining memory-maps. Requesting anchors.json builds it all.
from xstruct.corpora.text import PARTS
from xstruct.vocab import TRAINING_PARTS
from xstruct.vocab.train import character_coverage

VOCAB = config["vocab"]


def vocab_targets():
    return [paths.anchors(v) for v in STUDY.vocab_ids]


def vocab_domains(vid):
    """{lang: domain} of a vocabulary id, in its order."""
    return {lang: domain for domain, lang in paths.parse_vocab_id(vid)[1]}


def training_texts(domains):
    """{lang: its training parts} of a tokenizer trained on `domains` ({lang: domain})."""
    return {lang: [paths.corpus_part(d, lang, p) for p in TRAINING_PARTS] for lang, d in domains.items()}


def view_model(wc):
    return paths.spm_model(wc.vocab, wc.lang, vocab_domains(wc.vocab)[wc.lang])


def view_texts(wc):
    """Every corpus part of a language view, in PARTS order."""
    return [paths.corpus_part(vocab_domains(wc.vocab)[wc.lang], wc.lang, part) for part in PARTS]


def id_layout(vid):
    """(lang, part) of every id array of a vocabulary, in the order vocab_anchors reads them."""
    return [(lang, part) for lang in vocab_domains(vid) for part in PARTS]


rule spm_language:
    input:
        unpack(lambda wc: training_texts({wc.lang: wc.domain})),
    output:
        model=paths.language_spm("{domain}", "{lang}"),
    params:
        name=lambda wc: f"{wc.domain}.{wc.lang}",
        size=VOCAB["language_size"],
        size_key="vocab.language_size",
        coverage=lambda wc: character_coverage(VOCAB, wc.lang),
        max_sentences=VOCAB["max_sentences"],
        seed=config["seed"],
    log:
        f"{paths.LOGS}/vocab/spm/{{domain}}.{{lang}}.log",
    benchmark:
        f"{paths.BENCHMARKS}/vocab/spm/{{domain}}.{{lang}}.tsv",
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
        unpack(lambda wc: training_texts(vocab_domains(f"joint/{wc.spec}"))),
    output:
        model=paths.joint_spm("joint/{spec}"),
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
        f"{paths.LOGS}/vocab/joint/{{spec}}/spm.log",
    benchmark:
        f"{paths.BENCHMARKS}/vocab/joint/{{spec}}/spm.tsv",
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
        unpack(lambda wc: {l: paths.spm_model(wc.vocab, l, d) for l, d in vocab_domains(wc.vocab).items()}),
    output:
        tsv=paths.vocab_table("{vocab}"),
        meta=paths.vocab_meta("{vocab}"),
    params:
        mode=lambda wc: paths.parse_vocab_id(wc.vocab)[0],
        domains=lambda wc: vocab_domains(wc.vocab),
    log:
        f"{paths.LOGS}/vocab/{{vocab}}/table.log",
    benchmark:
        f"{paths.BENCHMARKS}/vocab/{{vocab}}/table.tsv",
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
        model=view_model,
        tsv=rules.vocab_table.output.tsv,
        meta=rules.vocab_table.output.meta,
        texts=view_texts,
    output:
        hf=directory(paths.tokenizer("{vocab}", "{lang}")),
        map=paths.id_map("{vocab}", "{lang}"),
        ids=[paths.id_array("{vocab}", "{lang}", part) for part in PARTS],
        stats=[paths.id_stats("{vocab}", "{lang}", part) for part in PARTS],
    log:
        f"{paths.LOGS}/vocab/{{vocab}}/view.{{lang}}.log",
    benchmark:
        f"{paths.BENCHMARKS}/vocab/{{vocab}}/view.{{lang}}.tsv",
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
        arrays=lambda wc: [paths.id_array(wc.vocab, l, p) for l, p in id_layout(wc.vocab)],
    output:
        paths.anchors("{vocab}"),
    params:
        layout=lambda wc: id_layout(wc.vocab),
    log:
        f"{paths.LOGS}/vocab/{{vocab}}/anchors.log",
    benchmark:
        f"{paths.BENCHMARKS}/vocab/{{vocab}}/anchors.tsv",
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
