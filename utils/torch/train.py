"""One training loop for every PyTorch language model of the book, character or word.

Every model here keeps one contract: ``model(X, state) -> (logits, state)`` with ``X``
``(B, T)`` ids, ``logits`` ``(B, T, V)`` and ``state=None`` standing for zeros. The
from-scratch cells of ``utils.torch.rnn`` (inside an ``RNNLM``) keep it, and so does
``utils.torch.lm.WordLM``; this module trains, evaluates and samples all of them:

* ``TrainConfig``: the settings of a run, checked when the config is built, so that a
  misspelt or mistyped field fails before training, not in the middle of an epoch;
* ``train_epoch``: one epoch of truncated backpropagation through time, each
  window's loss computed by a *step loss* (``lm_step_loss``: forward pass and cross
  entropy; the bf16 and fused-loss variants live apart, in ``utils.torch.fast``);
* ``evaluate``: the perplexity of a batchified stream (``evaluate_perplexity``: of a
  flat list of ids);
* ``fit``: the epochs, validation after each, the learning-rate schedule (constant,
  cosine, or a decay when validation stalls), the best weights kept (in memory, or in
  an atomic checkpoint), one point per epoch on the caller's curves;
* ``train``: ``fit`` called with keywords, the short form the character chapters use;
* ``generate``, ``predict`` and ``next_token_probs``: sampling;
* ``fit_char_lm`` and ``lm_metrics``: a character model trained and summarised with a
  chapter's config, so that several models train under identical settings.

Every function takes what it needs as arguments; none reads notebook globals.
"""
from __future__ import annotations

import copy
import itertools
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F

from ..batching import SeqDataLoader, bptt_batches, bptt_batchify
from ..checks import (check_bool, check_int, check_lr_decay, check_number, check_str)
from ..runs import SMOKE_EPOCHS, Timer, announce_long_run, set_seed, smoke_limit
from .core import (as_ids, clip_gradients, count_parameters, detach_state,
                   load_checkpoint, model_device, perplexity, sample_next_token,
                   save_checkpoint, wait_for)
from .fast import bf16_autocast_works, fast_step_loss
from .lm import lm_loss
from .rnn import RNNLM

__all__ = ["TrainConfig", "lm_step_loss", "train_epoch", "evaluate", "evaluate_perplexity", "fit",
           "train", "generate", "predict", "next_token_probs", "fit_char_lm",
           "lm_metrics"]

OPTIMIZERS = ("adam", "sgd")
LR_SCHEDULES = ("constant", "cosine", "plateau")


