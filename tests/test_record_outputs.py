"""The committed outputs of each chapter and the committed records come from one run.

A chapter ends with ``utils.scale_table``: its own run's metrics beside the medium and
full records. In the committed notebook that table was printed by the run that made
the committed outputs, and ``results/quick/<chapter>.json`` must be the record that
same run saved: every number of the "this run (quick)" column must be a metric of the
committed quick record, every number of a "(record)" column a metric of that committed
record, and each provenance line the one the record gives today. A chapter re-run
without its record committed, or a record replaced without re-running the chapter,
fails here.

Both sides are read from the last commit (``git show HEAD:…``), not from the working
tree, so that a test run that rewrites ``results/quick/`` (as ``pytest --nbval`` does)
does not compare the committed outputs with its own records.
"""
from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from utils.results import provenance

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
FORMATS = ("{:.0f}", "{:.1f}", "{:.2f}", "{:.3f}", "{:.4f}", "{:,.0f}", "{:,.1f}",
           "{:,.2f}", "{:.1e}", "{:.2e}", "{:+.1f}", "{:+.2f}", "{:+.3f}", "{:.0%}",
           "{:.1%}", "{:.2%}", "{:+.1%}", "{:+.0%}", "{:.3g}", "{:.4g}")


def _committed(path: str) -> str | None:
    try:
        result = subprocess.run(["git", "show", f"HEAD:{path}"], cwd=ROOT,
                                capture_output=True, text=True, check=False)
    except OSError:
        return None
    return result.stdout if result.returncode == 0 else None


if _committed("_toc.yml") is None:
    pytest.skip("not a git checkout: the committed files cannot be read",
                allow_module_level=True)


def _record(chapter: str, profile: str) -> dict | None:
    text = _committed(f"results/{profile}/{chapter}.json")
    return None if text is None else json.loads(text)


def _renderings(value) -> set[str]:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return {str(value)}
    shown = set()
    for fmt in FORMATS:
        try:
            shown.add(fmt.format(value))
        except (ValueError, TypeError):
            pass
    return shown


def _scale_tables(notebook: dict) -> list[str]:
    tables = []
    for cell in notebook["cells"]:
        for output in cell.get("outputs", []):
            text = output.get("data", {}).get("text/markdown")
            if text is None:
                continue
            text = "".join(text) if isinstance(text, list) else text
            if re.match(r"\| \| (this run \((quick|medium|full)\)|medium \(record\))",
                        text):
                tables.append(text)
    return tables


def _chapters_with_tables():
    found = []
    for path in sorted(BOOK.glob("*.ipynb")):
        text = _committed(f"book/{path.name}")
        if text is None:
            continue
        for table in _scale_tables(json.loads(text)):
            found.append((path.stem, table))
    return found


CASES = _chapters_with_tables()


def test_chapters_show_scale_tables():
    assert len({chapter for chapter, _ in CASES}) >= 8, CASES


@pytest.mark.parametrize("chapter, table", CASES, ids=[c for c, _ in CASES])
def test_scale_table_matches_the_committed_records(chapter, table):
    lines = table.splitlines()
    header = [cell.strip() for cell in lines[0].strip("|").split("|")][1:]
    profiles = [re.search(r"\((\w+)\)", column).group(1) if "this run" in column
                else column.split()[0] for column in header]
    records = {profile: _record(chapter, profile) for profile in profiles}
    problems = []
    for line in lines[2:]:
        if not line.startswith("|"):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        label, values = cells[0], cells[1:]
        for column, profile, shown in zip(header, profiles, values):
            record = records[profile]
            if shown == "—":
                continue
            if record is None:
                problems.append(f"{label!r}, {column}: {shown} but no committed "
                                f"{profile} record")
                continue
            if not any(shown in _renderings(value)
                       for value in record["metrics"].values()):
                problems.append(f"{label!r}, {column}: {shown} is no metric of the "
                                f"committed {profile} record")
    for profile in ("medium", "full"):
        match = re.search(rf"^- \*\*{profile}\*\*: (.*)$", table, re.M)
        if match and records.get(profile) is not None:
            if match.group(1) != provenance(records[profile]):
                problems.append(f"the {profile} line reads {match.group(1)!r}; the "
                                f"committed record says {provenance(records[profile])!r}")
        elif match and "no record yet" not in match.group(1):
            problems.append(f"the {profile} line names a record that is not committed")
    assert problems == [], (f"{chapter}: its committed outputs and the committed records "
                            f"come from different runs; re-run it with "
                            f"scripts/run_notebooks.py and commit both:\n"
                            + "\n".join(problems))
