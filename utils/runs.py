"""Runs: the run profile, the device, seeding, and small timing and counting helpers.

The run profile is chosen here and nowhere else:

* ``$SEQBOOK_PROFILE`` (``quick``, ``medium`` or ``full``) wins when it is set;
* otherwise ``medium`` when the chapter trains on a CUDA GPU that its framework sees,
  ``quick`` when not (``run_profile("paddle")`` asks Paddle, not PyTorch; a chapter
  that trains on the CPU by design says so with ``on_gpu=False``).

``full`` is never chosen by default: its settings are the published ones, hours of
training on a free Colab GPU. ``PROFILE_TABLE`` says what each profile is for.

A *smoke run* (``$SEQBOOK_SMOKE=1``) executes a profile's code path with every training
stage and every evaluation cut to a few minibatches (``smoke_limit``): CI runs the
``medium`` and ``full`` paths of every chapter this way on a CPU
(``scripts/smoke_runs.py``), so that a setting, shape or device error in a profile
nobody runs there still fails. Its numbers mean nothing and are not checked.

Frameworks are imported lazily, only to probe or seed them.
"""
from __future__ import annotations

import contextlib
import importlib.util
import itertools
import os
import platform
import random
import re
import shutil
import sys
import time
from collections.abc import Iterable, Iterator

import numpy as np

PROFILE_ENV_VAR = "SEQBOOK_PROFILE"
PROFILE_TABLE = {
    "quick": "the default on a CPU: each chapter in a few minutes on 2 cores; CI and "
             "the committed outputs run it",
    "medium": "the default on a CUDA GPU, and chosen explicitly on a CPU: at most 45 "
              "minutes a chapter on 2 CPU cores (the MXNet chapter 60); the book's CPU "
              "records",
    "full": "chosen only explicitly: the settings of the published results, hours on "
            "a free Colab GPU; the book's GPU records",
}
PROFILES = tuple(PROFILE_TABLE)  # smallest first


def _module_loaded_or_installed(name: str) -> bool:
    return name in sys.modules or importlib.util.find_spec(name) is not None


def cuda_available() -> bool:
    """Whether a CUDA GPU is visible (asked of PyTorch when it is installed)."""
    if _module_loaded_or_installed("torch"):
        import torch
        return torch.cuda.is_available()
    return shutil.which("nvidia-smi") is not None and os.path.exists("/dev/nvidia0")


FRAMEWORKS = ("torch", "mxnet", "paddle")

SMOKE_ENV_VAR = "SEQBOOK_SMOKE"
SMOKE_BATCHES = 2   # minibatches per training epoch (or stage), windows per evaluation
SMOKE_EPOCHS = 2    # epochs per training run: the second exercises the epoch hand-over


def smoke_run() -> bool:
    """Whether this is a smoke run (``$SEQBOOK_SMOKE=1``; see the module docstring)."""
    return os.environ.get(SMOKE_ENV_VAR, "").strip() == "1"


def smoke_limit(count: int | None, limit: int = SMOKE_BATCHES) -> int | None:
    """``count`` (``None``: no limit), cut to ``limit`` in a smoke run.

    The training loops and evaluations of ``utils`` pass their number of minibatches
    (or epochs, with ``SMOKE_EPOCHS``) through this, so that a smoke run goes through
    every line of them in seconds; outside a smoke run it returns ``count``.
    """
    if not smoke_run():
        return count
    return limit if count is None else min(count, limit)


SMOKE_ROWS = 8  # rows kept of each evaluation batch in a smoke run


def smoke_batches(batches: Iterable, count: int = 1, rows: int = SMOKE_ROWS) -> Iterator:
    """``batches`` unchanged; in a smoke run only the first ``count``, each of their
    arrays cut to the first ``rows`` rows (a tiny slice: a big model reads a batch of
    long reviews slowly on a CPU). For batches that stand alone, such as the
    classifiers', not for language-model windows whose state runs on."""
    if not smoke_run():
        yield from batches
        return
    for batch in itertools.islice(batches, count):
        yield tuple(part[:rows] for part in batch)


