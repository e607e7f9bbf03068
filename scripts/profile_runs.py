"""Run chapters in the medium or full profile into scratch copies; time the LM fast path.

    python scripts/profile_runs.py --profile medium            # every medium chapter
    python scripts/profile_runs.py --profile medium --resume   # skip those already run
                                                               # from this commit
    python scripts/profile_runs.py book/05-lstm.ipynb          # full profile (GPU)
    python scripts/profile_runs.py --speed               # PTB LM: baseline vs book path
    python scripts/profile_runs.py --speed --smoke       # the same code, tiny, on a CPU
    python scripts/profile_runs.py --allow-cpu book/07-framework-comparison.ipynb
                                      # CPU-only by design: the three frameworks on a CPU

Chapter runs: each notebook is executed with ``SEQBOOK_PROFILE`` set to the profile,
in a fresh kernel (``run_notebooks.execute``), one after the other, with its folder as
working directory, and the executed copy is written to ``--out`` (a temporary folder
by default): the committed quick-profile notebooks are never overwritten. The
notebooks write their ``results/<profile>/<chapter>.json`` records (and the training
curve beside them, ``<chapter>.png``) themselves. A record names the commit of the
code, so the runs refuse a tree with uncommitted code changes (``--allow-dirty``
overrides this for trying things out; such records say ``+dirty``). ``--resume``
skips each chapter whose record of this profile already names the current commit,
so a run that was stopped can go on where it stopped. Runs can go to the background:
``nohup python scripts/profile_runs.py --profile medium --resume > medium.log &``.

Speed comparison (``--speed``): the chapter-7 model (2 x 1500 LSTM, tied weights,
10,000 words) is trained twice on Penn Treebank for the same number of epochs,

* *baseline*: float32, batch 20, 35 steps, SGD lr 20, no compilation — the textbook
  loop;
* *book path*: bf16 autocast, fused SGD, cuDNN, a larger batch (64) with the learning
  rate scaled by the square root of the batch ratio (lr 36), and optionally
  ``torch.compile``;

and ``results/full/07-speed.json`` records both validation perplexities, both training
throughputs (tokens/s, first epoch left out as warm-up), the speed-up, and the
achieved FLOP/s as a fraction of the GPU's dense bf16 peak (FLOPs per token from
``utils.torch.lm.lm_flops_per_token``). ``--smoke`` runs the same code for a few
batches of a tiny model on the CPU and writes its record to a temporary folder (or
``--results-dir``), marked ``quick``: it checks the code, it measures nothing.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run_notebooks
from run_notebooks import ROOT, execute  # noqa: E402  (also puts ROOT on sys.path)

PYTORCH_CHAPTERS = ("03-rnn", "04-gru", "05-lstm", "06-deep-bidirectional-rnns",
                    "07-language-models-torch", "08-sentiment-torch", "09-data-parallel")
# The chapters each profile runs by default, in the order a background run takes them
# (the cheapest first, so that a stopped run has made the most records).
CHAPTERS = {
    "medium": ("03-rnn", "04-gru", "05-lstm", "06-deep-bidirectional-rnns",
               "07-language-models-torch", "08-sentiment-torch",
               "07-language-models-paddle", "08-sentiment-paddle",
               "07-language-models-mxnet"),
    "full": PYTORCH_CHAPTERS,
}

# Dense (no sparsity) bf16 tensor-core peaks in FLOP/s, from the vendor's data sheets.
# Matched in order against the device name; the first hit wins.
GPU_BF16_PEAKS = (
    ("H200", 989.4e12),
    ("H100 PCIe", 756.0e12),
    ("H100 NVL", 835.0e12),
    ("H100", 989.4e12),     # SXM / HBM3
    ("GH200", 989.4e12),
    ("A100", 312.0e12),
    ("L40S", 362.0e12),
    ("L4", 121.0e12),
)


def bf16_peak_flops(device_name: str) -> float | None:
    """The dense bf16 peak of a GPU, or ``None`` when the name is not in the table."""
    for key, peak in GPU_BF16_PEAKS:
        if key in device_name:
            return peak
    return None


# --------------------------------------------------------------- chapter runs


def existing_chapters(names=PYTORCH_CHAPTERS) -> list[Path]:
    """The chapter notebooks of ``names`` that exist in ``book/``, in that order."""
    paths = [ROOT / "book" / f"{name}.ipynb" for name in names]
    return [p for p in paths if p.is_file()]


def already_run(path: Path, profile: str, commit: str) -> bool:
    """Whether ``path``'s record of ``profile`` was made from ``commit`` (clean)."""
    from utils.results import load_record
    record = load_record(path.stem, profile)
    return (record is not None and not commit.endswith("+dirty")
            and record.get("commit") == commit)


