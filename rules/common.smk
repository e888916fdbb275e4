# Config validation and the helpers that turn the study (config + condition table) into target lists.
import sys

sys.path.insert(0, workflow.basedir)
from xstruct.study import ConfigError, Study, validate_config  # noqa: E402


try:
    validate_config(config, workflow.source_path("../schemas/config.schema.yaml"))
    STUDY = Study(config, root=workflow.basedir)
except ConfigError as err:
    raise WorkflowError(f"config error: {err}") from None

RESULTS = "results"
VOCAB_IDS = STUDY.vocab_ids
RUN_IDS = [r.id for r in STUDY.runs]


wildcard_constraints:
    domain=r"[a-z][a-z0-9_]*",
    lang=r"[a-z][a-z0-9]*",
    part=r"a|b|valid",
    pair=r"en-[a-z][a-z0-9]*",
    vocab=r"(joint|union|disjoint)/[a-z0-9_.+]+",
    run=r"[a-z][a-z0-9_]*\.[a-z0-9-]+\.s\d+",


def corpus_targets():
    return [
        f"{RESULTS}/corpus/{d}/{l}.stats.json" for d, l in STUDY.corpus_texts()
    ] + [f"{RESULTS}/dict/{p}.stats.json" for p in STUDY.dictionary_pairs()]


def vocab_targets():
    return [f"{RESULTS}/vocab/{v}/anchors.json" for v in VOCAB_IDS]


def all_targets():
    return (corpus_targets() + heldout_targets() + vocab_targets() + pretrain_targets() + transfer_targets()
            + analysis_targets() + report_targets())
