"""Train, evaluate and sample the recurrent language models of ``utils.torch.rnn``.

* ``train_epoch`` runs one epoch of truncated backpropagation through time;
* ``train`` runs several, measures validation perplexity after each, adds a point
  per epoch to the caller's curves (if any) and returns the history;
* ``evaluate_perplexity`` measures perplexity on a held-out token stream;
* ``predict`` and ``next_token_probs`` generate text, greedily or by sampling;
* ``fit_char_lm`` and ``lm_metrics`` train a character model with a chapter's config
  and summarise it, so that several models train under identical settings.

Every function takes what it needs as arguments; none reads notebook globals.
Models follow the ``RNNLM`` contract: ``model(X, state) -> (logits, state)`` with ``X``
``(B, T)`` ids and ``logits`` ``(B, T, V)``.
"""
from __future__ import annotations

import copy
import math
from collections.abc import Iterable, Sequence

import torch
from torch import nn
from torch.nn import functional as F

from ..batching import SeqDataLoader, bptt_batches, bptt_batchify
from ..checks import check_int, check_number
from ..runs import Timer, set_seed
from .rnn import RNNLM
from .core import (as_ids, clip_gradients, count_parameters, detach_state,
                          perplexity, sample_next_token)

__all__ = ["train_epoch", "train", "evaluate_perplexity", "predict",
           "next_token_probs"]


