"""A word-level LSTM language model in PaddlePaddle, after PaddleNLP's ``rnnlm``.

What PaddleNLP's example provides, written out here so that the chapter needs only
``paddle`` itself:

* ``RnnLm``: embedding → dropout → stacked ``paddle.nn.LSTM`` → dropout → linear
  decoder, with uniform initialisation in ``[-init_scale, init_scale]``;
* ``CrossEntropyLossForLm``: cross entropy **summed over time steps and averaged over
  the batch**, the convention of Zaremba et al. (2014) that the example keeps;
* the reader: one token stream per split, laid out as ``batch_size`` rows and walked in
  windows of ``num_steps`` (``utils.bptt_batchify`` / ``utils.bptt_batches``, shared
  with the other frameworks);
* the training loop, with the learning-rate decay and global-norm clipping of the
  example (``make_sgd``), and perplexity on a held-out stream (``evaluate_lm``).

Departures from the example, on purpose: the model follows the book's contract
``forward(X, state=None) -> (outputs, state)`` instead of keeping its state in
attributes, and the training loop (not the model) detaches the state between batches;
the embedding size is a separate argument (the example ties it to the hidden size).

``train_reference_lm`` trains the shared reference model of the framework comparison
(``utils.lm_compare``).
"""
from __future__ import annotations

import math
import time

import numpy as np

from ..batching import bptt_batches
from ..checks import check_int, check_lr_decay, check_number
from ..lm_compare import checked_weights
from . import import_paddle
from .core import to_tensor
from ..runs import smoke_limit

paddle = import_paddle()
nn = paddle.nn
F = paddle.nn.functional


def uniform_attr(init_scale: float):
    return paddle.ParamAttr(initializer=nn.initializer.Uniform(-init_scale, init_scale))


class RnnLm(nn.Layer):
    """An LSTM language model: embedding, stacked LSTM, linear decoder onto the words.

    Dropout acts on the embeddings, between LSTM layers and on the LSTM outputs (the
    non-recurrent connections, as in Zaremba et al., 2014).

    Args:
        vocab_size: ``V``.
        embed_size: ``E``.
        num_hiddens: ``H``, the width of every LSTM layer.
        num_layers: the number of stacked LSTM layers.
        dropout: the dropout probability.
        init_scale: embedding, LSTM weights and decoder weight and bias start uniform in
            ``[-init_scale, init_scale]``; the LSTM biases keep Paddle's default.

    Shape:
        ``X`` is ``(B, T)`` int64; ``state`` is a pair ``(h, c)`` of ``(L, B, H)``
        tensors (``L`` layers) or ``None`` for zeros; returns logits ``(B, T, V)`` and
        the final state.
    """

    def __init__(self, vocab_size: int, embed_size: int, num_hiddens: int,
                 num_layers: int = 1, dropout: float = 0.0, init_scale: float = 0.1):
        super().__init__()
        self.num_layers, self.num_hiddens = num_layers, num_hiddens
        self.embedding = nn.Embedding(vocab_size, embed_size,
                                      weight_attr=uniform_attr(init_scale))
        self.lstm = nn.LSTM(embed_size, num_hiddens, num_layers=num_layers,
                            dropout=dropout if num_layers > 1 else 0.0,
                            weight_ih_attr=uniform_attr(init_scale),
                            weight_hh_attr=uniform_attr(init_scale))
        self.dropout = nn.Dropout(p=dropout)
        self.decoder = nn.Linear(num_hiddens, vocab_size,
                                 weight_attr=uniform_attr(init_scale),
                                 bias_attr=uniform_attr(init_scale))

    def begin_state(self, batch_size: int):
        """The zero state ``(h, c)``, each ``(L, B, H)``."""
        shape = [self.num_layers, batch_size, self.num_hiddens]
        return paddle.zeros(shape, "float32"), paddle.zeros(shape, "float32")

    def forward(self, X, state=None):
        if state is None:
            state = self.begin_state(X.shape[0])
        embs = self.dropout(self.embedding(X))         # (B, T, E)
        outputs, state = self.lstm(embs, state)        # (B, T, H); (L, B, H) twice
        logits = self.decoder(self.dropout(outputs))   # (B, T, V)
        return logits, state


