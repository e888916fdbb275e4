# Config validation, the study (config + condition table), job priorities and the target list of `all`.
# Each rules file holds its own input functions and target list; artifact paths come from xstruct.paths.
import sys

sys.path.insert(0, workflow.basedir)
from xstruct import paths  # noqa: E402
from xstruct.local_inputs import check_local_inputs  # noqa: E402
from xstruct.study import ConfigError, Study, check_writable, validate_config  # noqa: E402

try:
    validate_config(config, workflow.source_path("../schemas/config.schema.yaml"))
    STUDY = Study(config, root=workflow.basedir)
    check_writable(paths.RESULTS)
    check_local_inputs(config, STUDY)
except (ConfigError, FileNotFoundError) as err:
    raise WorkflowError(f"config error: {err}") from None


def _drop_stale_manifests():
    """A corpus part or exported model changed after it was made (Snakemake cannot see edits inside folder
    outputs, nor edits of an output it does not rerun): remove it and the manifest that recorded its checksum,
    a rule output, so a plain run rebuilds both and everything downstream (xstruct.integrity)."""
    from xstruct.corpora.text import part_files
    from xstruct.export import view_files
    from xstruct.integrity import drop_stale

    said = drop_stale([paths.corpus_stats(d, l) for d, l in STUDY.corpus_texts()], part_files)
    said += drop_stale([paths.sharing(r.id) for r in STUDY.runs], view_files)
    for line in said:
        print(line, file=sys.stderr)


if workflow.is_main_process:
    _drop_stale_manifests()


onstart:
    from xstruct.hardware import fp32_fallback_note

    note = fp32_fallback_note(config["pretrain"]) if workflow.local_exec else None
    if note:
        print(note, file=sys.stderr)

# Job order on a few cores: everything pretraining reads, then pretraining (the long jobs), then the short jobs
# that read its exports. Without it the greedy scheduler fills the cores with whichever pretraining is ready and
# builds the last vocabularies late, so one long run ends alone (measured: the last ~9 min of an 81-min default).
PRIORITY = {"pretrain_inputs": 20, "pretrain": 10}


wildcard_constraints:
    domain=r"[a-z][a-z0-9_]*",
    lang=r"[a-z][a-z0-9]*",
    vocab=r"(joint|union|disjoint)/[a-z0-9_.+]+",
    run=paths.RUN_ID,


def all_targets():
    """Every stage's targets (each defined in its rules file)."""
    return (corpus_targets() + vocab_targets() + pretrain_targets() + transfer_targets() + analysis_targets()
            + report_targets())
