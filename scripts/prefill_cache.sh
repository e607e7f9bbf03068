#!/usr/bin/env bash
# Fill a data cache from a folder of offline copies (copies, never writes into it).
#   usage: bash scripts/prefill_cache.sh SOURCE_DIR [CACHE_DIR]
# CACHE_DIR defaults to $SEQBOOK_DATA, then ~/.cache/seqbook. Afterwards the book's
# loader finds every dataset present and downloads nothing.
set -euo pipefail
src=${1:?usage: prefill_cache.sh SOURCE_DIR [CACHE_DIR]}
cache=${2:-${SEQBOOK_DATA:-$HOME/.cache/seqbook}}
mkdir -p "$cache"
for f in timemachine.txt ptb.zip; do
  [ -f "$src/$f" ] && cp -n "$src/$f" "$cache/"
done
[ -f "$src/ptb.zip" ] && [ ! -d "$cache/ptb" ] && (cd "$cache" && python3 -m zipfile -e ptb.zip .)
for t in wikitext-2 aclImdb; do
  if [ -f "$src/$t.tar.gz" ] && [ ! -d "$cache/$t" ]; then
    tar xzf "$src/$t.tar.gz" -C "$cache"
  fi
done
echo "data cache ready in $cache"
