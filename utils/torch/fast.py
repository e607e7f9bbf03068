"""The fast paths of the PyTorch language-model loop, kept apart from the lesson.

``utils.torch.train.train_epoch`` computes each window's loss with a *step loss*,
``step_loss(model, X, Y, state) -> (mean NLL per token, state)``. The plain one,
``utils.torch.train.lm_step_loss``, is the model's forward pass and a cross entropy.
This module builds the faster ones that ``fit`` passes when a ``TrainConfig`` asks
for them; none changes what is learned beyond float rounding:

* ``autocast`` and ``bf16_autocast_works``: matrix products in bfloat16 where the
  hardware runs them natively (never emulated: that is slower than float32);
* ``LinearCrossEntropy``, ``linear_cross_entropy`` and ``decoder_loss``: the decoder
  and the cross entropy as one step that keeps no ``(N, V)`` log-probabilities for the
  backward pass (about 8% of a word model's step on 2 CPU cores);
* ``fast_step_loss``: a step loss with either or both.

The appendix of the book measures what each buys (``utils.torch.speed``).
"""
from __future__ import annotations

import contextlib

import torch
import torch.nn.functional as F
from torch import nn

from ..checks import check_bool
from .lm import AdaptiveDecoder, lm_loss

__all__ = ["autocast", "bf16_autocast_works", "LinearCrossEntropy",
           "linear_cross_entropy", "decoder_loss", "fast_step_loss"]


def autocast(device, enabled: bool):
    """bf16 autocast on ``device`` when ``enabled``, else a context that does nothing.

    Matrix products run in bfloat16 while the weights, the optimizer and the loss
    stay in float32 (no loss scaling needed: bf16 has float32's range).
    """
    device = torch.device(device)
    if not enabled:
        return contextlib.nullcontext()
    return torch.autocast(device.type, dtype=torch.bfloat16)


def bf16_autocast_works(model: nn.Module, device) -> bool:
    """Whether ``model`` can run forward and backward under bf16 autocast on ``device``.

    On a CPU the answer is no unless oneDNN reports native bfloat16 support (AVX-512
    BF16 or AMX): emulated bfloat16 is several times slower than float32.
    On CUDA it is no on a GPU without native bfloat16 (before Ampere: Colab's T4 runs
    it emulated, slower than float32); otherwise autocast hands the LSTM to cuDNN in
    bfloat16, which cuDNN supports from version 9.13 on; an older build raises an
    error. ``fit`` asks first and falls
    back to float32 when the answer is no. (The probe draws dropout masks, so it
    advances the random generator.)
    """
    device = torch.device(device)
    if device.type == "cpu" and not torch.ops.mkldnn._is_mkldnn_bf16_supported():
        return False  # no native bf16 on this CPU: emulated, it is slower than float32
    if device.type == "cuda" and not torch.cuda.is_bf16_supported(
            including_emulation=False):
        return False  # emulated on this GPU (a T4, say): slower than float32
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


class LinearCrossEntropy(torch.autograd.Function):
    """``cross_entropy(h @ W.T + b, y)`` (token mean) with its gradient made at once.

    The forward pass computes the log-probabilities, reads the loss off them, and
    turns them into the gradient with respect to the logits in place (softmax minus
    the one-hot targets). Backward is then two matrix products and a sum: no
    ``N x V`` gradient to fill with zeros, no ``log_softmax`` backward pass. The
    ``1 / N`` of the mean (and the upstream gradient) scales the small results, not
    the ``N x V`` matrix. The two matrix products run in the autocast dtype when
    autocast is on; the softmax in float32.
    """

    @staticmethod
    def forward(ctx, h, weight, bias, targets, dtype):
        if dtype == torch.float32:
            logits = torch.addmm(bias, h, weight.t())                # (N, V)
        else:
            logits = (h.to(dtype) @ weight.to(dtype).t()).float().add_(bias)
        log_probs = F.log_softmax(logits, dim=1)                    # (N, V)
        del logits
        loss = -log_probs.gather(1, targets[:, None]).mean()
        grad = log_probs.exp_()                                     # softmax, in place
        grad[torch.arange(len(targets), device=grad.device), targets] -= 1.0
        ctx.save_for_backward(grad, h, weight)
        ctx.dtype = dtype
        return loss

    @staticmethod
    def backward(ctx, grad_loss):
        grad, h, weight = ctx.saved_tensors                          # (N, V), (N, H)
        scale = grad_loss / grad.shape[0]                           # d mean / d logit
        g = grad.to(ctx.dtype)
        grad_h = (g @ weight.to(ctx.dtype)).to(h.dtype).mul_(scale)        # (N, H)
        grad_w = (g.t() @ h.to(ctx.dtype)).to(weight.dtype).mul_(scale)   # (V, H)
        return grad_h, grad_w, grad.sum(0).mul_(scale), None, None


