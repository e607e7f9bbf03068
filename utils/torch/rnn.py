"""Recurrent networks in PyTorch: from-scratch RNN, GRU and LSTM, and a character LM.

Every recurrent module here follows the conventions of ``nn.RNN``, ``nn.GRU`` and
``nn.LSTM`` (``batch_first=False``), so that a from-scratch model and a built-in layer
can stand in for each other:

* ``forward(X, state=None) -> (outputs, state)``;
* ``X`` is time-major, ``(T, B, E)``; ``outputs`` is ``(T, B, H)``;
* the state is ``(1, B, H)`` (one layer, one direction), or the pair ``(H, C)`` of such
  tensors for an LSTM; ``None`` means zeros.

The from-scratch modules keep one weight matrix per gate, as the equations are
written (``X_t W_xh`` with ``W_xh`` of shape ``(E, H)``), and step through time in a
Python loop.
``load_from_torch_layer`` copies the weights of a one-layer built-in layer into them,
which is how the tests check that both compute the same function.

``RNNLM`` turns any of these modules into a language model, and ``begin_state`` makes
the zero state for any of them. A module written elsewhere works with both when it has
the attributes ``input_size``, ``num_hiddens`` (or ``hidden_size``), ``num_layers``,
``bidirectional`` and, for a model with a memory cell, ``has_cell_state = True``.

The training loop, evaluation and text generation are in ``utils.torch.train``.
"""
from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["ScratchBase", "RNNScratch", "GRUScratch", "LSTMScratch", "RNNLM",
           "begin_state", "check_time_major", "load_from_torch_layer"]


def _uniform_parameter(*shape: int, bound: float) -> nn.Parameter:
    """A parameter drawn from U(-bound, bound), as PyTorch's recurrent layers do."""
    return nn.Parameter(torch.empty(*shape).uniform_(-bound, bound))


def check_time_major(X: torch.Tensor, input_size: int) -> None:
    """Raise a ValueError naming the fix unless ``X`` is ``(T, B, input_size)``."""
    if not isinstance(X, torch.Tensor):
        raise TypeError(f"X must be a tensor of shape (T, B, {input_size}), got "
                        f"{type(X).__name__}")
    if X.dim() != 3 or X.shape[-1] != input_size:
        raise ValueError(f"X must be time-major (T, B, {input_size}), got shape "
                         f"{tuple(X.shape)}; transpose a batch-first (B, T, E) input "
                         f"with X.transpose(0, 1).")


class ScratchBase(nn.Module):
    """What the three from-scratch modules share: sizes, zero state, input checks."""

    num_layers = 1
    bidirectional = False
    has_cell_state = False

    def __init__(self, input_size: int, num_hiddens: int):
        super().__init__()
        if input_size < 1 or num_hiddens < 1:
            raise ValueError(f"input_size and num_hiddens must be positive, got "
                             f"{input_size} and {num_hiddens}")
        self.input_size, self.num_hiddens = input_size, num_hiddens
        self.bound = 1.0 / math.sqrt(num_hiddens)

    def _param(self, *shape: int) -> nn.Parameter:
        return _uniform_parameter(*shape, bound=self.bound)

    def _gate_params(self) -> tuple[nn.Parameter, nn.Parameter, nn.Parameter]:
        """``W_x*`` (E, H), ``W_h*`` (H, H) and ``b_*`` (H,) of one gate."""
        return (self._param(self.input_size, self.num_hiddens),
                self._param(self.num_hiddens, self.num_hiddens),
                self._param(self.num_hiddens))

    def begin_state(self, batch_size: int, device=None):
        """The zero state: ``(1, B, H)``, or a pair of them for an LSTM."""
        return begin_state(self, batch_size, device)


