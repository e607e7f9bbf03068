"""PyTorch training primitives shared by every PyTorch chapter.

Small, framework-specific pieces that several training loops need: ids as tensors,
clipping, state detaching, sampling, perplexity, parameter counts and checkpoints. The
loops themselves live in ``utils.torch.train`` (every language model) and
``utils.torch.classify`` (the classifiers).
"""
from __future__ import annotations

import contextlib
import math
import os
import tempfile
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..checks import check_number


def select_device() -> torch.device:
    """The device to train on: the first CUDA GPU when PyTorch sees one, else the CPU.

    Each framework of the book has one such helper, ``select_device`` in its ``core``
    module; PyTorch's returns a ``torch.device`` for the chapter to pass around.
    """
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


@contextlib.contextmanager
def full_float32():
    """Run the block with TensorFloat-32 off, in matrix products and in cuDNN.

    On Ampere and later GPUs PyTorch may compute float32 matrix products and cuDNN
    recurrent layers in TF32 (10-bit mantissas), which moves results by about 1e-3:
    a comparison of two implementations made to float32 tolerance runs in here. On a
    CPU it changes nothing. The previous settings are restored on exit.
    """
    matmul, cudnn = torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = torch.backends.cudnn.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = \
            matmul, cudnn


def as_ids(data, device) -> torch.Tensor:
    """Token ids (a NumPy array, a list or a tensor) as an int64 tensor on ``device``.

    Every PyTorch loop of the book converts its NumPy minibatches here, at the edge. A
    tensor that is already int64 on ``device`` comes back as it is (no copy).
    """
    if isinstance(data, torch.Tensor):
        return data.to(device=device, dtype=torch.long)
    return torch.as_tensor(np.asarray(data), dtype=torch.long, device=device)


def clip_gradients(params, max_norm: float) -> float:
    """Rescale gradients so that their global L2 norm is at most ``max_norm``.

    Returns the norm *before* clipping, which is what a plot of gradient norms shows.
    ``max_norm=inf`` measures the norm without clipping. Clipping the global norm keeps
    the direction of the update and bounds its length (Pascanu et al., 2013).

    The norm is the square root of the summed squares. PyTorch's own float32 norm on
    the CPU (``torch.linalg.vector_norm``, used by ``clip_grad_norm_``) accumulates less
    carefully: on the 2M-entry gradient of a word model's decoder it can be off by a
    few parts in 10,000, enough to make the clipped update differ from MXNet's and
    Paddle's. ``sum`` adds pairwise and is accurate to float32 rounding.
    """
    max_norm = check_number("max_norm", max_norm, strictly_above=0.0, allow_inf=True)
    params = [p for p in params if p.grad is not None]
    if not params:
        return 0.0
    total = torch.stack([p.grad.detach().float().square().sum() for p in params]
                        ).sum().sqrt()
    if math.isfinite(max_norm) and total > max_norm:
        for p in params:
            p.grad.mul_(max_norm / total)
    return float(total)


def detach_state(state):
    """Cut the graph behind a recurrent state (a tensor or a tuple of tensors).

    Truncated backpropagation through time: the values carry over to the next
    minibatch, the gradients do not.
    """
    if state is None:
        return None
    if isinstance(state, torch.Tensor):
        return state.detach()
    return tuple(detach_state(s) for s in state)


def sample_next_token(logits: torch.Tensor, temperature: float,
                      generator: torch.Generator | None = None) -> int:
    """Pick the next token id from one step's logits.

    ``temperature=0`` takes the most likely token (greedy decoding). Otherwise the id is
    drawn from ``softmax(logits / temperature)``: below 1 the distribution sharpens
    (safer, more repetitive text), above 1 it flattens (more varied, more mistakes).

    Shape:
        ``logits`` is ``(V,)``.
    """
    if temperature == 0:
        return int(logits.argmax())
    probs = torch.softmax(logits.float().cpu() / temperature, dim=-1)
    return int(torch.multinomial(probs, 1, generator=generator))


def model_device(model: nn.Module) -> torch.device:
    """The device of ``model``'s parameters."""
    return next(model.parameters()).device


def wait_for(device) -> None:
    """Wait until ``device`` has finished its queued work (a GPU runs asynchronously),
    so that a timer stopped next measures the work, not its launch."""
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize(device)


def perplexity(mean_nll: float) -> float:
    """Perplexity from the mean negative log-likelihood per token (in nats)."""
    return math.exp(min(mean_nll, 700.0))  # exp(700) is near float64's limit


def count_parameters(model: nn.Module) -> int:
    """The number of trainable parameters of a model."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


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
