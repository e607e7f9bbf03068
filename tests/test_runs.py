"""Tests of utils.runs: the run profile, seeding, Timer and Accumulator."""
from __future__ import annotations

import random
import sys
import time
import types

import numpy as np
import pytest

from utils import runs


@pytest.mark.parametrize("value, expected", [("quick", "quick"), ("full", "full"),
                                             (" FULL ", "full"), ("medium", "medium")])
def test_profile_from_the_environment(monkeypatch, value, expected):
    monkeypatch.setenv(runs.PROFILE_ENV_VAR, value)
    assert runs.run_profile() == expected


def test_invalid_profile_is_an_error_that_lists_the_choices(monkeypatch):
    monkeypatch.setenv(runs.PROFILE_ENV_VAR, "fast")
    with pytest.raises(ValueError) as info:
        runs.run_profile()
    assert "fast" in str(info.value)
    assert "quick" in str(info.value) and "full" in str(info.value)


def test_default_profile_follows_the_gpu(monkeypatch):
    monkeypatch.delenv(runs.PROFILE_ENV_VAR, raising=False)
    monkeypatch.setattr(runs, "cuda_available", lambda: True)
    assert runs.run_profile() == "medium"                  # full is never a default
    assert runs.run_profile(on_gpu=False) == "quick"       # trains on the CPU by design
    assert "trains on the CPU by design" in runs.profile_note(on_gpu=False)
    assert runs.profile_note() == ""
    monkeypatch.setattr(runs, "cuda_available", lambda: False)
    assert runs.run_profile() == "quick"
    assert runs.profile_note(on_gpu=False) == ""           # no GPU to leave unused
    with pytest.raises(TypeError, match="on_gpu"):
        runs.run_profile(on_gpu="yes")


def _fake_paddle(compiled_with_cuda: bool, gpus: int):
    cuda = types.SimpleNamespace(device_count=lambda: gpus)
    device = types.SimpleNamespace(is_compiled_with_cuda=lambda: compiled_with_cuda,
                                   cuda=cuda)
    return types.SimpleNamespace(device=device)


def test_each_framework_decides_its_profile_from_its_own_gpu(monkeypatch):
    monkeypatch.delenv(runs.PROFILE_ENV_VAR, raising=False)
    monkeypatch.setattr(runs, "cuda_available", lambda: True)   # PyTorch sees a GPU
    monkeypatch.setitem(sys.modules, "paddle", _fake_paddle(False, 0))  # a CPU build
    assert runs.run_profile("torch") == "medium"
    assert runs.run_profile("paddle") == "quick"
    assert "sees no GPU, although PyTorch does" in runs.profile_note("paddle")
    assert runs.profile_note("torch") == ""
    monkeypatch.setitem(sys.modules, "paddle", _fake_paddle(True, 1))
    assert runs.run_profile("paddle") == "medium" and runs.profile_note("paddle") == ""
    fake_mxnet = types.SimpleNamespace(context=types.SimpleNamespace(num_gpus=lambda: 0))
    monkeypatch.setitem(sys.modules, "mxnet", fake_mxnet)
    assert runs.run_profile("mxnet") == "quick"
    monkeypatch.setenv(runs.PROFILE_ENV_VAR, "full")   # the reader's choice wins
    assert runs.run_profile("mxnet") == "full" and runs.profile_note("mxnet") == ""


def test_a_framework_not_imported_yet_counts_as_seeing_no_gpu(monkeypatch):
    monkeypatch.delitem(sys.modules, "paddle", raising=False)
    assert runs.framework_sees_gpu("paddle") is False


def test_no_note_on_a_machine_without_a_gpu(monkeypatch):
    monkeypatch.delenv(runs.PROFILE_ENV_VAR, raising=False)
    monkeypatch.setattr(runs, "cuda_available", lambda: False)
    monkeypatch.setitem(sys.modules, "paddle", _fake_paddle(False, 0))
    assert runs.run_profile("paddle") == "quick" and runs.profile_note("paddle") == ""