class CrossEntropyLossForLm(nn.Layer):
    """Cross entropy summed over the time steps and averaged over the batch.

    For a window of ``T`` steps this is ``T`` times the per-token mean cross entropy,
    so the per-token loss, and the perplexity, follow as ``exp(loss / T)``. The larger
    scale matters for the optimiser: with plain SGD it multiplies the step by ``T``, and
    it is the loss whose gradient norm ``ClipGradByGlobalNorm`` bounds.

    Shape:
        ``logits`` ``(B, T, V)``, ``labels`` ``(B, T)`` int64; returns a scalar.
    """

    def forward(self, logits, labels):
        token_losses = F.cross_entropy(logits, labels.unsqueeze(-1),
                                       reduction="none").squeeze(-1)  # (B, T)
        return token_losses.mean(axis=0).sum()


def load_reference_weights(model: RnnLm, weights: dict) -> None:
    """Load the comparison's shared initial weights into ``model``; every bias zero.

    ``weights`` are ``utils.lm_compare.reference_weights``, in PyTorch's layout. Paddle's
    LSTM stores ``weight_ih_l{l}`` and ``weight_hh_l{l}`` as ``(4H, *)`` with the gates
    in the same order, but its ``Linear`` keeps the weight as ``(in, out)``, so the
    decoder's ``(V, H)`` array is loaded transposed.
    """
    params = dict(model.named_parameters())
    targets = {"embedding": params["embedding.weight"]}
    for layer in range(model.num_layers):
        targets[f"lstm.l{layer}.w_ih"] = params[f"lstm.weight_ih_l{layer}"]
        targets[f"lstm.l{layer}.w_hh"] = params[f"lstm.weight_hh_l{layer}"]
    decoder_weight = params["decoder.weight"]                      # (H, V)
    shapes = {name: tuple(param.shape) for name, param in targets.items()}
    shapes["decoder.weight"] = tuple(decoder_weight.shape)[::-1]  # (V, H)
    checked_weights(weights, shapes)
    for name, param in params.items():
        if "bias" in name:
            param.set_value(np.zeros(param.shape, dtype=np.float32))
    for name, param in targets.items():
        param.set_value(weights[name])
    decoder_weight.set_value(np.ascontiguousarray(weights["decoder.weight"].T))


def lr_at_epoch(epoch: int, lr: float, lr_decay: float,
                epoch_start_decay: int) -> float:
    """The learning rate of epoch ``epoch`` (from 0) under the example's schedule.

    ``lr`` for epochs ``0 .. epoch_start_decay - 1``, then ``lr_decay`` (a factor in
    (0, 1]) times the previous epoch's rate.
    """
    check_int("epoch", epoch, minimum=0)
    check_int("epoch_start_decay", epoch_start_decay, minimum=0)
    lr = check_number("lr", lr, strictly_above=0.0)
    lr_decay = check_lr_decay("lr_decay", lr_decay)
    return lr * lr_decay ** max(epoch + 1 - epoch_start_decay, 0)


def make_sgd(model: nn.Layer, lr: float, lr_decay: float, epoch_start_decay: int,
             clip: float):
    """SGD with the example's schedule and clipping; returns ``(optimizer, scheduler)``.

    The learning rate is ``lr`` for the first ``epoch_start_decay`` epochs and is then
    multiplied by ``lr_decay`` after every epoch; call ``scheduler.step()`` once per
    epoch. Gradients are rescaled so that their global L2 norm is at most ``clip``
    (Pascanu et al., 2013).
    """
    lr_at_epoch(0, lr, lr_decay, epoch_start_decay)  # checks the schedule's arguments
    clip = check_number("clip", clip, strictly_above=0.0)

    def factor(epoch: int) -> float:
        return lr_at_epoch(epoch, 1.0, lr_decay, epoch_start_decay)

    scheduler = paddle.optimizer.lr.LambdaDecay(learning_rate=lr, lr_lambda=factor)
    optimizer = paddle.optimizer.SGD(learning_rate=scheduler,
                                     parameters=model.parameters(),
                                     grad_clip=nn.ClipGradByGlobalNorm(clip))
    return optimizer, scheduler