def train_epoch(model: nn.Module, train_iter: Iterable, loss_fn: nn.Module,
                optimizer: torch.optim.Optimizer, device, clip: float = 1.0,
                use_random_iter: bool = False) -> dict:
    """One epoch of truncated backpropagation through time.

    With sequential partitioning (``use_random_iter=False``) row ``b`` of a minibatch
    continues row ``b`` of the previous one, so the final state is carried over and
    *detached*: its values stay, the graph behind it goes, and gradients flow back at
    most ``T`` steps. With random sampling the minibatches are unrelated and the state
    is *reset* to zeros for each.

    Args:
        model: an ``RNNLM``-like model.
        train_iter: yields ``(X, Y)`` pairs of ``(B, T)`` ids (NumPy or tensors).
        loss_fn: a loss on ``(N, V)`` logits and ``(N,)`` targets with mean reduction,
            e.g. ``nn.CrossEntropyLoss()``.
        optimizer: updates ``model``'s parameters.
        device: where the model lives.
        clip: clip the global gradient norm to this (``math.inf``: no clipping).
        use_random_iter: reset (true) or detach (false) the state between minibatches.

    Returns:
        ``{"train_ppl", "tokens_per_s", "grad_norms", "num_tokens", "seconds"}``;
        ``grad_norms`` lists the gradient norm of every step, before clipping.
    """
    model.train()
    state, nll_sum, num_tokens, grad_norms = None, 0.0, 0, []
    timer = Timer()
    for X, Y in train_iter:
        X, Y = as_ids(X, device), as_ids(Y, device)             # (B, T) each
        state = None if use_random_iter else detach_state(state)
        logits, state = model(X, state)                         # (B, T, V)
        loss = loss_fn(logits.reshape(-1, logits.shape[-1]), Y.reshape(-1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        grad_norms.append(clip_gradients(model.parameters(), clip))
        optimizer.step()
        nll_sum += loss.item() * Y.numel()
        num_tokens += Y.numel()
    seconds = timer.stop()
    if num_tokens == 0:
        raise ValueError("train_iter yielded no minibatch: the corpus is too short for "
                         "its batch_size and num_steps.")
    return {"train_ppl": perplexity(nll_sum / num_tokens),
            "tokens_per_s": num_tokens / seconds, "grad_norms": grad_norms,
            "num_tokens": num_tokens, "seconds": seconds}


@torch.no_grad()
def evaluate_perplexity(model: nn.Module, ids: Sequence[int], batch_size: int,
                        num_steps: int, device) -> float:
    """Perplexity of ``model`` on a token stream: ``exp`` of the mean cross-entropy.

    The stream is laid out as ``batch_size`` contiguous rows (``bptt_batchify``) and
    read in windows of ``num_steps``, carrying the state from window to window, so
    every token but the first of each row is predicted with its whole row as context.
    The few tokens that do not fill the last row are left out.

    Args:
        model: an ``RNNLM``-like model (put in eval mode here, then restored).
        ids: the token ids, e.g. the held-out tail of the corpus.
        batch_size, num_steps: the layout; they change the result only slightly.
        device: where the model lives.
    """
    was_training = model.training
    model.eval()
    data = bptt_batchify(ids, batch_size)                       # (B, L)
    state, nll_sum, num_tokens = None, 0.0, 0
    for X, Y in bptt_batches(data, num_steps):
        X, Y = as_ids(X, device), as_ids(Y, device)             # (B, T) each
        logits, state = model(X, state)                         # (B, T, V)
        nll_sum += F.cross_entropy(logits.reshape(-1, logits.shape[-1]),
                                   Y.reshape(-1), reduction="sum").item()
        num_tokens += Y.numel()
    model.train(was_training)
    return perplexity(nll_sum / num_tokens)


def _make_optimizer(name: str, params, lr: float, weight_decay: float):
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, weight_decay=weight_decay)
    raise ValueError(f"optimizer must be 'adam' or 'sgd', got {name!r}")


def train(model: nn.Module, train_iter: Iterable, valid_ids: Sequence[int], *,
          num_epochs: int, lr: float, device, optimizer: str = "adam",
          clip: float = 1.0, weight_decay: float = 0.0, cosine_decay: bool = False,
          use_random_iter: bool | None = None, eval_batch_size: int = 16,
          eval_num_steps: int = 64, keep_best: bool = True, curves=None) -> dict:
    """Train a language model and measure validation perplexity after every epoch.

    Args:
        model: an ``RNNLM``-like model, already on ``device``.
        train_iter: re-iterable, one pass per epoch, e.g. ``utils.SeqDataLoader``.
        valid_ids: the held-out token ids.
        num_epochs: passes over ``train_iter``.
        lr: learning rate.
        device: where the model lives.
        optimizer: ``"adam"`` or ``"sgd"``.
        clip: gradient clipping threshold (``math.inf`` to only measure the norm).
        weight_decay: L2 penalty passed to the optimizer.
        cosine_decay: anneal the learning rate to zero along a cosine, by epoch.
        use_random_iter: reset (true) or carry and detach (false) the state between
            minibatches; ``None`` reads ``train_iter.use_random_iter``.
        eval_batch_size, eval_num_steps: the layout of ``evaluate_perplexity``.
        keep_best: at the end, load the weights of the epoch with the best
            validation perplexity (early stopping without stopping).
        curves: a ``utils.LiveCurves`` with two curves (train, validation) that
            gets one point per epoch, or ``None``; the caller shows it (``show()``),
            as with every training loop of the book.

    Returns:
        A dict of lists with one entry per epoch, ``epoch``, ``train_ppl``,
        ``val_ppl``, ``tokens_per_s``, ``lr``; ``grad_norms`` with one entry per step;
        and ``initial_val_ppl`` (before training), ``best_val_ppl``, ``best_epoch``,
        ``train_seconds`` (training only, evaluation excluded).
    """
    check_int("num_epochs", num_epochs, minimum=1)
    check_number("lr", lr, strictly_above=0.0)
    if use_random_iter is None:
        use_random_iter = bool(getattr(train_iter, "use_random_iter", False))
    opt = _make_optimizer(optimizer, model.parameters(), lr, weight_decay)
    schedule = (torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=num_epochs)
                if cosine_decay else None)
    loss_fn = nn.CrossEntropyLoss()

    def validate():
        return evaluate_perplexity(model, valid_ids, eval_batch_size, eval_num_steps,
                                   device)

    history = {"epoch": [], "train_ppl": [], "val_ppl": [], "tokens_per_s": [],
               "lr": [], "grad_norms": [], "initial_val_ppl": validate(),
               "train_seconds": 0.0}
    best_ppl, best_epoch, best_weights = math.inf, 0, None
    for epoch in range(1, num_epochs + 1):
        history["lr"].append(opt.param_groups[0]["lr"])
        stats = train_epoch(model, train_iter, loss_fn, opt, device, clip,
                            use_random_iter)
        if schedule is not None:
            schedule.step()
        val_ppl = validate()
        for key in ("train_ppl", "tokens_per_s"):
            history[key].append(stats[key])
        history["epoch"].append(epoch)
        history["val_ppl"].append(val_ppl)
        history["grad_norms"] += stats["grad_norms"]
        history["train_seconds"] += stats["seconds"]
        if val_ppl < best_ppl:
            best_ppl, best_epoch = val_ppl, epoch
            if keep_best:
                best_weights = copy.deepcopy(model.state_dict())
        if curves is not None:
            curves.add(epoch, [stats["train_ppl"], val_ppl])
    if keep_best and best_weights is not None:
        model.load_state_dict(best_weights)
    history.update(best_val_ppl=best_ppl, best_epoch=best_epoch)
    return history


