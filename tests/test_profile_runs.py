"""Tests of scripts/profile_runs.py's chapter runs: which chapters, resuming, refusals."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def profile_runs():
    spec = importlib.util.spec_from_file_location("profile_runs",
                                                  ROOT / "scripts" / "profile_runs.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["profile_runs"] = module   # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_every_listed_chapter_exists(profile_runs):
    for profile, names in profile_runs.CHAPTERS.items():
        found = profile_runs.existing_chapters(names)
        assert [p.stem for p in found] == list(names), profile


def test_resume_skips_only_records_of_the_current_clean_commit(profile_runs,
                                                              monkeypatch):
    from utils import results
    stored = {"commit": "abc1234"}
    monkeypatch.setattr(results, "load_record", lambda name, profile: stored)
    path = ROOT / "book" / "05-lstm.ipynb"
    assert profile_runs.already_run(path, "medium", "abc1234")
    assert not profile_runs.already_run(path, "medium", "def5678")
    assert not profile_runs.already_run(path, "medium", "abc1234+dirty")
    monkeypatch.setattr(results, "load_record", lambda name, profile: None)
    assert not profile_runs.already_run(path, "medium", "abc1234")


def test_the_quick_profile_is_refused(profile_runs, tmp_path):
    with pytest.raises(ValueError, match="quick"):
        profile_runs.run_chapters([], tmp_path, 60, profile="quick")


def test_uncommitted_code_is_refused(profile_runs, monkeypatch, capsys):
    from utils import results
    monkeypatch.setattr(results, "git_commit", lambda: "abc1234+dirty")
    assert profile_runs.main(["--profile", "medium", "book/05-lstm.ipynb"]) == 2
    assert "commit first" in capsys.readouterr().err
