"""One language model, three frameworks: the shared configuration, data and runner.

The framework comparison trains the same LSTM language model in PyTorch, MXNet and
PaddlePaddle on the same Penn Treebank batches and compares validation perplexity
after the same number of updates, and training speed. This module holds what the
three runs share and imports no framework:

* ``ReferenceLMConfig``: the one configuration;
* ``reference_data``: the batches, built once by the framework-neutral pipeline
  (``utils.load_ptb_corpus``, ``utils.bptt_batchify``), NumPy, batch first;
* ``reference_weights``: the initial weights, drawn once in NumPy, which every
  framework loads into its own layout;
* a command line that trains one framework in its own process (one or several runs)
  and writes the JSON results, and ``run_in_subprocess`` that calls it, so that no two
  frameworks ever share a process (their thread pools and allocators would disturb
  each other's timings)::

      python -m utils.lm_compare torch --updates 200 --json torch.json
      python -m utils.lm_compare paddle --json paddle.json \\
          --runs '[{"num_updates": 80, "seed": 0}, {"num_updates": 12, "dropout": 0}]'

The framework-specific trainers all have one signature,
``train_reference_lm(train_data, valid_data, vocab_size, cfg, num_updates, seed,
weights)``, and one contract: the model starts from ``weights``, the same NumPy arrays
in every framework (``reference_weights``: every weight uniform in
``[-cfg.init_scale, cfg.init_scale]``), and every bias zero; dropout ``cfg.dropout`` on
the embeddings, between the LSTM layers and on the LSTM outputs; the per-token mean
cross entropy; plain SGD at ``cfg.lr`` after clipping the gradients' global norm to
``cfg.clip``; the state carried across windows and detached; the training stream
walked from its start. They return a dict with at least ``val_ppl``,
``train_losses`` (one per-token loss per update), ``train_seconds`` and
``tokens_per_s``. ``seed`` seeds the framework's own generator, which draws the dropout
masks.
"""
from __future__ import annotations

import argparse
import dataclasses
import hashlib
import importlib
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .batching import bptt_batchify
from .text import load_ptb_corpus

# framework (one of utils.runs.FRAMEWORKS) -> (the module with train_reference_lm, the
# package whose version to report)
REFERENCE_MODULES = {
    "torch": ("utils.torch.reference", "torch"),
    "mxnet": ("utils.mxnet.lm", "mxnet"),
    "paddle": ("utils.paddle.lm", "paddle"),
}
ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class ReferenceLMConfig:
    """The reference model and its training, identical in every framework."""

    embed_size: int = 200      # E
    num_hiddens: int = 200     # H, per LSTM layer
    num_layers: int = 2        # stacked LSTM layers
    dropout: float = 0.2       # on embeddings, between layers, on outputs
    batch_size: int = 20       # B, rows of the training stream
    num_steps: int = 35        # T, truncation length of backpropagation
    lr: float = 20.0           # SGD learning rate, for the per-token mean loss
    clip: float = 0.25         # max global L2 norm of the gradients
    init_scale: float = 0.1    # weights uniform in [-init_scale, init_scale]
    valid_tokens: int = 14_000  # the validation slice: the first tokens of valid


def reference_data(cfg: ReferenceLMConfig, cache=None
                   ) -> tuple[np.ndarray, np.ndarray, int]:
    """The comparison's batches: the whole training stream and a validation slice.

    Returns:
        ``(train_data, valid_data, vocab_size)``; ``train_data`` is ``(B, L)`` from the
        whole training split, ``valid_data`` is ``(B, L')`` from the first
        ``cfg.valid_tokens`` tokens of the validation split.
    """
    train_ids, valid_ids, _, vocab = load_ptb_corpus(cache)
    train_data = bptt_batchify(train_ids, cfg.batch_size)               # (B, L)
    valid_data = bptt_batchify(valid_ids[:cfg.valid_tokens], cfg.batch_size)
    return train_data, valid_data, len(vocab)


