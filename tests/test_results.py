"""Tests of utils.results: making, saving, loading and showing results records."""
from __future__ import annotations

import json

import pytest

from utils import results


def _record(**metrics):
    return results.make_record("07-demo", "full", metrics or {"val_ppl": 81.234},
                               "NVIDIA H100 80GB HBM3", wall_seconds=1234.56)


def test_make_record_has_every_required_key():
    record = _record()
    assert set(results.REQUIRED_KEYS) <= set(record)
    assert record["metrics"] == {"val_ppl": 81.234}
    assert record["wall_seconds"] == 1234.6
    assert record["versions"]["python"]
    assert len(record["date"]) == 10


def test_make_record_checks_profile_and_metrics():
    with pytest.raises(ValueError, match="profile"):
        results.make_record("x", "medium", {}, "CPU", 1.0)
    with pytest.raises(TypeError, match="numbers"):
        results.make_record("x", "full", {"val_ppl": "81"}, "CPU", 1.0)


def test_extra_fields_are_kept():
    record = results.make_record("x", "quick", {"a": 1}, "CPU", 1.0, note="tied")
    assert record["note"] == "tied"


def test_save_and_load_round_trip(tmp_path):
    record = _record(val_ppl=80.5, tokens_per_s=250000)
    path = results.save_record("07-demo", record, tmp_path)
    assert path == tmp_path / "07-demo.json"
    assert results.load_record("07-demo", tmp_path) == record
    assert json.loads(path.read_text()) == record
    assert [p.name for p in tmp_path.iterdir()] == ["07-demo.json"]  # no .tmp left


def test_saving_twice_replaces_the_record(tmp_path):
    results.save_record("r", _record(val_ppl=1.0), tmp_path)
    results.save_record("r", _record(val_ppl=2.0), tmp_path)
    assert results.load_record("r", tmp_path)["metrics"]["val_ppl"] == 2.0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]


def test_save_refuses_an_incomplete_record(tmp_path):
    with pytest.raises(ValueError, match="make_record"):
        results.save_record("r", {"metrics": {}}, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_missing_record_is_none(tmp_path):
    assert results.load_record("nothing-here", tmp_path) is None


def test_provenance_text():
    record = _record()
    record.update(commit="abc1234", date="2026-01-02",
                  versions={"python": "3.12.1", "torch": "2.13.0"})
    assert results.provenance(record) == (
        "full profile on NVIDIA H100 80GB HBM3, commit abc1234, 2026-01-02, 1235 s "
        "(python 3.12.1, torch 2.13.0)")
    assert results.provenance(None).startswith("no record yet")


def test_format_metric():
    record = _record(val_ppl=81.234, test_acc=0.8768)
    assert results.format_metric(record, "val_ppl") == "81.23"
    assert results.format_metric(record, "test_acc", "{:.1%}") == "87.7%"
    assert results.format_metric(record, "test_ppl") == "—"
    assert results.format_metric(None, "val_ppl") == "—"
