"""The technical domain (the paper's Common Crawl side): Debian documentation and man pages.

Packages are fetched with `apt-get download` and unpacked with `dpkg -x` into a cache folder (nothing is
installed on the system). HTML manuals and man pages are rendered to text blocks, filtered to running text
of the wanted language, deduplicated, capped, and split into parts by a hash of each line's key
("package:path:block").
"""
from __future__ import annotations

import fcntl
import gzip
import json
import logging
import shutil
import subprocess
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import lxml.html
import regex
from tqdm import tqdm

from xstruct.corpora.text import LineFilter, hash_unit, write_parts
from xstruct.io import atomic_dir, sha256_file, write_json

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
# HTML elements whose own text is one block; a block nested in another is its own block, not part of it.
BLOCK_TAGS = frozenset({"p", "li", "dt", "h1", "h2", "h3", "h4", "td", "title"})
BLOCK_CLASSES = frozenset({"para"})       # DocBook/Publican <div class="para"> (debian-handbook)
# Subtrees that are not running text: preformatted code and screens, scripts, footnote marks.
SKIP_TAGS = frozenset({"pre", "script", "style", "sup"})
# A locale in a path: a folder "fr", "fr-FR", "zh_CN" or a file name "page.zh-cn.html".
_LOCALE_DIR = regex.compile(r"^[a-z]{2}(?:[-_][A-Za-z]{2})?$")
_LOCALE_FILE = regex.compile(r"\.([a-z]{2}(?:[-_][A-Za-z]{2})?)\.html?$")
_MAN_SECTION = regex.compile(r"^man\d\w*$")
# Traditional-script Chinese regions: the study's zh is Simplified (as the Bible's CNV).
_TRADITIONAL_ZH = frozenset({"tw", "hk", "mo"})


# --- fetching ------------------------------------------------------------------------------------------

def _run(cmd: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)


def _last_line(done: subprocess.CompletedProcess) -> str:
    lines = [l for l in (done.stderr + done.stdout).splitlines() if l.strip() and not l.startswith("W:")]
    return lines[-1].strip() if lines else f"exit status {done.returncode}"


