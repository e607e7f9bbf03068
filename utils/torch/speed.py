"""Training speed on the machine at hand: the book's training path beside a reference.

The *reference* is a re-implementation of the training loop of pytorch/examples'
``word_language_model`` (``main.py`` and ``model.py`` in github.com/pytorch/examples),
the loop most PyTorch word-LM code descends from:

* the model (``ReferenceLM``) embeds, drops out, runs ``nn.LSTM`` with the time axis
  first, drops out, decodes, and returns log-probabilities (``log_softmax``);
* the loss is ``nll_loss`` of those log-probabilities (the token mean);
* every step zeroes the gradients, detaches the state, clips the global norm with
  ``clip_grad_norm_`` and updates every parameter by hand, ``p -= lr * p.grad``, and
  reads the loss back with ``loss.item()``.

The *book's path* is ``WordLM`` trained by ``utils.torch.train.train_epoch`` with the
options of ``FastOptions``, each of which can be switched off on its own to measure it.

``compare_speed`` trains both on the same token stream, from the same initial weights,
for the same number of minibatches, in alternating rounds (reference, book, book,
reference, ...: a slow drift of the machine's speed then hits both alike), and scores
both with the same evaluation function. ``peak_flops`` says what the machine could do
at most, and how that number was computed.
"""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from itertools import islice

import torch
from torch import nn
from torch.nn import functional as F

from ..batching import BPTTWindows, bptt_batchify
from ..checks import check_bool, check_int, check_number
from ..runs import cpuinfo_field, set_seed, usable_cores
from .core import as_ids, wait_for
from .lm import WordLM, lm_flops_per_token
from .fast import bf16_autocast_works, fast_step_loss
from .train import evaluate, train_epoch

__all__ = ["SpeedConfig", "FastOptions", "SPEED_SETTINGS", "ReferenceLM",
           "reference_train", "compare_speed", "peak_flops", "gemm_flops_per_s",
           "gpu_bf16_peak", "profile_step"]


@dataclass(frozen=True)
class SpeedConfig:
    """The model and the run of the speed comparison (the vocabulary of ``TrainConfig``).

    The defaults are the small setting of pytorch/examples' word-LM (2 x 200 LSTM,
    dropout 0.2, batch 20, 35 steps, SGD at lr 20, clipping at 0.25).
    """

    embed_size: int = 200       # E
    num_hiddens: int = 200      # H
    num_layers: int = 2         # L
    dropout: float = 0.2
    batch_size: int = 20        # B
    num_steps: int = 35         # T
    lr: float = 20.0
    clip: float = 0.25
    num_rounds: int = 6         # rounds per path, alternating
    batches_per_round: int = 15
    valid_tokens: int = 20_000  # validation words scored (-1: all)
    eval_batch_size: int = 10

    def __post_init__(self):
        for name in ("embed_size", "num_hiddens", "num_layers", "batch_size",
                     "num_steps", "num_rounds", "batches_per_round", "eval_batch_size"):
            check_int(f"SpeedConfig.{name}", getattr(self, name), minimum=1)
        check_number("SpeedConfig.dropout", self.dropout, minimum=0.0)
        if self.dropout >= 1.0:
            raise ValueError(f"SpeedConfig.dropout must be in [0, 1), got "
                             f"{self.dropout}")
        check_number("SpeedConfig.lr", self.lr, strictly_above=0.0)
        check_number("SpeedConfig.clip", self.clip, strictly_above=0.0)
        check_int("SpeedConfig.valid_tokens", self.valid_tokens, minimum=-1)
        if self.valid_tokens == 0:
            raise ValueError("SpeedConfig.valid_tokens must be positive or -1 (all), "
                             "got 0")


# What each profile measures: the chapter runs `quick` in well under a minute.
SPEED_SETTINGS = {
    "quick": SpeedConfig(),
    "medium": SpeedConfig(num_rounds=6, batches_per_round=150, valid_tokens=-1),
    "full": SpeedConfig(embed_size=1500, num_hiddens=1500, dropout=0.65, num_rounds=6,
                        batches_per_round=150, valid_tokens=-1),
}


