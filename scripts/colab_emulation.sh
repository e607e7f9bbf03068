#!/usr/bin/env bash
# Run chapters as Colab would: Python 3.13 with Colab's versions of NumPy, PyTorch,
# matplotlib, IPython and ipykernel, a stand-in `google.colab` module, and each
# chapter's own setup cell cloning this repository (the committed HEAD) and
# installing what is missing. The last stage of .ci/run. torch 2.11 from the package
# index is a CUDA build that brings about 3 GB of nvidia-* wheels (about 2.5 minutes to
# make the environment here); the chapters run on the CPU.
#   usage: bash scripts/colab_emulation.sh [--setup-only] [NOTEBOOK ...]
#   (default: every chapter's setup cell, and chapters 1, 7.4 (the comparison of the
#   three frameworks) and 7.3 (Paddle) whole, in the quick profile; $SEQBOOK_DATA must
#   hold the datasets)
set -euo pipefail
cd "$(dirname "$0")/.."
PY313=${PY313:-python3.13}
# (a pyenv shim can exist on PATH and still fail: ask it for its version)
"$PY313" --version >/dev/null 2>&1 || PY313=$HOME/.pyenv/versions/3.13.0/bin/python
if ! "$PY313" --version >/dev/null 2>&1; then
  echo "colab-emulation needs Python 3.13: put python3.13 on PATH or set PY313" >&2
  exit 1
fi
VENV=${COLAB_VENV:-_build/colab-venv}
if [ ! -x "$VENV/bin/python" ]; then
  "$PY313" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip
  # Colab's runtime list (Aug 2026): Python 3.13, NumPy 2.1.3, torch 2.11.0,
  # matplotlib 3.10.0, ipykernel 6.17.1, ipython 7.34.0; plus what it also ships.
  "$VENV/bin/python" -m pip install -q numpy==2.1.3 torch==2.11.0 matplotlib==3.10.0 \
    ipykernel==6.17.1 ipython==7.34.0 scikit-learn tqdm setuptools packaging requests \
    nbclient nbformat
fi
exec "$VENV/bin/python" scripts/colab_emulation.py "$@"
