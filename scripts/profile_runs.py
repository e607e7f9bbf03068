"""Run chapters in the medium or full profile into scratch copies.

    python scripts/profile_runs.py --profile medium            # every medium chapter
    python scripts/profile_runs.py --profile medium --resume   # skip those already run
                                                               # from this commit
    python scripts/profile_runs.py book/05-lstm.ipynb          # full profile (GPU)
    python scripts/profile_runs.py --allow-cpu book/07-framework-comparison.ipynb
                                      # CPU-only by design: the three frameworks on a CPU

Chapter runs: each notebook is executed with ``SEQBOOK_PROFILE`` set to the profile,
in a fresh kernel (``run_notebooks.execute``), one after the other, with its folder as
working directory, and the executed copy is written to ``--out`` (a temporary folder
by default): the committed quick-profile notebooks are never overwritten. The
notebooks write their ``results/<profile>/<chapter>.json`` records (and the training
curve beside them, ``<chapter>.png``) themselves. A record names the commit of the
code, so the runs refuse a tree with uncommitted code changes (``--allow-dirty``
overrides this for trying things out; such records say ``+dirty``). ``--resume``
skips each chapter whose record of this profile already names the current commit,
so a run that was stopped can go on where it stopped. Runs can go to the background:
``nohup python scripts/profile_runs.py --profile medium --resume > medium.log &``.

The training-speed comparison of the PyTorch loop is ``scripts/speed.py``.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run_notebooks
from run_notebooks import ROOT, execute  # noqa: E402  (also puts ROOT on sys.path)

from utils.chapters import full_chapters, medium_chapters  # noqa: E402

PYTORCH_CHAPTERS = full_chapters()
# The chapters each profile runs by default, in the order a background run takes them
# (the cheapest first, so that a stopped run has made the most records).
CHAPTERS = {"medium": medium_chapters(), "full": PYTORCH_CHAPTERS}

# --------------------------------------------------------------- chapter runs


def existing_chapters(names=PYTORCH_CHAPTERS) -> list[Path]:
    """The chapter notebooks of ``names`` that exist in ``book/``, in that order."""
    paths = [ROOT / "book" / f"{name}.ipynb" for name in names]
    return [p for p in paths if p.is_file()]


def already_run(path: Path, profile: str, commit: str) -> bool:
    """Whether ``path``'s record of ``profile`` was made from ``commit`` (clean)."""
    from utils.results import load_record
    record = load_record(path.stem, profile)
    return (record is not None and not commit.endswith("+dirty")
            and record.get("commit") == commit)


def run_chapters(notebooks: list[Path], out_dir: Path, timeout: int,
                 profile: str = "full", resume: bool = False) -> dict:
    """Run each notebook in ``profile`` into ``out_dir``; return times or errors."""
    from utils.results import git_commit
    from utils.runs import PROFILES
    if profile not in PROFILES or profile == "quick":
        raise ValueError(f"profile must be 'medium' or 'full', got {profile!r} (the "
                         f"quick profile runs in place: scripts/run_notebooks.py)")
    os.environ["SEQBOOK_PROFILE"] = profile  # inherited by every kernel started below
    out_dir.mkdir(parents=True, exist_ok=True)
    commit = git_commit()
    outcome = {}
    for path in notebooks:
        target = out_dir / path.name
        if target.resolve() == path.resolve():
            raise ValueError(f"--out must not be the book folder ({path.parent}): the "
                             f"committed quick-profile notebooks would be overwritten.")
        if resume and already_run(path, profile, commit):
            print(f"skipping {path.relative_to(ROOT)}: its {profile} record is from "
                  f"commit {commit}", flush=True)
            continue
        print(f"running {path.relative_to(ROOT)} ({profile}) -> {target} ...",
              flush=True)
        try:
            outcome[path.stem] = execute(path, timeout, output=target)
            print(f"  done in {outcome[path.stem]:.1f} s", flush=True)
        except Exception as err:  # keep going: one failed chapter should not stop all
            outcome[path.stem] = f"failed: {type(err).__name__}: {str(err)[-500:]}"
            print(f"  {outcome[path.stem]}", flush=True)
    return outcome


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="notebooks to run (default: the profile's chapters)")
    parser.add_argument("--profile", choices=("medium", "full"), default="full",
                        help="the profile to run the chapters in (default: full)")
    parser.add_argument("--resume", action="store_true",
                        help="skip chapters whose record of this profile names the "
                             "current commit")
    parser.add_argument("--allow-dirty", action="store_true",
                        help="run even though the code has uncommitted changes (the "
                             "records then say +dirty)")
    parser.add_argument("--out", type=Path, default=None,
                        help="folder for the executed copies (default: a temp folder)")
    parser.add_argument("--timeout", type=int, default=6 * 3600,
                        help="seconds one cell may run before the run fails")
    parser.add_argument("--allow-cpu", action="store_true",
                        help="run the chapters even without a GPU (very slow)")
    args = parser.parse_args(argv)
    from utils.results import git_commit
    from utils.runs import cuda_available
    if args.profile == "full" and not cuda_available() and not args.allow_cpu:
        print("No GPU is visible: the full profile is meant for one. Use --allow-cpu "
              "to run anyway, or --profile medium for the CPU-sized runs.",
              file=sys.stderr)
        return 2
    if git_commit().endswith("+dirty") and not args.allow_dirty:
        print("The code has uncommitted changes, and a record must name the commit "
              "that made it: commit first (or pass --allow-dirty to try things out).",
              file=sys.stderr)
        return 2
    notebooks = ([p.resolve() for p in args.notebooks]
                 or existing_chapters(CHAPTERS[args.profile]))
    out_dir = args.out or Path(tempfile.mkdtemp(prefix=f"seqbook-{args.profile}-"))
    outcome = run_chapters(notebooks, out_dir, args.timeout, args.profile, args.resume)
    failed = [k for k, v in outcome.items() if isinstance(v, str)]
    print(f"executed copies in {out_dir}; {len(outcome) - len(failed)} ran, "
          f"{len(failed)} failed {failed if failed else ''}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
