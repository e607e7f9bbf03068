"""A word-level LSTM language model in PyTorch: model, loss, training, sampling.

The chapter ``07-language-models-torch`` trains ``WordLM`` on Penn Treebank. The data
come from the framework-neutral layer (``utils.load_ptb_corpus`` gives id streams,
``utils.bptt_batchify`` lays a stream out as ``B`` rows, ``utils.bptt_batches`` walks
it in ``(B, T)`` windows); this module converts them to tensors once, at its edge.

What is here:

* ``WordLM``: embedding → dropout → stacked ``nn.LSTM`` → dropout → linear decoder,
  optionally with the decoder tied to the embedding;
* ``lm_loss`` and ``loss_to_perplexity``: the two loss conventions found in word-level
  LM code and how perplexity follows from each;
* ``train_epoch`` (stateful truncated BPTT, clipping), ``evaluate`` (perplexity of a
  stream), ``fit`` (epochs, learning-rate decay on a validation plateau, the best model
  checkpointed atomically and reloaded at the end);
* ``generate``: sampling with a temperature;
* ``lm_flops_per_token``: the arithmetic cost of one training token, for throughput
  figures.

Training options read from the config (``cfg``) object, all documented in ``fit``.
The fast path for GPUs (bf16 autocast, fused optimizer, ``torch.compile``) sits behind
flags that the chapter's quick profile leaves off.
"""
from __future__ import annotations

import contextlib
import math
import os
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ..batching import bptt_batches
from ..checks import check_lr_decay
from .core import (as_ids, clip_gradients, detach_state, perplexity,
                          sample_next_token)

LOSS_CONVENTIONS = ("token_mean", "sum_steps_mean_batch")


class WordLM(nn.Module):
    """An LSTM language model over words: embedding, stacked LSTM, linear decoder.

    Dropout acts on the non-recurrent connections only: on the embeddings, between
    LSTM layers and on the last layer's outputs; the recurrent connections are left
    alone (Zaremba et al., 2014). With ``tie_weights`` the decoder reuses the embedding
    matrix as its weight (Press & Wolf, 2017; Inan et al., 2017): one ``V x E`` matrix
    instead of two, and usually a lower perplexity.

    Args:
        vocab_size: ``V``.
        embed_size: ``E``.
        num_hiddens: ``H``, the width of every LSTM layer.
        num_layers: the number of stacked LSTM layers.
        dropout: the dropout probability.
        tie_weights: share the embedding matrix with the decoder; needs
            ``embed_size == num_hiddens``.
        init_range: the embedding (hence a tied decoder) and an untied decoder weight
            start uniform in ``[-init_range, init_range]``; the decoder bias starts at
            zero; the LSTM keeps PyTorch's default (uniform in ``±1/sqrt(H)``).

    Shape:
        ``X`` is ``(B, T)`` int64 ids; ``state`` is a pair ``(h, c)`` of ``(L, B, H)``
        tensors (``L`` layers) or ``None`` for zeros; returns logits ``(B, T, V)`` and
        the new state.
    """

    def __init__(self, vocab_size: int, embed_size: int, num_hiddens: int,
                 num_layers: int = 2, dropout: float = 0.5, tie_weights: bool = False,
                 init_range: float = 0.1):
        super().__init__()
        if tie_weights and embed_size != num_hiddens:
            raise ValueError(
                f"tie_weights=True needs embed_size == num_hiddens (the decoder reads "
                f"H={num_hiddens} features into a (V, E={embed_size}) matrix). "
                f"Set both to the same value or use tie_weights=False.")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        self.num_layers, self.num_hiddens = num_layers, num_hiddens
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.dropout = nn.Dropout(dropout)
        # nn.LSTM applies `dropout` to the outputs of every layer but the last.
        self.rnn = nn.LSTM(embed_size, num_hiddens, num_layers, batch_first=True,
                           dropout=dropout if num_layers > 1 else 0.0)
        self.decoder = nn.Linear(num_hiddens, vocab_size)
        if tie_weights:
            self.decoder.weight = self.embedding.weight  # one Parameter, two uses
        nn.init.uniform_(self.embedding.weight, -init_range, init_range)
        if not tie_weights:
            nn.init.uniform_(self.decoder.weight, -init_range, init_range)
        nn.init.zeros_(self.decoder.bias)

    def forward(self, X: torch.Tensor, state=None):
        embs = self.dropout(self.embedding(X))         # (B, T, E)
        if embs.device.type == "cpu" and torch.is_autocast_enabled("cpu"):
            # oneDNN has no bfloat16 LSTM on the CPU: under autocast the recurrence
            # runs in float32 and the decoder, most of the arithmetic, in bfloat16.
            with torch.autocast("cpu", enabled=False):
                outputs, state = self.rnn(embs.float(), state)
        else:
            outputs, state = self.rnn(embs, state)     # (B, T, H), 2 x (L, B, H)
        logits = self.decoder(self.dropout(outputs))   # (B, T, V)
        return logits, state

    def begin_state(self, batch_size: int, device=None):
        """Zero ``(h, c)``, each ``(L, B, H)``: what ``state=None`` stands for."""
        shape = (self.num_layers, batch_size, self.num_hiddens)
        return (torch.zeros(shape, device=device), torch.zeros(shape, device=device))


