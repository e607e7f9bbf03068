"""Smoke runs: every chapter's medium and full code path, on a CPU, in minutes.

    python scripts/smoke_runs.py                          # every chapter, medium and full
    python scripts/smoke_runs.py --profiles full book/07-language-models-torch.ipynb

Nobody runs the ``full`` profile on a CPU, and CI has no GPU, so a setting, a shape or
a device error on that path would reach a reader on a GPU first. A smoke run executes
a chapter top to bottom in a fresh kernel with ``SEQBOOK_PROFILE`` set to the profile
and ``SEQBOOK_SMOKE=1``: the models are built at the profile's sizes, and every
training stage and evaluation of ``utils`` stops after a few minibatches
(``utils.runs.smoke_limit``). The numbers such a run prints mean nothing, so its
outputs are not compared and the kernel runs with ``PYTHONOPTIMIZE=1``, which
compiles the chapters' ``assert`` checks away; any other error fails the run.

A few loops are the chapters' own rather than ``utils``'s: the recall models' updates
(chapters 5b and 11), the framework comparison's runs and chapter 11's timing rounds.
For them the runner adds one cell after the settings cell that sets the fields of
``SMOKE_FIELDS`` on the chapter's configs (and shrinks their test and validation sets
to one smoke batch); it never changes the notebook on disk. IMDB is read in part (``utils.datasets.SMOKE_REVIEWS``). Not run: chapters 1 and 2, which
train nothing and use one config in every profile, and chapter 9, whose medium and
full paths without GPUs are its quick path with more updates (``NOT_SMOKED``). Two
chapters run side by side, each kernel on one thread (``--jobs``).

The chapters run in a scratch copy of the repository, so the records, figures and
checkpoints they write never touch ``results/``. CI runs this after the tests.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from utils.chapters import CHAPTERS  # noqa: E402
from utils.runs import SMOKE_ENV_VAR  # noqa: E402

PROFILES = ("medium", "full")
SAME_IN_EVERY_PROFILE = ("01-text-preprocessing", "02-ngram-language-models")
# Without GPUs, chapter 9's medium and full runs are its quick code path (two CPU
# processes) with more updates, which CI runs whole already; its GPU path (a process
# per GPU, NCCL) cannot run on a CPU at all. A smoke run of it only repeats the
# process launches (about three minutes).
NOT_SMOKED = {"09-data-parallel": "without GPUs, its medium and full paths are its "
                                  "quick path with more updates"}
# The chapters' own loops: recall updates (5b, 11), the framework comparison's runs
# (its dropout-free ones compare their first 10 updates, so 12 of them), and chapter
# 11's timing rounds (one after the warm-up); and test and validation sets of one
# smoke batch (``utils.runs.SMOKE_ROWS``), so that models scored in full (the bag of
# n-grams) and models scored by smoke batches score the same reviews
SMOKE_FIELDS = {"num_updates": 2, "recall_updates": 2, "identity_updates": 12,
                "scan_rounds": 1, "num_test": 8, "num_valid": 8}
SMOKE_CELL = f"""\
import dataclasses