@dataclass(frozen=True)
class TrainConfig:
    """How ``fit`` trains: one vocabulary for every model and chapter.

    Args:
        num_epochs: passes over the training batches.
        lr: the learning rate at the start.
        optimizer: ``"adam"`` or ``"sgd"`` (plain SGD, as in Zaremba et al.).
        clip: the global gradient norm is clipped to this (``math.inf``: measured
            only).
        weight_decay: the optimizer's L2 penalty.
        lr_schedule: ``"constant"``; ``"cosine"`` (annealed to 0 over the epochs);
            or ``"plateau"`` (multiplied by ``lr_decay`` after every epoch whose
            validation perplexity is no better than the best so far).
        lr_decay: the factor of ``"plateau"``, in (0, 1]; any other schedule needs
            the default 1.0.
        reset_state: start every minibatch from a zero state (random sampling) instead
            of carrying the last one over, detached (sequential partitioning).
        eval_num_steps: the window length of validation.
        bf16: bf16 autocast where it runs natively
            (``utils.torch.fast.bf16_autocast_works``).
        fused_loss: the decoder and the loss as one step that keeps no
            log-probabilities (``utils.torch.fast.decoder_loss``; models with
            ``features``, e.g. ``WordLM``).
        fused_optimizer: SGD's fused kernel on a CUDA device.
        compile_model: train a ``torch.compile`` of the model (evaluation uses the
            plain module).
        keep_best: end with the weights of the epoch that validated best.
    """

    num_epochs: int
    lr: float
    optimizer: str = "adam"
    clip: float = 1.0
    weight_decay: float = 0.0
    lr_schedule: str = "constant"
    lr_decay: float = 1.0
    reset_state: bool = False
    eval_num_steps: int = 64
    bf16: bool = False
    fused_loss: bool = False
    fused_optimizer: bool = False
    compile_model: bool = False
    keep_best: bool = True

    def __post_init__(self):
        check_int("TrainConfig.num_epochs", self.num_epochs, minimum=1)
        check_number("TrainConfig.lr", self.lr, strictly_above=0.0)
        check_str("TrainConfig.optimizer", self.optimizer, OPTIMIZERS)
        check_number("TrainConfig.clip", self.clip, strictly_above=0.0, allow_inf=True)
        check_number("TrainConfig.weight_decay", self.weight_decay, minimum=0.0)
        check_str("TrainConfig.lr_schedule", self.lr_schedule, LR_SCHEDULES)
        check_lr_decay("TrainConfig.lr_decay", self.lr_decay)
        if self.lr_schedule != "plateau" and self.lr_decay != 1.0:
            raise ValueError(f"TrainConfig.lr_decay={self.lr_decay:g} acts only with "
                             f"lr_schedule='plateau', got lr_schedule="
                             f"{self.lr_schedule!r}: set lr_schedule='plateau' or leave "
                             f"lr_decay at 1.0")
        check_int("TrainConfig.eval_num_steps", self.eval_num_steps, minimum=1)
        for name in ("reset_state", "bf16", "fused_loss", "fused_optimizer", "compile_model",
                     "keep_best"):
            check_bool(f"TrainConfig.{name}", getattr(self, name))


# ------------------------------------------------------------------ the pieces


def make_optimizer(model: nn.Module, cfg: TrainConfig, device) -> torch.optim.Optimizer:
    """Adam or plain SGD over ``model``'s parameters, as ``cfg`` says.

    SGD uses the fused kernel (one launch a step) when ``cfg.fused_optimizer`` and
    the device is a GPU. Weight tying makes one ``Parameter`` appear twice in a model;
    ``parameters()`` yields it once, so it is updated once.
    """
    if cfg.optimizer == "adam":
        return torch.optim.Adam(model.parameters(), lr=cfg.lr,
                                weight_decay=cfg.weight_decay)
    fused = cfg.fused_optimizer and torch.device(device).type == "cuda"
    return torch.optim.SGD(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay,
                           fused=fused or None)


def set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    """Set the learning rate of every parameter group."""
    for group in optimizer.param_groups:
        group["lr"] = lr


# ---------------------------------------------------------------- the loop


def lm_step_loss(model: nn.Module, X: torch.Tensor, Y: torch.Tensor, state):
    """The mean NLL per token of one window, and the state after it."""
    logits, state = model(X, state)                             # (B, T, V)
    return lm_loss(logits, Y), state


def train_epoch(model: nn.Module, batches: Iterable, optimizer: torch.optim.Optimizer,
                device, *, clip: float = 1.0, reset_state: bool = False,
                step_loss=lm_step_loss, max_batches: int | None = None) -> dict:
    """One epoch of truncated backpropagation through time over ``(B, T)`` windows.

    ``reset_state=False`` (sequential partitioning) carries the state to the next
    window, detached: gradients flow back at most ``T`` steps. ``True`` (random
    sampling) starts every window from zeros. ``step_loss`` computes a window's loss
    (``fit`` may pass a faster one from ``utils.torch.fast``).
    """
    model.train()
    state, num_tokens, grad_norms = None, 0, []
    total_nll = torch.zeros((), dtype=torch.float64, device=device)  # no sync per step
    timer = Timer()
    for X, Y in itertools.islice(batches, max_batches):
        X, Y = as_ids(X, device), as_ids(Y, device)             # (B, T) each
        state = None if reset_state else detach_state(state)   # zeros, or values only
        loss, state = step_loss(model, X, Y, state)             # mean NLL per token
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        grad_norms.append(clip_gradients(model.parameters(), clip))  # before clipping
        optimizer.step()
        total_nll += loss.detach().double() * Y.numel()
        num_tokens += Y.numel()
    wait_for(device)                                            # a GPU runs ahead
    seconds = timer.stop()
    return {"train_ppl": perplexity(float(total_nll) / num_tokens), "seconds": seconds,
            "tokens_per_s": num_tokens / seconds, "num_tokens": num_tokens,
            "grad_norms": grad_norms}


