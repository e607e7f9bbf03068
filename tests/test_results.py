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


def test_make_record_checks_its_arguments():
    with pytest.raises(ValueError, match="profile"):
        results.make_record("x", "huge", {}, "CPU", 1.0)
    with pytest.raises(TypeError, match="numbers"):
        results.make_record("x", "full", {"val_ppl": "81"}, "CPU", 1.0)
    with pytest.raises(TypeError, match="metrics"):
        results.make_record("x", "full", [("val_ppl", 1.0)], "CPU", 1.0)
    with pytest.raises(ValueError, match="chapter"):
        results.make_record("a/b", "full", {}, "CPU", 1.0)
    with pytest.raises(ValueError, match="device"):
        results.make_record("x", "full", {}, "", 1.0)
    with pytest.raises(ValueError, match="wall_seconds"):
        results.make_record("x", "full", {}, "CPU", -1.0)
    with pytest.raises(TypeError, match="wall_seconds"):
        results.make_record("x", "full", {}, "CPU", "1")


@pytest.mark.parametrize("field", ["commit", "versions", "date"])
def test_extra_fields_cannot_overwrite_provenance(field):
    with pytest.raises(ValueError, match="provenance"):
        results.make_record("x", "quick", {"a": 1}, "CPU", 1.0, **{field: "forged"})


def test_extra_fields_are_kept():
    record = results.make_record("x", "quick", {"a": 1}, "CPU", 1.0, note="tied")
    assert record["note"] == "tied"


def test_save_and_load_round_trip(tmp_path):
    record = _record(val_ppl=80.5, tokens_per_s=250000)
    path = results.save_record(record, tmp_path)
    assert path == tmp_path / "full" / "07-demo.json"
    assert results.load_record("07-demo", "full", tmp_path) == record
    assert results.load_record("07-demo", "quick", tmp_path) is None
    assert json.loads(path.read_text()) == record
    assert [p.name for p in path.parent.iterdir()] == ["07-demo.json"]  # no .tmp left


def test_each_profile_has_its_own_folder(tmp_path):
    quick = results.make_record("07-demo", "quick", {"val_ppl": 300.0}, "CPU", 1.0)
    results.save_record(quick, tmp_path)
    results.save_record(_record(val_ppl=80.0), tmp_path)
    assert results.load_record("07-demo", "quick", tmp_path)["metrics"]["val_ppl"] == 300
    assert results.load_record("07-demo", "full", tmp_path)["metrics"]["val_ppl"] == 80


def test_saving_twice_replaces_the_record(tmp_path):
    results.save_record(_record(val_ppl=1.0), tmp_path)
    results.save_record(_record(val_ppl=2.0), tmp_path)
    assert results.load_record("07-demo", "full", tmp_path)["metrics"]["val_ppl"] == 2.0
    assert sorted(p.name for p in (tmp_path / "full").iterdir()) == ["07-demo.json"]


