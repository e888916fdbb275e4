"""Fetch the files of a remote evaluation set (paper configuration) into the layout its local format reads.

- tatoeba: `<url>/tatoeba.<code>-eng.<side>` downloaded as is (LASER's test sets, pinned by a commit in the URL);
- xnli:    `<split>-<lang>.tsv` written in XTREME format from the Hub dataset at a pinned revision.
Both fail in one line naming the source when it cannot be reached, and write nothing.
"""
from __future__ import annotations

import re
from pathlib import Path

from xstruct.io import FetchError, atomic_write, download

SPLIT_FILE = re.compile(r"(train|dev|test)-([a-z][a-z0-9]*)\.tsv")


def fetch_set_file(name: str, spec: dict, out: str | Path) -> None:
    """Write one file of set `name` (its file name says which) to `out`."""
    out = Path(out)
    if spec.get("format") == "tatoeba" and "url" in spec:
        data = download(f"{spec['url'].rstrip('/')}/{out.name}",
                        f"run online once, or set analysis.sets.{name}.path to a local copy of the files")
        with atomic_write(out, "wb") as f:
            f.write(data)
    elif spec.get("format") == "xnli" and "hub" in spec:
        from xstruct.tasks import xnli
        m = SPLIT_FILE.fullmatch(out.name)
        if not m:
            raise FetchError(f"{out}: an XNLI set file is named <train|dev|test>-<lang>.tsv")
        split, lang = m.groups()
        rows = xnli.read_hub(spec["hub"], spec.get("revision"), lang, split)
        with atomic_write(out) as f:       # XTREME TSV: no quoting, so tabs and newlines inside become spaces
            f.writelines(f"{' '.join(r['a'].split())}\t{' '.join(r['b'].split())}\t{r['label']}\n" for r in rows)
    else:
        raise FetchError(f"analysis.sets.{name}: only a tatoeba set with `url` or an xnli set with `hub` is fetched")