@pytest.mark.parametrize("call", [runs.run_profile, runs.framework_sees_gpu,
                                  runs.profile_note])
def test_an_unknown_framework_is_named_in_the_error(call):
    with pytest.raises(ValueError, match="framework must be one of .* got 'jax'"):
        call("jax")


def test_the_profile_table_lists_the_three_profiles_smallest_first():
    assert runs.PROFILES == ("quick", "medium", "full")
    assert all(isinstance(text, str) and text for text in runs.PROFILE_TABLE.values())


@pytest.mark.parametrize("model, expected", [
    ("AMD EPYC", "CPU (8 cores, AMD EPYC)"),
    ("Intel(R) Xeon(R) Platinum 8370C CPU @ 2.80GHz",
     "CPU (8 cores, Intel Xeon Platinum 8370C @ 2.80GHz)"),
    ("Weird (model) name", "CPU (8 cores, Weird model name)"),
    ("", "CPU (8 cores)")])
def test_cpu_name_names_the_model_without_brackets_inside(monkeypatch, model, expected):
    monkeypatch.setattr(runs, "cpu_model", lambda: model)
    monkeypatch.setattr(runs.os, "cpu_count", lambda: 8)
    assert runs.cpu_name() == expected


def test_cpu_name_matches_the_notebook_sanitizer():
    import configparser
    import re
    from pathlib import Path
    config = configparser.ConfigParser()
    config.read(Path(__file__).parent / "nbval_sanitize.cfg")
    pattern = config["device-names"]["regex"]
    name = runs.cpu_name()
    assert re.fullmatch(pattern, name), (pattern, name)


def _draws():
    return random.random(), np.random.rand(3).tolist()


def test_set_seed_makes_python_and_numpy_repeat():
    runs.set_seed(7)
    first = _draws()
    runs.set_seed(7)
    assert _draws() == first
    runs.set_seed(8)
    assert _draws() != first


def test_set_seed_seeds_torch_when_imported():
    torch = pytest.importorskip("torch")
    runs.set_seed(3)
    first = torch.rand(4)
    runs.set_seed(3)
    assert torch.equal(torch.rand(4), first)


def test_device_name_is_readable():
    name = runs.device_name()
    assert isinstance(name, str) and name


def test_timer_measures_intervals():
    timer = runs.Timer()
    time.sleep(0.01)
    first = timer.stop()
    timer.start()
    second = timer.stop()
    assert first >= 0.009
    assert 0 <= second < first
    assert timer.sum() == pytest.approx(first + second)
    assert timer.avg() == pytest.approx((first + second) / 2)


def test_accumulator_sums_and_resets():
    acc = runs.Accumulator(2)
    acc.add(1.5, 2)
    acc.add(0.5, np.float32(3))
    assert (acc[0], acc[1]) == (2.0, 5.0)
    with pytest.raises(ValueError, match="2 values"):
        acc.add(1.0)
    acc.reset()
    assert acc.data == [0.0, 0.0]


def test_environment_restored_puts_named_or_all_variables_back(monkeypatch):
    import os

    from utils.runs import environment_restored
    monkeypatch.setenv("SEQBOOK_TEST_KEPT", "before")
    monkeypatch.delenv("SEQBOOK_TEST_NEW", raising=False)
    with environment_restored(["SEQBOOK_TEST_KEPT", "SEQBOOK_TEST_NEW"]):
        os.environ["SEQBOOK_TEST_KEPT"] = "changed"
        os.environ["SEQBOOK_TEST_NEW"] = "added"
    assert os.environ["SEQBOOK_TEST_KEPT"] == "before"
    assert "SEQBOOK_TEST_NEW" not in os.environ
    with pytest.raises(RuntimeError):
        with environment_restored():        # the whole environment, even on an error
            os.environ["SEQBOOK_TEST_NEW"] = "added"
            del os.environ["SEQBOOK_TEST_KEPT"]
            raise RuntimeError("inside the block")
    assert os.environ["SEQBOOK_TEST_KEPT"] == "before"
    assert "SEQBOOK_TEST_NEW" not in os.environ


