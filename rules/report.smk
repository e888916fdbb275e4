# The paper's tables, figures and claims report from every result file (paper Table 1, Figs. 3-8, Sec. 5 claims).
# `snakemake --report results/report.html` adds them to Snakemake's HTML report.

localrules: report

rule report:
    input:
        pretraining=[f"{PRETRAIN}/{run.id}/metrics.json" for run in STUDY.runs],
        transfer=transfer_targets(),
        analysis=analysis_targets(),
    output:
        tables=report(directory(f"{RESULTS}/tables"), patterns=["{name}.md"], category="Tables",
                      caption="captions/tables.rst"),
        figures=report(directory(f"{RESULTS}/figures"), patterns=["{name}.png"], category="Figures",
                       caption="captions/figures.rst"),
        claims=report(f"{RESULTS}/claims.md", category="Claims", caption="captions/claims.rst"),
        claims_csv=f"{RESULTS}/claims.csv",
    params:
        analysis=lambda wc, input: analysis_inputs(input.analysis),
        skipped=skipped_tasks(config.get("transfer") or {}),
    log:
        f"{RESULTS}/logs/report.log",
    benchmark:
        f"{RESULTS}/benchmarks/report.tsv",
    threads: 1
    resources:
        mem_mb=4000,
        runtime=30,
    message:
        "Tables, figures and claims report of {config[name]}"
    conda:
        "../envs/xstruct.yaml"
    script:
        "../workflow_scripts/report.py"
