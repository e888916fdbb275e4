"""Hugging Face Hub datasets at a pinned revision, failing in one line when the Hub cannot be reached."""
from __future__ import annotations

from xstruct.tasks import TaskDataError


def load_hub_split(path: str, name: str | None, revision: str, split: str):
    """One split of a Hub dataset (a `datasets.Dataset`), downloaded once into the datasets cache."""
    import datasets

    if not revision:
        raise TaskDataError(f"{path}: a Hub dataset needs a pinned `revision` (a commit sha)")
    try:
        return datasets.load_dataset(path, name, split=split, revision=revision)
    except Exception as err:  # the datasets/hub stack raises many types; all mean "not available here"
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise TaskDataError(f"cannot load Hub dataset {path} ({name}, {split}) at revision {revision}: {reason} "
                            "-- run online once, or point the task at local files") from None