@dataclass(frozen=True)
class FastOptions:
    """What the book's path does beyond the reference (each can be switched off).

    Args:
        bf16: bf16 autocast, used only where the hardware runs it natively
            (``utils.torch.fast.bf16_autocast_works``). Off by default, so that what
            a run computes, and prints, does not depend on whether the CPU has
            native bf16: an explicit choice (``scripts/speed.py --bf16``).
        fused_loss: the decoder and the cross entropy as one step that keeps no
            log-probabilities (``utils.torch.fast.linear_cross_entropy``).
    """

    bf16: bool = False
    fused_loss: bool = True

    def __post_init__(self):
        check_bool("FastOptions.bf16", self.bf16)
        check_bool("FastOptions.fused_loss", self.fused_loss)


# -------------------------------------------------------------- the reference


class ReferenceLM(nn.Module):
    """The model of pytorch/examples' word-LM (LSTM case), time axis first.

    Shape:
        ``X`` is ``(T, B)`` ids; returns log-probabilities ``(T * B, V)`` and the
        state ``(h, c)``, each ``(L, B, H)``.
    """

    def __init__(self, vocab_size: int, embed_size: int, num_hiddens: int,
                 num_layers: int, dropout: float):
        super().__init__()
        self.vocab_size = vocab_size
        self.drop = nn.Dropout(dropout)
        self.encoder = nn.Embedding(vocab_size, embed_size)
        self.rnn = nn.LSTM(embed_size, num_hiddens, num_layers, dropout=dropout)
        self.decoder = nn.Linear(num_hiddens, vocab_size)
        nn.init.uniform_(self.encoder.weight, -0.1, 0.1)
        nn.init.uniform_(self.decoder.weight, -0.1, 0.1)
        nn.init.zeros_(self.decoder.bias)

    def forward(self, X, state=None):
        emb = self.drop(self.encoder(X))                       # (T, B, E)
        output, state = self.rnn(emb, state)                   # (T, B, H)
        decoded = self.decoder(self.drop(output))              # (T, B, V)
        return F.log_softmax(decoded.view(-1, self.vocab_size), dim=1), state


def reference_train(model: ReferenceLM, data: torch.Tensor, num_steps: int, lr: float,
                    clip: float, start: int, num_batches: int) -> dict:
    """Train ``model`` on ``num_batches`` windows of ``data`` from window ``start`` on.

    The loop of pytorch/examples' ``main.py`` (see the module docstring); the state
    starts from zeros, as it does at the start of each of that script's epochs.

    Shape:
        ``data`` is ``(L, B)`` ids, one column per row of the stream (that script's
        ``batchify``).

    Returns:
        ``{"num_tokens", "seconds", "mean_loss"}``.
    """
    model.train()
    state, total_loss, num_tokens = None, 0.0, 0
    begin = time.perf_counter()
    for i in range(start, start + num_batches):
        X = data[i * num_steps:(i + 1) * num_steps]            # (T, B)
        Y = data[i * num_steps + 1:(i + 1) * num_steps + 1]    # (T, B)
        model.zero_grad()
        state = None if state is None else tuple(s.detach() for s in state)
        log_probs, state = model(X, state)
        loss = F.nll_loss(log_probs, Y.reshape(-1))
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), clip)
        for p in model.parameters():
            p.data.add_(p.grad, alpha=-lr)
        total_loss += loss.item()
        num_tokens += Y.numel()
    return {"num_tokens": num_tokens, "seconds": time.perf_counter() - begin,
            "mean_loss": total_loss / num_batches}


def reference_as_wordlm(reference: ReferenceLM) -> WordLM:
    """A ``WordLM`` holding ``reference``'s weights (the same parameters, batch first)."""
    E = reference.encoder.embedding_dim
    model = WordLM(reference.vocab_size, E, reference.rnn.hidden_size,
                   reference.rnn.num_layers, reference.drop.p, tie_weights=False)
    state = {name.replace("encoder.", "embedding."): value
             for name, value in reference.state_dict().items()}
    model.load_state_dict(state)
    return model.to(next(reference.parameters()).device)


