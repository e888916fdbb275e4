"""The report job: every table, figure, the claims report and the manifest from the pipeline's result files."""
from __future__ import annotations

from pathlib import Path

from xstruct import paths
from xstruct.io import atomic_write, write_json
from xstruct.report.claims import Evidence, check_claims, load_claims, state_counts
from xstruct.report.manifest import build_manifest
from xstruct.report.pretraining import write_pretraining_report
from xstruct.report.similarity_section import write_similarity_report
from xstruct.report.transfer_section import write_transfer_report
from xstruct.tasks.transfer_jobs import requested_tasks


def build_report(study, config: dict, transfer_results: list[str], analysis_inputs: dict[str, list[str]],
                 skipped: dict[str, str], out_dir: str | Path, results: str | Path = paths.RESULTS,
                 root: str | Path = ".", pretraining: list[str] = ()) -> dict:
    out = Path(out_dir)
    tables, figures_dir = out / "tables", out / "figures"
    name = config["name"]
    transfer = config.get("transfer") or {}
    labels = config["report"]["tasks"]
    missing = [t for t in requested_tasks(transfer) if t not in labels] if transfer else []
    if missing:
        raise ValueError(f"config report.tasks: no entry for transfer task(s) {', '.join(missing)}")
    tasks = {t: labels[t] for t in requested_tasks(transfer)} if transfer else {}
    for t in tasks:     # scored on the target languages' dev sets (their test files carry no labels): say so
        if transfer["tasks"][t].get("test_split") == "dev":
            tasks[t] = {**tasks[t], "label": f"{tasks[t]['label']} [dev split]"}
    targets = transfer.get("languages", [])
    controls = {c for c, cond in study.conditions.items() if cond.is_control}
    plateau = write_pretraining_report(list(pretraining), controls, tables) if pretraining else None
    scores, floors = write_transfer_report(transfer_results, study, tasks, skipped, targets, tables, figures_dir,
                                           name)
    analysis = write_similarity_report(analysis_inputs, tables, figures_dir, name)
    # configured chance levels are a fallback only: measured floors (random init, baselines) take precedence
    chance = {t["paper"]: t["chance"] for t in tasks.values() if "chance" in t and t.get("paper")}
    claims = check_claims(Evidence(scores, chance, analysis, floors), load_claims())
    write_claims(claims, out / "claims", name, plateau)
    write_json(tables / "manifest.json", build_manifest(study, config, results, root))
    return {"claims": claims}


def write_claims(claims, stem: Path, name: str, plateau: str | None = None) -> None:
    claims.to_csv(stem.with_suffix(".csv.tmp"), index=False)
    stem.with_suffix(".csv.tmp").replace(stem.with_suffix(".csv"))
    with atomic_write(stem.with_suffix(".md")) as f:
        f.write(f"{state_counts(claims)}.\n\n# Claims of Conneau et al. (2020) checked on this run ({name})\n\n")
        if plateau:
            f.write(f"{plateau} (tables/pretraining.md): a run still on it has learnt no context.\n\n")
        f.write("A claim is *uninformative* when a precondition fails: its numbers cannot be told apart from a "
                "model that learnt nothing (random-init control, test-data baseline, random encoder).\n\n")
        f.write("| § | claim | verdict | numbers | threshold | precondition |\n|---|---|---|---|---|---|\n")
        for r in claims.itertuples():
            cells = [r.section, r.claim, f"**{r.state}**", r.numbers, r.threshold, r.precondition]
            f.write("| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |\n")
