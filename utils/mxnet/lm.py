"""Word-level LSTM language models in MXNet Gluon and GluonNLP.

Two users share the pieces of this module:

* the chapter ``07-language-models-mxnet`` trains GluonNLP's ``standard_lstm_lm_200``
  on WikiText-2 the way the GluonNLP tutorial does (``fit``): time-major ``(T, B)``
  batches from ``nlp.data.batchify.CorpusBPTTBatchify``, SGD, global-norm clipping,
  the learning rate divided by 4 whenever validation stops improving, the best
  parameters kept in an atomically written file;
* the framework comparison (``utils.lm_compare``) trains ``ReferenceLM`` with
  ``train_reference_lm`` on the batch-first NumPy windows that every framework shares
  (``utils.bptt_batchify`` / ``utils.bptt_batches``).

Both go through the same ``train_step`` (forward, per-token cross entropy, backward,
``gluon.utils.clip_global_norm``, ``Trainer.step``), ``detach`` and ``evaluate``.
Importing this module imports MXNet (through ``utils.mxnet``).
"""
from __future__ import annotations

import itertools

import math
import os
import time
from pathlib import Path

import numpy as np

from ..batching import bptt_batches, bptt_batchify
from ..checks import check_lr_decay
from ..lm_compare import checked_weights
from . import import_mxnet
from .core import select_device
from ..runs import set_seed, smoke_limit

mx, nlp = import_mxnet()
from mxnet import autograd, gluon  # noqa: E402  (after the shims of import_mxnet)
from mxnet.gluon import nn, rnn  # noqa: E402

LOSS = gluon.loss.SoftmaxCrossEntropyLoss()  # cross entropy per token, from logits


# ------------------------------------------------------------ shared training pieces


def detach(state):
    """Cut the graph behind a recurrent state (an NDArray or a list of them).

    Truncated backpropagation through time: the values carry over to the next
    minibatch, the gradients stop at its first step.
    """
    if isinstance(state, (list, tuple)):
        return [detach(s) for s in state]
    return state.detach()


def token_nll(output, target):
    """Cross entropy of every token, flat.

    Shape:
        ``output`` ``(..., V)`` logits and ``target`` ``(...)`` ids, in either layout
        (``(T, B)`` or ``(B, T)``); returns ``(N,)`` with ``N`` the number of tokens.
    """
    return LOSS(output.reshape((-1, output.shape[-1])), target.reshape((-1,)))


def train_step(model, trainer, X, Y, state, clip: float):
    """One update: forward, mean cross entropy per token, backward, clip, SGD step.

    Args:
        model: a block called as ``model(X, state) -> (logits, state)``.
        trainer: a ``gluon.Trainer`` over the model's parameters.
        X, Y: inputs and next-token targets, same shape.
        state: the state the previous window ended in; it is detached here.
        clip: the largest global L2 norm the gradients may keep (Pascanu et al., 2013).

    Returns:
        ``(loss, state, grad_norm)``: the mean loss (a one-element NDArray), the
        state the window ended in, and the gradient norm before clipping.
    """
    state = detach(state)
    with autograd.record():
        output, state = model(X, state)
        loss = token_nll(output, Y).mean()
    loss.backward()
    grads = [p.grad(X.context) for p in model.collect_params().values()
             if p.grad_req != "null"]
    grad_norm = gluon.utils.clip_global_norm(grads, clip)
    trainer.step(1)  # the loss is already a mean: no further division
    return loss, state, grad_norm