@torch.no_grad()
def evaluate(model: nn.Module, data, num_steps: int) -> float:
    """The perplexity of a batchified stream: ``exp(total NLL / total tokens)``.

    The stream's ``B`` rows are read in windows of ``num_steps``, the state carried
    from window to window, so every token but the first of each row is predicted with
    its whole row so far as context. Each row starts from a zero state, so fewer rows
    (longer histories) give a slightly lower, more faithful perplexity. Evaluation runs
    in float32, without autocast, so that the number does not depend on the training
    precision; the model's mode (training or not) is restored afterwards.

    Shape:
        ``data`` is ``(B, L)`` ids (``utils.bptt_batchify``), NumPy or a tensor.
    """
    check_int("num_steps", num_steps, minimum=1)
    device = model_device(model)
    data = as_ids(data, device)                                 # (B, L)
    was_training = model.training
    model.eval()
    state, num_tokens = None, 0
    total_nll = torch.zeros((), dtype=torch.float64, device=device)
    for X, Y in itertools.islice(bptt_batches(data, num_steps), smoke_limit(None)):
        logits, state = model(X, state)                         # (B, T, V)
        total_nll += F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(),
                                     Y.reshape(-1), reduction="sum").double()
        num_tokens += Y.numel()
    model.train(was_training)
    return perplexity(float(total_nll) / num_tokens)


def evaluate_perplexity(model: nn.Module, ids: Sequence[int], batch_size: int,
                        num_steps: int) -> float:
    """Perplexity of a flat token stream, laid out as ``batch_size`` rows first.

    ``evaluate(model, utils.bptt_batchify(ids, batch_size), num_steps)``: the few
    tokens that do not fill the last row are left out. The model runs on its own
    device.
    """
    return evaluate(model, bptt_batchify(ids, batch_size), num_steps)


