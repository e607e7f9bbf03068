#!/usr/bin/env bash
# Fetch MathJax 3 from npm into _build/mathjax (once), for the rendered-book test.
#   usage: bash scripts/fetch_mathjax.sh [TARGET_DIR]
# The built book loads MathJax from its usual CDN, as Sphinx writes it. The browser
# test (tests/browser/) runs offline: it answers the CDN requests with this copy, so
# that it can check that every equation is typeset. Nothing is added to the repository.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:-_build/mathjax}
version=3.2.2
if [ -f "$target/node_modules/mathjax/es5/tex-mml-chtml.js" ]; then
  echo "MathJax already in $target"; exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "npm not found: the browser test will skip its equation check" >&2; exit 0
fi
mkdir -p "$target"
npm install --silent --no-audit --no-fund --prefix "$target" "mathjax@$version" >/dev/null
echo "MathJax $version in $target/node_modules/mathjax/es5"
