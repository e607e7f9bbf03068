"""Recurrence revisited: linear recurrences trained in parallel, and their limits.

A GRU's gates read the previous state, so step ``t`` must wait for step ``t - 1``.
Drop the state from the gates and the ``tanh`` from the update, as minGRU does (Feng
et al., 2024), and what is left is a *linear* recurrence,
``h_t = a_t * h_{t-1} + b_t``, whose coefficients all come from the inputs: every
``h_t`` can then be computed at once by a scan. What is here:

* ``scan_sequential`` and ``scan_log_space``: the recurrence one step at a time, and
  all steps at once with cumulative sums in log space (Heinsen, 2023);
* ``MinGRU``: the layer, in either mode; ``MinGRULM``: a stack of them with
  normalization and residual connections, a character language model;
* ``CausalTransformerLM``: a small causal Transformer of the same shape, to compare
  with;
* ``causal_linear_attention`` and ``linear_attention_recurrent``: linear attention
  computed as attention and as a recurrence with a matrix state (Katharopoulos et
  al., 2020);
* ``recall_pairs`` and ``PairRecall``: multi-query associative recall (Arora et al.,
  2023), where a fixed-size state must hold every key-value pair it has read.

Every language model keeps the book's contract, ``model(X, state) -> (logits,
state)``, so ``utils.torch.train.fit`` trains all of them.
"""
from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from ..checks import check_int, check_str

__all__ = ["scan_sequential", "scan_log_space", "positive", "log_positive", "MinGRU",
           "MinGRULM", "CausalTransformerLM", "causal_linear_attention",
           "linear_attention_recurrent", "recall_pairs", "PairRecall"]


# ------------------------------------------------------------------ the scans


def scan_sequential(a: torch.Tensor, b: torch.Tensor, h0: torch.Tensor | None = None
                    ) -> torch.Tensor:
    """``h_t = a_t * h_{t-1} + b_t``, one step at a time (``h0``: zeros if ``None``).

    Shape:
        ``a`` and ``b`` ``(B, T, H)``, ``h0`` ``(B, H)``; returns every ``h_t``,
        ``(B, T, H)``.
    """
    h = torch.zeros_like(b[:, 0]) if h0 is None else h0
    states = []
    for t in range(b.shape[1]):
        h = a[:, t] * h + b[:, t]                       # (B, H)
        states.append(h)
    return torch.stack(states, dim=1)


def scan_log_space(log_a: torch.Tensor, log_b: torch.Tensor,
                   log_h0: torch.Tensor | None = None) -> torch.Tensor:
    """The same recurrence for positive ``b`` and ``h0``, every step at once.

    Unrolled, ``h_t = A_t (h_0 + sum_{s<=t} b_s / A_s)`` with ``A_t = a_1 ... a_t``.
    In logs the product is a cumulative sum, ``log A_t``, and the sum of positive
    terms a ``logcumsumexp``; both run over the time axis in one call each.

    Shape:
        ``log_a`` and ``log_b`` ``(B, T, H)``, ``log_h0`` ``(B, H)``; returns every
        ``h_t``, ``(B, T, H)``.
    """
    log_A = torch.cumsum(log_a, dim=1)                  # (B, T, H)
    terms = log_b - log_A                               # log(b_s / A_s)
    if log_h0 is not None:
        terms = torch.cat([log_h0[:, None], terms], dim=1)  # (B, T + 1, H)
        return torch.exp(log_A + torch.logcumsumexp(terms, dim=1)[:, 1:])
    return torch.exp(log_A + torch.logcumsumexp(terms, dim=1))


def positive(x: torch.Tensor) -> torch.Tensor:
    """minGRU's candidate activation: ``x + 1/2`` for ``x >= 0``, else ``sigmoid(x)``.

    Continuous, increasing and always positive, so its logarithm exists."""
    return torch.where(x >= 0, x + 0.5, torch.sigmoid(x))


def log_positive(x: torch.Tensor) -> torch.Tensor:
    """``log(positive(x))``, computed without leaving log space."""
    return torch.where(x >= 0, torch.log(F.relu(x) + 0.5), -F.softplus(-x))


# ------------------------------------------------------------------ the layers


class MinGRU(nn.Module):
    """minGRU (Feng et al., 2024): a GRU whose gate and candidate read the input only.

    ``z_t = sigmoid(W_z x_t)``, ``h~_t = positive(W_h x_t)``, and
    ``h_t = (1 - z_t) * h_{t-1} + z_t * h~_t``: a linear recurrence with
    ``a_t = 1 - z_t`` and ``b_t = z_t * h~_t``. ``mode="parallel"`` computes it with
    ``scan_log_space`` (``log(1 - z) = -softplus(k)``, ``log z = -softplus(-k)``);
    ``mode="sequential"`` with ``scan_sequential``. Both compute the same function.

    Shape:
        ``X`` ``(B, T, I)`` and ``h0`` ``(B, H)`` (positive) or ``None``; returns
        ``(B, T, H)``.
    """

    def __init__(self, input_size: int, hidden_size: int):
        super().__init__()
        self.gate = nn.Linear(input_size, hidden_size)         # k: z = sigmoid(k)
        self.candidate = nn.Linear(input_size, hidden_size)

    def forward(self, X: torch.Tensor, h0: torch.Tensor | None = None,
                mode: str = "parallel") -> torch.Tensor:
        k, c = self.gate(X), self.candidate(X)                  # (B, T, H) each
        if mode == "sequential":
            z = torch.sigmoid(k)
            return scan_sequential(1 - z, z * positive(c), h0)
        check_str("mode", mode, ("parallel", "sequential"))
        log_h0 = None if h0 is None else torch.log(h0)
        return scan_log_space(-F.softplus(k), -F.softplus(-k) + log_positive(c), log_h0)