def fit(model: nn.Module, train_batches: Iterable, valid_data, cfg: TrainConfig,
        device, *, curves=None, log=None,
        checkpoint_path: str | os.PathLike | None = None) -> dict:
    """Train for ``cfg.num_epochs`` epochs, validating after every one.

    The learning rate follows ``cfg.lr_schedule``. With ``cfg.keep_best`` the model
    ends with the weights of the epoch that validated best: kept in memory, or, when
    ``checkpoint_path`` is given, written there atomically whenever validation
    improves (a run killed mid-write keeps its last good model) and loaded back.

    Args:
        model: a model with the module's contract, already on ``device``.
        train_batches: re-iterable, one pass per epoch, yielding ``(X, Y)`` of
            ``(B, T)`` ids: a ``utils.SeqDataLoader`` or a ``utils.BPTTWindows``.
        valid_data: ``(B_eval, L)`` held-out ids (``utils.bptt_batchify``), read in
            windows of ``cfg.eval_num_steps``.
        cfg: a ``TrainConfig``.
        device: where the model lives.
        curves: a ``utils.LiveCurves`` with two curves (train, validation) that gets
            one point per epoch, or ``None``; the caller shows it.
        log: called with one line per epoch (e.g. ``print``), or ``None``.
        checkpoint_path: where the best weights are written, or ``None`` (memory).

    Returns:
        A dict of lists with one entry per epoch, ``epoch``, ``lr``, ``train_ppl``,
        ``val_ppl``, ``tokens_per_s``, ``seconds``, ``improved``; ``grad_norms`` with
        one entry per step; ``initial_val_ppl`` (before training), ``best_val_ppl``,
        ``best_epoch`` and ``train_seconds`` (training only, validation excluded).
    """
    if not isinstance(cfg, TrainConfig):
        raise TypeError(f"cfg must be a TrainConfig, got {type(cfg).__name__}; build "
                        f"one from the chapter's settings, e.g. TrainConfig("
                        f"num_epochs=cfg.num_epochs, lr=cfg.lr, ...)")
    device = torch.device(device)
    if device.type == "cuda":
        torch.backends.cudnn.enabled = True     # nn.LSTM then runs cuDNN's fused kernel
    use_bf16 = cfg.bf16 and bf16_autocast_works(model, device)
    if cfg.bf16 and log is not None:   # say which precision was chosen, and why
        log("precision: bf16 autocast, native on this device" if use_bf16 else
            "precision: float32 (bf16 is not native on this device, or this model "
            "cannot run under it)")
    step_loss = (fast_step_loss(model, bf16=use_bf16, fused_loss=cfg.fused_loss)
                 if use_bf16 or cfg.fused_loss else lm_step_loss)
    optimizer = make_optimizer(model, cfg, device)
    cosine = (torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=cfg.num_epochs)
              if cfg.lr_schedule == "cosine" else None)
    # Compile once; validation uses the plain module (other batch size, no recompiles).
    step_model = torch.compile(model) if cfg.compile_model else model

    def validate():
        return evaluate(model, valid_data, cfg.eval_num_steps)

    history = {"epoch": [], "lr": [], "train_ppl": [], "val_ppl": [], "tokens_per_s": [],
               "seconds": [], "improved": [], "grad_norms": [],
               "initial_val_ppl": validate(), "train_seconds": 0.0}
    best_ppl, best_epoch, best_weights = math.inf, 0, None
    num_epochs = smoke_limit(cfg.num_epochs, SMOKE_EPOCHS)  # cfg's but in a smoke run
    for epoch in range(1, num_epochs + 1):
        lr = optimizer.param_groups[0]["lr"]
        batches = train_batches
        if epoch == 1 and hasattr(train_batches, "__len__"):   # a long run says so
            what = f"training {num_epochs} epoch" + "s" * (num_epochs != 1)
            batches = announce_long_run(train_batches, len(train_batches) * num_epochs,
                                        what, log or print)
        stats = train_epoch(step_model, batches, optimizer, device, clip=cfg.clip,
                            reset_state=cfg.reset_state, step_loss=step_loss,
                            max_batches=smoke_limit(None))  # None but in a smoke run
        val_ppl = validate()
        improved = val_ppl < best_ppl
        if improved:
            best_ppl, best_epoch = val_ppl, epoch
            if checkpoint_path is not None:
                save_checkpoint(model, checkpoint_path)
            elif cfg.keep_best:
                best_weights = copy.deepcopy(model.state_dict())
        for key, value in (("epoch", epoch), ("lr", lr), ("train_ppl", stats["train_ppl"]),
                           ("val_ppl", val_ppl), ("tokens_per_s", stats["tokens_per_s"]),
                           ("seconds", stats["seconds"]), ("improved", improved)):
            history[key].append(value)
        history["grad_norms"] += stats["grad_norms"]
        history["train_seconds"] += stats["seconds"]
        if curves is not None:
            curves.add(epoch, [stats["train_ppl"], val_ppl])
        if log is not None:
            log(f"epoch {epoch:3d}  lr {lr:7.3f}  train ppl {stats['train_ppl']:8.2f}  "
                f"valid ppl {val_ppl:8.2f}  {stats['tokens_per_s']:,.0f} tokens/s"
                + ("  (saved)" if improved and checkpoint_path is not None else ""))
        if cosine is not None:
            cosine.step()
        elif cfg.lr_schedule == "plateau" and not improved:
            set_lr(optimizer, lr * cfg.lr_decay)
    if cfg.keep_best and best_epoch > 0:
        if checkpoint_path is not None:
            load_checkpoint(model, checkpoint_path)
        else:
            model.load_state_dict(best_weights)
    history.update(best_val_ppl=best_ppl, best_epoch=best_epoch)
    return history