class RNNScratch(ScratchBase):
    """An Elman RNN, one step at a time: ``H_t = φ(X_t W_xh + H_{t-1} W_hh + b_h)``.

    ``φ`` is ``tanh`` (or ``relu``). With the weights of an ``nn.RNN`` copied in
    (``load_from_torch_layer``) it computes exactly what that layer computes; the
    layer's two biases ``b_ih + b_hh`` add up to ``b_h``.

    Args:
        input_size: ``E``, the size of one input vector (``V`` for one-hot characters).
        num_hiddens: ``H``, the size of the hidden state.
        nonlinearity: ``"tanh"`` or ``"relu"``.

    Shape:
        ``X``: ``(T, B, E)``; ``state``: ``(1, B, H)`` or ``None`` for zeros.
        Returns ``outputs`` ``(T, B, H)`` (the hidden state at every step) and the
        final state ``(1, B, H)``.
    """

    def __init__(self, input_size: int, num_hiddens: int, nonlinearity: str = "tanh"):
        super().__init__(input_size, num_hiddens)
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"nonlinearity must be 'tanh' or 'relu', "
                             f"got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        self.W_xh, self.W_hh, self.b_h = self._gate_params()

    def forward(self, X, state=None):
        check_time_major(X, self.input_size)
        if state is None:
            state = self.begin_state(X.shape[1], X.device)
        phi = torch.tanh if self.nonlinearity == "tanh" else torch.relu
        H = state[0]                                            # (B, H)
        outputs = []
        for X_t in X:                                           # X_t: (B, E)
            H = phi(X_t @ self.W_xh + H @ self.W_hh + self.b_h)  # (B, H)
            outputs.append(H)
        return torch.stack(outputs), H.unsqueeze(0)             # (T, B, H), (1, B, H)


class GRUScratch(ScratchBase):
    """A gated recurrent unit (Cho et al., 2014), one step at a time.

    The reset gate ``R_t`` and update gate ``Z_t`` are sigmoids of the input and the
    previous state; the candidate state ``H̃_t`` uses the reset state; the update gate
    mixes old state and candidate::

        R_t = σ(X_t W_xr + H_{t-1} W_hr + b_r)
        Z_t = σ(X_t W_xz + H_{t-1} W_hz + b_z)
        H̃_t = tanh(X_t W_xh + (R_t ⊙ H_{t-1}) W_hh + b_h)          (reset_after=False)
        H_t = Z_t ⊙ H_{t-1} + (1 - Z_t) ⊙ H̃_t

    ``nn.GRU`` (like cuDNN) applies the reset gate *after* the hidden matrix product,
    with a bias of its own inside the product::

        H̃_t = tanh(X_t W_xh + b_h + R_t ⊙ (H_{t-1} W_hh + b_hh))    (reset_after=True)

    The two variants are equally good models but not the same function. Build with
    ``reset_after=True`` to match ``nn.GRU`` exactly (``load_from_torch_layer`` insists
    on it); the default follows the equations of the paper.

    Args:
        input_size: ``E``.
        num_hiddens: ``H``.
        reset_after: where the reset gate acts (see above).

    Shape:
        ``X``: ``(T, B, E)``; ``state``: ``(1, B, H)`` or ``None``. Returns ``outputs``
        ``(T, B, H)`` and the final state ``(1, B, H)``; with ``return_gates=True`` also
        a dict ``{"reset": R, "update": Z}`` of ``(T, B, H)`` tensors.
    """

    def __init__(self, input_size: int, num_hiddens: int, reset_after: bool = False):
        super().__init__(input_size, num_hiddens)
        self.reset_after = reset_after
        self.W_xr, self.W_hr, self.b_r = self._gate_params()   # reset gate
        self.W_xz, self.W_hz, self.b_z = self._gate_params()   # update gate
        self.W_xh, self.W_hh, self.b_h = self._gate_params()   # candidate state
        if reset_after:
            self.b_hh = self._param(num_hiddens)                # bias inside R ⊙ (...)

    def forward(self, X, state=None, return_gates: bool = False):
        check_time_major(X, self.input_size)
        if state is None:
            state = self.begin_state(X.shape[1], X.device)
        H = state[0]                                                    # (B, H)
        outputs, resets, updates = [], [], []
        for X_t in X:                                                   # (B, E)
            R = torch.sigmoid(X_t @ self.W_xr + H @ self.W_hr + self.b_r)  # (B, H)
            Z = torch.sigmoid(X_t @ self.W_xz + H @ self.W_hz + self.b_z)  # (B, H)
            if self.reset_after:
                H_tilde = torch.tanh(X_t @ self.W_xh + self.b_h
                                     + R * (H @ self.W_hh + self.b_hh))
            else:
                H_tilde = torch.tanh(X_t @ self.W_xh + (R * H) @ self.W_hh + self.b_h)
            H = Z * H + (1 - Z) * H_tilde                               # (B, H)
            outputs.append(H)
            resets.append(R)
            updates.append(Z)
        outputs, state = torch.stack(outputs), H.unsqueeze(0)
        if return_gates:
            gates = {"reset": torch.stack(resets), "update": torch.stack(updates)}
            return outputs, state, gates
        return outputs, state


