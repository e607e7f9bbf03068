"""The framework comparison's reference language model, trained in PyTorch.

``train_reference_lm`` is the PyTorch entry of ``utils.lm_compare``: the same model,
initialisation, loss, optimiser and batches as its MXNet (``utils.mxnet.lm``) and
Paddle (``utils.paddle.lm``) counterparts. The model is the chapter's ``WordLM``
(untied), started from the weights that every framework in the comparison loads.
"""
from __future__ import annotations

import time

import numpy as np
import torch
import torch.nn.functional as F

from ..batching import bptt_batches
from ..lm_compare import checked_weights
from .lm import WordLM
from .train import evaluate
from .core import clip_gradients, detach_state


def load_reference_weights_(model: WordLM, weights: dict) -> None:
    """Load the comparison's shared initial weights into ``model``, in place.

    ``weights`` are ``utils.lm_compare.reference_weights``, already in PyTorch's
    layout. Every bias is set to zero; PyTorch's LSTM has two per gate (``bias_ih``,
    ``bias_hh``), as Paddle's and MXNet's do.
    """
    targets = {"embedding": model.embedding.weight,
               "decoder.weight": model.decoder.weight}
    for layer in range(model.num_layers):
        targets[f"lstm.l{layer}.w_ih"] = getattr(model.rnn, f"weight_ih_l{layer}")
        targets[f"lstm.l{layer}.w_hh"] = getattr(model.rnn, f"weight_hh_l{layer}")
    checked_weights(weights, {name: param.shape for name, param in targets.items()})
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "bias" in name:
                param.zero_()
        for name, param in targets.items():
            param.copy_(torch.from_numpy(weights[name]))


def train_reference_lm(train_data: np.ndarray, valid_data: np.ndarray, vocab_size: int,
                       cfg, num_updates: int, seed: int, weights: dict) -> dict:
    """Train the reference model for ``num_updates`` updates and validate it.

    Per-token mean cross entropy, plain SGD at ``cfg.lr``, global-norm clipping at
    ``cfg.clip``, the state carried and detached across windows; the training stream
    is walked from its start and wraps around if it runs out. Runs on the CPU, the
    device of the comparison.

    Args:
        weights: the initial weights (``utils.lm_compare.reference_weights``).
        seed: seeds PyTorch's generator, which draws the dropout masks.

    Shape:
        ``train_data`` ``(B, L)`` and ``valid_data`` ``(B, L')`` ids
        (``utils.bptt_batchify``).

    Returns:
        a dict with ``val_ppl``, ``train_losses`` (per-token, one per update),
        ``train_seconds`` and ``tokens_per_s``.
    """
    torch.manual_seed(seed)  # the dropout masks
    model = WordLM(vocab_size, cfg.embed_size, cfg.num_hiddens, cfg.num_layers,
                   cfg.dropout, tie_weights=False)
    load_reference_weights_(model, weights)
    optimizer = torch.optim.SGD(model.parameters(), lr=cfg.lr)
    model.train()
    state, losses, tokens = None, [], 0
    start = time.perf_counter()
    while len(losses) < num_updates:
        for X, Y in bptt_batches(train_data, cfg.num_steps):  # NumPy, like the others
            if len(losses) == num_updates:
                break
            X, Y = torch.as_tensor(X), torch.as_tensor(Y)
            logits, state = model(X, detach_state(state))         # (B, T, V)
            loss = F.cross_entropy(logits.reshape(-1, vocab_size), Y.reshape(-1))
            optimizer.zero_grad()
            loss.backward()
            clip_gradients(model.parameters(), cfg.clip)
            optimizer.step()
            losses.append(loss.item())
            tokens += Y.numel()
        state = None  # a new pass over the stream starts from zeros
    seconds = time.perf_counter() - start
    val_ppl = evaluate(model, valid_data, cfg.num_steps)
    return {"val_ppl": val_ppl, "train_losses": losses, "train_seconds": seconds,
            "tokens_per_s": tokens / seconds}
