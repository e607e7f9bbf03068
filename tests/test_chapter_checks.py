"""No chapter asserts on a speed or a time.

A chapter's checks must hold on every machine that runs it. How fast a loop trains
depends on the CPU, its vector units and whatever else the machine is doing, so the
book prints speeds (and ``tests/nbval_sanitize.cfg`` masks them) but never asserts on
them; a sentence about which path is faster is printed from the numbers by the cell
that measured them. This test reads every ``assert`` in every chapter's code cells and
fails when its condition reads a speed or a duration.
"""
from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

BOOK = Path(__file__).resolve().parent.parent / "book"

# A name, attribute or string key that holds a rate or a duration: tokens_per_s,
# race_tokens_per_s_scratch, seconds, train_seconds, wall_s, elapsed, speedup_vs_...,
# a dict called speed or speeds (a name like ``s`` says nothing and is not read). ``speed_run`` (the run's results, perplexities
# included) is not one: only what the name ends with counts, or a rate inside it.
TIMING = re.compile(r"(per_s|seconds|elapsed|throughput|speedup|wall|(^|_)speeds?$|(^|_)secs?$)")


def timing_terms(condition: ast.AST) -> list[str]:
    """The names, attributes and string keys in ``condition`` that look like timings."""
    terms = []
    for node in ast.walk(condition):
        if isinstance(node, ast.Name):
            terms.append(node.id)
        elif isinstance(node, ast.Attribute):
            terms.append(node.attr)
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            terms.append(node.value)
    return [t for t in terms if TIMING.search(t)]


def timing_asserts(source: str) -> list[str]:
    """The ``assert`` statements of one code cell whose condition reads a timing."""
    lines = [line for line in source.splitlines() if not line.lstrip().startswith(("%", "!"))]
    tree = ast.parse("\n".join(lines))
    return [f"line {node.lineno}: {ast.unparse(node.test)} (reads {', '.join(terms)})"
            for node in ast.walk(tree) if isinstance(node, ast.Assert)
            for terms in [timing_terms(node.test)] if terms]


def chapter_cells():
    for path in sorted(BOOK.glob("*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        for index, cell in enumerate(cells):
            if cell["cell_type"] == "code":
                yield path.name, index, "".join(cell["source"])


@pytest.mark.parametrize("source, expected", [
    ('assert speed["layer"] > speed["scratch"], speed', 1),
    ('assert r["tokens_per_s"] > 1000', 1),
    ('assert history["train_seconds"][0] < 60', 1),
    ('assert run.speedup_vs_reference > 1.0', 1),
    ('assert timing["wall_s"] < 5', 1),
    ('assert speed_run["book"]["val_ppl"] < 0.15 * len(vocab)', 0),
    ('assert abs(ppl_gap) < 0.15 and r["valid_acc"] > 0.6', 0),
    ('assert samples == 3\nx = speed["layer"]', 0),           # not in an assert
    ('%matplotlib inline\nassert elapsed < 2', 1),           # magics are skipped
])
def test_timing_asserts_are_found(source, expected):
    assert len(timing_asserts(source)) == expected


def test_no_chapter_asserts_on_a_speed_or_a_time():
    found = [f"{name} cell {index}, {hit}" for name, index, source in chapter_cells()
             for hit in timing_asserts(source)]
    assert not found, ("print speeds, never assert on them:\n" + "\n".join(found))