def run_chapters(notebooks: list[Path], out_dir: Path, timeout: int,
                 profile: str = "full", resume: bool = False) -> dict:
    """Run each notebook in ``profile`` into ``out_dir``; return times or errors."""
    from utils.results import git_commit
    from utils.runs import PROFILES
    if profile not in PROFILES or profile == "quick":
        raise ValueError(f"profile must be 'medium' or 'full', got {profile!r} (the "
                         f"quick profile runs in place: scripts/run_notebooks.py)")
    os.environ["SEQBOOK_PROFILE"] = profile  # inherited by every kernel started below
    out_dir.mkdir(parents=True, exist_ok=True)
    commit = git_commit()
    outcome = {}
    for path in notebooks:
        target = out_dir / path.name
        if target.resolve() == path.resolve():
            raise ValueError(f"--out must not be the book folder ({path.parent}): the "
                             f"committed quick-profile notebooks would be overwritten.")
        if resume and already_run(path, profile, commit):
            print(f"skipping {path.relative_to(ROOT)}: its {profile} record is from "
                  f"commit {commit}", flush=True)
            continue
        print(f"running {path.relative_to(ROOT)} ({profile}) -> {target} ...",
              flush=True)
        try:
            outcome[path.stem] = execute(path, timeout, output=target)
            print(f"  done in {outcome[path.stem]:.1f} s", flush=True)
        except Exception as err:  # keep going: one failed chapter should not stop all
            outcome[path.stem] = f"failed: {type(err).__name__}: {str(err)[-500:]}"
            print(f"  {outcome[path.stem]}", flush=True)
    return outcome


# ----------------------------------------------------------- speed comparison


@dataclass(frozen=True)
class SpeedConfig:
    """One training setup of the speed comparison (fields as the chapter's config)."""

    name: str
    embed_size: int = 1500        # E = H, tied weights, as the chapter's full profile
    num_hiddens: int = 1500       # H
    num_layers: int = 2           # stacked LSTM layers
    dropout: float = 0.65         # Zaremba et al.'s large model
    batch_size: int = 20          # B
    num_steps: int = 35           # T
    lr: float = 20.0              # SGD learning rate (constant here: no decay)
    clip: float = 0.25            # max global gradient norm
    loss_convention: str = "token_mean"
    bf16: bool = False            # bf16 autocast
    fused_optimizer: bool = False  # fused SGD (CUDA only)
    compile_model: bool = False   # torch.compile


BASELINE = SpeedConfig("baseline")
BOOK_PATH = SpeedConfig("book", batch_size=64, lr=36.0, bf16=True,
                        fused_optimizer=True)
SMOKE_SIZE = dict(embed_size=32, num_hiddens=32)