def _check_framework(framework: str) -> str:
    if framework not in FRAMEWORKS:
        raise ValueError(f"framework must be one of {FRAMEWORKS}, got {framework!r}")
    return framework


def framework_sees_gpu(framework: str = "torch") -> bool:
    """Whether ``framework`` itself can train on a CUDA GPU here.

    PyTorch is asked directly (``cuda_available``). MXNet and Paddle are asked only
    once a chapter has imported them (through ``utils.mxnet`` or
    ``utils.paddle``, which apply what their import needs); before that they
    count as seeing no GPU. Their pip wheels are CPU builds, so on a GPU machine
    (Colab's GPU runtime, say) PyTorch may see a GPU that they cannot use.
    """
    framework = _check_framework(framework)
    if framework == "torch":
        return cuda_available()
    module = sys.modules.get(framework)
    if module is None:
        return False
    if framework == "paddle":
        return bool(module.device.is_compiled_with_cuda()
                    and module.device.cuda.device_count() > 0)
    return module.context.num_gpus() > 0  # mxnet


def run_profile(framework: str = "torch", on_gpu: bool = True) -> str:
    """The run profile of a chapter of ``framework``.

    ``$SEQBOOK_PROFILE`` if it is set; otherwise ``medium`` when the chapter trains on
    a GPU (``on_gpu``) and the framework itself sees one (``framework_sees_gpu``),
    else ``quick``. A Paddle or MXNet chapter on a GPU machine with a CPU build of its
    framework, or a chapter that trains on the CPU by design (``on_gpu=False``),
    therefore runs ``quick``, not the medium settings on a CPU; ``profile_note`` says
    so. ``full`` runs only when chosen.
    """
    framework = _check_framework(framework)
    if not isinstance(on_gpu, bool):
        raise TypeError(f"on_gpu must be True or False, got {on_gpu!r}")
    chosen = os.environ.get(PROFILE_ENV_VAR, "").strip().lower()
    if chosen:
        if chosen not in PROFILES:
            raise ValueError(f"${PROFILE_ENV_VAR} must be one of {PROFILES}, got "
                             f"{chosen!r}: unset it, or pick one of {PROFILES}")
        return chosen
    return "medium" if on_gpu and framework_sees_gpu(framework) else "quick"


def profile_note(framework: str = "torch", on_gpu: bool = True) -> str:
    """A sentence for the reader when a chapter runs ``quick`` beside a GPU it does not
    use (its framework cannot, or ``on_gpu=False``: it trains on the CPU by design);
    ``""`` otherwise (and whenever ``$SEQBOOK_PROFILE`` chose)."""
    framework = _check_framework(framework)
    if os.environ.get(PROFILE_ENV_VAR, "").strip() or not cuda_available():
        return ""
    if not on_gpu:
        return (f"This chapter trains on the CPU by design, so it runs the quick "
                f"profile although a GPU is present. Set ${PROFILE_ENV_VAR} (quick, "
                f"medium or full) to choose.")
    if framework == "torch" or framework_sees_gpu(framework):
        return ""
    return (f"This {framework} build sees no GPU, although PyTorch does: the chapter "
            f"runs the quick profile. Set ${PROFILE_ENV_VAR} (quick, medium or full) "
            f"to choose, or install a CUDA build of {framework}.")


@contextlib.contextmanager
def environment_restored(names: Iterable[str] | None = None) -> Iterator[None]:
    """Put ``os.environ`` back as it was when the block ends, however it ends.

    With ``names``, only those variables are put back (a variable that was unset is
    unset again); without, the whole environment is, and every variable set inside the
    block is removed. A variable left behind would reach every process started later:
    a library import that writes ``OMP_NUM_THREADS=1`` would make a Jupyter kernel
    started afterwards run on one thread.
    """
    keys = None if names is None else list(names)
    saved = dict(os.environ) if keys is None else {k: os.environ.get(k) for k in keys}
    try:
        yield
    finally:
        if keys is None:
            for name in set(os.environ) - set(saved):
                del os.environ[name]
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def usable_cores() -> int:
    """The number of cores this process may run on (its affinity mask, else all)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


def cpuinfo_field(name: str) -> str | None:
    """The first ``name : value`` of ``/proc/cpuinfo`` (e.g. ``"flags"``), or ``None``."""
    if not isinstance(name, str) or not name:
        raise TypeError(f"name must be a non-empty string such as 'flags', got {name!r}")
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as cpuinfo:
            for line in cpuinfo:
                key, _, value = line.partition(":")
                if key.strip() == name:
                    return " ".join(value.split())
    except OSError:
        pass
    return None


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo``, else ``platform.processor()``), or ``""``."""
    return cpuinfo_field("model name") or " ".join(platform.processor().split())