class LSTMScratch(ScratchBase):
    """A long short-term memory (Hochreiter & Schmidhuber, 1997), one step at a time.

    Input, forget and output gates, a candidate memory, then the memory cell and the
    hidden state::

        I_t = σ(X_t W_xi + H_{t-1} W_hi + b_i)
        F_t = σ(X_t W_xf + H_{t-1} W_hf + b_f)
        O_t = σ(X_t W_xo + H_{t-1} W_ho + b_o)
        C̃_t = tanh(X_t W_xc + H_{t-1} W_hc + b_c)
        C_t = F_t ⊙ C_{t-1} + I_t ⊙ C̃_t
        H_t = O_t ⊙ tanh(C_t)

    These are exactly the equations of ``nn.LSTM`` (whose two biases add up to ours).

    Args:
        input_size: ``E``.
        num_hiddens: ``H``.

    Shape:
        ``X``: ``(T, B, E)``; ``state``: ``(H, C)``, each ``(1, B, H)``, or ``None``.
        Returns ``outputs`` ``(T, B, H)`` and the final ``(H, C)``, each ``(1, B, H)``;
        with ``return_gates=True`` also a dict ``{"input": I, "forget": F,
        "output": O}`` of ``(T, B, H)`` tensors.
    """

    has_cell_state = True

    def __init__(self, input_size: int, num_hiddens: int):
        super().__init__(input_size, num_hiddens)
        self.W_xi, self.W_hi, self.b_i = self._gate_params()   # input gate
        self.W_xf, self.W_hf, self.b_f = self._gate_params()   # forget gate
        self.W_xo, self.W_ho, self.b_o = self._gate_params()   # output gate
        self.W_xc, self.W_hc, self.b_c = self._gate_params()   # candidate memory

    def forward(self, X, state=None, return_gates: bool = False):
        check_time_major(X, self.input_size)
        if state is None:
            state = self.begin_state(X.shape[1], X.device)
        H, C = state[0][0], state[1][0]                                 # (B, H) each
        outputs, gates = [], {"input": [], "forget": [], "output": []}
        for X_t in X:                                                   # (B, E)
            I = torch.sigmoid(X_t @ self.W_xi + H @ self.W_hi + self.b_i)  # (B, H)
            F_ = torch.sigmoid(X_t @ self.W_xf + H @ self.W_hf + self.b_f)  # F_t
            O = torch.sigmoid(X_t @ self.W_xo + H @ self.W_ho + self.b_o)
            C_tilde = torch.tanh(X_t @ self.W_xc + H @ self.W_hc + self.b_c)
            C = F_ * C + I * C_tilde                                    # (B, H)
            H = O * torch.tanh(C)                                       # (B, H)
            outputs.append(H)
            for name, value in zip(gates, (I, F_, O)):
                gates[name].append(value)
        outputs, state = torch.stack(outputs), (H.unsqueeze(0), C.unsqueeze(0))
        if return_gates:
            return outputs, state, {k: torch.stack(v) for k, v in gates.items()}
        return outputs, state


def _state_spec(rnn: nn.Module) -> tuple[int, int, bool]:
    """``(num_layers * num_directions, num_hiddens, has_cell_state)`` of a module."""
    num_hiddens = getattr(rnn, "num_hiddens", None) or getattr(rnn, "hidden_size", None)
    if num_hiddens is None:
        raise TypeError(f"{type(rnn).__name__} has neither num_hiddens nor "
                        f"hidden_size; it is not a recurrent module begin_state knows.")
    num_layers = getattr(rnn, "num_layers", 1)
    num_directions = 2 if getattr(rnn, "bidirectional", False) else 1
    has_cell = isinstance(rnn, nn.LSTM) or getattr(rnn, "has_cell_state", False)
    return num_layers * num_directions, num_hiddens, has_cell