def measure(cfg: SpeedConfig, train_ids, valid_ids, vocab_size: int, device,
            num_epochs: int, max_batches: int | None) -> dict:
    """Train one setup for ``num_epochs``; time the epochs after the first (warm-up)."""
    import torch

    import utils
    from utils.torch import lm as torch_lm, train as torch_train
    from utils.torch.core import as_ids

    utils.set_seed(0)
    model = torch_lm.WordLM(vocab_size, cfg.embed_size, cfg.num_hiddens,
                            cfg.num_layers, cfg.dropout, tie_weights=True).to(device)
    train = utils.BPTTWindows(as_ids(utils.bptt_batchify(train_ids, cfg.batch_size),
                                     device), cfg.num_steps)
    valid = as_ids(utils.bptt_batchify(valid_ids, 10), device)
    run = torch_train.TrainConfig(num_epochs=num_epochs, lr=cfg.lr, optimizer="sgd",
                                  clip=cfg.clip, loss_convention=cfg.loss_convention,
                                  bf16=cfg.bf16, fused_optimizer=cfg.fused_optimizer,
                                  compile_model=cfg.compile_model)
    use_bf16 = run.bf16 and torch_train.bf16_autocast_works(model, device)
    optimizer = torch_train.make_optimizer(model, run, device)
    step_model = torch.compile(model) if run.compile_model else model
    epochs = [torch_train.train_epoch(step_model, train, optimizer, device, clip=run.clip,
                                      loss_convention=run.loss_convention,
                                      use_bf16=use_bf16, max_batches=max_batches)
              for _ in range(num_epochs)]
    timed = epochs[1:] or epochs           # the first epoch pays for warm-up
    tokens_per_s = (sum(e["num_tokens"] for e in timed)
                    / sum(e["seconds"] for e in timed))
    flops = torch_lm.lm_flops_per_token(vocab_size, cfg.embed_size, cfg.num_hiddens,
                                        cfg.num_layers)
    return {"val_ppl": torch_train.evaluate(model, valid, cfg.num_steps),
            "tokens_per_s": tokens_per_s, "flops_per_token": flops,
            "flops_per_s": flops * tokens_per_s, "bf16_used": use_bf16,
            "seconds": sum(e["seconds"] for e in epochs)}


