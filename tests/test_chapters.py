"""The table of chapters agrees with the notebooks and with the table of contents."""
from __future__ import annotations

import re
from pathlib import Path

from utils import chapters

ROOT = Path(__file__).resolve().parent.parent


def _toc_files() -> list[str]:
    toc = (ROOT / "_toc.yml").read_text(encoding="utf-8")
    return [Path(f).name for f in re.findall(r"(?m)^\s*(?:- file|root): (\S+)$", toc)]


def test_every_chapter_is_a_notebook_in_the_table_of_contents():
    names = [c.name for c in chapters.CHAPTERS]
    assert len(set(names)) == len(names)
    toc = _toc_files()
    assert sorted(toc) == sorted(names + list(chapters.OTHER_PAGES)), (
        "_toc.yml and utils/chapters.py list different pages: add the chapter to both")
    for name in names:
        assert (ROOT / "book" / f"{name}.ipynb").is_file(), name
    notebooks = {p.stem for p in (ROOT / "book").glob("*.ipynb")}
    assert notebooks == set(names) | (set(chapters.OTHER_PAGES) - {"references"})


def test_headlines_and_profile_lists():
    rows = chapters.headlines()
    assert all(len(row) == 6 and row[0] == row[1] for row in rows)
    medium = chapters.medium_chapters()
    seconds = {c.name: c.medium_seconds for c in chapters.CHAPTERS}
    assert [seconds[name] for name in medium] == sorted(seconds[name] for name in medium)
    assert "03-rnn" in chapters.full_chapters() and "09-data-parallel" not in medium