def begin_state(rnn: nn.Module, batch_size: int, device=None):
    """The zero initial state of a recurrent module (built-in or from scratch).

    Args:
        rnn: an ``nn.RNN``/``nn.GRU``/``nn.LSTM`` or a module with the attributes
            listed in this module's docstring.
        batch_size: ``B``.
        device: where to put the state.

    Shape:
        ``(L * D, B, H)`` (``L`` layers, ``D`` directions), or a pair ``(H, C)`` of
        such tensors for an LSTM.
    """
    stack, num_hiddens, has_cell = _state_spec(rnn)
    zeros = torch.zeros(stack, batch_size, num_hiddens, device=device)
    return (zeros, zeros.clone()) if has_cell else zeros


# How each scratch module names nn's gate blocks: PyTorch stacks the gates of a layer
# in one matrix, RNN: [h]; GRU: [r, z, n]; LSTM: [i, f, g, o] (g is the candidate).
# Keyed by class name, so that the copy of a class that a chapter defines in a code
# cell (the same code, another class object) is accepted like the package's own.
_TORCH_GATES = {
    "RNNScratch": (nn.RNN, ("h",)),
    "GRUScratch": (nn.GRU, ("r", "z", "h")),
    "LSTMScratch": (nn.LSTM, ("i", "f", "o", "c")),
}
_LSTM_TORCH_ORDER = ("i", "f", "c", "o")


@torch.no_grad()
def load_from_torch_layer(scratch: nn.Module, layer: nn.Module) -> nn.Module:
    """Copy the weights of a one-layer built-in layer into a from-scratch module.

    Afterwards both compute the same outputs and final state (up to float rounding).
    PyTorch keeps ``weight_ih`` as ``(gates * H, E)`` and computes ``x W^T``; the
    scratch modules keep one ``(E, H)`` matrix per gate, hence the transposes. Biases
    that PyTorch splits in two (``b_ih + b_hh``) are added, except the hidden bias of
    the GRU candidate, which sits inside the reset product (``GRUScratch.b_hh``).

    Args:
        scratch: an ``RNNScratch``, ``GRUScratch(reset_after=True)`` or ``LSTMScratch``.
        layer: the built-in layer of the same kind and sizes, one layer, one direction,
            with biases, ``batch_first=False``.

    Returns:
        ``scratch``, for chaining.
    """
    kind = type(scratch).__name__
    if kind not in _TORCH_GATES or not isinstance(scratch, ScratchBase):
        raise TypeError(f"scratch must be one of {list(_TORCH_GATES)}, got {kind}")
    layer_type, gate_names = _TORCH_GATES[kind]
    if not isinstance(layer, layer_type):
        raise TypeError(f"{type(scratch).__name__} takes the weights of an "
                        f"nn.{layer_type.__name__}, got {type(layer).__name__}")
    if (layer.num_layers != 1 or layer.bidirectional or not layer.bias
            or layer.batch_first):
        raise ValueError("load_from_torch_layer needs a one-layer, one-direction layer "
                         "with biases and batch_first=False.")
    if getattr(layer, "proj_size", 0):
        raise ValueError("nn.LSTM with proj_size > 0 has no from-scratch counterpart.")
    layer_sizes = (layer.input_size, layer.hidden_size)
    scratch_sizes = (scratch.input_size, scratch.num_hiddens)
    if layer_sizes != scratch_sizes:
        raise ValueError(f"The layer has (input_size, hidden_size)={layer_sizes}, the "
                         f"scratch module {scratch_sizes}; build them alike.")
    if kind == "RNNScratch" and scratch.nonlinearity != layer.nonlinearity:
        raise ValueError(f"nonlinearity differs: {scratch.nonlinearity!r} vs "
                         f"{layer.nonlinearity!r}")
    if kind == "GRUScratch" and not scratch.reset_after:
        raise ValueError("nn.GRU applies the reset gate after the hidden product; "
                         "build GRUScratch(..., reset_after=True) to copy its weights.")
    order = _LSTM_TORCH_ORDER if kind == "LSTMScratch" else gate_names
    H = layer.hidden_size
    blocks = {name: slice(k * H, (k + 1) * H) for k, name in enumerate(order)}
    for name in gate_names:
        rows = blocks[name]
        W_ih = layer.weight_ih_l0[rows]                                   # (H, E)
        W_hh = layer.weight_hh_l0[rows]                                   # (H, H)
        b_ih, b_hh = layer.bias_ih_l0[rows], layer.bias_hh_l0[rows]       # (H,) each
        getattr(scratch, f"W_x{name}").copy_(W_ih.T)
        getattr(scratch, f"W_h{name}").copy_(W_hh.T)
        if kind == "GRUScratch" and name == "h":
            scratch.b_h.copy_(b_ih)
            scratch.b_hh.copy_(b_hh)
        else:
            getattr(scratch, f"b_{name}").copy_(b_ih + b_hh)
    return scratch


