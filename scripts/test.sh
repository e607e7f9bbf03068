#!/usr/bin/env bash
# Run every test: the unit tests of utils and `pytest --nbval` on every chapter.
#   usage: bash scripts/test.sh [extra pytest arguments]
# Uses .venv when it exists (scripts/build_book.sh makes it). Always the quick profile.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -x .venv/bin/python ]; then PY=.venv/bin/python; else PY=python3; fi
export SEQBOOK_PROFILE=quick
export MPLBACKEND=Agg
export PYTHONWARNINGS=${PYTHONWARNINGS:-ignore::DeprecationWarning}
exec "$PY" -m pytest tests book --nbval --nbval-current-env \
  --nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-cell-timeout=1200 "$@"
