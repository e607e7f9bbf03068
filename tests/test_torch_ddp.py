"""Tests of utils.torch.distributed: row sharding, the torchrun command, and a launcher that
leaves no process behind."""
import sys
import time

import numpy as np
import pytest

from utils import bptt_batchify
from utils.torch.distributed import (free_port, launch, processes_for, processes_running,
                                     read_json_lines, shard_rows, torchrun_command)


def test_shards_are_whole_rows_that_together_make_the_batch():
    data = bptt_batchify(np.arange(40), batch_size=4)          # (4, 10)
    shards = [shard_rows(data, rank, 2) for rank in range(2)]
    assert [s.shape for s in shards] == [(2, 10), (2, 10)]
    np.testing.assert_array_equal(np.concatenate(shards), data)
    np.testing.assert_array_equal(shards[1][0], np.arange(20, 30))  # row 2 of the batch


def test_one_process_keeps_every_row():
    data = bptt_batchify(np.arange(30), batch_size=3)
    assert shard_rows(data, 0, 1) is not None
    np.testing.assert_array_equal(shard_rows(data, 0, 1), data)


@pytest.mark.parametrize("rank, world, error, words", [
    (0, 3, ValueError, "multiple of 3"),
    (2, 2, ValueError, "rank must be in [0, 2)"),
    (-1, 2, ValueError, "rank must be in"),
    (0, 0, ValueError, "world_size must be at least 1"),
    (0.0, 2, TypeError, "rank must be an int"),
    (0, True, TypeError, "world_size must be an int"),
])
def test_shard_rows_rejects_what_cannot_be_split(rank, world, error, words):
    data = bptt_batchify(np.arange(40), batch_size=4)
    with pytest.raises(error, match=words.replace("[", r"\[").replace(")", r"\)")):
        shard_rows(data, rank, world)


def test_shard_rows_wants_a_batchified_array():
    with pytest.raises(TypeError, match="2-D numpy array"):
        shard_rows(np.arange(10), 0, 1)
    with pytest.raises(TypeError, match="2-D numpy array"):
        shard_rows([[1, 2], [3, 4]], 0, 1)


def test_torchrun_command_names_every_flag():
    cmd = torchrun_command("train.py", ["--lr", "20"], nproc_per_node=2, nnodes=2,
                           node_rank=1, master_port=1234, python="py")
    assert cmd == ["py", "-m", "torch.distributed.run", "--nnodes=2",
                   "--nproc-per-node=2", "--node-rank=1", "--master-addr=127.0.0.1",
                   "--master-port=1234", "train.py", "--lr", "20"]


@pytest.mark.parametrize("kwargs, words", [
    ({"nproc_per_node": 0}, "nproc_per_node must be at least 1, got 0"),
    ({"nnodes": 2, "node_rank": 2}, "node_rank must be an int in"),
    ({"master_port": -1}, "master_port must be at least 1, got -1"),
])
def test_torchrun_command_rejects_bad_layouts(kwargs, words):
    with pytest.raises(ValueError, match=words):
        torchrun_command("train.py", **kwargs)


def test_torchrun_command_wants_a_list_of_arguments():
    with pytest.raises(TypeError, match="not one string"):
        torchrun_command("train.py", "--lr 20")


def test_free_port_is_a_port():
    assert 0 < free_port() < 65536


def test_launch_waits_for_every_command(tmp_path):
    out = tmp_path / "out.jsonl"
    code = f"import json; open({str(out)!r}, 'a').write(json.dumps({{'x': 1}}) + '\\n')"
    runs = launch([[sys.executable, "-c", code]] * 2, timeout=60, log_dir=tmp_path)
    assert [r.returncode for r in runs] == [0, 0]
    assert read_json_lines(out) == [{"x": 1}, {"x": 1}]


def _all_gone(marker: str, within: float = 10.0) -> bool:
    """Whether every process naming ``marker`` has exited, waiting up to ``within`` s
    (a killed process takes a moment to leave the process table)."""
    deadline = time.monotonic() + within
    while processes_running(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    return processes_running(marker) == []


def test_a_failing_command_stops_the_others_and_says_why(tmp_path):
    marker = f"sleeper-{free_port()}"
    sleeper = [sys.executable, "-c", f"import time; time.sleep(60)  # {marker}"]
    failer = [sys.executable, "-c", "import sys; print('bad config'); sys.exit(3)"]
    start = time.perf_counter()
    with pytest.raises(RuntimeError, match="(?s)exited with code 3.*bad config"):
        launch([sleeper, failer], timeout=60, log_dir=tmp_path)
    assert time.perf_counter() - start < 30
    assert _all_gone(marker)


def test_the_deadline_kills_children_of_children(tmp_path):
    marker = f"grandchild-{free_port()}"
    inner = f"import time; time.sleep(60)  # {marker}"
    outer = (f"import subprocess, sys; subprocess.Popen([sys.executable, '-c', {inner!r}]);"
             f" import time; time.sleep(60)")
    with pytest.raises(RuntimeError, match="deadline of 2 s passed"):
        launch([[sys.executable, "-c", outer]], timeout=2, log_dir=tmp_path)
    assert _all_gone(marker)


@pytest.mark.parametrize("commands, timeout, error", [
    ([], 10, TypeError), ("python", 10, TypeError), ([["python"]], 0, ValueError)])
def test_launch_checks_its_arguments(tmp_path, commands, timeout, error):
    with pytest.raises(error):
        launch(commands, timeout=timeout, log_dir=tmp_path)


def test_processes_running_needs_a_marker():
    with pytest.raises(ValueError, match="non-empty string"):
        processes_running("")


def test_processes_for_splits_the_batch_evenly():
    assert processes_for(20, 0) == 2 and processes_for(20, 1) == 2   # no or one GPU
    assert [processes_for(20, n) for n in (2, 3, 4, 6, 7, 8)] == [2, 2, 4, 5, 5, 5]
    assert processes_for(12, 8) == 6
    with pytest.raises(ValueError, match="even batch_size"):
        processes_for(21, 2)