def train(model: nn.Module, train_iter: Iterable, valid_ids: Sequence[int], *,
          num_epochs: int, lr: float, device, optimizer: str = "adam",
          clip: float = 1.0, weight_decay: float = 0.0, cosine_decay: bool = False,
          use_random_iter: bool | None = None, eval_batch_size: int = 16,
          eval_num_steps: int = 64, keep_best: bool = True, curves=None) -> dict:
    """``fit`` with keyword arguments and a flat list of held-out ids.

    The character chapters call this short form: the held-out ids are laid out as
    ``eval_batch_size`` rows, ``cosine_decay`` picks the cosine schedule, and
    ``use_random_iter`` (``None``: read from ``train_iter``) resets the state between
    minibatches. Everything else is ``TrainConfig``'s and ``fit``'s.

    Returns:
        ``fit``'s history.
    """
    check_bool("cosine_decay", cosine_decay)
    if use_random_iter is None:
        use_random_iter = bool(getattr(train_iter, "use_random_iter", False))
    cfg = TrainConfig(num_epochs=num_epochs, lr=lr, optimizer=optimizer, clip=clip,
                      weight_decay=weight_decay,
                      lr_schedule="cosine" if cosine_decay else "constant",
                      reset_state=use_random_iter, eval_num_steps=eval_num_steps,
                      keep_best=keep_best)
    return fit(model, train_iter, bptt_batchify(valid_ids, eval_batch_size), cfg, device,
               curves=curves)


# -------------------------------------------------------------------- sampling


def prompt_tokens(prompt) -> list[str]:
    """A string is split into words; a list (or other sequence) is taken as tokens."""
    tokens = prompt.split() if isinstance(prompt, str) else list(prompt)
    if not tokens:
        raise ValueError("prompt must hold at least one token: the model needs "
                         "something to condition on.")
    return tokens


@torch.no_grad()
def generate(model: nn.Module, vocab, prompt, num_tokens: int,
             temperature: float = 1.0, generator: torch.Generator | None = None
             ) -> list[str]:
    """Continue ``prompt`` by ``num_tokens`` tokens sampled from the model.

    The model first reads the whole prompt (warm-up), then feeds each generated token
    back in. ``temperature=0`` takes the most likely token every time (greedy
    decoding); otherwise the next token is drawn from ``softmax(logits /
    temperature)``: below 1 sharpens the distribution (safer, more repetitive text),
    above 1 flattens it.

    Args:
        model: a model with the module's contract.
        vocab: the ``Vocab`` of the model's tokens (unknown ones map to ``<unk>``).
        prompt: a string of space-separated words, or a list of tokens (characters,
            for a character model); not empty.
        num_tokens: how many tokens to add.
        temperature: ``>= 0``.
        generator: a seeded ``torch.Generator`` (CPU) for repeatable samples.

    Returns:
        The prompt's tokens followed by the generated ones.
    """
    check_int("num_tokens", num_tokens, minimum=0)
    check_number("temperature", temperature, minimum=0.0)
    tokens = prompt_tokens(prompt)
    device = model_device(model)
    was_training = model.training
    model.eval()
    logits, state = model(as_ids([vocab[tokens]], device), None)      # (1, T, V)
    for _ in range(num_tokens):
        index = sample_next_token(logits[0, -1], temperature, generator)  # from (V,)
        tokens.append(vocab.to_tokens(index))
        logits, state = model(as_ids([[index]], device), state)       # (1, 1, V)
    model.train(was_training)
    return tokens


