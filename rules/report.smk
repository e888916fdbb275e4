# The paper's tables, figures and claims report from every result file (paper Table 1, Figs. 3-8, Sec. 5 claims).
# `snakemake --report report.html` adds them to Snakemake's HTML report.
from xstruct.analysis.analysis_jobs import KINDS as ANALYSIS_KINDS
from xstruct.tasks.transfer_jobs import skipped_tasks

localrules: report


def report_targets():
    return [paths.CLAIMS] if "report" in config else []


def analysis_tables():
    """The analyses' result tables as named inputs, one list per analysis (empty when not run)."""
    return APLAN.targets_by_kind() if APLAN else {kind: [] for kind in ANALYSIS_KINDS}


rule report:
    input:
        pretraining=[paths.metrics(run.id) for run in STUDY.runs],
        transfer=transfer_targets(),
        **analysis_tables(),
    output:
        tables=report(directory(paths.TABLES), patterns=["{name}.md"], category="Tables",
                      caption="captions/tables.rst"),
        figures=report(directory(paths.FIGURES), patterns=["{name}.png"], category="Figures",
                       caption="captions/figures.rst"),
        claims=report(paths.CLAIMS, category="Claims", caption="captions/claims.rst"),
        claims_csv=paths.CLAIMS_CSV,
    params:
        analysis_kinds=ANALYSIS_KINDS,
        skipped=skipped_tasks(config.get("transfer") or {}),
    log:
        f"{paths.LOGS}/report.log",
    benchmark:
        f"{paths.BENCHMARKS}/report.tsv",
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