def test_cpuinfo_field_reads_one_field_or_none():
    import os

    import pytest

    from utils.runs import cpuinfo_field
    assert cpuinfo_field("no such field") is None
    if os.path.exists("/proc/cpuinfo"):
        assert cpuinfo_field("processor") == "0"
    with pytest.raises(TypeError, match="name must be"):
        cpuinfo_field(3)


def test_smoke_limit_cuts_counts_only_in_a_smoke_run(monkeypatch):
    from utils.runs import SMOKE_BATCHES, SMOKE_ENV_VAR, smoke_limit, smoke_run
    monkeypatch.delenv(SMOKE_ENV_VAR, raising=False)
    assert not smoke_run()
    assert smoke_limit(None) is None and smoke_limit(500) == 500
    monkeypatch.setenv(SMOKE_ENV_VAR, "1")
    assert smoke_run()
    assert smoke_limit(None) == SMOKE_BATCHES and smoke_limit(500) == SMOKE_BATCHES
    assert smoke_limit(1) == 1 and smoke_limit(40, limit=3) == 3


def test_a_smoke_run_trains_and_evaluates_a_few_minibatches(monkeypatch):
    import torch
    from torch import nn

    from utils.batching import SeqDataLoader, bptt_batchify
    from utils.runs import SMOKE_BATCHES, SMOKE_ENV_VAR, SMOKE_EPOCHS
    from utils.torch.rnn import RNNLM
    from utils.torch.train import TrainConfig, fit

    ids = [i % 7 for i in range(2000)]
    monkeypatch.setenv(SMOKE_ENV_VAR, "1")
    torch.manual_seed(0)
    model = RNNLM(nn.GRU(7, 8), 7)
    history = fit(model, SeqDataLoader(ids, 4, 10, seed=0), bptt_batchify(ids, 2),
                  TrainConfig(num_epochs=30, lr=1e-2), "cpu")
    assert len(history["epoch"]) == SMOKE_EPOCHS
    assert len(history["grad_norms"]) == SMOKE_EPOCHS * SMOKE_BATCHES


def test_a_long_run_is_announced_after_a_few_timed_steps(monkeypatch):
    clock = iter([100.0, 106.0])   # the clock starts after step 0, stops after step 3
    monkeypatch.setattr(runs.time, "perf_counter", lambda: next(clock))
    lines = []
    batches = list(runs.announce_long_run(range(10), total_steps=400, what="training",
                                          log=lines.append, timed_steps=3))
    assert batches == list(range(10))         # the batches pass unchanged
    assert len(lines) == 1 and "training: about 13 min" in lines[0]
    assert "2,000 ms a step x 400 steps" in lines[0]


def test_a_short_run_is_not_announced(monkeypatch):
    clock = iter([100.0, 103.0])   # 1 s a step
    monkeypatch.setattr(runs.time, "perf_counter", lambda: next(clock))
    lines = []
    assert list(runs.announce_long_run(range(5), total_steps=300,
                                       log=lines.append)) == list(range(5))
    assert lines == []                        # 300 steps of 1 s: under ten minutes


def test_smoke_batches_keep_a_tiny_slice_only_in_a_smoke_run(monkeypatch):
    batches = [(np.arange(20).reshape(10, 2), np.arange(10)) for _ in range(3)]
    monkeypatch.delenv(runs.SMOKE_ENV_VAR, raising=False)
    assert len(list(runs.smoke_batches(batches))) == 3
    monkeypatch.setenv(runs.SMOKE_ENV_VAR, "1")
    [(X, y)] = list(runs.smoke_batches(batches, rows=4))
    assert X.shape == (4, 2) and y.tolist() == [0, 1, 2, 3]
