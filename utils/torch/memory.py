"""Memory over distance: a synthetic recall task, and the three recurrent layers on it.

The task (``recall_batch``): a marker announces the *key*, a symbol out of
``num_keys``; then come more symbols of the same kind, drawn at random, and a query
token; the answer, read at the query, is the key. The *distance* ``k`` is the number
of steps from the key to the query, so the network must carry one symbol across
``k - 1`` symbols that look just like it::

    k = 4:   marker  key  s  s  s  query   ->  the key
    t:          0     1   2  3  4    5

``RecallNet`` wraps a fused ``nn.RNN``, ``nn.GRU`` or ``nn.LSTM`` between an
embedding and a linear head; ``matched_hiddens`` picks widths that give the three
layers the same number of parameters; ``train_recall`` is one short loop (Adam,
clipping, a fresh batch every update) and ``recall_accuracy`` scores a model at one
distance. ``gradient_by_distance`` measures how much gradient a trained model's final
state sends back to the input ``k`` steps earlier.

On the book's text: ``lm_parameters`` and ``lm_matched_hiddens`` size character
models (``utils.torch.rnn.RNNLM``, one-hot inputs) to one budget;
``char_losses`` scores every held-out character in one pass, for the breakdown by
context of ``utils.context``; ``lstm_trace`` recomputes the gates and the memory cell
of an ``nn.LSTM`` at every step, for looking inside it.

Left out on purpose: learning-rate schedules, validation and early stopping (every
batch is new data, so there is nothing to overfit).
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from ..checks import check_int, check_str
from .core import model_device

LAYERS = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}
BLOCKS = {"rnn": 1, "gru": 3, "lstm": 4}  # weight blocks per layer: candidate, gates


def check_cell(cell: str) -> str:
    """``cell`` if it names a recurrent layer of ``LAYERS``, else an error saying which."""
    return check_str("cell", cell, LAYERS)


def recall_batch(batch_size: int, distance: int, num_keys: int = 8,
                 generator: torch.Generator | None = None):
    """A batch of the recall task: marker, key, ``distance - 1`` symbols, query.

    Token ids: the symbols ``0 .. num_keys - 1``, the marker ``num_keys`` and the query
    ``num_keys + 1`` (so ``vocab_size = num_keys + 2``).

    Args:
        batch_size: ``B``.
        distance: ``k``, the steps from the key to the query (at least 1).
        num_keys: how many symbols there are (chance is ``1 / num_keys``).
        generator: a seeded ``torch.Generator`` for repeatable batches.

    Shape:
        returns ``X`` ``(B, k + 2)`` and the keys ``y`` ``(B,)``, both int64.
    """
    batch_size = check_int("batch_size", batch_size, minimum=1)
    distance = check_int("distance", distance, minimum=1)
    num_keys = check_int("num_keys", num_keys, minimum=2)
    y = torch.randint(num_keys, (batch_size,), generator=generator)          # (B,)
    filler = torch.randint(num_keys, (batch_size, distance - 1),
                           generator=generator)                              # (B, k-1)
    marker = torch.full((batch_size, 1), num_keys)                           # (B, 1)
    query = torch.full((batch_size, 1), num_keys + 1)                        # (B, 1)
    return torch.cat([marker, y[:, None], filler, query], dim=1), y          # (B, k+2)


class RecallNet(nn.Module):
    """Embedding, one fused recurrent layer, and a linear head read at the last step.

    Args:
        cell: ``"rnn"`` (tanh), ``"gru"`` or ``"lstm"``.
        vocab_size: ``V``, the number of token ids.
        num_classes: ``C``, the number of keys.
        num_hiddens: ``H``.
        embed_size: ``E``.

    Shape:
        ``X``: ``(B, T)`` ids. Returns the logits ``(B, C)`` of the last step and the
        final state.
    """

    def __init__(self, cell: str, vocab_size: int, num_classes: int, num_hiddens: int,
                 embed_size: int = 16):
        super().__init__()
        self.cell = check_cell(cell)
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.rnn = LAYERS[cell](embed_size, num_hiddens, batch_first=True)
        self.head = nn.Linear(num_hiddens, num_classes)

    def forward(self, X, state=None):
        outputs, state = self.rnn(self.embedding(X), state)            # (B, T, H)
        return self.head(outputs[:, -1]), state                        # (B, C)


def num_parameters(cell: str, num_hiddens: int, vocab_size: int, num_classes: int,
                   embed_size: int = 16) -> int:
    """The parameter count of a ``RecallNet``, by formula.

    Each block of the layer has an ``E x H`` input matrix, an ``H x H`` hidden matrix
    and two biases (PyTorch keeps ``b_ih`` and ``b_hh``); the embedding adds ``V E``,
    the head ``H C + C``.
    """
    layer = _layer_parameters(cell, embed_size, num_hiddens)
    return vocab_size * embed_size + layer + num_hiddens * num_classes + num_classes


def _layer_parameters(cell: str, input_size: int, num_hiddens: int) -> int:
    """One layer: per block an input and a hidden matrix and two biases."""
    return BLOCKS[check_cell(cell)] * (input_size * num_hiddens
                                       + num_hiddens * num_hiddens + 2 * num_hiddens)


def matched_hiddens(budget: int, vocab_size: int, num_classes: int,
                    embed_size: int = 16) -> dict:
    """For each layer, the width whose ``RecallNet`` comes closest to ``budget``.

    Returns ``{"rnn": H, "gru": H, "lstm": H}``; a plain RNN needs the widest layer,
    since each of its units carries one block of weights against the LSTM's four.
    """
    budget = check_int("budget", budget, minimum=1)
    return {cell: _closest_width(lambda h: num_parameters(cell, h, vocab_size,
                                                          num_classes, embed_size),
                                 budget)
            for cell in LAYERS}


def _closest_width(count, budget: int) -> int:
    """The width ``h >= 1`` whose ``count(h)``, growing with ``h``, is nearest ``budget``."""
    width = 1
    while abs(count(width + 1) - budget) < abs(count(width) - budget):
        width += 1
    return width


def train_recall(model: nn.Module, cfg, generator: torch.Generator) -> list:
    """Train ``model`` on fresh recall batches, at distances 1 to ``max(distances)``.

    Each update draws one distance ``k`` uniformly, a batch at that distance, and takes
    an Adam step on the cross-entropy of the key, with the gradient clipped. Every
    distance is trained on, the short ones included.

    Args:
        model: a ``RecallNet``, on the CPU.
        cfg: read for ``num_updates``, ``batch_size``, ``distances``, ``lr``,
            ``clip`` and ``num_keys``.
        generator: a seeded ``torch.Generator``; the data and the order of distances.

    Returns:
        the training loss of every update.
    """
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    model.train()
    losses, max_distance = [], max(cfg.distances)
    for _ in range(cfg.num_updates):
        k = int(torch.randint(1, max_distance + 1, (1,), generator=generator))
        X, y = recall_batch(cfg.batch_size, k, cfg.num_keys, generator)  # (B, k+2)
        logits, _ = model(X)                                           # (B, C)
        loss = F.cross_entropy(logits, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), cfg.clip)
        optimizer.step()
        losses.append(loss.item())
    return losses


@torch.no_grad()
def recall_accuracy(model: nn.Module, distance: int, num_examples: int, cfg,
                    generator: torch.Generator) -> float:
    """The fraction of ``num_examples`` fresh sequences at ``distance`` whose key
    ``model`` recalls (``cfg`` is read for ``num_keys``)."""
    model.eval()
    X, y = recall_batch(num_examples, distance, cfg.num_keys, generator)  # (N, k+2)
    logits, _ = model(X)                                               # (N, C)
    return (logits.argmax(dim=1) == y).float().mean().item()


def gradient_by_distance(model: nn.Module, X: torch.Tensor, seed: int = 0) -> list:
    """How much gradient the final hidden state sends back to each earlier input.

    Projects the last hidden state ``h_T`` on a fixed random unit vector ``u`` and
    returns, for ``k = 0, 1, ..., T - 1``, the mean over the batch of
    ``|| d (u . h_T) / d e_{T-k} ||``, with ``e_t`` the embedded input of step ``t``:
    the product of step Jacobians of chapter 3, seen from the end of the sequence.

    Shape:
        ``X``: ``(B, T)`` ids; returns a list of ``T`` floats, index ``k``.
    """
    model.eval()
    embedded = model.embedding(X).detach().requires_grad_(True)       # (B, T, E)
    outputs, _ = model.rnn(embedded)                                   # (B, T, H)
    u = torch.randn(outputs.shape[-1], generator=torch.Generator().manual_seed(seed))
    (outputs[:, -1] @ (u / u.norm())).sum().backward()
    norms = embedded.grad.norm(dim=2).mean(dim=0)                      # (T,)
    return norms.flip(0).tolist()                                      # index: k


# ------------------------------------------------------------------ the book's text


def lm_parameters(cell: str, num_hiddens: int, vocab_size: int) -> int:
    """The parameter count of a one-hot character model ``RNNLM(layer(V, H), V)``.

    The layer has ``V x H`` input and ``H x H`` hidden matrices and two biases per
    block; the output layer adds ``H V + V``.
    """
    layer = _layer_parameters(cell, vocab_size, num_hiddens)
    return layer + num_hiddens * vocab_size + vocab_size


def lm_matched_hiddens(budget: int, vocab_size: int) -> dict:
    """For each layer, the width whose character model comes closest to ``budget``.

    Returns ``{"rnn": H, "gru": H, "lstm": H}`` (see ``lm_parameters``).
    """
    budget = check_int("budget", budget, minimum=1)
    vocab_size = check_int("vocab_size", vocab_size, minimum=1)
    return {cell: _closest_width(lambda h: lm_parameters(cell, h, vocab_size), budget)
            for cell in LAYERS}


@torch.no_grad()
def char_losses(model: nn.Module, ids) -> torch.Tensor:
    """The loss ``-log p(x_t | x_1 ... x_{t-1})``, in nats, of every token but the first.

    One pass over ``ids`` as a single stream from the zero state, so that every
    prediction sees all the text before it (not only its own BPTT window).

    Args:
        model: a language model (``RNNLM``): ``(B, T)`` ids to ``(B, T, V)`` logits.
        ids: the token ids of a text, at least two.

    Shape:
        ``ids``: ``(N,)``; returns ``(N - 1,)``, index ``t - 1`` for token ``t``.
    """
    ids = torch.as_tensor(ids, dtype=torch.long)
    if ids.ndim != 1 or len(ids) < 2:
        raise ValueError(f"ids must be one sequence of at least 2 ids, got shape "
                         f"{tuple(ids.shape)}")
    model.eval()
    device = model_device(model)
    ids = ids.to(device)
    logits, _ = model(ids[None, :-1])                                  # (1, N-1, V)
    return F.cross_entropy(logits[0], ids[1:], reduction="none").cpu()  # (N-1,)


@torch.no_grad()
def lstm_trace(lstm: nn.LSTM, inputs: torch.Tensor) -> dict:
    """The gates, the memory cell and the hidden state of an ``nn.LSTM`` at every step.

    The fused layer returns every ``h_t`` but only the last ``c_t``. The gates need
    only ``x_t`` and ``h_{t-1}``, so they are computed for all steps at once from the
    layer's own weights (PyTorch stacks the rows as input, forget, candidate,
    output); then ``c_t = f_t * c_{t-1} + i_t * g_t`` runs step by step, and
    ``o_t * tanh(c_t)`` must give back the ``h_t`` the layer returned.

    Args:
        lstm: a one-layer, one-direction ``nn.LSTM`` (time-major).
        inputs: one sequence of inputs, from the zero state.

    Shape:
        ``inputs``: ``(T, E)``. Returns ``{"input", "forget", "output", "candidate",
        "cell", "hidden"}``, each ``(T, H)``.
    """
    if not isinstance(lstm, nn.LSTM) or lstm.num_layers != 1 or lstm.bidirectional \
            or lstm.batch_first or lstm.proj_size:
        raise ValueError("lstm_trace reads a one-layer, one-direction, time-major "
                         "nn.LSTM without projections")
    if inputs.ndim != 2 or inputs.shape[1] != lstm.input_size:
        raise ValueError(f"inputs must be (T, {lstm.input_size}), got "
                         f"{tuple(inputs.shape)}")
    hidden, _ = lstm(inputs[:, None])                                  # (T, 1, H)
    hidden = hidden[:, 0]                                              # (T, H)
    previous = torch.cat([torch.zeros_like(hidden[:1]), hidden[:-1]])  # h_{t-1}
    z = (inputs @ lstm.weight_ih_l0.T + lstm.bias_ih_l0
         + previous @ lstm.weight_hh_l0.T + lstm.bias_hh_l0)           # (T, 4H)
    i, f, g, o = z.chunk(4, dim=1)                                     # (T, H) each
    i, f, g, o = torch.sigmoid(i), torch.sigmoid(f), torch.tanh(g), torch.sigmoid(o)
    c, cells = torch.zeros_like(hidden[0]), []
    for t in range(len(inputs)):
        c = f[t] * c + i[t] * g[t]                                     # (H,)
        cells.append(c)
    cells = torch.stack(cells)                                         # (T, H)
    return {"input": i, "forget": f, "output": o, "candidate": g, "cell": cells,
            "hidden": hidden}