def _smoked(value, fields={SMOKE_FIELDS!r}):
    if type(value) is tuple:
        return tuple(_smoked(v) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        names = {{f.name for f in dataclasses.fields(value)}}
        return dataclasses.replace(value, **{{k: n for k, n in fields.items() if k in names}})
    return value


for _name in [name for name in globals() if not name.startswith("_")]:
    globals()[_name] = _smoked(globals()[_name])
"""
COPIED = ("book", "utils", "results", "scripts", "_toc.yml", "_config.yml")


def scratch_copy(target: Path) -> Path:
    """Copy what the chapters read into ``target``; return its ``book/`` folder."""
    for name in COPIED:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        elif source.exists():
            shutil.copy2(source, target / name)
    return target / "book"


def smoke_run(path: Path, profile: str, timeout: int, keep: Path | None = None) -> float:
    """Execute one notebook in the smoke mode of ``profile``; return its seconds.

    With ``keep``, the executed notebook (with each cell's timing) is written there.
    """
    nb = nbformat.read(path, as_version=4)
    settings = next(i for i, cell in enumerate(nb.cells)
                    if cell.cell_type == "code" and "run_profile(" in cell.source)
    nb.cells.insert(settings + 1, nbformat.v4.new_code_cell(SMOKE_CELL))
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    scratch = path.parent.parent
    nb.cells.insert(0, nbformat.v4.new_code_cell(
        "import utils, pathlib\n"
        f"if not pathlib.Path(utils.__file__).is_relative_to({str(scratch)!r}):\n"
        "    raise RuntimeError(f'utils comes from {utils.__file__}, not the scratch "
        "copy: its records would overwrite results/')"))
    # The scratch copy's utils first (before an editable install of the checkout).
    os.environ.update({"SEQBOOK_PROFILE": profile, SMOKE_ENV_VAR: "1",
                       "PYTHONOPTIMIZE": "1", "PYTHONPATH": str(scratch)})
    start = time.perf_counter()
    try:
        client.execute()
    finally:
        if keep is not None:
            nbformat.write(nb, keep / f"{path.stem}-{profile}.ipynb")
    return time.perf_counter() - start


def run_one(book: Path, name: str, profile: str, timeout: int, threads: int | None,
            keep: Path | None = None) -> tuple[str, float | None, str]:
    """Smoke-run one chapter in this process; ``(label, seconds or None, error)``."""
    if threads is not None:  # several kernels side by side: one thread each
        os.environ["OMP_NUM_THREADS"] = str(threads)
    label = f"{name} ({profile})"
    try:
        return label, smoke_run(book / f"{name}.ipynb", profile, timeout, keep), ""
    except Exception as error:  # a cell's error, a timeout, a dead kernel
        return label, None, "".join(traceback.format_exception_only(error))[-4000:]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="chapters to run (default: every chapter of the table)")
    parser.add_argument("--profiles", nargs="+", default=list(PROFILES),
                        choices=PROFILES, help="the profiles whose paths are run")
    parser.add_argument("--timeout", type=int, default=300,
                        help="seconds one cell may run before the run fails")
    parser.add_argument("--jobs", type=int, default=2,
                        help="chapters run side by side, each kernel on one thread "
                             "(most of a smoke run is imports and data, one thread's "
                             "work); 1: one at a time, with every core")
    parser.add_argument("--keep", type=Path, default=None,
                        help="a folder for the executed notebooks, with cell timings")
    args = parser.parse_args(argv)
    keep = args.keep.resolve() if args.keep else None
    if keep:
        keep.mkdir(parents=True, exist_ok=True)
    names = ([p.stem for p in args.notebooks] if args.notebooks
             else [chapter.name for chapter in CHAPTERS
                   if chapter.name not in SAME_IN_EVERY_PROFILE + tuple(NOT_SMOKED)])
    for name, why in NOT_SMOKED.items() if not args.notebooks else ():
        print(f"smoke: {name} not run: {why}")
    failed, total = [], time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="seqbook-smoke-") as scratch:
        book = scratch_copy(Path(scratch))
        runs = [(name, profile) for profile in args.profiles for name in names]
        threads = 1 if args.jobs > 1 else None
        with ProcessPoolExecutor(max_workers=args.jobs) as pool:
            futures = [pool.submit(run_one, book, name, profile, args.timeout, threads,
                                   keep) for name, profile in runs]
            for future in as_completed(futures):
                label, seconds, error = future.result()
                if seconds is None:
                    failed.append(label)
                    print(f"smoke: {label} FAILED\n{error}", flush=True)
                else:
                    print(f"smoke: {label} passed in {seconds:.1f} s", flush=True)
    seconds = time.perf_counter() - total
    print(f"smoke runs: {len(runs) - len(failed)} passed, {len(failed)} failed in "
          f"{seconds:.0f} s ({args.jobs} at a time)")
    for label in failed:
        print(f"  failed: {label}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
