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
* ``lm_flops_per_token``: the arithmetic cost of one training token, for throughput
  figures.

``WordLM`` trains with the loop every language model of the book shares
(``utils.torch.train``: ``TrainConfig``, ``train_epoch``, ``evaluate``, ``fit``,
``generate``).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from ..checks import check_int
from .core import perplexity

LOSS_CONVENTIONS = ("token_mean", "sum_steps_mean_batch")


class AdaptiveDecoder(nn.Module):
    """An adaptive softmax (Grave et al., 2017) behind the interface of a linear decoder.

    Ids follow frequency, so the ids below the first cutoff are the frequent words:
    they are scored at full width; each later band goes through a projection 4 times
    narrower than the one before (``nn.AdaptiveLogSoftmaxWithLoss``). ``loss`` scores
    each target in its own band only, which is what makes training cheap for a large
    vocabulary; calling the module gives every word's log-probability.

    Shape:
        ``features`` is ``(B, T, H)``; the call returns ``(B, T, V)``
        log-probabilities; ``loss(features, Y)`` with ``Y`` ``(B, T)`` a scalar.
    """

    def __init__(self, num_hiddens: int, vocab_size: int, cutoffs):
        super().__init__()
        check_int("num_hiddens", num_hiddens, minimum=1)
        check_int("vocab_size", vocab_size, minimum=2)
        if (not isinstance(cutoffs, (tuple, list)) or not cutoffs
                or any(isinstance(c, bool) or not isinstance(c, int) for c in cutoffs)
                or list(cutoffs) != sorted(set(cutoffs))
                or not 0 < cutoffs[0] or not cutoffs[-1] < vocab_size):
            raise ValueError(f"cutoffs must be increasing ints strictly between 0 and "
                             f"vocab_size={vocab_size}, got {cutoffs!r}")
        self.softmax = nn.AdaptiveLogSoftmaxWithLoss(num_hiddens, vocab_size,
                                                     list(cutoffs), div_value=4.0)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        B, T, H = features.shape
        log_probs = self.softmax.log_prob(features.reshape(B * T, H).float())
        return log_probs.view(B, T, -1)                            # (B, T, V)

    def loss(self, features: torch.Tensor, Y: torch.Tensor) -> torch.Tensor:
        """The token-mean cross-entropy of the targets ``Y``."""
        flat = features.reshape(-1, features.shape[-1]).float()    # (B*T, H)
        return self.softmax(flat, Y.reshape(-1)).loss


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
        adaptive_cutoffs: if given, an adaptive softmax (Grave et al., 2017) replaces
            the linear decoder: ids below the first cutoff (the frequent words, since
            ids follow frequency) are scored at full width, each later band through a
            narrower projection (``nn.AdaptiveLogSoftmaxWithLoss``, width divided by 4
            per band). Training is then several times cheaper for a large ``V``;
            ``forward`` still returns ``(B, T, V)`` log-probabilities
            (``AdaptiveDecoder``). Not with ``tie_weights``.

    Shape:
        ``X`` is ``(B, T)`` int64 ids; ``state`` is a pair ``(h, c)`` of ``(L, B, H)``
        tensors (``L`` layers) or ``None`` for zeros; returns logits ``(B, T, V)`` and
        the new state.
    """

    def __init__(self, vocab_size: int, embed_size: int, num_hiddens: int,
                 num_layers: int = 2, dropout: float = 0.5, tie_weights: bool = False,
                 init_range: float = 0.1, adaptive_cutoffs: tuple[int, ...] | None = None):
        super().__init__()
        if adaptive_cutoffs is not None and (
                tie_weights or not isinstance(adaptive_cutoffs, (tuple, list))
                or not adaptive_cutoffs
                or list(adaptive_cutoffs) != sorted(set(adaptive_cutoffs))
                or not 0 < adaptive_cutoffs[0] or not adaptive_cutoffs[-1] < vocab_size):
            raise ValueError(f"adaptive_cutoffs must be increasing ids strictly between 0 "
                             f"and vocab_size={vocab_size}, without tie_weights, got "
                             f"{adaptive_cutoffs!r} (tie_weights={tie_weights})")
        if adaptive_cutoffs is not None and num_hiddens < 4 ** len(adaptive_cutoffs):
            raise ValueError(f"num_hiddens={num_hiddens} is too narrow for "
                             f"{len(adaptive_cutoffs)} adaptive bands: the last one would "
                             f"get num_hiddens / 4**{len(adaptive_cutoffs)} < 1 features; "
                             f"use at least {4 ** len(adaptive_cutoffs)} or fewer cutoffs")
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
        if adaptive_cutoffs is not None:
            self.decoder = AdaptiveDecoder(num_hiddens, vocab_size, adaptive_cutoffs)
        if tie_weights:
            self.decoder.weight = self.embedding.weight  # one Parameter, two uses
        nn.init.uniform_(self.embedding.weight, -init_range, init_range)
        if isinstance(self.decoder, nn.Linear):
            if not tie_weights:
                nn.init.uniform_(self.decoder.weight, -init_range, init_range)
            nn.init.zeros_(self.decoder.bias)

    def forward(self, X: torch.Tensor, state=None):
        features, state = self.features(X, state)     # (B, T, H)
        return self.decoder(features), state           # (B, T, V)

    def features(self, X: torch.Tensor, state=None):
        """What the decoder reads: the last layer's outputs after dropout, and the state.

        Shape: ``X`` ``(B, T)`` ids in; ``(B, T, H)`` and ``2 x (L, B, H)`` out.
        """
        embs = self.dropout(self.embedding(X))         # (B, T, E)
        if embs.device.type == "cpu" and torch.is_autocast_enabled("cpu"):
            # oneDNN has no bfloat16 LSTM on the CPU: under autocast the recurrence
            # runs in float32 and the decoder, most of the arithmetic, in bfloat16.
            with torch.autocast("cpu", enabled=False):
                outputs, state = self.rnn(embs.float(), state)
        else:
            outputs, state = self.rnn(embs, state)     # (B, T, H), 2 x (L, B, H)
        return self.dropout(outputs), state

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
    logits = logits.reshape(-1, logits.shape[-1]).float()    # (B*T, V)
    if convention == "token_mean":
        return F.cross_entropy(logits, Y.reshape(-1))
    nll = F.cross_entropy(logits, Y.reshape(-1), reduction="none").reshape(Y.shape)
    return nll.sum(dim=1).mean()                              # from (B, T)


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
