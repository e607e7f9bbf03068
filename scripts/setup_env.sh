#!/usr/bin/env bash
# Create .venv (if needed) and install the pinned requirements and this repository's
# `utils` package into it. Safe to run again: it reinstalls only when
# requirements.txt or pyproject.toml changed.
#   usage: bash scripts/setup_env.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "creating .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.seqbook-installed
want=$(cat requirements.txt pyproject.toml | sha1sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  # gluonnlp 0.10.0 is a source package that builds only through PEP 517.
  .venv/bin/python -m pip install -q --use-pep517 -r requirements.txt
  .venv/bin/python -m pip install -q --no-deps -e .
  echo "$want" > "$stamp"
fi
echo "environment ready: $(.venv/bin/python --version) in .venv"