def train_lm_epoch(model: nn.Layer, loss_fn, optimizer, data: np.ndarray,
                   num_steps: int, max_batches: int | None = None,
                   on_batch=None) -> tuple[float, float]:
    """One pass over a batchified stream, carrying the state and detaching it.

    Args:
        model: an ``RnnLm``.
        loss_fn: e.g. ``CrossEntropyLossForLm()``; any loss whose value divided by ``T``
            is the per-token cross entropy.
        optimizer: a Paddle optimiser over the model's parameters.
        data: ``(B, L)`` ids from ``utils.bptt_batchify``.
        num_steps: ``T``, the truncation length of backpropagation through time.
        max_batches: stop after this many windows (all when ``None``).
        on_batch: called as ``on_batch(batch_index, per_token_loss)`` after each update.

    Returns:
        ``(mean per-token cross entropy, tokens per second)``.
    """
    max_batches = smoke_limit(max_batches)  # unchanged but in a smoke run
    model.train()
    state, total_loss, total_tokens = None, 0.0, 0
    start = time.perf_counter()
    for i, (X, Y) in enumerate(bptt_batches(data, num_steps)):
        if max_batches is not None and i >= max_batches:
            break
        logits, state = model(to_tensor(X), state)
        state = tuple(s.detach() for s in state)  # truncated backpropagation
        loss = loss_fn(logits, to_tensor(Y))
        loss.backward()
        optimizer.step()
        optimizer.clear_grad()
        per_token = float(loss) / X.shape[1]
        total_loss += per_token * Y.size
        total_tokens += Y.size
        if on_batch is not None:
            on_batch(i, per_token)
    seconds = time.perf_counter() - start
    return total_loss / total_tokens, total_tokens / seconds


def evaluate_lm(model: nn.Layer, data: np.ndarray, num_steps: int,
                max_batches: int | None = None) -> float:
    """The mean per-token cross entropy (nats) of a model on a batchified stream.

    The state is carried across windows, from zeros at the start, and dropout is off.
    ``math.exp`` of the result is the perplexity.

    Shape:
        ``data`` is ``(B, L)``.
    """
    max_batches = smoke_limit(max_batches)  # unchanged but in a smoke run
    model.eval()
    state, total_loss, total_tokens = None, 0.0, 0
    with paddle.no_grad():
        for i, (X, Y) in enumerate(bptt_batches(data, num_steps)):
            if max_batches is not None and i >= max_batches:
                break
            logits, state = model(to_tensor(X), state)
            loss = F.cross_entropy(logits, to_tensor(Y).unsqueeze(-1), reduction="sum")
            total_loss += float(loss)
            total_tokens += Y.size
    return total_loss / total_tokens


def train_reference_lm(train_data: np.ndarray, valid_data: np.ndarray, vocab_size: int,
                       cfg, num_updates: int, seed: int, weights: dict) -> dict:
    """Train the comparison's reference model in Paddle (see ``utils.lm_compare``).

    Runs on the CPU. Per-token mean cross entropy, plain SGD at ``cfg.lr``, global-norm
    clipping at ``cfg.clip``, the shared initial ``weights``
    (``utils.lm_compare.reference_weights``) and zero biases, the state carried and
    detached across windows; the training stream is walked from its start and wraps
    around if it runs out. ``seed`` seeds Paddle's generator (the dropout masks).

    Returns:
        a dict with ``val_ppl``, ``train_losses`` (per-token, one per update),
        ``train_seconds`` and ``tokens_per_s``.
    """
    paddle.set_device("cpu")  # the comparison's device, in every framework
    paddle.seed(seed)  # the dropout masks
    model = RnnLm(vocab_size, cfg.embed_size, cfg.num_hiddens, cfg.num_layers,
                  cfg.dropout, cfg.init_scale)
    load_reference_weights(model, weights)
    optimizer = paddle.optimizer.SGD(learning_rate=cfg.lr,
                                     parameters=model.parameters(),
                                     grad_clip=nn.ClipGradByGlobalNorm(cfg.clip))
    model.train()
    state, losses, tokens = None, [], 0
    start = time.perf_counter()
    while len(losses) < num_updates:
        for X, Y in bptt_batches(train_data, cfg.num_steps):
            if len(losses) == num_updates:
                break
            logits, state = model(to_tensor(X), state)
            state = tuple(s.detach() for s in state)
            loss = F.cross_entropy(logits, to_tensor(Y).unsqueeze(-1))  # per-token mean
            loss.backward()
            optimizer.step()
            optimizer.clear_grad()
            losses.append(float(loss))
            tokens += Y.size
        state = None  # a new pass over the stream starts from zeros
    seconds = time.perf_counter() - start
    val_nll = evaluate_lm(model, valid_data, cfg.num_steps)
    return {"val_ppl": math.exp(val_nll), "train_losses": losses,
            "train_seconds": seconds, "tokens_per_s": tokens / seconds}
