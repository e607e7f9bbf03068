"""Data-parallel training with PyTorch's ``DistributedDataParallel``: the pieces around it.

The chapter ``09-data-parallel`` writes its training script itself (so that a reader
sees and edits it) and launches it with ``torchrun``. What the script and the chapter
share lives here:

* ``shard_rows``: which rows of a batchified stream a process (a *rank*) trains on;
* ``torchrun_command``: the command line that starts ``nproc_per_node`` workers on
  one machine, or one machine's share of a job on several ("nodes");
* ``launch``: run one or more such commands at once, wait for all of them with a
  deadline, and kill every process they started if one fails or the deadline passes;
* ``processes_running``: the processes whose command line names a script, to check
  that a launch left nothing behind;
* ``free_port``: a TCP port for the workers to meet at;
* ``read_json_lines``: the records the workers wrote.

Nothing here imports ``torch``: the launcher runs in the notebook's process, the
workers in their own.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from ..checks import check_int


def shard_rows(data: np.ndarray, rank: int, world_size: int) -> np.ndarray:
    """The rows of a batchified stream that ``rank`` of ``world_size`` trains on.

    ``utils.bptt_batchify`` lays the corpus out as ``B`` rows, each a contiguous
    stretch of text that the recurrent state follows from window to window. Data
    parallelism hands every process a block of ``B / W`` whole rows: each rank carries
    the state of its own rows, and together the ranks see exactly the ``B`` rows that
    one process would. Rank 0 gets rows ``0 .. B/W - 1``, rank 1 the next block, and so
    on.

    Args:
        data: a ``(B, L)`` array of token ids.
        rank: this process's index, ``0 <= rank < world_size``.
        world_size: ``W``, the number of processes; must divide ``B``.

    Returns:
        a ``(B / W, L)`` view of ``data``.

    Raises:
        TypeError: ``data`` is not a 2-D NumPy array, or ``rank``/``world_size`` are
            not integers.
        ValueError: ``world_size < 1``, ``rank`` out of range, or ``B`` not a multiple
            of ``world_size``.
    """
    if not isinstance(data, np.ndarray) or data.ndim != 2:
        raise TypeError(f"data must be a 2-D numpy array (B, L) from utils.bptt_batchify, "
                        f"got {type(data).__name__}"
                        + (f" with shape {data.shape}" if hasattr(data, "shape") else ""))
    check_int("rank", rank)
    check_int("world_size", world_size, minimum=1)
    if not 0 <= rank < world_size:
        raise ValueError(f"rank must be in [0, {world_size}), got {rank}")
    rows = data.shape[0]
    if rows % world_size:
        raise ValueError(
            f"the batch of {rows} rows does not split evenly over world_size={world_size} "
            f"processes; choose a batch size that is a multiple of {world_size} (e.g. "
            f"{world_size * max(1, rows // world_size)}).")
    per_rank = rows // world_size
    return data[rank * per_rank:(rank + 1) * per_rank]


def processes_for(batch_size: int, available: int) -> int:
    """The most processes, at least 2 and at most ``max(2, available)``, that split
    ``batch_size`` rows evenly (``shard_rows`` gives every rank the same count).

    ``processes_for(20, 8)`` is 5: eight GPUs cannot share 20 rows, five can.
    """
    batch_size = check_int("batch_size", batch_size, minimum=2)
    available = check_int("available", available, minimum=0)
    splits = [w for w in range(2, max(2, available) + 1) if batch_size % w == 0]
    if not splits:
        raise ValueError(f"{batch_size} rows cannot be split evenly over 2 to "
                         f"{max(2, available)} processes; choose an even batch_size")
    return max(splits)


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on ``host`` that no one listens on right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def torchrun_command(script: str | os.PathLike, script_args: Sequence[str] = (), *,
                     nproc_per_node: int = 1, nnodes: int = 1, node_rank: int = 0,
                     master_addr: str = "127.0.0.1", master_port: int = 29500,
                     python: str | None = None) -> list[str]:
    """The command that starts this machine's workers of a ``torchrun`` job.

    ``torchrun`` (``python -m torch.distributed.run``) starts ``nproc_per_node``
    copies of ``script`` and gives each the environment variables it needs to join
    the job: ``RANK`` (``node_rank * nproc_per_node + local rank``), ``LOCAL_RANK``,
    ``WORLD_SIZE`` (``nnodes * nproc_per_node``), ``MASTER_ADDR`` and
    ``MASTER_PORT`` (where the processes meet). On several machines, each runs the
    same command with its own ``node_rank`` and the address of node 0.

    Args:
        script: the training script every worker runs.
        script_args: its command-line arguments.
        nproc_per_node: workers on this machine (processes, one per GPU on GPUs).
        nnodes: machines in the job.
        node_rank: this machine's index, ``0 <= node_rank < nnodes``.
        master_addr, master_port: where node 0 listens for the others.
        python: the interpreter (default: the one running this function).
    """
    for name, value in (("nproc_per_node", nproc_per_node), ("nnodes", nnodes),
                        ("master_port", master_port)):
        check_int(name, value, minimum=1)
    check_int("node_rank", node_rank)
    if not 0 <= node_rank < nnodes:
        raise ValueError(f"node_rank must be an int in [0, nnodes={nnodes}), "
                         f"got {node_rank!r}")
    if isinstance(script_args, (str, bytes)):
        raise TypeError("script_args must be a sequence of strings, not one string: "
                        "write ['--lr', '20'], not '--lr 20'")
    return [python or sys.executable, "-m", "torch.distributed.run",
            f"--nnodes={nnodes}", f"--nproc-per-node={nproc_per_node}",
            f"--node-rank={node_rank}", f"--master-addr={master_addr}",
            f"--master-port={master_port}", str(script), *map(str, script_args)]


@dataclass
class Launched:
    """One finished command of ``launch``: its arguments, exit code, time and log."""
    command: list[str]
    returncode: int
    seconds: float
    log: Path


def _kill_group(proc: subprocess.Popen) -> None:
    """Kill a process and every process it started (its own process group)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def launch(commands: Sequence[Sequence[str]], timeout: float, log_dir: str | os.PathLike,
           env: dict | None = None) -> list[Launched]:
    """Run ``commands`` at the same time and wait until all of them have finished.

    Each command runs in a process group of its own, with its standard output and
    error in ``log_dir/launch-<i>.log``. If any command exits with an error, or
    ``timeout`` seconds pass first, every process of every command (the ``torchrun``
    launchers and the workers they started) is killed before this function raises:
    a failed launch leaves no process behind, holding a port or a core.

    Args:
        commands: one argument list per command (e.g. from ``torchrun_command``).
        timeout: seconds to wait for all of them together.
        log_dir: where the logs go (created if missing).
        env: extra environment variables for every command.

    Returns:
        one ``Launched`` per command, in order.

    Raises:
        RuntimeError: a command failed or the deadline passed; the message holds the
            end of the log of the first failing command.
    """
    if not commands or any(isinstance(c, (str, bytes)) or not c for c in commands):
        raise TypeError("commands must be a non-empty list of argument lists, e.g. "
                        "[torchrun_command(...)]")
    if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or timeout <= 0:
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    log_dir = Path(log_dir)
    log_dir.mkdir(parents=True, exist_ok=True)
    full_env = {**os.environ, **(env or {})}
    procs, logs, files = [], [], []
    ended: list[float | None] = []
    failed = None
    start = time.perf_counter()
    try:
        for i, command in enumerate(commands):
            logs.append(log_dir / f"launch-{i}.log")
            files.append(open(logs[-1], "w"))
            procs.append(subprocess.Popen(list(map(str, command)), stdout=files[-1],
                                          stderr=subprocess.STDOUT, env=full_env,
                                          start_new_session=True))
            ended.append(None)
        while failed is None and None in ended:
            if time.perf_counter() - start > timeout:
                failed = (None, f"the deadline of {timeout:g} s passed")
                break
            for i, proc in enumerate(procs):
                if ended[i] is None and proc.poll() is not None:
                    ended[i] = time.perf_counter() - start
                    if proc.returncode != 0:
                        failed = (i, f"command {i} exited with code {proc.returncode}")
                        break
            time.sleep(0.05)
    finally:  # also on KeyboardInterrupt: no launcher or worker outlives the call
        for proc in procs:
            _kill_group(proc)
        for f in files:
            f.close()
    if failed is not None:
        index, why = failed
        shown = logs[index if index is not None else 0]
        tail = "\n".join(shown.read_text(errors="replace").splitlines()[-25:])
        raise RuntimeError(f"launch failed: {why}; every process was stopped. "
                           f"End of {shown}:\n{tail}")
    return [Launched(list(map(str, c)), p.returncode, seconds, log)
            for c, p, seconds, log in zip(commands, procs, ended, logs)]


def processes_running(marker: str) -> list[int]:
    """Ids of the processes (other than this one) whose command line contains ``marker``.

    Reads ``/proc``; returns an empty list where there is none (not Linux).
    """
    if not isinstance(marker, str) or not marker:
        raise ValueError(f"marker must be a non-empty string, got {marker!r}")
    found = []
    proc = Path("/proc")
    if not proc.is_dir():
        return found
    for entry in proc.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(
                errors="replace")
            status = (entry / "status").read_text()
        except OSError:  # the process ended while we looked
            continue
        if marker in cmdline and "State:\tZ" not in status:
            found.append(int(entry.name))
    return sorted(found)


def read_json_lines(path: str | os.PathLike) -> list[dict]:
    """The records of a JSON-lines file (one JSON object per line)."""
    with open(path, encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]