# ------------------------------------------------------------------ the peaks


# Dense (no sparsity) bf16 tensor-core peaks of GPUs in FLOP/s, from the vendors' data
# sheets. Matched in order against the device name; the first hit wins.
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


def gpu_bf16_peak(device_name: str) -> float | None:
    """The dense bf16 peak of a GPU by its name, or ``None`` when it is not listed."""
    for key, peak in GPU_BF16_PEAKS:
        if key in device_name:
            return peak
    return None


# FP32 multiply-adds per cycle and core, by vector unit: two FMA pipes of 8 lanes
# (AVX2, or AVX-512 on AMD Zen 4, which runs it on 256-bit pipes) or of 16 lanes
# (AVX-512 on Intel server cores with two FMA ports). bf16 dot products
# (AVX512_BF16's vdpbf16ps, AMX aside) do two multiply-adds per 32-bit lane.
def _cpu_mhz() -> float | None:
    try:
        return float(cpuinfo_field("cpu MHz"))
    except (TypeError, ValueError):   # no such line, or not a number
        return None


def gemm_flops_per_s(size: int = 2048, repeats: int = 5,
                     dtype: torch.dtype = torch.float32, device="cpu") -> float:
    """The FLOP/s of a large square matrix product here: a measured ceiling."""
    check_int("size", size, minimum=16)
    check_int("repeats", repeats, minimum=1)
    device = torch.device(device)
    a = torch.randn(size, size, device=device).to(dtype)
    b = torch.randn(size, size, device=device).to(dtype)
    a @ b                                                      # warm-up
    wait_for(device)
    best = math.inf
    for _ in range(repeats):
        begin = time.perf_counter()
        a @ b
        wait_for(device)
        best = min(best, time.perf_counter() - begin)
    return 2 * size ** 3 / best


def peak_flops(device="cpu", gpu_peak: float | None = None) -> dict:
    """The arithmetic peak of ``device`` and how it was computed.

    On a CPU: cores x clock x FLOPs per cycle, the last from the vector unit the CPU
    reports (``/proc/cpuinfo`` flags): 2 FMA pipes x 8 float32 lanes x 2 FLOPs = 32
    per cycle for AVX2 and for AMD's AVX-512, 64 for Intel's AVX-512; bf16 dot
    products double that where ``avx512_bf16`` is present (else no bf16 peak). The
    clock is the one the kernel reports (``cpu MHz``), which a turbo clock can exceed:
    the fractions are then upper bounds. The best rate of a large float32 matrix
    product, measured here, is reported beside it as a ceiling software reaches.

    On a GPU: ``gpu_peak`` if given, else the data-sheet bf16 peak of
    ``GPU_BF16_PEAKS`` for its name.

    Returns:
        ``{"fp32": FLOP/s or None, "bf16": FLOP/s or None, "how": str}``.
    """
    device = torch.device(device)
    if device.type != "cpu":
        if gpu_peak is None and torch.cuda.is_available():
            gpu_peak = gpu_bf16_peak(torch.cuda.get_device_name(device))
        return {"fp32": None, "bf16": gpu_peak,
                "how": "the GPU's dense bf16 peak from its data sheet"
                if gpu_peak else "no data-sheet peak for this GPU"}
    flags = set((cpuinfo_field("flags") or "").split())
    mhz, cores = _cpu_mhz(), usable_cores()
    amd = cpuinfo_field("vendor_id") == "AuthenticAMD"
    wide = "avx512f" in flags and not amd
    per_cycle = 64 if wide else 32 if {"avx2", "fma"} <= flags else 16
    if mhz is None:
        return {"fp32": None, "bf16": None, "how": "no clock reported by the kernel"}
    fp32 = cores * mhz * 1e6 * per_cycle
    bf16 = 2 * fp32 if "avx512_bf16" in flags else None
    unit = ("AVX-512 on 16-lane FMA pipes" if wide else
            "AVX-512 on 256-bit pipes" if "avx512f" in flags else
            "AVX2 with FMA" if per_cycle == 32 else "SSE")
    how = (f"{cores} cores x {mhz / 1000:.2f} GHz (cpu MHz) x {per_cycle} float32 "
           f"FLOPs per cycle ({unit}: 2 FMA pipes)"
           + ("; bf16 x2 (avx512_bf16)" if bf16 else "; no native bf16 (no avx512_bf16)"))
    return {"fp32": fp32, "bf16": bf16, "how": how}