def cpu_name() -> str:
    """The CPU as results records name it: ``CPU (2 cores, AMD EPYC)``.

    The model matters: the same seeded run gives slightly different numbers, and
    very different speeds, on different CPUs.
    """
    model = re.sub(r"\((R|TM|tm)\)|\s+CPU\b", "", cpu_model())  # no brackets inside
    model = " ".join(model.replace("(", " ").replace(")", " ").split())
    return f"CPU ({os.cpu_count()} cores{', ' + model if model else ''})"


def device_name() -> str:
    """A readable name of the device PyTorch trains on (``cpu_name()`` or the GPU's)."""
    if _module_loaded_or_installed("torch"):
        import torch
        if torch.cuda.is_available():
            return torch.cuda.get_device_name(0)
    return cpu_name()


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and every framework already imported in this process.

    Import the framework before seeding: a framework imported later is not seeded.
    """
    random.seed(seed)
    np.random.seed(seed)
    if "torch" in sys.modules:
        import torch
        torch.manual_seed(seed)  # also seeds every CUDA device
    if "mxnet" in sys.modules:
        import mxnet
        mxnet.random.seed(seed)
    if "paddle" in sys.modules:
        import paddle
        paddle.seed(seed)


LONG_RUN_SECONDS = 600  # a run expected to take longer says so when it starts


def announce_long_run(batches: Iterable, total_steps: int, what: str = "this training",
                      log=print, timed_steps: int = 3,
                      threshold: float = LONG_RUN_SECONDS) -> Iterator:
    """Yield ``batches`` unchanged; early on, say how long the run will take if it is long.

    The step after the first (which pays for warm-up) starts a clock; once
    ``timed_steps`` more steps have run, the mean time of a step times ``total_steps``
    is the estimate. If it exceeds ``threshold`` seconds, ``log`` gets one line, so
    that a reader can stop the kernel and choose a smaller profile. Nothing else
    changes: the same batches, in the same order, no extra computation.
    """
    start = None
    for i, batch in enumerate(batches):
        yield batch                      # when this returns, step i has run
        if i == 0:
            start = time.perf_counter()
        elif i == timed_steps:
            per_step = (time.perf_counter() - start) / timed_steps
            if per_step * total_steps > threshold:
                log(f"{what}: about {per_step * total_steps / 60:,.0f} min on this "
                    f"device ({per_step * 1e3:,.0f} ms a step x {total_steps:,} steps); "
                    f"interrupt the kernel and set $SEQBOOK_PROFILE to run a smaller "
                    f"profile")


class Timer:
    """Measure wall time of several intervals: ``start()`` … ``stop()``; ``sum()``, ``avg()``."""

    def __init__(self):
        self.times: list[float] = []
        self.start()

    def start(self) -> None:
        self._tik = time.perf_counter()

    def stop(self) -> float:
        self.times.append(time.perf_counter() - self._tik)
        return self.times[-1]

    def sum(self) -> float:
        return float(sum(self.times))

    def avg(self) -> float:
        return self.sum() / len(self.times) if self.times else 0.0


class Accumulator:
    """Running sums of ``n`` quantities, e.g. total loss and number of tokens."""

    def __init__(self, n: int):
        self.data = [0.0] * n

    def add(self, *values) -> None:
        if len(values) != len(self.data):
            raise ValueError(f"Accumulator holds {len(self.data)} values, got {len(values)}")
        self.data = [a + float(b) for a, b in zip(self.data, values)]

    def reset(self) -> None:
        self.data = [0.0] * len(self.data)

    def __getitem__(self, idx: int) -> float:
        return self.data[idx]