def speed_comparison(smoke: bool = False, num_epochs: int = 3,
                     compile_model: bool = False, peak_flops: float | None = None,
                     results_dir: str | os.PathLike | None = None) -> dict:
    """Measure baseline vs book path; save and return the ``07-speed`` record."""
    import utils
    from utils.torch.core import select_device

    device = select_device()
    if not smoke and device.type != "cuda":
        raise SystemExit("--speed measures a GPU and none is visible. Run it on a "
                         "machine with CUDA, or add --smoke to check the code on a "
                         "CPU.")
    start = time.perf_counter()
    train_ids, valid_ids, _, vocab = utils.load_ptb_corpus()
    setups = [BASELINE, replace(BOOK_PATH, compile_model=compile_model)]
    max_batches = None
    if smoke:  # a tiny model, a few batches: the code path, not a measurement
        setups = [replace(s, **SMOKE_SIZE) for s in setups]
        train_ids, valid_ids, num_epochs, max_batches = (
            train_ids[:20_000], valid_ids[:2_000], 2, 3)
    results = {s.name: measure(s, train_ids, valid_ids, len(vocab), device,
                               num_epochs, max_batches) for s in setups}
    base, book = results["baseline"], results["book"]
    name = utils.device_name()
    peak = peak_flops or (bf16_peak_flops(name) if device.type == "cuda" else None)
    metrics = {"speedup_vs_baseline": book["tokens_per_s"] / base["tokens_per_s"]}
    for key, res in results.items():
        metrics[f"{key}_val_ppl"] = res["val_ppl"]
        metrics[f"{key}_tokens_per_s"] = res["tokens_per_s"]
        metrics[f"{key}_flops_per_s"] = res["flops_per_s"]
        if peak:
            metrics[f"{key}_peak_fraction"] = res["flops_per_s"] / peak
    record = utils.make_record(
        "07-speed", "quick" if smoke else "full", metrics, name,
        time.perf_counter() - start, smoke=smoke, epochs=num_epochs,
        peak_bf16_flops_per_s=peak, flops_per_token=base["flops_per_token"],
        flops_formula="3 * 2 * (sum over layers of 4 (I + H) H + H V) per token",
        bf16_used={k: r["bf16_used"] for k, r in results.items()},
        configs={s.name: asdict(s) for s in setups})
    if results_dir is None and smoke:
        results_dir = tempfile.mkdtemp(prefix="seqbook-speed-smoke-")
    path = utils.save_record(record, results_dir)
    print(f"speed-up {metrics['speedup_vs_baseline']:.2f}x; baseline "
          f"{base['tokens_per_s']:,.0f} tokens/s, val ppl {base['val_ppl']:.1f}; "
          f"book {book['tokens_per_s']:,.0f} tokens/s, val ppl {book['val_ppl']:.1f}; "
          f"record: {path}")
    return record


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path,
                        help="notebooks to run (default: the profile's chapters)")
    parser.add_argument("--profile", choices=("medium", "full"), default="full",
                        help="the profile to run the chapters in (default: full)")
    parser.add_argument("--resume", action="store_true",
                        help="skip chapters whose record of this profile names the "
                             "current commit")
    parser.add_argument("--allow-dirty", action="store_true",
                        help="run even though the code has uncommitted changes (the "
                             "records then say +dirty)")
    parser.add_argument("--out", type=Path, default=None,
                        help="folder for the executed copies (default: a temp folder)")
    parser.add_argument("--timeout", type=int, default=6 * 3600,
                        help="seconds one cell may run before the run fails")
    parser.add_argument("--allow-cpu", action="store_true",
                        help="run the chapters even without a GPU (very slow)")
    parser.add_argument("--speed", action="store_true",
                        help="time the PTB LM baseline vs the book path instead")
    parser.add_argument("--smoke", action="store_true",
                        help="with --speed: a few batches of a tiny model on the CPU")
    parser.add_argument("--epochs", type=int, default=3,
                        help="with --speed: epochs per setup (the first is warm-up)")
    parser.add_argument("--compile", action="store_true",
                        help="with --speed: torch.compile the book path's model")
    parser.add_argument("--peak-tflops", type=float, default=None,
                        help="with --speed: the GPU's dense bf16 peak, if not in the "
                             "table")
    parser.add_argument("--results-dir", type=Path, default=None,
                        help="with --speed: where 07-speed.json goes (default results/;"
                             " a temp folder with --smoke)")
    args = parser.parse_args(argv)
    if args.speed:
        peak = args.peak_tflops * 1e12 if args.peak_tflops else None
        speed_comparison(args.smoke, args.epochs, args.compile, peak, args.results_dir)
        return 0
    from utils.results import git_commit
    from utils.runs import cuda_available
    if args.profile == "full" and not cuda_available() and not args.allow_cpu:
        print("No GPU is visible: the full profile is meant for one. Use --allow-cpu "
              "to run anyway, or --profile medium for the CPU-sized runs.",
              file=sys.stderr)
        return 2
    if git_commit().endswith("+dirty") and not args.allow_dirty:
        print("The code has uncommitted changes, and a record must name the commit "
              "that made it: commit first (or pass --allow-dirty to try things out).",
              file=sys.stderr)
        return 2
    notebooks = ([p.resolve() for p in args.notebooks]
                 or existing_chapters(CHAPTERS[args.profile]))
    out_dir = args.out or Path(tempfile.mkdtemp(prefix=f"seqbook-{args.profile}-"))
    outcome = run_chapters(notebooks, out_dir, args.timeout, args.profile, args.resume)
    failed = [k for k, v in outcome.items() if isinstance(v, str)]
    print(f"executed copies in {out_dir}; {len(outcome) - len(failed)} ran, "
          f"{len(failed)} failed {failed if failed else ''}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
