"""What Snakemake's own process costs on a small machine: its CPU time over a DAG of idle jobs.

Runs one generated workflow (N independent jobs that each sleep, plus an aggregating target) twice, with
Snakemake's default job-rate limit and with the profile's `max-jobs-per-timespan`, and prints the CPU seconds of
the Snakemake process (jobs excluded: they only sleep) and their ratio. Why it matters: Snakemake re-runs job
selection whenever a rate-limit timer fires, and each scheduling pass arms a new timer, so the passes per second
grow with the number of jobs finished; on a 2-core machine that is CPU taken from training.

    python bench/scheduler_overhead.py --jobs 120 --sleep 2
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent

SNAKEFILE = """\
N = {n}
rule all:
    input: expand("done/{{i}}.txt", i=range(N))
rule sleep:
    output: "done/{{i}}.txt"
    shell: "sleep {sleep} && touch {{output}}"
"""


def run(folder: Path, extra: list[str]) -> tuple[float, float]:
    """(CPU seconds of Snakemake itself, wall seconds) for one run from scratch."""
    subprocess.run(["rm", "-rf", str(folder / "done"), str(folder / ".snakemake")], check=True)
    cmd = [sys.executable, "-m", "snakemake", "--cores", "2", "--quiet", "all", *extra]
    t0 = time.time()
    proc = subprocess.Popen(cmd, cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.time() - t0
    if status:
        raise SystemExit(f"snakemake failed in {folder} (status {status}): rerun there without --quiet")
    # children's time is included in ru_*time of wait4 only for reaped grandchildren; the sleeps cost ~ms each
    return usage.ru_utime + usage.ru_stime, wall


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--jobs", type=int, default=120)
    ap.add_argument("--sleep", type=float, default=2.0)
    ap.add_argument("--profile", type=Path, default=ROOT / "profiles" / "default" / "config.yaml")
    args = ap.parse_args()
    limit = yaml.safe_load(args.profile.read_text()).get("max-jobs-per-timespan")
    if not limit:
        raise SystemExit(f"{args.profile}: no max-jobs-per-timespan to compare against Snakemake's default")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "Snakefile").write_text(SNAKEFILE.format(n=args.jobs, sleep=args.sleep))
        base_cpu, base_wall = run(folder, [])
        ours_cpu, ours_wall = run(folder, ["--max-jobs-per-timespan", str(limit)])
    print(f"{args.jobs} jobs of {args.sleep:g} s on 2 cores")
    print(f"default 100/1s : snakemake {base_cpu:6.1f} CPU-s over {base_wall:6.1f} s")
    print(f"profile {limit:7}: snakemake {ours_cpu:6.1f} CPU-s over {ours_wall:6.1f} s")
    print(f"ratio (default / profile CPU): {base_cpu / max(ours_cpu, 1e-9):.2f}")


if __name__ == "__main__":
    main()