# ------------------------------------------------------------------------ loss


def lm_loss(logits: torch.Tensor, Y: torch.Tensor,
            convention: str = "token_mean") -> torch.Tensor:
    """Cross entropy of next-word predictions, reduced by one of two conventions.

    * ``"token_mean"``: the mean negative log-likelihood per token, as in the
      PyTorch examples and GluonNLP;
    * ``"sum_steps_mean_batch"``: summed over the ``T`` time steps, averaged over the
      ``B`` rows, as in Zaremba et al.'s code and PaddleNLP's ``CrossEntropyLossForLm``.
      It equals ``T`` times the token mean, so its gradients are ``T`` times larger:
      learning rate and clipping threshold must be scaled to match.

    Either way the perplexity is ``exp(total NLL / total tokens)``; see
    ``loss_to_perplexity``.

    Shape:
        ``logits`` is ``(B, T, V)``, ``Y`` is ``(B, T)``; returns a scalar.
    """
    if convention not in LOSS_CONVENTIONS:
        raise ValueError(f"convention must be one of {LOSS_CONVENTIONS}, "
                         f"got {convention!r}")
    nll = F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), Y.reshape(-1),
                          reduction="none").reshape(Y.shape)    # (B, T)
    if convention == "token_mean":
        return nll.mean()
    return nll.sum(dim=1).mean()


def loss_to_perplexity(loss: float, convention: str, num_steps: int) -> float:
    """The perplexity a loss value stands for, given its convention.

    ``token_mean`` is already the NLL per token; ``sum_steps_mean_batch`` is the NLL
    per row of ``num_steps`` tokens, so it is divided by ``num_steps`` first.
    """
    if convention not in LOSS_CONVENTIONS:
        raise ValueError(f"convention must be one of {LOSS_CONVENTIONS}, "
                         f"got {convention!r}")
    per_token = loss if convention == "token_mean" else loss / num_steps
    return perplexity(per_token)


# -------------------------------------------------------------------- training


def to_device_stream(data, device) -> torch.Tensor:
    """A batchified id stream ``(B, L)`` as an int64 tensor on ``device`` (one copy)."""
    return as_ids(data, device)


def autocast(device, enabled: bool):
    """bf16 autocast on ``device`` when ``enabled``, else a context that does nothing.

    Matrix products (LSTM, decoder) run in bfloat16 while the weights, the optimizer
    and the loss stay in float32 (no loss scaling needed: bf16 has float32's range).
    """
    device = torch.device(device)
    if not enabled:
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=torch.bfloat16)


