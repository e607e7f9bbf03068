#!/usr/bin/env bash
# Fill a data cache from a folder of offline copies (read only, never written to).
#   usage: bash scripts/prefill_cache.sh SOURCE_DIR [CACHE_DIR]
# CACHE_DIR defaults to $SEQBOOK_DATA, then ~/.cache/seqbook. Every copy goes through
# the checks of a download (sha1 against the registry or SOURCE_DIR/SHA1SUMS, atomic
# unpacking with a completion marker): see utils.datasets.prefill. Afterwards the
# book's loader finds every dataset present and downloads nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
src=${1:?usage: prefill_cache.sh SOURCE_DIR [CACHE_DIR]}
PY=.venv/bin/python
[ -x "$PY" ] || PY=python3
exec "$PY" -c 'import sys; from utils.datasets import main; main(sys.argv[1:])' \
  prefill "$src" ${2:+"$2"}
