"""Execute chapters the way Colab would; see scripts/colab_emulation.sh.

Each notebook is copied, a first cell that registers a stand-in ``google.colab``
module is put in front of it, and it is executed in a fresh kernel of this (Python
3.13) environment. Its own setup cell then clones the committed repository from
``$SEQBOOK_REPO`` (this clone, by default) into a scratch folder and installs what the
environment lacks. Prints ``colab-emulation: N notebooks passed on Python 3.x``.
"""
from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
# Run whole: a chapter without a framework, the comparison (it trains the PyTorch,
# MXNet/GluonNLP and Paddle models on the same batches) and the Paddle chapter.
WHOLE = ("01-text-preprocessing", "07-framework-comparison", "07-language-models-paddle")
STAND_IN = ('import sys, types\n'
            'sys.modules["google.colab"] = types.ModuleType("google.colab")')


def installed() -> dict[str, str]:
    """``{distribution: version}`` of this environment, read afresh."""
    import importlib
    import importlib.metadata
    importlib.invalidate_caches()
    return {dist.metadata["Name"].lower(): dist.version
            for dist in importlib.metadata.distributions() if dist.metadata["Name"]}


def run(path: Path, whole: bool, scratch: Path) -> str:
    """Execute the setup cell (and, with ``whole``, the rest) of one notebook."""
    nb = nbformat.read(path, as_version=4)
    cells = nb.cells if whole else nb.cells[:2]
    nb.cells = [nbformat.v4.new_code_cell(STAND_IN)] + cells
    client = NotebookClient(nb, timeout=1800, kernel_name="python3",
                            resources={"metadata": {"path": str(scratch)}})
    client.execute()
    setup_output = "".join(o.get("text", "") for o in nb.cells[2].get("outputs", []))
    return setup_output.strip().splitlines()[-1] if setup_output.strip() else ""


def main(argv: list[str]) -> int:
    setup_only = "--setup-only" in argv  # every setup cell, no whole notebook
    names = [Path(a).stem for a in argv if a != "--setup-only"] or None
    paths = sorted((ROOT / "book").glob("[0-9]*.ipynb"))
    scratch = Path(tempfile.mkdtemp(prefix="colab-"))
    os.environ.setdefault("SEQBOOK_REPO", ROOT.as_uri())
    os.environ["SEQBOOK_CLONE_DIR"] = str(scratch / "seqbook")
    os.environ["SEQBOOK_PROFILE"] = "quick"
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")  # ipykernel 6.17 noise
    before = installed()
    passed = 0
    for path in paths:
        whole = not setup_only and path.stem in (names or WHOLE)
        if names and path.stem not in names:
            continue
        start = time.perf_counter()
        line = run(path, whole, scratch)
        passed += 1
        print(f"{path.stem}: {'whole notebook' if whole else 'setup cell'} passed in "
              f"{time.perf_counter() - start:.0f} s | {line}", flush=True)
    after = installed()
    changed = {name: (version, after.get(name)) for name, version in before.items()
               if after.get(name) != version}
    if changed:
        print(f"the setup cells changed preinstalled packages: {changed}")
        return 1
    added = sorted(set(after) - set(before))
    print(f"installed by the setup cells: {', '.join(added) or 'nothing'}; no "
          f"preinstalled package changed")
    print(f"colab-emulation: {passed} notebooks passed on Python "
          f"{sys.version_info.major}.{sys.version_info.minor}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
