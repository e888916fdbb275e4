"""Paper-scale text from the Hugging Face Hub: Wikipedia (`wikimedia/wikipedia`) and the Common Crawl domain
(`HuggingFaceFW/fineweb-2`), streamed at a pinned revision up to a byte budget.

Documents are split into lines (`text.document_lines`, shared with local text), each filtered like the Debian
text, keyed "doc id:line index" and split into parts by the same hash. Without network (or with
HF_HUB_OFFLINE=1) this fails with one line.
"""
from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator

from xstruct.corpora.text import LineFilter, document_lines, write_parts
from xstruct.io import write_json

log = logging.getLogger(__name__)


class HubError(RuntimeError):
    """The Hub could not be reached or the dataset could not be read; the message is one line."""


def _one_line(err: BaseException) -> str:
    text = " ".join(str(err).split())
    return f"{type(err).__name__}: {text[:300]}"


def stream_documents(dataset: dict, lang: str) -> Iterator[dict]:
    """Records of a pinned Hub dataset ({path, name, revision, split, text_field}), streamed."""
    where = f"{dataset['path']}" + (f" ({dataset['name']})" if dataset.get("name") else "") + \
            f" at revision {dataset['revision']}"
    try:
        from datasets import load_dataset

        records = load_dataset(dataset["path"], dataset.get("name"), split=dataset.get("split", "train"),
                               revision=dataset["revision"], streaming=True)
        yield from records
    except (OSError, ValueError, RuntimeError, ImportError) as err:   # ConnectionError is an OSError
        raise HubError(f"hub corpus {lang!r}: cannot stream {where}: {_one_line(err)} "
                       "(this source needs network access to the Hugging Face Hub; the embedded default "
                       "config runs offline)") from None


def record_texts(records: Iterable[dict], text_field: str, lang: str) -> Iterator[tuple[str, str]]:
    """(document id, text) of Hub records."""
    for n, record in enumerate(records):
        if text_field not in record:
            raise HubError(f"hub corpus {lang!r}: record has no field {text_field!r} "
                           f"(fields: {', '.join(record)}); set datasets.{lang}.text_field")
        yield str(record.get("id", n)), record[text_field]


def build_text(dataset: dict, lang: str, cleaning: dict, max_bytes: int, valid_fraction: float,
               paths: dict[str, str], stats_path: str) -> dict:
    """Stream, filter, cap and split one language's Hub text into parts a/b/valid."""
    line_filter = LineFilter.from_config(lang, cleaning)
    records = stream_documents(dataset, lang)
    texts = record_texts(records, dataset.get("text_field", "text"), lang)
    lines = document_lines(texts, line_filter, max_bytes, f"hub corpus {lang!r}")
    stats = write_parts(lines, paths, stats_path, valid_fraction)
    # a branch name such as `main` moves: keep the commit it resolved to, so the corpus stays traceable
    stats["source"] = {**dataset, "commit": resolved_commit(dataset)}
    write_json(stats_path, stats)
    return stats


def resolved_commit(dataset: dict) -> str:
    try:
        from huggingface_hub import HfApi

        return HfApi().dataset_info(dataset["path"], revision=dataset["revision"]).sha or "unknown"
    except Exception as err:  # noqa: BLE001 - provenance only; the text itself was already downloaded
        log.warning("could not resolve the commit of %s@%s: %s", dataset["path"], dataset["revision"], err)
        return "unknown"
