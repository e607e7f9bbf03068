"""Results records: ``results/<profile>/<name>.json``, the metrics of a run and its provenance.

A record looks like::

    {"chapter": "07-language-models-torch", "profile": "full",
     "metrics": {"val_ppl": 81.2, "test_ppl": 78.0, "tokens_per_s": 251000.0},
     "device": "NVIDIA H100 80GB HBM3", "commit": "3f2c1e0", "date": "2026-11-23",
     "wall_seconds": 1234.5, "versions": {"python": "3.12.1", "torch": "2.13.0"}}

Metric names shared by the chapters: ``val_ppl``, ``test_ppl``, ``test_acc``,
``tokens_per_s``, and for the baseline a chapter compares its model with,
``baseline_val_ppl``, ``baseline_test_ppl``, ``baseline_test_acc``. Every profile
writes its records (``results/quick/`` holds those of the committed outputs); the book
reads them to show numbers with their provenance, and nothing in it types them in.

Provenance cannot be forged by a caller: ``commit``, ``device``, ``versions`` and the
other required keys are set by ``make_record`` and no extra field may replace them.
The commit is that of the *code*: a tree whose only changes are results records and
notebook outputs (which running the chapters rewrites) counts as clean; any other
change, a notebook's code cells included, marks the commit ``+dirty``.
"""
from __future__ import annotations

import datetime as _dt
import json
import math
import os
import platform
import subprocess
import sys
from pathlib import Path

from .runs import PROFILES

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "results"
RECORDED_PACKAGES = ("torch", "mxnet", "gluonnlp", "paddle", "numpy")  # versions kept
REQUIRED_KEYS = ("chapter", "profile", "metrics", "device", "commit", "date",
                 "wall_seconds", "versions")


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=30, check=True).stdout


def _notebook_code(text: str) -> list:
    """The cell types and sources of a notebook, without outputs or metadata."""
    cells = json.loads(text).get("cells", [])
    return [(c.get("cell_type"), "".join(c.get("source", ""))) for c in cells]


def _changed_code(paths: list[str]) -> list[str]:
    """The changed paths that are code: not a record, not only a notebook's outputs."""
    changed = []
    for path in paths:
        if path.startswith("results/"):
            continue
        if path.endswith(".ipynb") and (ROOT / path).is_file():
            try:
                before = _notebook_code(_git("show", f"HEAD:{path}"))
                after = _notebook_code((ROOT / path).read_text(encoding="utf-8"))
            except (subprocess.SubprocessError, ValueError):
                changed.append(path)
                continue
            if before == after:
                continue
        changed.append(path)
    return changed


def git_commit(short: bool = True) -> str:
    """The commit the code was run from, with ``+dirty`` if its code was modified.

    Changes to ``results/`` and to notebook outputs do not count (running the book
    makes them); a changed code or markdown cell, or any other tracked file, does.
    """
    if not isinstance(short, bool):
        raise TypeError(f"short must be a bool, got {type(short).__name__}")
    try:
        rev = _git("rev-parse", "--short", "HEAD") if short else _git("rev-parse", "HEAD")
        status = _git("status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    paths = [line[3:].split(" -> ")[-1].strip('"') for line in status.splitlines()
             if line.strip()]
    return rev.strip() + ("+dirty" if _changed_code(paths) else "")


def library_versions() -> dict[str, str]:
    """Python's version and those of the frameworks loaded in this process."""
    versions = {"python": platform.python_version()}
    for name in RECORDED_PACKAGES:
        module = sys.modules.get(name)
        if module is not None:
            versions[name] = str(getattr(module, "__version__", "unknown"))
    return versions


def make_record(chapter: str, profile: str, metrics: dict, device: str,
                wall_seconds: float, **extra) -> dict:
    """Build a results record (see the module docstring) with its provenance filled in.

    Args:
        chapter: the chapter's notebook name, e.g. ``"05-lstm"``; also the file name.
        profile: the run profile, one of ``utils.runs.PROFILES``.
        metrics: metric name -> number (finite or not, but a number).
        device: what the run trained on, e.g. ``utils.device_name()``.
        wall_seconds: the run's wall time.
        **extra: further JSON-serialisable fields (e.g. ``config``); they may not
            replace a provenance field.
    """
    if not isinstance(chapter, str) or not chapter or "/" in chapter:
        raise ValueError(f"chapter must be a non-empty name without '/', got {chapter!r}")
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {PROFILES}, got {profile!r}")
    if not isinstance(metrics, dict):
        raise TypeError(f"metrics must be a dict of name -> number, got "
                        f"{type(metrics).__name__}")
    bad = {k: v for k, v in metrics.items()
           if isinstance(v, bool) or not isinstance(v, (int, float))}
    if bad:
        raise TypeError(f"metrics must be numbers; these are not: {bad}")
    if not isinstance(device, str) or not device:
        raise ValueError(f"device must be a non-empty string, got {device!r}")
    if isinstance(wall_seconds, bool) or not isinstance(wall_seconds, (int, float)):
        raise TypeError(f"wall_seconds must be a number, got {wall_seconds!r}")
    if not wall_seconds >= 0 or math.isinf(wall_seconds):
        raise ValueError(f"wall_seconds must be finite and >= 0, got {wall_seconds!r}")
    clash = sorted(set(extra) & set(REQUIRED_KEYS))
    if clash:
        raise ValueError(f"extra fields may not replace the provenance fields {clash}: "
                         "they are filled in by make_record")
    record = dict(extra)
    record.update({
        "chapter": chapter,
        "profile": profile,
        "metrics": {k: float(v) for k, v in metrics.items()},
        "device": device,
        "commit": git_commit(),
        "date": _dt.date.today().isoformat(),
        "wall_seconds": round(float(wall_seconds), 1),
        "versions": library_versions(),
    })
    return record


