#!/usr/bin/env bash
# Set up the environment, execute every chapter, and build the HTML book in _build/html.
#   usage: bash scripts/build_book.sh              # execute the chapters, then build
#          BOOK_EXECUTE=0 bash scripts/build_book.sh  # build from the committed outputs
# Execution happens in memory: the notebooks in book/ keep their committed outputs.
# The run profile is `quick` on a CPU and `full` with a CUDA GPU ($SEQBOOK_PROFILE
# overrides it); the build fails on any Sphinx warning. MathJax is fetched from the npm
# registry (once) and shipped in _build/html/_static/mathjax.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh
mkdir -p _build
bash scripts/fetch_mathjax.sh  # MathJax ships with the book (offline equations)
config=_config.yml
rebuild=()
if [ "${BOOK_EXECUTE:-1}" != 0 ]; then
  config=_build/_config.execute.yml
  .venv/bin/python - "$config" <<'PY'
import os, sys, yaml
cfg = yaml.safe_load(open("_config.yml"))
cfg["execute"].update(execute_notebooks="force", timeout=-1, allow_errors=False)
# Paths of local extensions are read relative to the config file: make them absolute.
extensions = cfg.get("sphinx", {}).get("local_extensions") or {}
for name, path in extensions.items():
    extensions[name] = os.path.abspath(path)
sphinx_config = cfg.get("sphinx", {}).get("config", {})
if "html_static_path" in sphinx_config:  # also read relative to the config's folder
    sphinx_config["html_static_path"] = [os.path.abspath(p)
                                         for p in sphinx_config["html_static_path"]]
yaml.safe_dump(cfg, open(sys.argv[1], "w"), sort_keys=False)
PY
  rebuild=(--all)  # re-read every page, so that every chapter really runs
fi
start=$(date +%s)
.venv/bin/jupyter-book build . --config "$config" "${rebuild[@]}" -W --keep-going
echo "book built in $(( $(date +%s) - start )) s: open _build/html/index.html"