# ----------------------------------------------------------------- comparison


def compare_speed(train_ids, valid_ids, vocab_size: int, cfg: SpeedConfig,
                  options: FastOptions = FastOptions(), device=None, seed: int = 0,
                  log=None) -> dict:
    """Train the reference and the book's path alike; return speeds and perplexities.

    Both start from the same weights (the reference model's initialisation, copied
    into a ``WordLM``), read the same windows of the same stream in the same order,
    and train ``cfg.num_rounds * cfg.batches_per_round`` minibatches each, in
    alternating rounds (the order flips every round). Each path first trains 3
    minibatches that are not timed (allocation, first-call costs). Both are then
    scored by ``utils.torch.train.evaluate`` on the first ``cfg.valid_tokens``
    validation words.

    Args:
        train_ids, valid_ids: flat id streams (``utils.load_ptb_corpus``).
        vocab_size: ``V``.
        cfg: a ``SpeedConfig``.
        options: the book's path's ``FastOptions``.
        device: where to train (default: the CPU).
        seed: seeds the initial weights and the dropout masks.
        log: called with a line per round, or ``None``.

    Returns:
        a dict with ``reference`` and ``book`` (each ``tokens_per_s``, ``val_ppl``,
        ``seconds``, ``num_tokens``, ``round_tokens_per_s``), ``speedup_vs_reference``
        (total tokens over total seconds, book / reference), ``round_speedups`` (per
        pair of adjacent rounds) and their ``median_round_speedup``,
        ``flops_per_token``, ``bf16_used`` and ``options``.
    """
    if not isinstance(cfg, SpeedConfig):
        raise TypeError(f"cfg must be a SpeedConfig, got {type(cfg).__name__}")
    if not isinstance(options, FastOptions):
        raise TypeError(f"options must be a FastOptions, got {type(options).__name__}")
    check_int("vocab_size", vocab_size, minimum=2)
    device = torch.device(device or "cpu")
    warmup = 3
    needed = (cfg.num_rounds * cfg.batches_per_round + warmup) * cfg.num_steps + 1
    rows = bptt_batchify(train_ids, cfg.batch_size)                 # (B, L)
    if rows.shape[1] < needed:
        raise ValueError(f"train_ids holds {rows.shape[1]} steps per row, fewer than "
                         f"the {needed} that {cfg.num_rounds} rounds of "
                         f"{cfg.batches_per_round} minibatches need")
    stream = as_ids(rows, device)                                  # (B, L)
    columns = stream.t().contiguous()                              # (L, B)
    valid = valid_ids if cfg.valid_tokens < 0 else valid_ids[:cfg.valid_tokens]
    valid_rows = as_ids(bptt_batchify(valid, cfg.eval_batch_size), device)

    set_seed(seed)
    reference = ReferenceLM(vocab_size, cfg.embed_size, cfg.num_hiddens,
                            cfg.num_layers, cfg.dropout).to(device)
    book = reference_as_wordlm(reference)
    use_bf16 = options.bf16 and bf16_autocast_works(book, device)
    step_loss = fast_step_loss(book, bf16=use_bf16, fused_loss=options.fused_loss)
    optimizer = torch.optim.SGD(book.parameters(), lr=cfg.lr)
    windows = BPTTWindows(stream, cfg.num_steps)

    def run_reference(start, n):
        return reference_train(reference, columns, cfg.num_steps, cfg.lr, cfg.clip,
                               start, n)

    def run_book(start, n):
        return train_epoch(book, islice(iter(windows), start, start + n), optimizer,
                           device, clip=cfg.clip, step_loss=step_loss)

    run_reference(0, warmup)
    run_book(0, warmup)
    rounds = {"reference": [], "book": []}
    for r in range(cfg.num_rounds):
        start = warmup + r * cfg.batches_per_round
        order = (("reference", run_reference), ("book", run_book))
        for name, run in (order if r % 2 == 0 else order[::-1]):
            result = run(start, cfg.batches_per_round)
            wait_for(device)
            rounds[name].append((result["num_tokens"], result["seconds"]))
        if log is not None:
            log(f"round {r + 1}/{cfg.num_rounds}: " + ", ".join(
                f"{name} {rounds[name][-1][0] / rounds[name][-1][1]:,.0f} tokens/s"
                for name in rounds))
    out = {}
    for name, model in (("reference", reference_as_wordlm(reference)), ("book", book)):
        tokens = sum(n for n, _ in rounds[name])
        seconds = sum(s for _, s in rounds[name])
        out[name] = {"tokens_per_s": tokens / seconds, "seconds": seconds,
                     "num_tokens": tokens,
                     "round_tokens_per_s": [n / s for n, s in rounds[name]],
                     "val_ppl": evaluate(model, valid_rows, cfg.num_steps)}
    out["speedup_vs_reference"] = (out["book"]["tokens_per_s"]
                                   / out["reference"]["tokens_per_s"])
    # Adjacent rounds share the machine's state of the moment: their ratios, and their
    # median, show how much of the speed-up is noise.
    out["round_speedups"] = [b / r for b, r in zip(out["book"]["round_tokens_per_s"],
                                                   out["reference"]["round_tokens_per_s"])]
    out["median_round_speedup"] = sorted(out["round_speedups"])[len(rounds["book"]) // 2]
    out["flops_per_token"] = lm_flops_per_token(vocab_size, cfg.embed_size,
                                                cfg.num_hiddens, cfg.num_layers)
    out["bf16_used"] = use_bf16
    out["options"] = asdict(options)
    return out


def profile_step(vocab_size: int, cfg: SpeedConfig, options: FastOptions = FastOptions(),
                 device=None, num_steps: int = 5, top: int = 8) -> list[dict]:
    """Where the time of one training step of the book's path goes, by operator.

    Runs ``num_steps`` steps of random windows under ``torch.profiler`` and returns
    the ``top`` operators by their own time: ``{"op", "ms_per_step", "share"}``.
    """
    check_int("num_steps", num_steps, minimum=1)
    check_int("top", top, minimum=1)
    from torch.profiler import ProfilerActivity, profile

    device = torch.device(device or "cpu")
    model = WordLM(vocab_size, cfg.embed_size, cfg.num_hiddens, cfg.num_layers,
                   cfg.dropout).to(device)
    use_bf16 = options.bf16 and bf16_autocast_works(model, device)
    step_loss = fast_step_loss(model, bf16=use_bf16, fused_loss=options.fused_loss)
    optimizer = torch.optim.SGD(model.parameters(), lr=cfg.lr)
    gen = torch.Generator().manual_seed(0)
    data = torch.randint(0, vocab_size, (cfg.batch_size, (num_steps + 2) * cfg.num_steps
                                         + 1), generator=gen)
    windows = list(BPTTWindows(data.to(device), cfg.num_steps))

    def steps(batches):
        train_epoch(model, batches, optimizer, device, clip=cfg.clip,
                    step_loss=step_loss)

    steps(windows[:2])                                         # warm-up
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA]
                                           if device.type == "cuda" else [])
    with profile(activities=activities) as prof:
        steps(windows[2:2 + num_steps])
    events = [e for e in prof.key_averages() if e.self_cpu_time_total > 0]
    total = sum(e.self_cpu_time_total for e in events)
    events.sort(key=lambda e: e.self_cpu_time_total, reverse=True)
    return [{"op": e.key, "ms_per_step": e.self_cpu_time_total / 1000 / num_steps,
             "share": e.self_cpu_time_total / total} for e in events[:top]]
