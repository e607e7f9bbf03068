#!/usr/bin/env bash
# Create .venv (if needed) and install the pinned requirements and this repository's
# `utils` package into it, in two steps: requirements.txt, then
# requirements-no-deps.txt without requirements (MXNet and GluonNLP, whose metadata caps
# NumPy below 2). Safe to run again: it reinstalls only when one of the requirement
# files or pyproject.toml changed.
#   usage: bash scripts/setup_env.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "creating .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.seqbook-installed
want=$(cat requirements.txt requirements-no-deps.txt pyproject.toml | sha1sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -r requirements.txt
  # gluonnlp 0.10.0 is a source package that builds only through PEP 517.
  .venv/bin/python -m pip install -q --no-deps --use-pep517 -r requirements-no-deps.txt
  .venv/bin/python -m pip install -q --no-deps -e .
  echo "$want" > "$stamp"
fi
echo "environment ready: $(.venv/bin/python --version) in .venv"
