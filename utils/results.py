"""Results records: ``results/<name>.json`` with the metrics of a run and its provenance.

A record looks like::

    {"chapter": "07-language-models-torch", "profile": "full",
     "metrics": {"val_ppl": 81.2, "test_ppl": 78.0, "tokens_per_s": 251000.0},
     "device": "NVIDIA H100 80GB HBM3", "commit": "3f2c1e0", "date": "2026-11-23",
     "wall_seconds": 1234.5, "versions": {"python": "3.12.1", "torch": "2.13.0"}}

Metric names shared by the chapters: ``val_ppl``, ``test_ppl``, ``test_acc``,
``tokens_per_s``. The book reads these files to show full-profile numbers beside what
a reader has just run; nothing in the book types them in by hand.
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

RESULTS_DIR = Path(__file__).resolve().parent.parent / "results"
_FRAMEWORKS = ("torch", "mxnet", "gluonnlp", "paddle", "numpy")
REQUIRED_KEYS = ("chapter", "profile", "metrics", "device", "commit", "date",
                 "wall_seconds", "versions")


def git_commit(short: bool = True) -> str:
    """The commit the code was run from, with ``+dirty`` if files were modified."""
    root = Path(__file__).resolve().parent.parent
    try:
        args = ["git", "rev-parse", "--short", "HEAD"] if short else [
            "git", "rev-parse", "HEAD"]
        rev = subprocess.run(args, cwd=root, capture_output=True, text=True, timeout=10,
                             check=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=root, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return rev.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def library_versions() -> dict[str, str]:
    """Python's version and those of the frameworks loaded in this process."""
    versions = {"python": platform.python_version()}
    for name in _FRAMEWORKS:
        module = sys.modules.get(name)
        if module is not None:
            versions[name] = str(getattr(module, "__version__", "unknown"))
    return versions


def make_record(chapter: str, profile: str, metrics: dict, device: str,
                wall_seconds: float, **extra) -> dict:
    """Build a results record (see the module docstring) with its provenance filled in."""
    if profile not in ("quick", "full"):
        raise ValueError(f"profile must be 'quick' or 'full', got {profile!r}")
    bad = {k: v for k, v in metrics.items() if not isinstance(v, (int, float))}
    if bad:
        raise TypeError(f"metrics must be numbers; these are not: {bad}")
    record = {
        "chapter": chapter,
        "profile": profile,
        "metrics": {k: float(v) for k, v in metrics.items()},
        "device": device,
        "commit": git_commit(),
        "date": _dt.date.today().isoformat(),
        "wall_seconds": round(float(wall_seconds), 1),
        "versions": library_versions(),
    }
    record.update(extra)
    return record


def save_record(name: str, record: dict, results_dir: str | os.PathLike | None = None
                ) -> Path:
    """Write ``record`` to ``<results_dir>/<name>.json`` atomically and return the path.

    A record that only repeats the stored one (same chapter, profile and metrics) is
    not written again: the stored provenance already describes those numbers, and a
    deterministic chapter does not rewrite its file on every run.
    """
    missing = [k for k in REQUIRED_KEYS if k not in record]
    if missing:
        raise ValueError(f"A results record needs the keys {missing}; use make_record().")
    folder = Path(results_dir) if results_dir is not None else RESULTS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    stored = load_record(name, folder)
    if stored is not None and all(stored.get(k) == record[k]
                                  for k in ("chapter", "profile", "metrics")):
        return path
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def load_record(name: str, results_dir: str | os.PathLike | None = None) -> dict | None:
    """The record ``<results_dir>/<name>.json``, or ``None`` if it has not been made yet."""
    folder = Path(results_dir) if results_dir is not None else RESULTS_DIR
    path = folder / f"{name}.json"
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def provenance(record: dict | None) -> str:
    """One line saying where a record's numbers come from."""
    if record is None:
        return "no record yet: run the full profile to make one"
    versions = ", ".join(f"{k} {v}" for k, v in sorted(record["versions"].items()))
    return (f"{record['profile']} profile on {record['device']}, commit {record['commit']}, "
            f"{record['date']}, {record['wall_seconds']:.0f} s ({versions})")


def format_metric(record: dict | None, metric: str, fmt: str = "{:.2f}") -> str:
    """A metric of a record as text, or an em dash when the record or metric is missing."""
    if record is None or metric not in record.get("metrics", {}):
        return "—"
    return fmt.format(record["metrics"][metric])