class MinGRULM(nn.Module):
    """A character (or word) language model from stacked minGRU layers.

    Each block is the pre-norm residual pattern of a Transformer with the attention
    replaced by a minGRU: ``x = x + MinGRU(LayerNorm(x))``, then
    ``x = x + MLP(LayerNorm(x))`` (the MLP mixes the features of one step; the
    recurrence is the only path across steps). The state is every layer's last ``h``.

    Shape:
        ``X`` ``(B, T)`` ids; returns ``(B, T, V)`` logits and the state, a list of
        ``(B, H)`` tensors, one per layer.
    """

    def __init__(self, vocab_size: int, num_hiddens: int, num_layers: int,
                 mlp_ratio: int = 2):
        super().__init__()
        check_int("num_layers", num_layers, minimum=1)
        self.embedding = nn.Embedding(vocab_size, num_hiddens)
        self.recurrent = nn.ModuleList(MinGRU(num_hiddens, num_hiddens)
                                       for _ in range(num_layers))
        self.mlps = nn.ModuleList(
            nn.Sequential(nn.Linear(num_hiddens, mlp_ratio * num_hiddens), nn.GELU(),
                          nn.Linear(mlp_ratio * num_hiddens, num_hiddens))
            for _ in range(num_layers))
        self.norms = nn.ModuleList(nn.LayerNorm(num_hiddens)
                                   for _ in range(2 * num_layers + 1))
        self.decoder = nn.Linear(num_hiddens, vocab_size)

    def forward(self, X: torch.Tensor, state=None, mode: str = "parallel"):
        x = self.embedding(X)                                   # (B, T, H)
        state = [None] * len(self.recurrent) if state is None else state
        new_state = []
        for i, (layer, mlp) in enumerate(zip(self.recurrent, self.mlps)):
            h = layer(self.norms[2 * i](x), state[i], mode)     # (B, T, H)
            new_state.append(h[:, -1])
            x = x + h
            x = x + mlp(self.norms[2 * i + 1](x))
        return self.decoder(self.norms[-1](x)), new_state