def fetch(package: str, root: str | Path) -> Path:
    """Download `package` and unpack it into `root/package/`; returns that folder. Reuses a finished one."""
    dest = Path(root) / package
    if (dest / MANIFEST).is_file():
        return dest
    for tool in ("apt-get", "dpkg"):
        if shutil.which(tool) is None:
            raise RuntimeError(f"debian package {package!r}: `{tool}` not found; the Debian corpus and "
                               "dictionaries need a Debian-based system with apt")
    with atomic_dir(dest) as tmp:
        done = _run(["apt-get", "download", package], cwd=tmp)
        if done.returncode != 0:
            # A fresh machine may have no package lists yet; parallel jobs must not update them together.
            with open(Path(root) / ".apt-update.lock", "w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                update = _run(["apt-get", "update"])
            if update.returncode != 0:
                raise RuntimeError(f"debian package {package!r}: apt-get download failed "
                                   f"({_last_line(done)}) and apt-get update failed ({_last_line(update)})")
            done = _run(["apt-get", "download", package], cwd=tmp)
        debs = sorted(tmp.glob("*.deb"))
        if done.returncode != 0 or len(debs) != 1:
            raise RuntimeError(f"debian package {package!r}: apt-get download failed: {_last_line(done)}")
        deb = debs[0]
        unpacked = _run(["dpkg", "-x", str(deb), str(tmp)])
        if unpacked.returncode != 0:
            raise RuntimeError(f"{deb.name}: dpkg -x failed: {_last_line(unpacked)}")
        version = _run(["dpkg-deb", "-f", str(deb), "Version"]).stdout.strip()
        manifest = {"package": package, "version": version, "deb": deb.name, "sha256": sha256_file(deb)}
        deb.unlink()
        manifest["files"] = sum(1 for p in tmp.rglob("*") if p.is_file())
        write_json(tmp / MANIFEST, manifest)
    log.info("%s %s: %d files unpacked into %s", package, version, manifest["files"], dest)
    return dest


def read_manifest(pkg_dir: str | Path) -> dict:
    path = Path(pkg_dir) / MANIFEST
    if not path.is_file():
        raise FileNotFoundError(f"{path}: not a fetched Debian package (run debian.fetch first)")
    return json.loads(path.read_text(encoding="utf-8"))


# --- finding the documents of a language ----------------------------------------------------------------

def locale_of(relpath: str) -> str:
    """The locale a documentation file is written in, from its path; untranslated originals are English."""
    path = Path(relpath)
    if m := _LOCALE_FILE.search(path.name):
        return m.group(1)
    for part in reversed(path.parent.parts):
        if _LOCALE_DIR.match(part):
            return part
    return "en"


def locale_matches(locale: str, lang: str) -> bool:
    primary, _, region = locale.lower().replace("_", "-").partition("-")
    return primary == lang and not (lang == "zh" and region in _TRADITIONAL_ZH)


def kind_of(relpath: str) -> str | None:
    path = Path(relpath)
    if path.suffix in (".html", ".htm"):
        return "html"
    if _MAN_SECTION.match(path.parent.name) and "man" in path.parts[:-2]:
        return "man"
    return None


def documents(pkg_dir: str | Path, lang: str) -> list[tuple[str, str]]:
    """(relative path, kind) of every HTML page and man page of `lang` in an unpacked package, sorted."""
    pkg_dir = Path(pkg_dir)
    out = []
    for path in sorted(pkg_dir.rglob("*")):
        if path.is_symlink() or not path.is_file():
            continue                                    # links are aliases of pages we read anyway
        rel = path.relative_to(pkg_dir).as_posix()
        kind = kind_of(rel)
        if kind and locale_matches(locale_of(rel), lang):
            out.append((rel, kind))
    return out


# --- rendering ------------------------------------------------------------------------------------------

def _is_block(el) -> bool:
    return el.tag in BLOCK_TAGS or (el.tag == "div" and bool(BLOCK_CLASSES & set((el.get("class") or "").split())))


def _own_text(el) -> str:
    """Text of an element without its nested blocks and skipped subtrees (their tails still count)."""
    parts = [el.text or ""]
    for child in el:
        if isinstance(child.tag, str) and not _is_block(child) and child.tag not in SKIP_TAGS:
            parts.append(_own_text(child))
        parts.append(child.tail or "")
    return "".join(parts)


def html_blocks(path: str | Path) -> list[str]:
    """Text blocks of an HTML page in document order (paragraphs, list items, terms, headings, cells)."""
    root = lxml.html.parse(str(path)).getroot()
    if root is None:
        return []
    blocks = []
    for el in root.iter():
        if not isinstance(el.tag, str) or not _is_block(el):
            continue
        if any(a.tag in SKIP_TAGS for a in el.iterancestors()):
            continue
        blocks.append(" ".join(_own_text(el).split()))
    return blocks


def man_blocks(path: str | Path, line_length: int = 100000) -> list[str]:
    """Paragraphs of a man page (troff, maybe gzipped) rendered by groff without hyphenation or line
    breaking, so each output line is one paragraph or one tag. `.so` alias pages give nothing."""
    data = Path(path).read_bytes()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    body = [l for l in data.splitlines() if l.strip() and not l.startswith((b'.\\"', b"'\\\""))]
    if body and body[0].startswith(b".so "):
        return []
    cmd = ["groff", "-t", "-K", "utf-8", "-man", "-Tutf8", "-P-cbou", f"-rLL={line_length}n", "-rHY=0",
           "-dAD=l"]
    done = subprocess.run(cmd, input=data, capture_output=True)
    if done.returncode != 0:
        log.warning("%s: groff failed: %s", path, done.stderr.decode(errors="replace").strip()[:200])
        return []
    lines = done.stdout.decode("utf-8", errors="replace").splitlines()
    # The first and last lines are the page header and footer ("LS(1)  User Commands  LS(1)").
    return [" ".join(l.split()) for l in lines[1:-1] if l.strip()]


def render(pkg_dir: str | Path, relpath: str, kind: str) -> list[str]:
    path = Path(pkg_dir) / relpath
    return html_blocks(path) if kind == "html" else man_blocks(path)


# --- building a corpus ----------------------------------------------------------------------------------

def build_text(pkg_dirs: list[str | Path], lang: str, cleaning: dict, max_lines: int,
               valid_fraction: float, paths: dict[str, str], stats_path: str, threads: int = 1) -> dict:
    """Running text of `lang` from the given unpacked packages, filtered (`cleaning`: LineFilter settings),
    deduplicated, capped at `max_lines` (a hash-based selection, so the same config always keeps the same
    lines) and split into parts."""
    if shutil.which("groff") is None:
        raise RuntimeError("`groff` not found: rendering man pages needs it (Debian package groff-base)")
    line_filter = LineFilter.from_config(lang, cleaning)
    lines: list[tuple[str, str]] = []
    seen: set[str] = set()
    report = {}
    for pkg_dir in map(Path, pkg_dirs):
        package = read_manifest(pkg_dir)["package"]
        docs = documents(pkg_dir, lang)
        counts = Counter()
        with ThreadPoolExecutor(max(1, threads)) as pool:   # groff runs as subprocesses: threads suffice
            rendered = pool.map(lambda d: render(pkg_dir, *d), docs)
            for (rel, _), blocks in tqdm(zip(docs, rendered), total=len(docs), desc=f"{package} ({lang})",
                                         unit="doc", mininterval=5):
                for i, block in enumerate(blocks):
                    counts["blocks"] += 1
                    text = line_filter(block)
                    if text is None:
                        continue
                    if text in seen:
                        counts["duplicates"] += 1
                        continue
                    seen.add(text)
                    lines.append((f"{package}:{rel}:{i}", text))
                    counts["lines"] += 1
                    counts["characters"] += len(text)
        report[package] = {"documents": len(docs), **counts}
        log.info("%s: %d documents, %d blocks, %d lines kept (%d duplicates), %d characters", package,
                 len(docs), counts["blocks"], counts["lines"], counts["duplicates"], counts["characters"])
        if not docs:
            log.warning("%s: no documents in language %r", package, lang)
    if not lines:
        raise RuntimeError(f"debian corpus {lang!r}: no text kept from packages "
                           f"{', '.join(str(p) for p in pkg_dirs)}")
    if len(lines) > max_lines:
        # A salted hash, independent of the one that picks parts, so the cap does not skew the split.
        keep = set(sorted(range(len(lines)), key=lambda j: hash_unit("cap:" + lines[j][0]))[:max_lines])
        lines = [line for j, line in enumerate(lines) if j in keep]
    log.info("%s: %d lines after the cap of %d", lang, len(lines), max_lines)
    stats = write_parts(lines, paths, stats_path, valid_fraction)
    return {"packages": report, "parts": stats}