def test_save_refuses_an_incomplete_record(tmp_path):
    with pytest.raises(ValueError, match="make_record"):
        results.save_record({"metrics": {}}, tmp_path)
    with pytest.raises(TypeError, match="record"):
        results.save_record("07-demo", tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_missing_record_is_none(tmp_path):
    assert results.load_record("nothing-here", "quick", tmp_path) is None
    with pytest.raises(ValueError, match="profile"):
        results.load_record("nothing-here", "huge", tmp_path)


def test_commit_ignores_outputs_but_not_code(tmp_path, monkeypatch):
    nb = {"cells": [{"cell_type": "code", "source": ["x = 1"], "outputs": []}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    head = json.dumps(nb)
    with_outputs = json.loads(head)
    with_outputs["cells"][0]["outputs"] = [{"output_type": "stream", "text": "1"}]
    (tmp_path / "book").mkdir()
    (tmp_path / "book" / "a.ipynb").write_text(json.dumps(with_outputs))
    monkeypatch.setattr(results, "ROOT", tmp_path)
    monkeypatch.setattr(results, "_git", lambda *args: head)
    assert results._changed_code(["results/quick/a.json", "book/a.ipynb"]) == []
    edited = json.loads(head)
    edited["cells"][0]["source"] = ["x = 2"]
    (tmp_path / "book" / "a.ipynb").write_text(json.dumps(edited))
    assert results._changed_code(["book/a.ipynb"]) == ["book/a.ipynb"]
    assert results._changed_code(["utils/text.py"]) == ["utils/text.py"]


def test_provenance_text():
    record = _record()
    record.update(commit="abc1234", date="2026-01-02",
                  versions={"python": "3.12.1", "torch": "2.13.0"})
    assert results.provenance(record) == (
        "full profile on NVIDIA H100 80GB HBM3, commit abc1234, 2026-01-02, 1235 s "
        "(python 3.12.1, torch 2.13.0)")
    assert results.provenance(None).startswith("no record yet")


def test_provenance_lines_name_each_larger_profile(tmp_path):
    assert results.provenance_lines("07-demo", tmp_path) == (
        "medium profile: no record yet\nfull profile: no record yet")
    record = _record()
    record.update(commit="abc1234", date="2026-01-02", versions={"python": "3.12.1"})
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "07-demo.json").write_text(json.dumps(record))
    lines = results.provenance_lines("07-demo", tmp_path).splitlines()
    assert lines == ["medium profile: no record yet",
                     "full profile: " + results.provenance(record)]


def test_format_metric():
    record = _record(val_ppl=81.234, test_acc=0.8768)
    assert results.format_metric(record, "val_ppl") == "81.23"
    assert results.format_metric(record, "test_acc", "{:.1%}") == "87.7%"
    assert results.format_metric(record, "test_ppl") == "—"
    assert results.format_metric(None, "val_ppl") == "—"


def test_largest_record_prefers_the_fuller_profile(tmp_path):
    assert results.largest_record("07-demo", tmp_path) is None
    results.save_record(results.make_record("07-demo", "quick", {"v": 1.0}, "CPU", 1.0),
                        tmp_path)
    assert results.largest_record("07-demo", tmp_path)["profile"] == "quick"
    results.save_record(_record(), tmp_path)
    assert results.largest_record("07-demo", tmp_path)["profile"] == "full"


def test_an_identical_record_replaces_one_from_a_dirty_tree(tmp_path, monkeypatch):
    monkeypatch.setattr(results, "git_commit", lambda: "abc1234+dirty")
    results.save_record(_record(val_ppl=1.0), tmp_path)
    monkeypatch.setattr(results, "git_commit", lambda: "abc1234")
    results.save_record(_record(val_ppl=1.0), tmp_path)
    assert results.load_record("07-demo", "full", tmp_path)["commit"] == "abc1234"
    monkeypatch.setattr(results, "git_commit", lambda: "def5678")
    results.save_record(_record(val_ppl=1.0), tmp_path)  # same numbers, clean: kept
    assert results.load_record("07-demo", "full", tmp_path)["commit"] == "abc1234"


def test_curve_path_is_beside_the_record_for_the_larger_profiles(tmp_path):
    assert results.curve_path("07-demo", "quick", tmp_path) is None
    assert results.curve_path("07-demo", "medium", tmp_path) == (
        tmp_path / "medium" / "07-demo.png")
    with pytest.raises(ValueError, match="profile"):
        results.curve_path("07-demo", "huge", tmp_path)
    with pytest.raises(ValueError, match="name"):
        results.curve_path("a/b", "full", tmp_path)


def test_saved_curves_finds_only_existing_pngs(tmp_path):
    assert results.saved_curves("07-demo", tmp_path) == {}
    path = results.curve_path("07-demo", "medium", tmp_path)   # makes the folder
    path.write_bytes(b"png")
    assert results.saved_curves("07-demo", tmp_path) == {"medium": path}


def test_scale_table_shows_this_run_beside_the_records(tmp_path):
    results.save_record(results.make_record("07-demo", "medium", {"val_ppl": 98.765},
                                            "CPU (2 cores)", 60.0), tmp_path)
    rows = [("validation perplexity", "val_ppl", "{:.1f}"),
            ("test perplexity", "test_ppl", "{:.1f}")]
    table = results.scale_table("07-demo", rows, {"val_ppl": 150.04}, "quick", tmp_path)
    lines = table.splitlines()
    assert lines[0] == "| | this run (quick) | medium (record) |"   # no full record
    assert lines[2] == "| validation perplexity | 150.0 | 98.8 |"
    assert lines[3] == "| test perplexity | — | — |"
    assert "- **medium**: medium profile on CPU (2 cores)" in table
    assert "- **full**: no record yet" in table
    only_records = results.scale_table("07-demo", rows, results_dir=tmp_path)
    assert only_records.splitlines()[0] == "| | medium (record) |"
    results.save_record(results.make_record("07-demo", "full", {"val_ppl": 80.0},
                                            "GPU", 60.0), tmp_path)
    both = results.scale_table("07-demo", rows, {"val_ppl": 150.04}, "quick", tmp_path)
    assert both.splitlines()[0] == "| | this run (quick) | medium (record) | full (record) |"
    assert both.splitlines()[2] == "| validation perplexity | 150.0 | 98.8 | 80.0 |"


def test_scale_table_without_any_record_says_so(tmp_path):
    table = results.scale_table("07-demo", [("validation perplexity", "val_ppl",
                                             "{:.1f}")], results_dir=tmp_path)
    assert table == "- **medium**: no record yet\n- **full**: no record yet"


def test_scale_table_checks_its_arguments(tmp_path):
    with pytest.raises(TypeError, match="rows"):
        results.scale_table("07-demo", [("label", "metric")], results_dir=tmp_path)
    with pytest.raises(TypeError, match="this_run"):
        results.scale_table("07-demo", [("a", "b", "{}")], [1.0], "quick", tmp_path)
    with pytest.raises(ValueError, match="this_profile"):
        results.scale_table("07-demo", [("a", "b", "{}")], {}, "huge", tmp_path)


def test_versus_states_the_gap_and_the_verdict():
    assert results.versus(103.8, 141.1, "test perplexity", "KN5") == (
        "test perplexity 103.80 against 141.10 for KN5 (-26.4%: better)")
    assert results.versus(150.0, 141.1, "test perplexity", "KN5", "{:.1f}").endswith(
        "(+6.3%: not better)")
    assert results.versus(0.9017, 0.886, "accuracy", "the BiLSTM", "{:.1%}",
                          higher_is_better=True) == (
        "accuracy 90.2% against 88.6% for the BiLSTM (+1.6 points: better)")


def test_record_versus_reads_the_record_or_says_it_is_missing(tmp_path):
    args = ("07-demo", "medium", "test_ppl", "kn5_test_ppl", "test perplexity", "KN5")
    assert results.record_versus(*args, results_dir=tmp_path) == "no medium record yet"
    results.save_record(results.make_record("07-demo", "medium", {"test_ppl": 103.8},
                                            "CPU", 60.0), tmp_path)
    assert results.record_versus(*args, results_dir=tmp_path) == (
        "the medium record has no kn5_test_ppl")
    results.save_record(results.make_record(
        "07-demo", "medium", {"test_ppl": 103.8, "kn5_test_ppl": 141.1}, "CPU", 60.0),
        tmp_path)
    assert results.record_versus(*args, results_dir=tmp_path) == (
        "the medium record: test perplexity 103.80 against 141.10 for KN5 (-26.4%: better)")


def test_curve_path_makes_its_folder_and_saved_curves_makes_none(tmp_path):
    assert results.saved_curves("07-demo", tmp_path) == {}
    assert not (tmp_path / "full").exists()        # looking makes no folder
    path = results.curve_path("07-demo", "full", tmp_path)
    assert path.parent.is_dir()                    # a fresh clone has no results/full/