def _clean(commit: str) -> bool:
    return bool(commit) and commit != "unknown" and not commit.endswith("+dirty")


def _folder(results_dir) -> Path:
    if results_dir is not None and not isinstance(results_dir, (str, os.PathLike)):
        raise TypeError(f"results_dir must be a path or None, got "
                        f"{type(results_dir).__name__}")
    return Path(results_dir) if results_dir is not None else RESULTS_DIR


def save_record(record: dict, results_dir: str | os.PathLike | None = None) -> Path:
    """Write ``record`` to ``<results_dir>/<profile>/<chapter>.json`` atomically.

    Returns the path. A record that only repeats the stored one (same chapter, profile
    and metrics) is not written again when the stored one names a clean commit: its
    provenance already describes those numbers, and a deterministic chapter does not
    rewrite its file on every run.
    """
    if not isinstance(record, dict):
        raise TypeError(f"record must be a dict made by make_record(), got "
                        f"{type(record).__name__}")
    missing = [k for k in REQUIRED_KEYS if k not in record]
    if missing:
        raise ValueError(f"A results record needs the keys {missing}; use make_record().")
    if record["profile"] not in PROFILES:
        raise ValueError(f"record['profile'] must be one of {PROFILES}, got "
                         f"{record['profile']!r}")
    folder = _folder(results_dir) / record["profile"]
    folder.mkdir(parents=True, exist_ok=True)
    name = record["chapter"]
    path = folder / f"{name}.json"
    stored = load_record(name, record["profile"], results_dir)
    if (stored is not None and _clean(stored.get("commit", ""))
            and all(stored.get(k) == record[k] for k in ("chapter", "profile", "metrics"))):
        return path
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(record, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def load_record(name: str, profile: str, results_dir: str | os.PathLike | None = None
                ) -> dict | None:
    """The record ``<results_dir>/<profile>/<name>.json``, or ``None`` if not made yet."""
    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be a chapter's record name, got {name!r}")
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {PROFILES}, got {profile!r}")
    path = _folder(results_dir) / profile / f"{name}.json"
    if not path.is_file():
        return None
    return json.loads(path.read_text(encoding="utf-8"))


def provenance(record: dict | None) -> str:
    """One line saying where a record's numbers come from."""
    if record is None:
        return "no record yet"
    versions = ", ".join(f"{k} {v}" for k, v in sorted(record["versions"].items()))
    return (f"{record['profile']} profile on {record['device']}, commit {record['commit']}, "
            f"{record['date']}, {record['wall_seconds']:.0f} s ({versions})")


def provenance_lines(name: str, results_dir: str | os.PathLike | None = None) -> str:
    """One line per larger profile (``medium``, ``full``) on where its record comes from.

    ``"medium profile: <provenance>"`` and ``"full profile: ..."``, joined by newlines;
    a profile without a record says "no record yet".
    """
    return "\n".join(
        f"{profile} profile: {provenance(load_record(name, profile, results_dir))}"
        for profile in SCALE_PROFILES)


def format_metric(record: dict | None, metric: str, fmt: str = "{:.2f}") -> str:
    """A metric of a record as text, or an em dash when the record or metric is missing."""
    if record is None or metric not in record.get("metrics", {}):
        return "—"
    return fmt.format(record["metrics"][metric])


def versus(value: float, baseline: float, what: str, baseline_what: str,
           fmt: str = "{:.2f}", higher_is_better: bool = False) -> str:
    """A model's number beside its baseline's, with the difference and the verdict.

    ``versus(103.8, 141.1, "test perplexity", "the Kneser-Ney 5-gram")`` reads
    ``"test perplexity 103.80 against 141.10 for the Kneser-Ney 5-gram (-26.4%: better)"``.
    Perplexities differ in percent, accuracies (``higher_is_better=True``) in points.
    """
    if higher_is_better:
        gap, better = f"{100 * (value - baseline):+.1f} points", value > baseline
    else:
        gap, better = f"{value / baseline - 1:+.1%}", value < baseline
    return (f"{what} {fmt.format(value)} against {fmt.format(baseline)} for "
            f"{baseline_what} ({gap}: {'better' if better else 'not better'})")


def record_versus(name: str, profile: str, metric: str, baseline_metric: str, what: str,
                  baseline_what: str, fmt: str = "{:.2f}", higher_is_better: bool = False,
                  results_dir: str | os.PathLike | None = None) -> str:
    """``versus`` read from a chapter's record: ``"the medium record: ..."``.

    Says ``"no medium record yet"`` (or names the missing metric) instead of failing,
    so that a chapter runs before its larger profiles have.
    """
    record = load_record(name, profile, results_dir)
    if record is None:
        return f"no {profile} record yet"
    missing = [m for m in (metric, baseline_metric) if m not in record["metrics"]]
    if missing:
        return f"the {profile} record has no {', '.join(missing)}"
    return f"the {profile} record: " + versus(
        record["metrics"][metric], record["metrics"][baseline_metric], what,
        baseline_what, fmt, higher_is_better)


def largest_record(name: str, results_dir: str | os.PathLike | None = None
                   ) -> dict | None:
    """The record of ``name`` from the largest profile that has one (``full`` first).

    The book's tables show the most thorough run there is, with its provenance.
    """
    for profile in reversed(PROFILES):
        record = load_record(name, profile, results_dir)
        if record is not None:
            return record
    return None


def curve_path(name: str, profile: str, results_dir: str | os.PathLike | None = None
               ) -> Path | None:
    """Where a run saves its training curve: ``results/<profile>/<name>.png``.

    ``None`` for the ``quick`` profile, whose curves are the committed notebook's own
    outputs; the records of the larger profiles keep theirs beside the JSON file, so
    that the chapters can show the curve of a run they did not make. The folder is
    made if it is missing (a fresh clone has no ``results/full/``), so that the path
    can be written at once.
    """
    if not isinstance(name, str) or not name or "/" in name:
        raise ValueError(f"name must be a chapter's record name without '/', got "
                         f"{name!r}")
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {PROFILES}, got {profile!r}")
    if profile == "quick":
        return None
    path = _folder(results_dir) / profile / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


SCALE_PROFILES = ("medium", "full")  # the records a chapter shows beside its own run


def scale_table(name: str, rows, this_run: dict | None = None,
                this_profile: str | None = None,
                results_dir: str | os.PathLike | None = None) -> str:
    """A Markdown table of a chapter's metrics: this run beside the larger profiles.

    Args:
        name: the record's name (the chapter's notebook name).
        rows: ``(label, metric, fmt)`` triples, e.g. ``("test perplexity",
            "test_ppl", "{:.1f}")``.
        this_run: the metrics of the run that is executing (a column of its own), or
            ``None`` to show only the records.
        this_profile: the profile of that run, for the column's title.
        results_dir: where the records are (default ``results/``).

    Returns:
        The table, then one line per record saying where its numbers come from. A
        profile without a record gets no column, only the line "no record yet".
    """
    if not isinstance(rows, (list, tuple)) or not rows or not all(
            isinstance(row, (list, tuple)) and len(row) == 3 for row in rows):
        raise TypeError(f"rows must be a non-empty list of (label, metric, fmt) "
                        f"triples, got {rows!r}")
    if this_run is not None and not isinstance(this_run, dict):
        raise TypeError(f"this_run must be a dict of metrics or None, got "
                        f"{type(this_run).__name__}")
    if this_run is not None and this_profile not in PROFILES:
        raise ValueError(f"this_profile must be one of {PROFILES} when this_run is "
                         f"given, got {this_profile!r}")
    records = {p: load_record(name, p, results_dir) for p in SCALE_PROFILES}
    shown = [p for p in SCALE_PROFILES if records[p] is not None]
    columns = ([f"this run ({this_profile})"] if this_run is not None else [])
    columns += [f"{p} (record)" for p in shown]
    if not columns:
        return "\n".join(f"- **{p}**: no record yet" for p in SCALE_PROFILES)
    lines = ["| | " + " | ".join(columns) + " |",
             "| --- |" + " ---: |" * len(columns)]
    for label, metric, fmt in rows:
        cells = []
        if this_run is not None:
            value = this_run.get(metric)
            cells.append("—" if value is None else fmt.format(value))
        cells += [format_metric(records[p], metric, fmt) for p in shown]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines.append("")
    lines += [f"- **{p}**: {provenance(records[p])}" for p in SCALE_PROFILES]
    return "\n".join(lines)


def saved_curves(name: str, results_dir: str | os.PathLike | None = None
                 ) -> dict[str, Path]:
    """The training curves saved beside the records of the larger profiles.

    Returns ``{profile: path}`` for each of ``medium`` and ``full`` whose PNG exists.
    """
    found = {}
    for profile in SCALE_PROFILES:
        path = _folder(results_dir) / profile / f"{name}.png"   # no folder is made
        if path.is_file():
            found[profile] = path
    return found