def evaluate(model, batches, state, max_batches: int | None = None) -> float:
    """The mean cross entropy per token (nats) over ``batches``, dropout off.

    Args:
        model: a block called as ``model(X, state) -> (logits, state)``.
        batches: an iterable of ``(X, Y)`` NDArray pairs in the model's layout.
        state: the initial state (``model.begin_state(...)``), carried across windows.
        max_batches: stop after this many windows (``None``: all of them).
    """
    total, num_tokens = 0.0, 0
    for i, (X, Y) in enumerate(batches):
        if max_batches is not None and i >= max_batches:
            break
        output, state = model(X, state)  # outside autograd.record: predict mode
        total += float(token_nll(output, Y).sum().asscalar())
        num_tokens += Y.size
    if num_tokens == 0:
        raise ValueError("evaluate() got no batches: check the data and max_batches.")
    return total / num_tokens


def save_parameters_atomic(block, path: str | os.PathLike) -> Path:
    """Save a block's parameters to ``path`` atomically and return the path.

    MXNet writes to a temporary file in the same folder, which is then renamed over
    ``path`` (``os.replace`` is atomic on one file system): a run killed mid-write
    leaves the previous file intact, never a truncated one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # A name of our own (not mkstemp's private 0600 file): MXNet creates it with the
    # usual permissions; the process id keeps two writers apart.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        block.save_parameters(str(tmp))
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


# ------------------------------------------------ the chapter: GluonNLP's tutorial path


def epoch_batches(data, epoch: int, batches_per_epoch: int | None):
    """The windows of one epoch: all of ``data``, or the ``epoch``-th slice of it.

    With ``batches_per_epoch`` set, epoch 0 reads windows ``0 .. n-1``, epoch 1 reads
    ``n .. 2n-1`` and so on (wrapping around), so that short epochs see new text.

    Args:
        data: an indexable dataset of ``(X, Y)`` windows (``CorpusBPTTBatchify``).
    """
    if batches_per_epoch is not None and batches_per_epoch < 1:
        raise ValueError(f"batches_per_epoch must be None or at least 1, "
                         f"got {batches_per_epoch}")
    batches_per_epoch = smoke_limit(batches_per_epoch)  # unchanged but in a smoke run
    if batches_per_epoch is None:
        return [data[i] for i in range(len(data))]
    start = epoch * batches_per_epoch
    return [data[(start + i) % len(data)] for i in range(batches_per_epoch)]


def first_batches(data, max_batches: int | None):
    """The first ``max_batches`` windows of a dataset (all of them for ``None``)."""
    max_batches = smoke_limit(max_batches)  # unchanged but in a smoke run
    count = len(data) if max_batches is None else min(max_batches, len(data))
    return [data[i] for i in range(count)]


def split_windows(ids, batch_size: int, num_steps: int, ctx=None) -> list:
    """Every token of an evaluation split as time-major ``(X, Y)`` windows.

    ``CorpusBPTTBatchify(..., last_batch="discard")`` drops the end of every row that
    does not fill a whole window (on WikiText-2's validation split, 646 of 217,646
    tokens), and ``last_batch="keep"`` pads with a padding token that the chapter's
    vocabulary does not have. Here the ids are laid out as ``batch_size`` rows
    (``utils.bptt_batchify``, which drops only the last ``len(ids) % batch_size``
    tokens) and walked with a shorter last window (``utils.bptt_batches``): every
    token of a row but its first, which is only read, is a target exactly once.

    Args:
        ids: the split as one stream of ids.
        batch_size: ``B``, the number of rows (each starts from a zero state).
        num_steps: ``T``, the window length.
        ctx: the MXNet context (default: the CPU).

    Shape:
        each window is ``(T, B)`` float32, as ``CorpusBPTTBatchify`` makes them; the
        last one may have fewer steps.
    """
    ctx = ctx or mx.cpu()
    data = bptt_batchify(ids, batch_size)                      # (B, L)
    windows = itertools.islice(bptt_batches(data, num_steps), smoke_limit(None))
    return [(mx.nd.array(X.T, ctx=ctx, dtype="float32"),
             mx.nd.array(Y.T, ctx=ctx, dtype="float32")) for X, Y in windows]


def train_epoch(model, trainer, batches, cfg, ctx, log=print) -> dict:
    """One pass over ``batches`` from a zero state; returns ``train_nll`` and speed.

    Every ``cfg.log_interval`` windows, ``log`` gets a line with the running loss,
    perplexity and throughput, as in the GluonNLP tutorial.

    Shape:
        each window is ``(T, B)`` (time-major, as ``CorpusBPTTBatchify`` makes them).
    """
    state = model.begin_state(batch_size=cfg.batch_size, func=mx.nd.zeros, ctx=ctx)
    total, interval_total, num_tokens = 0.0, 0.0, 0
    start = interval_start = time.perf_counter()
    for i, (X, Y) in enumerate(batches, start=1):
        X, Y = X.as_in_context(ctx), Y.as_in_context(ctx)
        loss, state, _ = train_step(model, trainer, X, Y, state, cfg.clip)
        loss = float(loss.asscalar())
        total, interval_total, num_tokens = total + loss, interval_total + loss, \
            num_tokens + Y.size
        if log is not None and i % cfg.log_interval == 0:
            mean = interval_total / cfg.log_interval
            speed = cfg.log_interval * Y.size / (time.perf_counter() - interval_start)
            log(f"  batch {i:5d}/{len(batches)}  loss {mean:.2f}"
                f"  ppl {math.exp(mean):8.1f}  {speed:,.0f} tokens/s")
            interval_total, interval_start = 0.0, time.perf_counter()
    mx.nd.waitall()
    seconds = time.perf_counter() - start
    return {"train_nll": total / len(batches), "seconds": seconds,
            "tokens_per_s": num_tokens / seconds}


def fit(model, trainer, train_data, val_data, cfg, ctx, params_path, curves=None,
        log=print) -> list[dict]:
    """Train for ``cfg.num_epochs`` epochs, keeping the parameters that validate best.

    After each epoch the validation perplexity is measured. If it improved, the
    parameters are saved (atomically) to ``params_path``; if not, the learning rate
    is multiplied by ``cfg.lr_decay``. At the end the best parameters are loaded back.

    Args:
        model: GluonNLP's ``StandardRNN`` (or any block with ``begin_state``).
        trainer: a ``gluon.Trainer`` (SGD) over the model's parameters.
        train_data: a ``CorpusBPTTBatchify`` dataset of ``(T, B)`` windows.
        val_data: the validation windows, all of which are scored after every epoch
            (a ``CorpusBPTTBatchify`` dataset or a list from ``split_windows``).
        cfg: reads ``num_epochs``, ``batch_size``, ``clip``, ``lr_decay`` (a factor
            in (0, 1]), ``batches_per_epoch`` and ``log_interval``.
        ctx: the MXNet context to train on.
        params_path: where the best parameters are written.
        curves: a ``utils.LiveCurves`` with legend ``["train", "valid"]``, or ``None``.
        log: called with each log line (``None`` for silence).

    Returns:
        one dict per epoch: ``epoch``, ``lr``, ``train_ppl``, ``val_ppl``,
        ``seconds``, ``tokens_per_s``, ``improved``.
    """
    check_lr_decay("cfg.lr_decay", cfg.lr_decay)
    val_windows = first_batches(val_data, None)
    best, history = math.inf, []
    for epoch in range(cfg.num_epochs):
        lr = trainer.learning_rate
        batches = epoch_batches(train_data, epoch, cfg.batches_per_epoch)
        stats = train_epoch(model, trainer, batches, cfg, ctx, log)
        state = model.begin_state(batch_size=cfg.batch_size, func=mx.nd.zeros, ctx=ctx)
        val_nll = evaluate(model, val_windows, state)
        improved = val_nll < best
        if improved:
            best = val_nll
            save_parameters_atomic(model, params_path)
        else:
            trainer.set_learning_rate(lr * cfg.lr_decay)
        row = {"epoch": epoch + 1, "lr": lr, "train_ppl": math.exp(stats["train_nll"]),
               "val_ppl": math.exp(val_nll), "seconds": stats["seconds"],
               "tokens_per_s": stats["tokens_per_s"], "improved": improved}
        history.append(row)
        if log is not None:
            log(f"epoch {row['epoch']:3d}  lr {lr:6.3f}"
                f"  train ppl {row['train_ppl']:8.1f}  valid ppl {row['val_ppl']:8.1f}"
                f"  {row['tokens_per_s']:,.0f} tokens/s"
                + ("  (saved)" if improved else f"  -> lr {trainer.learning_rate:.3f}"))
        if curves is not None:
            curves.add(epoch + 1, [row["train_ppl"], row["val_ppl"]])
    model.load_parameters(str(params_path), ctx=ctx)
    return history


# ------------------------------------------------ the framework comparison's reference


class ReferenceLM(gluon.Block):
    """Embedding → dropout → stacked LSTM → dropout → dense decoder, untied.

    The framework comparison's shared model: dropout acts on the embeddings, between
    LSTM layers and on the LSTM outputs (the non-recurrent connections, as in Zaremba
    et al., 2014). Initialise it with ``load_reference_weights``.

    Args:
        vocab_size: ``V``.
        embed_size: ``E``.
        num_hiddens: ``H``, the width of every LSTM layer.
        num_layers: the number of stacked LSTM layers.
        dropout: the dropout probability.

    Shape:
        ``X`` is ``(B, T)`` ids; ``state`` is ``[h, c]`` with each ``(L, B, H)``, or
        ``None`` for zeros; returns logits ``(B, T, V)`` and the final state.
    """

    def __init__(self, vocab_size: int, embed_size: int, num_hiddens: int,
                 num_layers: int = 1, dropout: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        with self.name_scope():
            self.embedding = nn.Embedding(vocab_size, embed_size)
            self.dropout = nn.Dropout(dropout)
            self.lstm = rnn.LSTM(num_hiddens, num_layers, layout="NTC",
                                 dropout=dropout, input_size=embed_size)
            self.decoder = nn.Dense(vocab_size, flatten=False, in_units=num_hiddens)

    def begin_state(self, batch_size: int, func=None, ctx=None):
        """The zero state ``[h, c]``, each ``(L, B, H)``."""
        return self.lstm.begin_state(batch_size=batch_size, func=func or mx.nd.zeros,
                                     ctx=ctx or mx.cpu())

    def forward(self, X, state=None):
        if state is None:
            state = self.begin_state(X.shape[0], ctx=X.context)
        embs = self.dropout(self.embedding(X))             # (B, T, E)
        outputs, state = self.lstm(embs, state)            # (B, T, H)
        return self.decoder(self.dropout(outputs)), state  # (B, T, V)


def load_reference_weights(model: ReferenceLM, weights: dict, ctx=None) -> None:
    """Initialise ``model`` with the comparison's shared weights; every bias zero.

    ``weights`` are ``utils.lm_compare.reference_weights``, in PyTorch's layout, which
    is Gluon's too: ``Embedding`` ``(V, E)``, the LSTM's ``l{l}_i2h_weight`` and
    ``l{l}_h2h_weight`` ``(4H, *)`` with the gates in the same order, ``Dense`` ``(V, H)``.
    Gluon's LSTM, like PyTorch's and Paddle's, has two bias vectors per gate
    (``i2h_bias``, ``h2h_bias``); both start at zero.
    """
    ctx = ctx or mx.cpu()
    model.initialize(mx.init.Zero(), ctx=ctx, force_reinit=True)  # biases stay zero
    prefix = model.lstm.prefix                                 # e.g. "referencelm0_lstm0_"
    lstm_params = {name[len(prefix):]: param                   # "l0_i2h_weight", ...
                   for name, param in model.lstm.collect_params().items()}
    targets = {"embedding": model.embedding.weight, "decoder.weight": model.decoder.weight}
    for layer in range(model.lstm._num_layers):
        targets[f"lstm.l{layer}.w_ih"] = lstm_params[f"l{layer}_i2h_weight"]
        targets[f"lstm.l{layer}.w_hh"] = lstm_params[f"l{layer}_h2h_weight"]
    checked_weights(weights, {name: param.shape for name, param in targets.items()})
    for name, param in targets.items():
        param.set_data(mx.nd.array(weights[name], ctx=ctx, dtype="float32"))


def to_windows(data: np.ndarray, num_steps: int, ctx):
    """NumPy ``bptt_batches`` windows as float32 NDArrays on ``ctx`` (MXNet's id type).

    Shape:
        ``data`` ``(B, L)``; yields ``X, Y`` of shape ``(B, T)``, ``T <= num_steps``.
    """
    for X, Y in bptt_batches(data, num_steps):
        yield (mx.nd.array(X, ctx=ctx, dtype="float32"),
               mx.nd.array(Y, ctx=ctx, dtype="float32"))


def train_reference_lm(train_data: np.ndarray, valid_data: np.ndarray, vocab_size: int,
                       cfg, num_updates: int, seed: int, weights: dict,
                       ctx=None) -> dict:
    """Train the comparison's reference model ``num_updates`` updates, then validate.

    Per-token mean cross entropy, plain SGD at ``cfg.lr``, global-norm clipping at
    ``cfg.clip``, the state carried and detached across windows; the training stream
    is walked from its start and wraps around (from a zero state) if it runs out.

    Args:
        train_data, valid_data: ``(B, L)`` and ``(B', L')`` id streams
            (``utils.bptt_batchify``); ``B`` must equal ``cfg.batch_size``.
        vocab_size: ``V``.
        cfg: reads ``embed_size``, ``num_hiddens``, ``num_layers``, ``dropout``,
            ``batch_size``, ``num_steps``, ``lr``, ``clip`` and ``init_scale``
            (``utils.lm_compare.ReferenceLMConfig`` or any object with them).
        num_updates: the number of SGD updates.
        seed: seeds MXNet's and NumPy's generators (the dropout masks).
        weights: the initial weights (``utils.lm_compare.reference_weights``).
        ctx: the MXNet context (default: ``utils.mxnet.core.select_device()``).

    Returns:
        a dict with ``val_ppl`` (the whole ``valid_data``), ``train_losses``
        (per-token, one per update), ``train_seconds`` and ``tokens_per_s``.
    """
    if train_data.shape[0] != cfg.batch_size:
        raise ValueError(f"train_data has {train_data.shape[0]} rows but "
                         f"cfg.batch_size={cfg.batch_size}: batchify with that size.")
    ctx = ctx or select_device()
    set_seed(seed)  # Python, NumPy and MXNet (imported above)
    model = ReferenceLM(vocab_size, cfg.embed_size, cfg.num_hiddens, cfg.num_layers,
                        cfg.dropout)
    load_reference_weights(model, weights, ctx)
    trainer = gluon.Trainer(model.collect_params(), "sgd", {"learning_rate": cfg.lr})
    losses, tokens = [], 0
    start = time.perf_counter()
    while len(losses) < num_updates:
        state = model.begin_state(cfg.batch_size, ctx=ctx)  # each pass starts at zeros
        for X, Y in to_windows(train_data, cfg.num_steps, ctx):
            if len(losses) == num_updates:
                break
            loss, state, _ = train_step(model, trainer, X, Y, state, cfg.clip)
            losses.append(float(loss.asscalar()))
            tokens += Y.size
    mx.nd.waitall()
    seconds = time.perf_counter() - start
    val_state = model.begin_state(valid_data.shape[0], ctx=ctx)
    val_nll = evaluate(model, to_windows(valid_data, cfg.num_steps, ctx), val_state)
    return {"val_ppl": math.exp(val_nll), "train_losses": losses,
            "train_seconds": seconds, "tokens_per_s": tokens / seconds}