def predict(prefix, num_preds: int, model: nn.Module, vocab, temperature: float = 0.0,
            seed: int | None = None, sep: str = "") -> str:
    """Continue ``prefix`` by ``num_preds`` tokens and return the text (``generate``).

    Args:
        prefix: a string (split into characters) or a list of tokens.
        num_preds: how many tokens to generate.
        model: a model with the module's contract.
        vocab: the ``Vocab`` of the model's tokens.
        temperature: 0 for greedy decoding, else the sampling temperature.
        seed: seeds the sampling (ignored when greedy); ``None`` is not reproducible.
        sep: what joins the tokens (``""`` for characters, ``" "`` for words).
    """
    check_int("num_preds", num_preds, minimum=0)
    generator = torch.Generator()
    if seed is not None:
        generator.manual_seed(seed)
    else:
        generator.seed()
    tokens = list(prefix)  # a string becomes its characters; a list stays a token list
    return sep.join(generate(model, vocab, tokens, num_preds, temperature, generator))


@torch.no_grad()
def next_token_probs(prefix, model: nn.Module, vocab, temperature: float = 1.0
                     ) -> torch.Tensor:
    """The model's distribution over the token after ``prefix``, on the CPU.

    ``prefix`` is a string (its characters) or a list of tokens. ``temperature``
    divides the logits before the softmax: below 1 sharpens the distribution, above 1
    flattens it.

    Shape:
        returns ``(V,)`` probabilities.
    """
    check_number("temperature", temperature, strictly_above=0.0)
    tokens = prompt_tokens(list(prefix))
    was_training = model.training
    model.eval()
    logits, _ = model(as_ids([vocab[tokens]], model_device(model)), None)  # (1, T, V)
    model.train(was_training)
    return torch.softmax(logits[0, -1].float().cpu() / temperature, dim=-1)


# ------------------------------------------------------- character chapters


def fit_char_lm(make_rnn, train_ids, valid_ids, vocab_size: int, cfg, device,
                curves=None):
    """Train an ``RNNLM`` around a fresh recurrent module with a chapter's settings.

    Seeding before the module is built gives every model the same data order and a
    comparable initial draw, so that models trained one after the other compare fairly.

    Args:
        make_rnn: a function of no arguments that builds the time-major recurrent
            module (its ``input_size`` must be ``vocab_size``: one-hot characters).
        train_ids, valid_ids: the token ids of the training and held-out text.
        vocab_size: ``V``.
        cfg: the chapter's config, read for ``seed``, ``batch_size``, ``num_steps``,
            ``dropout``, ``num_epochs``, ``lr``, ``clip`` and ``cosine_decay``.
        device: where to train.
        curves: a ``utils.LiveCurves`` (train, validation) for the epochs, or
            ``None``.

    Returns:
        ``(model, history)``, ``history`` as ``utils.torch.train.train`` returns.
    """
    set_seed(cfg.seed)
    model = RNNLM(make_rnn(), vocab_size, dropout=cfg.dropout).to(device)
    train_iter = SeqDataLoader(train_ids, cfg.batch_size, cfg.num_steps, seed=cfg.seed)
    history = train(model, train_iter, valid_ids, num_epochs=cfg.num_epochs, lr=cfg.lr,
                    device=device, clip=cfg.clip,
                    cosine_decay=cfg.cosine_decay, curves=curves)
    return model, history


def lm_metrics(model: nn.Module, history: dict) -> dict:
    """The numbers a results record keeps about one trained language model.

    Returns:
        ``{"val_ppl", "train_ppl", "tokens_per_s", "num_params"}``: the best validation
        perplexity, the training perplexity of the last epoch, the mean training
        throughput over the epochs, and the number of trainable parameters.
    """
    speeds = history["tokens_per_s"]
    return {"val_ppl": history["best_val_ppl"], "train_ppl": history["train_ppl"][-1],
            "tokens_per_s": sum(speeds) / len(speeds),
            "num_params": count_parameters(model)}
