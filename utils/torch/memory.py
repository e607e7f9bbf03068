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

Left out on purpose: learning-rate schedules, validation and early stopping (every
batch is new data, so there is nothing to overfit).
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from ..checks import check_int, check_str

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
    layer = BLOCKS[check_cell(cell)] * (embed_size * num_hiddens
                                        + num_hiddens * num_hiddens + 2 * num_hiddens)
    return vocab_size * embed_size + layer + num_hiddens * num_classes + num_classes


def matched_hiddens(budget: int, vocab_size: int, num_classes: int,
                    embed_size: int = 16) -> dict:
    """For each layer, the width whose ``RecallNet`` comes closest to ``budget``.

    Returns ``{"rnn": H, "gru": H, "lstm": H}``; a plain RNN needs the widest layer,
    since each of its units carries one block of weights against the LSTM's four.
    """
    budget = check_int("budget", budget, minimum=1)
    widths = {}
    for cell in LAYERS:
        def gap(h):
            return abs(num_parameters(cell, h, vocab_size, num_classes, embed_size)
                       - budget)
        width = 1
        while gap(width + 1) < gap(width):   # the count grows with the width
            width += 1
        widths[cell] = width
    return widths


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