def make_optimizer(model: nn.Module, lr: float, fused: bool, device) -> torch.optim.SGD:
    """Plain SGD; with ``fused`` on a CUDA device, the fused kernel (one launch a step).

    Weight tying makes one ``Parameter`` appear twice in the model; ``parameters()``
    yields it once, so it is updated once.
    """
    use_fused = bool(fused) and torch.device(device).type == "cuda"
    return torch.optim.SGD(model.parameters(), lr=lr, fused=use_fused or None)


def set_lr(optimizer: torch.optim.Optimizer, lr: float) -> None:
    """Set the learning rate of every parameter group."""
    for group in optimizer.param_groups:
        group["lr"] = lr


def bf16_autocast_works(model: nn.Module, device) -> bool:
    """Whether ``model`` can run forward and backward under bf16 autocast on ``device``.

    On a CPU the answer is no unless oneDNN reports native bfloat16 support (AVX-512
    BF16 or AMX): emulated bfloat16 is several times slower than float32.
    On CUDA, autocast hands the LSTM to cuDNN in bfloat16, which cuDNN supports from
    version 9.13 on; an older build raises an error. ``fit`` asks first and falls
    back to float32 when the answer is no. (The probe draws dropout masks, so it
    advances the random generator.)
    """
    device = torch.device(device)
    if device.type == "cpu" and not torch.ops.mkldnn._is_mkldnn_bf16_supported():
        return False  # no native bf16 on this CPU: emulated, it is slower than float32
    X = torch.zeros((1, 2), dtype=torch.long, device=device)  # (B=1, T=2)
    was_training = model.training
    model.train()   # cuDNN computes RNN gradients in training mode only
    try:
        with autocast(device, True):
            logits, _ = model(X)
        logits.float().sum().backward()
        return True
    except RuntimeError:
        return False
    finally:
        model.zero_grad(set_to_none=True)
        model.train(was_training)


def train_epoch(model: nn.Module, data: torch.Tensor, optimizer: torch.optim.Optimizer,
                cfg, use_bf16: bool = False, max_batches: int | None = None) -> dict:
    """One pass over a batchified stream with stateful truncated BPTT.

    Row ``b`` of each window continues row ``b`` of the last one, so the final state of
    a batch is the initial state of the next; it is detached first, so that gradients
    flow back at most ``num_steps`` steps (the scheme of Zaremba et al. and of
    PaddleNLP's ``RnnLm``). The state starts at zero at the beginning of the epoch.

    Args:
        model: a ``WordLM`` (or ``torch.compile`` of one).
        data: ``(B, L)`` ids on the training device (``to_device_stream``).
        optimizer: its learning rate is the one used.
        cfg: reads ``num_steps``, ``clip``, ``loss_convention``.
        use_bf16: run the forward pass under bf16 autocast (``autocast``).
        max_batches: stop after this many windows (for smoke tests and timing).

    Returns:
        ``{"ppl", "tokens", "seconds", "tokens_per_s"}`` of the epoch.
    """
    model.train()
    device = data.device
    state = None
    total_nll = torch.zeros((), device=device)   # kept on the device: no sync per batch
    num_tokens = 0
    start = time.perf_counter()
    for i, (X, Y) in enumerate(bptt_batches(data, cfg.num_steps)):
        if max_batches is not None and i >= max_batches:
            break
        state = detach_state(state)               # truncate BPTT at the window edge
        with autocast(device, use_bf16):
            logits, state = model(X, state)       # (B, T, V)
        loss = lm_loss(logits, Y, cfg.loss_convention)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        clip_gradients(model.parameters(), cfg.clip)
        optimizer.step()
        steps = Y.shape[1] if cfg.loss_convention == "sum_steps_mean_batch" else 1
        total_nll += loss.detach().float() / steps * Y.numel()
        num_tokens += Y.numel()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    seconds = time.perf_counter() - start
    return {"ppl": perplexity(float(total_nll) / max(num_tokens, 1)),
            "tokens": num_tokens, "seconds": seconds,
            "tokens_per_s": num_tokens / seconds if seconds > 0 else 0.0}