class CausalTransformerLM(nn.Module):
    """A small decoder-only Transformer: the same blocks with causal self-attention.

    Learned positions up to ``max_len``; every window is read on its own (the
    returned state is ``None``), so its context is the window, not the whole past.

    Shape:
        ``X`` ``(B, T)`` ids with ``T <= max_len``; returns ``(B, T, V)`` logits and
        ``None``.
    """

    def __init__(self, vocab_size: int, num_hiddens: int, num_layers: int,
                 num_heads: int, max_len: int, mlp_ratio: int = 2):
        super().__init__()
        self.max_len = check_int("max_len", max_len, minimum=1)
        self.embedding = nn.Embedding(vocab_size, num_hiddens)
        self.position = nn.Embedding(max_len, num_hiddens)
        layer = nn.TransformerEncoderLayer(num_hiddens, num_heads,
                                           mlp_ratio * num_hiddens, dropout=0.0,
                                           activation="gelu", batch_first=True,
                                           norm_first=True)
        self.blocks = nn.TransformerEncoder(layer, num_layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(num_hiddens)
        self.decoder = nn.Linear(num_hiddens, vocab_size)

    def forward(self, X: torch.Tensor, state=None):
        T = X.shape[1]
        if T > self.max_len:
            raise ValueError(f"windows of {T} steps are longer than max_len="
                             f"{self.max_len}: build the model with a larger max_len")
        x = self.embedding(X) + self.position(torch.arange(T, device=X.device))
        mask = nn.Transformer.generate_square_subsequent_mask(T, device=X.device)
        x = self.blocks(x, mask=mask, is_causal=True)           # (B, T, H)
        return self.decoder(self.norm(x)), None


# ------------------------------------------------------------ linear attention


def feature_map(x: torch.Tensor) -> torch.Tensor:
    """``elu(x) + 1``: positive features, so that the normalizer is positive."""
    return F.elu(x) + 1


def causal_linear_attention(Q: torch.Tensor, K: torch.Tensor, V: torch.Tensor
                            ) -> torch.Tensor:
    """Causal attention with ``phi(q) . phi(k)`` in place of ``exp(q . k)``.

    Shape:
        ``Q``, ``K`` ``(B, T, d)``, ``V`` ``(B, T, d_v)``; returns ``(B, T, d_v)``.
    """
    scores = feature_map(Q) @ feature_map(K).transpose(1, 2)   # (B, T, T)
    scores = torch.tril(scores)                                 # step t sees s <= t
    return (scores @ V) / scores.sum(dim=2, keepdim=True)


def linear_attention_recurrent(Q: torch.Tensor, K: torch.Tensor, V: torch.Tensor
                               ) -> torch.Tensor:
    """The same outputs from a recurrence: a ``(d, d_v)`` matrix state and a normalizer.

    ``S_t = S_{t-1} + phi(k_t) v_t^T``, ``z_t = z_{t-1} + phi(k_t)``, and the output
    is ``phi(q_t)^T S_t / phi(q_t)^T z_t``: the state does not grow with ``t``.
    """
    B, T, d = Q.shape
    S = Q.new_zeros(B, d, V.shape[2])                           # (B, d, d_v)
    z = Q.new_zeros(B, d)                                       # (B, d)
    outputs = []
    for t in range(T):
        q, k = feature_map(Q[:, t]), feature_map(K[:, t])      # (B, d)
        S = S + k[:, :, None] * V[:, t, None, :]               # outer product
        z = z + k
        outputs.append((q[:, None, :] @ S)[:, 0] / (q * z).sum(1, keepdim=True))
    return torch.stack(outputs, dim=1)


# ------------------------------------------------------- associative recall


def recall_pairs(batch_size: int, num_pairs: int, num_keys: int, num_values: int,
                 generator: torch.Generator | None = None):
    """A batch of associative recall: ``num_pairs`` key-value pairs, then a query key.

    The keys of one sequence are distinct, drawn from ``num_keys``; each has a random
    value out of ``num_values``; the query is one of the keys, and the answer is its
    value (chance: ``1 / num_values``). Step ``t < num_pairs`` holds pair ``t``; the
    last step holds the query key and the blank value id ``num_values``.

    Shape:
        returns keys ``(B, N + 1)``, values ``(B, N + 1)`` and answers ``(B,)``.
    """
    check_int("num_pairs", num_pairs, minimum=1)
    if num_pairs > num_keys:
        raise ValueError(f"num_pairs={num_pairs} needs at least as many keys, got "
                         f"num_keys={num_keys}")
    keys = torch.rand(batch_size, num_keys, generator=generator).argsort(1)[:, :num_pairs]
    values = torch.randint(0, num_values, (batch_size, num_pairs), generator=generator)
    asked = torch.randint(0, num_pairs, (batch_size,), generator=generator)
    rows = torch.arange(batch_size)
    keys = torch.cat([keys, keys[rows, asked, None]], dim=1)             # (B, N + 1)
    blank = torch.full((batch_size, 1), num_values)
    return keys, torch.cat([values, blank], dim=1), values[rows, asked]


class PairRecall(nn.Module):
    """Read the pairs, then answer the query: with a minGRU state, or with attention.

    Each step's input is ``key embedding + value embedding``. ``reader="mingru"``
    reads the pairs into one ``(B, H)`` state, a fixed size whatever the number of
    pairs, and an MLP answers from that state and the query. ``reader="attention"``
    keeps every step: the query attends over them (one softmax head) and a linear
    layer answers; what it keeps grows with the number of pairs.

    Shape:
        ``keys``, ``values`` ``(B, N + 1)``; returns ``(B, num_values)`` scores.
    """

    def __init__(self, reader: str, num_keys: int, num_values: int, num_hiddens: int):
        super().__init__()
        self.reader = check_str("reader", reader, ("mingru", "attention"))
        self.key_embedding = nn.Embedding(num_keys, num_hiddens)
        self.value_embedding = nn.Embedding(num_values + 1, num_hiddens)
        if reader == "mingru":
            self.recurrent = MinGRU(num_hiddens, num_hiddens)
            self.head = nn.Sequential(nn.Linear(2 * num_hiddens, 4 * num_hiddens),
                                      nn.GELU(), nn.Linear(4 * num_hiddens, num_values))
        else:
            self.query = nn.Linear(num_hiddens, num_hiddens)
            self.key = nn.Linear(num_hiddens, num_hiddens)
            self.value = nn.Linear(num_hiddens, num_hiddens)
            self.head = nn.Linear(num_hiddens, num_values)

    def forward(self, keys: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
        x = self.key_embedding(keys) + self.value_embedding(values)   # (B, N + 1, H)
        pairs, query = x[:, :-1], x[:, -1]
        if self.reader == "mingru":
            state = self.recurrent(pairs)[:, -1]                        # (B, H)
            return self.head(torch.cat([state, query], dim=1))
        scores = (self.key(pairs) @ self.query(query)[:, :, None])[:, :, 0]  # (B, N)
        weights = torch.softmax(scores / math.sqrt(x.shape[2]), dim=1)
        return self.head((weights[:, :, None] * self.value(pairs)).sum(1))