def reference_weight_shapes(cfg: ReferenceLMConfig, vocab_size: int) -> dict:
    """The names and shapes of the model's weights, in the layout every trainer reads.

    The layout is PyTorch's: ``embedding`` ``(V, E)``; for LSTM layer ``l``,
    ``lstm.l{l}.w_ih`` ``(4H, E or H)`` and ``lstm.l{l}.w_hh`` ``(4H, H)``, their rows in
    four blocks of ``H`` for the input gate, the forget gate, the candidate cell and
    the output gate (the order of cuDNN, which MXNet's and Paddle's LSTMs share);
    ``decoder.weight`` ``(V, H)``. Biases are not listed: they all start at zero.
    """
    E, H = cfg.embed_size, cfg.num_hiddens
    shapes = {"embedding": (vocab_size, E)}
    for layer in range(cfg.num_layers):
        shapes[f"lstm.l{layer}.w_ih"] = (4 * H, E if layer == 0 else H)
        shapes[f"lstm.l{layer}.w_hh"] = (4 * H, H)
    shapes["decoder.weight"] = (vocab_size, H)
    return shapes


def reference_weights(cfg: ReferenceLMConfig, vocab_size: int, seed: int) -> dict:
    """The initial weights, drawn once in NumPy and loaded by every framework.

    Every array is float32, uniform in ``[-cfg.init_scale, cfg.init_scale]``, drawn in
    the order of ``reference_weight_shapes`` from ``np.random.default_rng(seed)``.
    """
    rng = np.random.default_rng(seed)
    return {name: rng.uniform(-cfg.init_scale, cfg.init_scale, shape).astype(np.float32)
            for name, shape in reference_weight_shapes(cfg, vocab_size).items()}


def checked_weights(weights: dict, model_shapes: dict) -> dict:
    """Return ``weights`` after checking that they name and fit every model weight.

    Args:
        weights: from ``reference_weights``.
        model_shapes: the model's weights as ``{name: shape}``, in the layout of
            ``reference_weight_shapes``.

    Raises:
        ValueError: a name is missing or extra, or a shape differs.
    """
    if set(weights) != set(model_shapes):
        raise ValueError(f"The weights name {sorted(weights)} but the model has "
                         f"{sorted(model_shapes)}.")
    for name, shape in model_shapes.items():
        if tuple(weights[name].shape) != tuple(shape):
            raise ValueError(
                f"{name} is {tuple(weights[name].shape)} but the model's is "
                f"{tuple(shape)}: draw the weights with reference_weights(cfg, "
                f"vocab_size, seed) for the cfg and vocabulary of this model.")
    return weights


def _trainer_module(framework: str):
    if framework not in REFERENCE_MODULES:
        raise ValueError(f"framework must be one of {sorted(REFERENCE_MODULES)}, "
                         f"got {framework!r}")
    return importlib.import_module(REFERENCE_MODULES[framework][0])


@dataclass(frozen=True)
class Run:
    """One training run of the comparison: how long, which seed, which dropout.

    ``dropout=None`` keeps ``ReferenceLMConfig.dropout``; ``0.0`` takes dropout's random
    masks out, so that runs in different frameworks compute the same function.
    """

    num_updates: int
    seed: int = 0
    dropout: float | None = None


def run_framework(framework: str, cfg: ReferenceLMConfig, num_updates: int, seed: int,
                  data=None) -> dict:
    """Train the reference model in ``framework`` in this process; return the result.

    Args:
        framework: ``"torch"``, ``"mxnet"`` or ``"paddle"``.
        cfg: the shared configuration.
        num_updates: SGD updates (windows of ``B x T`` tokens).
        seed: draws the shared initial weights (``reference_weights``) and seeds the
            framework's dropout masks.
        data: ``(train_data, valid_data, vocab_size)``; built by ``reference_data``
            when ``None``.

    Returns:
        the trainer's dict plus ``framework``, ``version``, ``num_updates``, ``seed``,
        ``config``, ``data_sha1`` (a fingerprint of the batches, equal across
        frameworks when they trained on the same arrays), ``weights_sha1`` (the same for
        the initial weights) and ``process_seconds``.
    """
    if num_updates < 1:
        raise ValueError(f"num_updates must be at least 1, got {num_updates}")
    start = time.perf_counter()
    module = _trainer_module(framework)  # imports the framework
    train_data, valid_data, vocab_size = reference_data(cfg) if data is None else data
    weights = reference_weights(cfg, vocab_size, seed)
    result = module.train_reference_lm(train_data, valid_data, vocab_size, cfg,
                                       num_updates, seed, weights)
    package = sys.modules[REFERENCE_MODULES[framework][1]]
    result = dict(result, framework=framework, num_updates=num_updates, seed=seed,
                  data_sha1=fingerprint(train_data, valid_data),
                  weights_sha1=fingerprint(*weights.values()),
                  version=str(getattr(package, "__version__", "unknown")),
                  config=dataclasses.asdict(cfg),
                  process_seconds=time.perf_counter() - start)
    result["train_losses"] = [float(x) for x in result["train_losses"]]
    return result


