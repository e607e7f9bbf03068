"""One language model, three frameworks: the shared configuration, data and runner.

The framework comparison trains the same LSTM language model in PyTorch, MXNet and
PaddlePaddle on the same Penn Treebank batches and compares validation perplexity
after the same number of updates, and training speed. This module holds what the
three runs share and imports no framework:

* ``ReferenceLMConfig``: the one configuration;
* ``reference_data``: the batches, built once by the framework-neutral pipeline
  (``utils.load_ptb_corpus``, ``utils.bptt_batchify``), NumPy, batch first;
* a command line that trains one framework in its own process and writes a JSON
  result, and ``run_in_subprocess`` that calls it, so that no two frameworks ever
  share a process (their thread pools and allocators would disturb each other's
  timings)::

      python -m utils.lm_compare torch --updates 200 --json torch.json

The framework-specific trainers all have one signature,
``train_reference_lm(train_data, valid_data, vocab_size, cfg, num_updates, seed)``, and
one contract: every weight (embedding, LSTM, decoder) uniform in
``[-cfg.init_scale, cfg.init_scale]`` and every bias zero; dropout ``cfg.dropout`` on
the embeddings, between the LSTM layers and on the LSTM outputs; the per-token mean
cross entropy; plain SGD at ``cfg.lr`` after clipping the gradients' global norm to
``cfg.clip``; the state carried across windows and detached; the training stream
walked from its start. They return a dict with at least ``val_ppl``,
``train_losses`` (one per-token loss per update), ``train_seconds`` and
``tokens_per_s``.
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

# framework -> (the module with train_reference_lm, the package whose version to report)
FRAMEWORKS = {
    "torch": ("utils.torch_lm_reference", "torch"),
    "mxnet": ("utils.mxnet_lm", "mxnet"),
    "paddle": ("utils.paddle_lm", "paddle"),
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


def _trainer_module(framework: str):
    if framework not in FRAMEWORKS:
        raise ValueError(f"framework must be one of {sorted(FRAMEWORKS)}, "
                         f"got {framework!r}")
    return importlib.import_module(FRAMEWORKS[framework][0])


def run_framework(framework: str, cfg: ReferenceLMConfig, num_updates: int, seed: int,
                  data=None) -> dict:
    """Train the reference model in ``framework`` in this process; return the result.

    Args:
        framework: ``"torch"``, ``"mxnet"`` or ``"paddle"``.
        cfg: the shared configuration.
        num_updates: SGD updates (windows of ``B x T`` tokens).
        seed: seeds the framework's initialisation and dropout.
        data: ``(train_data, valid_data, vocab_size)``; built by ``reference_data``
            when ``None``.

    Returns:
        the trainer's dict plus ``framework``, ``version``, ``num_updates``, ``seed``,
        ``config``, ``data_sha1`` (a fingerprint of the batches, equal across
        frameworks when they trained on the same arrays) and ``process_seconds``.
    """
    if num_updates < 1:
        raise ValueError(f"num_updates must be at least 1, got {num_updates}")
    start = time.perf_counter()
    module = _trainer_module(framework)  # imports the framework
    train_data, valid_data, vocab_size = reference_data(cfg) if data is None else data
    result = module.train_reference_lm(train_data, valid_data, vocab_size, cfg,
                                       num_updates, seed)
    package = sys.modules[FRAMEWORKS[framework][1]]
    digest = hashlib.sha1(np.ascontiguousarray(train_data).tobytes()
                          + np.ascontiguousarray(valid_data).tobytes()).hexdigest()
    result = dict(result, framework=framework, num_updates=num_updates, seed=seed,
                  data_sha1=digest,
                  version=str(getattr(package, "__version__", "unknown")),
                  config=dataclasses.asdict(cfg),
                  process_seconds=time.perf_counter() - start)
    result["train_losses"] = [float(x) for x in result["train_losses"]]
    return result


def run_in_subprocess(framework: str, num_updates: int, seed: int = 0,
                      dropout: float | None = None, timeout: float = 900) -> dict:
    """Run ``python -m utils.lm_compare`` for one framework in a fresh process.

    Args:
        framework: ``"torch"``, ``"mxnet"`` or ``"paddle"``.
        num_updates: SGD updates.
        seed: the training seed.
        dropout: overrides ``ReferenceLMConfig.dropout`` when given (e.g. ``0.0`` to
            take dropout's randomness out of a comparison).
        timeout: seconds before the run is abandoned.

    Returns:
        the JSON result the run wrote (see ``run_framework``).
    """
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / f"{framework}.json"
        command = [sys.executable, "-m", "utils.lm_compare", framework, "--updates",
                   str(num_updates), "--seed", str(seed), "--json", str(out)]
        if dropout is not None:
            command += ["--dropout", str(dropout)]
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


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description="Train the reference LSTM language model in one framework.")
    parser.add_argument("framework", choices=sorted(FRAMEWORKS),
                        help="the framework to train with")
    parser.add_argument("--updates", type=int, required=True,
                        help="number of SGD updates (windows of B x T tokens)")
    parser.add_argument("--seed", type=int, default=0, help="training seed")
    parser.add_argument("--dropout", type=float, default=None,
                        help="override the shared dropout probability")
    parser.add_argument("--json", type=Path, default=None,
                        help="write the result to this JSON file")
    args = parser.parse_args(argv)
    cfg = ReferenceLMConfig()
    if args.dropout is not None:
        cfg = dataclasses.replace(cfg, dropout=args.dropout)
    result = run_framework(args.framework, cfg, args.updates, args.seed)
    text = json.dumps(result)
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text, encoding="utf-8")
    print(f"{args.framework}: validation perplexity {result['val_ppl']:.2f} after "
          f"{args.updates} updates, {result['tokens_per_s']:,.0f} tokens/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
