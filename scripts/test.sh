#!/usr/bin/env bash
# Run every test: the unit tests of utils and `pytest --nbval` on every chapter.
#   usage: bash scripts/test.sh [extra pytest arguments]
# Sets up .venv first if needed (scripts/setup_env.sh). Always the quick profile.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh
PY=.venv/bin/python
export SEQBOOK_PROFILE=quick
# With arguments, run just those (e.g. one notebook); without, everything.
if [ $# -eq 0 ]; then set -- tests book; fi
exec "$PY" -m pytest --nbval --nbval-current-env \
  --nbval-sanitize-with tests/nbval_sanitize.cfg --nbval-cell-timeout=1200 \
  --durations=25 "$@"