def fingerprint(*arrays: np.ndarray) -> str:
    """The hex SHA-1 of the arrays' bytes, taken in order (C order within each array).

    Two processes that report the same fingerprint held byte-identical arrays; a
    single changed element changes it.
    """
    if not arrays or not all(isinstance(a, np.ndarray) for a in arrays):
        raise TypeError(f"fingerprint takes one or more NumPy arrays, got "
                        f"{[type(a).__name__ for a in arrays]}")
    digest = hashlib.sha1()
    for array in arrays:
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


def run_all(framework: str, runs, cfg: ReferenceLMConfig | None = None) -> list[dict]:
    """Train ``runs`` (a sequence of ``Run``) one after the other in this process.

    The batches are built once and shared by the runs.
    """
    cfg = cfg or ReferenceLMConfig()
    data = reference_data(cfg)
    results = []
    for run in runs:
        run_cfg = cfg if run.dropout is None else dataclasses.replace(cfg,
                                                                      dropout=run.dropout)
        results.append(run_framework(framework, run_cfg, run.num_updates, run.seed,
                                     data=data))
    return results


def run_in_subprocess(framework: str, runs, timeout: float = 1800) -> list[dict]:
    """Train ``runs`` for one framework in a fresh Python process; return the results.

    The process is ``python -m utils.lm_compare <framework> --runs <JSON>``: it imports
    that framework alone, so that no two frameworks ever share a process (their thread
    pools and allocators would disturb each other's timings), and pays the start-up
    (importing the framework, building the batches) once for all of ``runs``.

    Args:
        framework: ``"torch"``, ``"mxnet"`` or ``"paddle"``.
        runs: a sequence of ``Run``.
        timeout: seconds before the process is abandoned.

    Returns:
        one result per run, in order (see ``run_framework``).
    """
    import tempfile

    runs = list(runs)
    if not runs or not all(isinstance(run, Run) for run in runs):
        raise ValueError(f"runs must be a non-empty sequence of lm_compare.Run, got {runs!r}")
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / f"{framework}.json"
        spec = json.dumps([dataclasses.asdict(run) for run in runs])
        command = [sys.executable, "-m", "utils.lm_compare", framework, "--runs", spec,
                   "--json", str(out)]
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(
            [str(ROOT)] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
        # Idle OpenMP threads sleep instead of spinning: on a machine shared with other
        # work, spinning threads can slow a small model down tenfold.
        env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        proc = subprocess.run(command, cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=timeout)
        if proc.returncode != 0:
            raise RuntimeError(f"The {framework} run failed (exit {proc.returncode}). "
                               f"Its last output:\n{proc.stderr[-3000:]}")
        return json.loads(out.read_text(encoding="utf-8"))


def _parse_runs(text: str) -> list[Run]:
    try:
        return [Run(**spec) for spec in json.loads(text)]
    except (ValueError, TypeError) as err:
        raise argparse.ArgumentTypeError(
            f"--runs wants a JSON list like '[{{\"num_updates\": 80, \"seed\": 0}}]': "
            f"{err}") from err


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description="Train the reference LSTM language model in one framework.")
    parser.add_argument("framework", choices=sorted(REFERENCE_MODULES),
                        help="the framework to train with")
    parser.add_argument("--updates", type=int,
                        help="number of SGD updates (windows of B x T tokens) of one run")
    parser.add_argument("--seed", type=int, default=0, help="seed of that run")
    parser.add_argument("--dropout", type=float, default=None,
                        help="override the shared dropout probability in that run")
    parser.add_argument("--runs", type=_parse_runs, default=None,
                        help="several runs instead, as a JSON list of objects with "
                             "num_updates, seed and dropout")
    parser.add_argument("--json", type=Path, default=None,
                        help="write the list of results to this JSON file")
    args = parser.parse_args(argv)
    if (args.runs is None) == (args.updates is None):
        parser.error("give either --updates (one run) or --runs (several)")
    runs = args.runs or [Run(args.updates, args.seed, args.dropout)]
    results = run_all(args.framework, runs)
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results), encoding="utf-8")
    for result in results:
        print(f"{args.framework} seed {result['seed']} dropout "
              f"{result['config']['dropout']}: validation perplexity "
              f"{result['val_ppl']:.2f} after {result['num_updates']} updates, "
              f"{result['tokens_per_s']:,.0f} tokens/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