class RNNLM(nn.Module):
    """A language model: tokens in, one recurrent module, next-token logits out.

    The tokens enter as one-hot vectors (``embed_size=None``, as the character
    chapters do: ``E = V``) or through an ``nn.Embedding`` (``E = embed_size``). A
    linear layer maps each hidden state to ``V`` logits; optional dropout sits between
    the recurrent module and that layer.

    Args:
        rnn: a time-major recurrent module, built-in (``nn.RNN``, ``nn.GRU``,
            ``nn.LSTM``) or from scratch; its ``input_size`` must be ``V`` (one-hot)
            or ``embed_size``.
        vocab_size: ``V``.
        embed_size: ``None`` for one-hot inputs, else the embedding size ``E``.
        dropout: dropout probability on the recurrent outputs (training mode only).

    Shape:
        ``X``: ``(B, T)`` token ids, batch first like the data iterators.
        Returns ``logits`` ``(B, T, V)``, aligned with ``X`` and with the targets ``Y``
        (``logits[b, t]`` predicts ``Y[b, t]``), and the recurrent module's state.
    """

    def __init__(self, rnn: nn.Module, vocab_size: int, embed_size: int | None = None,
                 dropout: float = 0.0):
        super().__init__()
        expected = vocab_size if embed_size is None else embed_size
        if rnn.input_size != expected:
            what = "vocab_size (one-hot inputs)" if embed_size is None else "embed_size"
            raise ValueError(f"The recurrent module takes input_size={rnn.input_size}, "
                             f"but {what} is {expected}; build it with "
                             f"input_size={expected}.")
        if getattr(rnn, "batch_first", False):
            raise ValueError("RNNLM feeds the recurrent module time-major inputs; "
                             "build it with batch_first=False.")
        self.rnn, self.vocab_size = rnn, vocab_size
        self.embedding = None if embed_size is None else nn.Embedding(vocab_size,
                                                                      embed_size)
        self.dropout = nn.Dropout(dropout)
        _, num_hiddens, _ = _state_spec(rnn)
        num_directions = 2 if getattr(rnn, "bidirectional", False) else 1
        self.output = nn.Linear(num_hiddens * num_directions, vocab_size)

    def embed(self, X: torch.Tensor) -> torch.Tensor:
        """Token ids ``(B, T)`` to time-major inputs ``(T, B, E)``."""
        X = X.T.long()                                          # (T, B)
        if self.embedding is None:
            return F.one_hot(X, self.vocab_size).float()        # (T, B, V)
        return self.embedding(X)                                # (T, B, E)

    def forward(self, X, state=None):
        outputs, state = self.rnn(self.embed(X), state)         # (T, B, H)
        outputs = self.dropout(outputs)
        logits = self.output(outputs.transpose(0, 1))           # (B, T, V)
        return logits, state

    def begin_state(self, batch_size: int, device=None):
        """The zero state of the recurrent module (see ``begin_state``)."""
        return begin_state(self.rnn, batch_size, device)