def linear_cross_entropy(h: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor,
                         targets: torch.Tensor) -> torch.Tensor:
    """The token-mean cross entropy of a linear decoder, without keeping log-probs.

    Equal to ``F.cross_entropy(F.linear(h, weight, bias), targets)`` (to float32
    rounding), with fewer passes over the ``N x V`` logits: see
    ``LinearCrossEntropy``. Under autocast its matrix products run in the autocast
    dtype.

    Shape:
        ``h`` ``(N, H)``, ``weight`` ``(V, H)``, ``bias`` ``(V,)``, ``targets``
        ``(N,)`` ids; returns a scalar.
    """
    if h.dim() != 2 or weight.dim() != 2 or h.shape[1] != weight.shape[1]:
        raise ValueError(f"h must be (N, H) and weight (V, H), got {tuple(h.shape)} "
                         f"and {tuple(weight.shape)}")
    if targets.shape != h.shape[:1]:
        raise ValueError(f"targets must be (N,) = {tuple(h.shape[:1])}, got "
                         f"{tuple(targets.shape)}")
    device_type = h.device.type
    dtype = (torch.get_autocast_dtype(device_type)
             if torch.is_autocast_enabled(device_type) else torch.float32)
    with torch.autocast(device_type, enabled=False):
        return LinearCrossEntropy.apply(h.float() if dtype == torch.float32 else h,
                                         weight, bias, targets, dtype)


def decoder_loss(model: nn.Module, features: torch.Tensor, Y: torch.Tensor
                 ) -> torch.Tensor:
    """The mean cross-entropy of ``model``'s decoder on ``features``, computed in one step.

    A linear decoder goes through ``linear_cross_entropy`` (no ``(N, V)``
    log-probabilities kept for the backward pass); an adaptive softmax scores each
    target in its own band only. Either way the value is the token-mean loss.

    Shape:
        ``features`` is ``(B, T, H)``, ``Y`` is ``(B, T)``; returns a scalar.
    """
    decoder = getattr(model, "decoder", None)
    if isinstance(decoder, AdaptiveDecoder):
        return decoder.loss(features, Y)
    if isinstance(decoder, nn.Linear):
        flat = features.reshape(-1, features.shape[-1])        # (B*T, H)
        return linear_cross_entropy(flat, decoder.weight, decoder.bias, Y.reshape(-1))
    raise ValueError(f"model.decoder must be an nn.Linear or an AdaptiveDecoder, got "
                     f"{type(decoder).__name__}")



def fast_step_loss(model: nn.Module, *, bf16: bool = False, fused_loss: bool = False):
    """A step loss for ``train_epoch`` with bf16 autocast and/or the fused decoder loss.

    Args:
        model: the model it will train; ``fused_loss`` needs one with a ``features``
            method and a linear or adaptive-softmax ``decoder`` (such as ``WordLM``).
        bf16: run the forward pass under bf16 autocast; ask ``bf16_autocast_works``
            first (``fit`` does).
        fused_loss: compute the decoder and the loss with ``decoder_loss``.

    Returns:
        ``step_loss(model, X, Y, state) -> (mean NLL per token, state)``.
    """
    check_bool("bf16", bf16)
    check_bool("fused_loss", fused_loss)
    if fused_loss and not (hasattr(model, "features") and isinstance(
            getattr(model, "decoder", None), (nn.Linear, AdaptiveDecoder))):
        raise ValueError(f"fused_loss=True needs a model with a features() method and "
                         f"a linear or adaptive-softmax decoder (such as WordLM), got "
                         f"{type(model).__name__}; use fused_loss=False")

    def step_loss(model, X, Y, state):
        with autocast(X.device, bf16):
            if fused_loss:
                features, state = model.features(X, state)     # (B, T, H)
                return decoder_loss(model, features, Y), state
            logits, state = model(X, state)                     # (B, T, V)
        return lm_loss(logits, Y), state
    return step_loss