@torch.no_grad()
def evaluate(model: nn.Module, data: torch.Tensor, num_steps: int) -> float:
    """The perplexity of a batchified stream: ``exp(total NLL / total tokens)``.

    The state is carried from window to window, as in training; each of the ``B``
    rows starts from a zero state, so a smaller evaluation batch (longer rows) gives a
    slightly lower, more faithful perplexity. The chapter evaluates with ``B = 10``, as
    the PyTorch examples do. Evaluation runs in float32, without autocast, so that the
    number does not depend on the training precision.

    Shape:
        ``data`` is ``(B, L)`` ids on the model's device.
    """
    model.eval()
    state = None
    total_nll = torch.zeros((), device=data.device)
    num_tokens = 0
    for X, Y in bptt_batches(data, num_steps):
        logits, state = model(X, state)           # (B, T, V)
        total_nll += F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(),
                                     Y.reshape(-1), reduction="sum")
        num_tokens += Y.numel()
    return perplexity(float(total_nll) / num_tokens)


# ------------------------------------------------------------------ checkpoints


def save_checkpoint(model: nn.Module, path: str | os.PathLike) -> Path:
    """Write the model's weights to ``path`` atomically and return the path.

    The bytes go to a temporary file in the same folder, which is then renamed over
    ``path`` (``os.replace`` is atomic on one file system): a run killed mid-write
    leaves the previous checkpoint intact, never a truncated one.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            torch.save(model.state_dict(), f)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_checkpoint(model: nn.Module, path: str | os.PathLike) -> nn.Module:
    """Load weights saved by ``save_checkpoint`` into ``model`` (on its device)."""
    device = next(model.parameters()).device
    state_dict = torch.load(path, map_location=device, weights_only=True)
    model.load_state_dict(state_dict)
    return model


# ------------------------------------------------------------------------ fit


def fit(model: nn.Module, train_data: torch.Tensor, valid_data: torch.Tensor, cfg,
        checkpoint_path: str | os.PathLike, curves=None, log=print) -> list[dict]:
    """Train for ``cfg.num_epochs`` epochs, keeping the model that validates best.

    After every epoch the validation perplexity is measured. If it improved, the
    model is checkpointed (atomically); if not, the learning rate is multiplied by
    ``cfg.lr_decay`` (0.25: the PyTorch examples' recipe divides by 4). In every
    framework of the book ``lr_decay`` is such a factor. At the end the best
    checkpoint is loaded back into ``model``.

    Args:
        model: a ``WordLM`` on the training device.
        train_data, valid_data: ``(B, L)`` and ``(B_eval, L')`` id streams on that
            device (``to_device_stream``).
        cfg: reads ``lr``, ``lr_decay``, ``num_epochs``, ``num_steps``, ``clip``,
            ``loss_convention``, ``bf16``, ``fused_optimizer``, ``compile_model``.
        checkpoint_path: where the best weights are written.
        curves: a ``utils.LiveCurves`` with legend ``["train", "valid"]``, or ``None``.
        log: called with one line per epoch (``None`` for silence).

    Returns:
        one dict per epoch: ``epoch``, ``lr``, ``train_ppl``, ``val_ppl``,
        ``seconds``, ``tokens_per_s``, ``improved``.
    """
    check_lr_decay("cfg.lr_decay", cfg.lr_decay)
    device = train_data.device
    if device.type == "cuda":
        torch.backends.cudnn.enabled = True     # nn.LSTM then runs cuDNN's fused kernel
    use_bf16 = cfg.bf16 and bf16_autocast_works(model, device)
    if cfg.bf16 and not use_bf16 and log is not None:
        log("bf16 autocast is not supported here for this model: training in float32")
    optimizer = make_optimizer(model, cfg.lr, cfg.fused_optimizer, device)
    # Compile once; evaluation uses the plain module (other batch size, no recompiles).
    step_model = torch.compile(model) if cfg.compile_model else model
    lr, best, history = cfg.lr, math.inf, []
    for epoch in range(1, cfg.num_epochs + 1):
        set_lr(optimizer, lr)
        stats = train_epoch(step_model, train_data, optimizer, cfg, use_bf16)
        val_ppl = evaluate(model, valid_data, cfg.num_steps)
        improved = val_ppl < best
        if improved:
            best = val_ppl
            save_checkpoint(model, checkpoint_path)
        history.append({"epoch": epoch, "lr": lr, "train_ppl": stats["ppl"],
                        "val_ppl": val_ppl, "seconds": stats["seconds"],
                        "tokens_per_s": stats["tokens_per_s"], "improved": improved})
        if curves is not None:
            curves.add(epoch, [stats["ppl"], val_ppl])
        if log is not None:
            log(f"epoch {epoch:3d}  lr {lr:7.3f}  train ppl {stats['ppl']:8.2f}  "
                f"valid ppl {val_ppl:8.2f}  {stats['tokens_per_s']:,.0f} tokens/s"
                + ("  (saved)" if improved else ""))
        if not improved:
            lr *= cfg.lr_decay
    load_checkpoint(model, checkpoint_path)
    return history


# ------------------------------------------------------------------- sampling


@torch.no_grad()
def generate(model: nn.Module, vocab, prompt: str, num_words: int,
             temperature: float = 1.0, generator: torch.Generator | None = None
             ) -> list[str]:
    """Continue ``prompt`` with ``num_words`` words sampled from the model.

    The prompt's words are fed one window at a time to warm up the state; then each
    next word is drawn from ``softmax(logits / temperature)``. A temperature below 1
    sharpens the distribution (safer, more repetitive text), above 1 flattens it;
    ``temperature=0`` takes the most likely word every time (greedy decoding).

    Args:
        model: a ``WordLM``.
        vocab: the ``Vocab`` of the training data.
        prompt: space-separated words (unknown ones map to ``<unk>``); must not be
            empty.
        num_words: how many words to add.
        temperature: ``>= 0``.
        generator: a seeded ``torch.Generator`` (CPU) for repeatable samples.

    Returns:
        the prompt's words followed by the generated ones.
    """
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    words = prompt.split()
    if not words:
        raise ValueError("prompt is empty: give at least one word to start from.")
    model.eval()
    device = next(model.parameters()).device
    X = torch.tensor([vocab[words]], device=device)                 # (1, T)
    logits, state = model(X)
    out = list(words)
    for _ in range(num_words):
        next_id = sample_next_token(logits[0, -1], temperature, generator)  # from (V,)
        out.append(vocab.to_tokens(next_id))
        logits, state = model(torch.tensor([[next_id]], device=device), state)
    return out


# ------------------------------------------------------------------ arithmetic


def lm_flops_per_token(vocab_size: int, embed_size: int, num_hiddens: int,
                       num_layers: int, training: bool = True) -> float:
    """Floating-point operations that one token costs ``WordLM`` (matrix products only).

    Per token, an LSTM layer with input width ``I`` (``E`` for the first layer, ``H``
    above) multiplies ``[x_t, h_{t-1}]`` (``I + H`` values) by its four gate matrices:
    ``4 (I + H) H`` multiply-adds. The decoder costs ``H V`` multiply-adds; the
    embedding is a lookup and costs none. A multiply-add is 2 FLOPs, and training
    (forward, then backward for both inputs and weights) costs about 3 times the
    forward pass::

        FLOPs/token = 3 * 2 * (sum over layers of 4 (I + H) H  +  H V)

    Element-wise work (gate nonlinearities, softmax, dropout) is left out.
    """
    macs = 0
    input_size = embed_size
    for _ in range(num_layers):
        macs += 4 * (input_size + num_hiddens) * num_hiddens
        input_size = num_hiddens
    macs += num_hiddens * vocab_size
    return float(2 * macs * (3 if training else 1))
