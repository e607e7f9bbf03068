"""LSTM pieces that ``nn.LSTM`` hides: a stack of ``nn.LSTMCell`` and hand-set gates.

* ``StackedLSTMCells`` steps one ``nn.LSTMCell`` per layer over time. With the weights
  of an ``nn.LSTM`` copied in (``copy_from_lstm``) it computes the same outputs and
  final state, which shows what the fused layer does inside.
* ``hand_set_lstm_cell`` builds a one-unit ``nn.LSTMCell`` whose gates are pinned open
  or shut, to watch the memory cell remember, add, erase and overwrite.
* ``left_context_scores`` and ``generate_by_rereading`` evaluate and sample a model
  with nothing to the right of the predicted token, which exposes a bidirectional
  network trained as a language model.

The from-scratch LSTM and the language-model wrapper live in ``utils.torch.rnn``.
"""
from __future__ import annotations

import math

import torch
from torch import nn
from torch.nn import functional as F

from .train import next_token_probs
from .core import perplexity


class StackedLSTMCells(nn.Module):
    """A multi-layer LSTM made of ``nn.LSTMCell`` objects stepped over time.

    Layer ``l`` reads the hidden state of layer ``l - 1`` at the same time step (layer
    0 reads the input), exactly as ``nn.LSTM(num_layers=L)`` does; dropout, when asked
    for, is applied to the outputs of every layer but the last, again as ``nn.LSTM``.

    Args:
        input_size: ``E``, the size of one input vector.
        num_hiddens: ``H``, the size of the hidden state of every layer.
        num_layers: ``L``, the number of stacked cells.
        dropout: dropout probability between layers (training mode only).
        batch_first: if true, inputs and outputs are ``(B, T, ·)`` instead of
            ``(T, B, ·)``; the state is ``(L, B, H)`` either way, as in ``nn.LSTM``.

    Shape:
        ``X``: ``(T, B, E)``; ``state``: ``(H_0, C_0)``, each ``(L, B, H)``, or ``None``
        for zeros. Returns ``outputs`` ``(T, B, H)`` (the top layer at every step) and
        the final ``(H_T, C_T)``, each ``(L, B, H)``.
    """

    def __init__(self, input_size: int, num_hiddens: int, num_layers: int = 1,
                 dropout: float = 0.0, batch_first: bool = False):
        super().__init__()
        if num_layers < 1:
            raise ValueError(f"num_layers must be at least 1, got {num_layers}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        self.input_size, self.num_hiddens = input_size, num_hiddens
        self.num_layers, self.dropout = num_layers, dropout
        self.batch_first = batch_first
        self.cells = nn.ModuleList(
            nn.LSTMCell(input_size if layer == 0 else num_hiddens, num_hiddens)
            for layer in range(num_layers))

    def begin_state(self, batch_size: int, device=None):
        """Zero hidden and memory states, each ``(L, B, H)``."""
        shape = (self.num_layers, batch_size, self.num_hiddens)
        return (torch.zeros(shape, device=device), torch.zeros(shape, device=device))

    def forward(self, X, state=None):
        if self.batch_first:
            X = X.transpose(0, 1)                               # (B, T, E) -> (T, B, E)
        if state is None:
            state = self.begin_state(X.shape[1], X.device)
        H, C = state                                            # (L, B, H) each
        hs, cs = list(H.unbind(0)), list(C.unbind(0))           # L tensors (B, H)
        outputs = []
        for x in X:                                             # x: (B, E)
            for layer, cell in enumerate(self.cells):
                if layer > 0 and self.dropout > 0:
                    x = F.dropout(x, self.dropout, self.training)
                hs[layer], cs[layer] = cell(x, (hs[layer], cs[layer]))
                x = hs[layer]                                   # (B, H)
            outputs.append(x)
        outputs = torch.stack(outputs)                          # (T, B, H)
        if self.batch_first:
            outputs = outputs.transpose(0, 1)                   # (B, T, H)
        return outputs, (torch.stack(hs), torch.stack(cs))

    @torch.no_grad()
    def copy_from_lstm(self, layer: nn.LSTM) -> None:
        """Copy the weights of an ``nn.LSTM`` of the same sizes into the cells.

        ``nn.LSTM`` stores layer ``l`` as ``weight_ih_l{l}``, ``weight_hh_l{l}``,
        ``bias_ih_l{l}``, ``bias_hh_l{l}``, with the four gates stacked in the order
        input, forget, candidate, output: the very layout of ``nn.LSTMCell``.
        """
        if not isinstance(layer, nn.LSTM):
            raise TypeError(f"layer must be an nn.LSTM, got {type(layer).__name__}")
        if layer.bidirectional or layer.proj_size > 0 or not layer.bias:
            raise ValueError("copy_from_lstm supports unidirectional nn.LSTM layers "
                             "with biases and no projection (proj_size=0).")
        given = (layer.input_size, layer.hidden_size, layer.num_layers)
        wanted = (self.input_size, self.num_hiddens, self.num_layers)
        if given != wanted:
            raise ValueError(f"nn.LSTM has (input_size, hidden_size, num_layers)="
                             f"{given} but this stack has {wanted}; build matching "
                             f"sizes.")
        for index, cell in enumerate(self.cells):
            for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                getattr(cell, name).copy_(getattr(layer, f"{name}_l{index}"))


def gate_bias(value: float, saturation: float) -> float:
    """The bias that makes a sigmoid gate output ``value`` (0 and 1 saturate)."""
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"A gate value must be in [0, 1], got {value}")
    if value == 0.0 or value == 1.0:
        return saturation if value == 1.0 else -saturation
    return math.log(value / (1.0 - value))


