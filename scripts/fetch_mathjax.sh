#!/usr/bin/env bash
# Ship MathJax with the book, so that its equations render offline.
#   usage: bash scripts/fetch_mathjax.sh
# Fetches MathJax 3 from the npm registry into _build/mathjax (once), then copies the
# files the pages load (the tex-mml-chtml component, its input and output modules,
# fonts, menu and accessibility extensions) into _build/static/mathjax. _config.yml
# lists _build/static as a static folder and points mathjax_path at that copy, so the
# build puts it in _build/html/_static/mathjax and no page asks a CDN for anything.
# Nothing is added to the repository.
set -euo pipefail
cd "$(dirname "$0")/.."
version=3.2.2
npm_dir=_build/mathjax
es5="$npm_dir/node_modules/mathjax/es5"
static=_build/static/mathjax
if [ ! -f "$es5/tex-mml-chtml.js" ]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "npm not found: the book ships MathJax $version from the npm registry so that" \
         "its equations render offline. Install Node.js (with npm) and run again." >&2
    exit 1
  fi
  mkdir -p "$npm_dir"
  npm install --silent --no-audit --no-fund --prefix "$npm_dir" "mathjax@$version" \
    >/dev/null
fi
rm -rf "$static"
mkdir -p "$static/output"
cp -r "$es5/tex-mml-chtml.js" "$es5/input" "$es5/ui" "$es5/a11y" "$es5/adaptors" \
      "$es5/sre" "$static/"
cp -r "$es5/output/chtml" "$es5/output/chtml.js" "$static/output/"
echo "MathJax $version in $static ($(du -sh "$static" | cut -f1))"