def _prefix_ids(prefix, vocab) -> list[int]:
    tokens = list(prefix)  # a string becomes its characters; a list stays a token list
    if not tokens:
        raise ValueError("prefix must hold at least one token: the model needs "
                         "something to condition on.")
    return vocab[tokens]


@torch.no_grad()
def next_token_probs(prefix, model: nn.Module, vocab, device,
                     temperature: float = 1.0) -> torch.Tensor:
    """The model's distribution over the token after ``prefix``, on the CPU.

    ``temperature`` divides the logits before the softmax: below 1 sharpens the
    distribution, above 1 flattens it.

    Shape:
        returns ``(V,)`` probabilities.
    """
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    was_training = model.training
    model.eval()
    logits, _ = model(as_ids([_prefix_ids(prefix, vocab)], device), None)  # (1, T, V)
    model.train(was_training)
    return torch.softmax(logits[0, -1].float().cpu() / temperature, dim=-1)


@torch.no_grad()
def predict(prefix, num_preds: int, model: nn.Module, vocab, device,
            temperature: float = 0.0, seed: int | None = None, sep: str = "") -> str:
    """Continue ``prefix`` by ``num_preds`` tokens.

    The model first reads the whole prefix (warm-up), then feeds each generated token
    back in. ``temperature=0`` picks the most likely token every time (greedy, so the
    same model always writes the same text); ``temperature > 0`` samples from
    ``softmax(logits / temperature)`` with a generator seeded by ``seed``.

    Args:
        prefix: a string (split into characters) or a list of tokens.
        num_preds: how many tokens to generate.
        model: an ``RNNLM``-like model.
        vocab: the ``Vocab`` of the model's tokens.
        device: where the model lives.
        temperature: 0 for greedy decoding, else the sampling temperature.
        seed: seeds the sampling (ignored when greedy); ``None`` is not reproducible.
        sep: what joins the tokens (``""`` for characters, ``" "`` for words).

    Returns:
        The prefix followed by the generated tokens, as one string.
    """
    check_int("num_preds", num_preds, minimum=0)
    check_number("temperature", temperature, minimum=0.0)
    generator = torch.Generator()
    if seed is not None:
        generator.manual_seed(seed)
    else:
        generator.seed()
    was_training = model.training
    model.eval()
    tokens = list(prefix)
    logits, state = model(as_ids([_prefix_ids(prefix, vocab)], device), None)  # (1, T, V)
    for _ in range(num_preds):
        index = sample_next_token(logits[0, -1], temperature, generator)  # from (V,)
        tokens.append(vocab.to_tokens(index))
        logits, state = model(as_ids([[index]], device), state)  # (1, 1, V)
    model.train(was_training)
    return sep.join(tokens)


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