@torch.no_grad()
def hand_set_lstm_cell(input_gate: float, forget_gate: float, output_gate: float = 1.0,
                       saturation: float = 20.0) -> nn.LSTMCell:
    """A one-unit ``nn.LSTMCell`` whose three gates are pinned to chosen values.

    Every weight is zero except the candidate's input weight, which is 1, so the
    candidate memory is ``tanh(x)`` and each gate is a constant ``sigmoid(bias)``.
    A gate value of 1 (open) uses the bias ``+saturation`` (``sigmoid(20)`` rounds
    to 1 in float32), 0 (shut) uses ``-saturation`` (about ``2e-9``); a value in
    between uses its logit.

    Args:
        input_gate, forget_gate, output_gate: gate values in ``[0, 1]``.
        saturation: the size of the biases of open and shut gates.

    Shape:
        the cell maps ``x`` ``(B, 1)`` and ``(h, c)`` ``(B, 1)`` each to ``(h, c)``.
    """
    cell = nn.LSTMCell(input_size=1, hidden_size=1)
    for param in cell.parameters():
        param.zero_()
    # PyTorch stacks the gates as [input, forget, candidate, output].
    for row, value in ((0, input_gate), (1, forget_gate), (3, output_gate)):
        cell.bias_ih[row] = gate_bias(float(value), saturation)
    cell.weight_ih[2, 0] = 1.0
    return cell


@torch.no_grad()
def left_context_scores(model: nn.Module, ids, context_size: int, device,
                        max_positions: int = 2000) -> dict:
    """Score next-token predictions made from the left context only.

    For each scored position ``t`` the model reads the ``context_size`` tokens that
    end at ``t`` from a zero state, and the output at its last step predicts token
    ``t + 1``. Nothing to the right of ``t`` enters, so a model that peeks at the
    future during teacher forcing (a bidirectional one) is measured as it would
    perform when generating text. For a left-to-right model the result is close to its
    ordinary perplexity, not equal: the context is cut to ``context_size`` tokens and
    only a sample of positions is scored.

    Args:
        model: an ``RNNLM``-like model.
        ids: the token ids to score (e.g. the held-out text).
        context_size: how many tokens each prediction reads.
        device: where the model lives.
        max_positions: score at most this many positions, evenly spaced.

    Returns:
        ``{"ppl", "accuracy", "num_positions"}``; accuracy is that of the most likely
        token.
    """
    ids = torch.as_tensor(list(ids), dtype=torch.long)
    if context_size < 1 or len(ids) <= context_size:
        raise ValueError(f"{len(ids)} tokens are too few for context_size="
                         f"{context_size}: pass more tokens or a shorter context.")
    last = torch.arange(context_size - 1, len(ids) - 1)             # positions t
    step = max(1, len(last) // max_positions)
    last = last[::step][:max_positions]
    windows = last[:, None] + torch.arange(1 - context_size, 1)      # (N, k)
    was_training = model.training
    model.eval()
    nll_sum, correct = 0.0, 0
    for chunk, ends in zip(windows.split(256), last.split(256)):
        logits, _ = model(ids[chunk].to(device), None)              # (n, k, V)
        logits, targets = logits[:, -1].float().cpu(), ids[ends + 1]
        nll_sum += F.cross_entropy(logits, targets, reduction="sum").item()
        correct += int((logits.argmax(-1) == targets).sum())
    model.train(was_training)
    return {"ppl": perplexity(nll_sum / len(last)), "accuracy": correct / len(last),
            "num_positions": len(last)}


def generate_by_rereading(prefix: str, num_preds: int, model: nn.Module, vocab) -> str:
    """Greedy left-to-right generation that re-reads the whole text at every step.

    No state is carried from step to step: each new token is the most likely one
    after the text so far, read from a zero state. For a left-to-right model this is
    what ``predict`` computes (only slower); for a bidirectional model it is the only
    honest way to generate, since the backward direction cannot read text that does
    not exist yet.
    """
    text = prefix
    for _ in range(num_preds):
        probs = next_token_probs(text, model, vocab)                # (V,)
        text += vocab.to_tokens(int(probs.argmax()))
    return text
