"""Execute the book's chapters in place, so that their committed outputs are fresh.

    python scripts/run_notebooks.py                 # every chapter in _toc.yml
    python scripts/run_notebooks.py book/03-rnn.ipynb book/04-gru.ipynb

Each notebook runs top to bottom in a fresh kernel, in the ``quick`` profile unless
``$SEQBOOK_PROFILE`` says otherwise, with its folder as working directory. Execution
timestamps are dropped so that a re-run changes only what really changed. When every
chapter ran, the per-chapter times and their sum are written to
``results/<profile>/book.json``.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
RESULTS_PAGES = ("intro", "results")  # notebooks that read results/*.json
sys.path.insert(0, str(ROOT))  # run from a checkout without installing utils


def chapters_in_toc() -> list[Path]:
    """The notebooks listed in ``_toc.yml``, in reading order."""
    found = []
    for line in (ROOT / "_toc.yml").read_text().splitlines():
        line = line.strip()
        if line.startswith(("- file:", "root:")):
            stem = line.split(":", 1)[1].strip()
            path = ROOT / f"{stem}.ipynb"
            if path.is_file():
                found.append(path)
    return found


def strip_volatile_metadata(nb) -> None:
    """Remove per-run timestamps so that unchanged outputs give an unchanged file."""
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        if cell.cell_type == "code":
            for out in cell.get("outputs", []):
                out.get("metadata", {}).pop("execution", None)
    nb.metadata.pop("widgets", None)


def execute(path: Path, timeout: int, output: Path | None = None) -> float:
    """Run one notebook and return its wall time in seconds.

    The executed notebook is written back in place, or to ``output`` when given (the
    kernel still runs in the notebook's own folder).
    """
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    strip_volatile_metadata(nb)
    nbformat.write(nb, path if output is None else output)
    return seconds


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="notebooks to run (default: every chapter in _toc.yml)")
    parser.add_argument("--timeout", type=int, default=1800,
                        help="seconds one cell may run before the run fails")
    parser.add_argument("--merge-times", action="store_true",
                        help="with notebooks given: update their times in the book "
                             "record, which gets a total once every chapter has one")
    args = parser.parse_args(argv)
    os.environ.setdefault("SEQBOOK_PROFILE", "quick")
    profile = os.environ["SEQBOOK_PROFILE"]
    notebooks = [p.resolve() for p in args.notebooks] or chapters_in_toc()
    times = {}
    for path in notebooks:
        print(f"running {path.relative_to(ROOT)} ({profile}) ...", flush=True)
        times[path.stem] = execute(path, args.timeout)
        print(f"  done in {times[path.stem]:.1f} s", flush=True)
    if not args.notebooks or args.merge_times:
        from utils.results import load_record, make_record, save_record
        from utils.runs import device_name
        seconds = {}
        stored = load_record("book", profile) if args.notebooks else None
        if stored is not None:
            seconds = {key.split("/", 1)[1]: value
                       for key, value in stored["metrics"].items()
                       if key.startswith("seconds/")}
        seconds.update(times)
        wanted = [path.stem for path in chapters_in_toc()]
        if all(name in seconds for name in wanted):
            total = sum(seconds[name] for name in wanted)
            metrics = {"book_seconds": total}
            metrics.update({f"seconds/{name}": seconds[name] for name in wanted})
            path = save_record(make_record("book", profile, metrics, device_name(),
                                           total))
            print(f"whole book: {total:.1f} s -> {path.relative_to(ROOT)}")
        else:
            missing = [name for name in wanted if name not in seconds]
            print(f"no book record: no time yet for {missing}")
    if not args.notebooks:
        # The pages that show results/ ran before book.json changed: run them again.
        for path in notebooks:
            if path.stem in RESULTS_PAGES:
                print(f"refreshing {path.relative_to(ROOT)} ...", flush=True)
                execute(path, args.timeout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
