"""N-gram language models: counting, additive smoothing, perplexity and sampling.

The model of order ``n`` predicts a token from the ``n - 1`` tokens before it. Its
estimates are maximum-likelihood counts smoothed by interpolation with the next lower
order, one constant ``eps[k]`` per order (``m`` is the vocabulary size, ``N`` the number
of training tokens, ``c(.)`` a count in the training data)::

    P1(x)            = (c(x)        + eps[0] / m)              / (N       + eps[0])
    P2(x | a)        = (c(a, x)     + eps[1] * P1(x))          / (c(a)    + eps[1])
    P3(x | a, b)     = (c(a, b, x)  + eps[2] * P2(x | b))      / (c(a, b) + eps[2])
    ...

``c(a)`` in a denominator counts the times the context ``a`` is *followed* by a token,
so that every conditional distribution sums to exactly one. A context never seen in
training gets the lower-order estimate; with ``eps = 0`` the model is the plain
maximum-likelihood one (and gives probability 0 to anything it has not seen).

This module imports no deep-learning framework (NumPy only).
"""
from __future__ import annotations

import collections
import math
from collections.abc import Sequence

import numpy as np


def _windows(tokens: list, length: int):
    """The tuples of ``length`` consecutive tokens, in order (``len - length + 1``)."""
    return zip(*(tokens[i:len(tokens) - length + 1 + i] for i in range(length)))


class NGramModel:
    """An interpolated, additively smoothed n-gram model over integer token ids.

    Args:
        order: ``n``, the length of the n-grams (1 = unigram model).
        vocab_size: ``m``, the number of ids the model predicts over (``0 … m-1``).
        eps: the smoothing constants ``(eps_1, …, eps_n)``, one per order, or one
            number used for every order. ``0`` means no smoothing at that order.

    Example:
        >>> model = NGramModel(order=2, vocab_size=3, eps=1.0).fit([0, 1, 2, 1, 2])
        >>> round(model.prob(2, context=[1]), 3)
        0.796
    """

    def __init__(self, order: int, vocab_size: int, eps: float | Sequence[float] = 1.0):
        if order < 1:
            raise ValueError(f"order must be at least 1, got {order}")
        if vocab_size < 1:
            raise ValueError(f"vocab_size must be at least 1, got {vocab_size}")
        self.order, self.vocab_size = order, vocab_size
        self.eps = self._check_eps(eps)
        # For k = 0 … order-1: gram_counts[k] maps each (k+1)-gram (a tuple of ids) to
        # its count; context_totals[k] maps each k-gram to the number of times it is
        # followed by a token (context_totals[0][()] is the number of tokens).
        self.gram_counts: list[dict[tuple, int]] = []
        self.context_totals: list[dict[tuple, int]] = []

    def _check_eps(self, eps) -> tuple[float, ...]:
        eps = (float(eps),) * self.order if np.isscalar(eps) else tuple(map(float, eps))
        if len(eps) != self.order:
            raise ValueError(f"eps needs one value per order ({self.order}), got {eps}")
        if any(e < 0 or math.isnan(e) for e in eps):
            raise ValueError(f"eps values must be non-negative, got {eps}")
        return eps

    # ------------------------------------------------------------------ fitting

    def fit(self, ids: Sequence[int]) -> "NGramModel":
        """Count every k-gram (k = 1 … order) of a token sequence; returns ``self``.

        Shape:
            ``ids``: ``(N,)`` integer ids in ``[0, vocab_size)``.
        """
        ids = self._check_ids(ids)
        if len(ids) == 0:
            raise ValueError("Cannot fit an n-gram model on an empty sequence.")
        tokens = ids.tolist()
        self.gram_counts = [dict(collections.Counter(_windows(tokens, k + 1)))
                            for k in range(self.order)]
        self.context_totals = [{(): len(tokens)}] + [
            dict(collections.Counter(_windows(tokens[:-1], k)))
            for k in range(1, self.order)]
        return self

    def _check_ids(self, ids) -> np.ndarray:
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        if len(ids) and (ids.min() < 0 or ids.max() >= self.vocab_size):
            raise ValueError(f"token ids must lie in [0, {self.vocab_size}), got values "
                             f"from {ids.min()} to {ids.max()}")
        return ids

    def _check_fitted(self) -> None:
        if not self.gram_counts:
            raise RuntimeError("The model has no counts yet: call fit(ids) first.")

    # ------------------------------------------------------------------ estimates

    def distribution(self, context: Sequence[int] = ()) -> np.ndarray:
        """The smoothed distribution of the next token after ``context``.

        Only the last ``order - 1`` ids of ``context`` matter.

        Shape:
            returns ``(V,)`` probabilities that sum to one (when ``eps[0] > 0``).
        """
        self._check_fitted()
        context = tuple(int(i) for i in context)[max(0, len(context) - self.order + 1):]
        probs = np.zeros(self.vocab_size)
        for k in range(len(context) + 1):  # k = context length used at this level
            ctx = context[len(context) - k:]
            total, eps = self.context_totals[k].get(ctx, 0), self.eps[k]
            counts = np.zeros(self.vocab_size)
            if total > 0:
                grams = self.gram_counts[k]
                counts[:] = [grams.get(ctx + (token,), 0)
                             for token in range(self.vocab_size)]
            lower = np.full(self.vocab_size, 1.0 / self.vocab_size) if k == 0 else probs
            if total + eps > 0:
                probs = (counts + eps * lower) / (total + eps)
            else:  # unseen context, no smoothing: back off to the lower order
                probs = lower if k > 0 else counts
        return probs

    def prob(self, token: int, context: Sequence[int] = ()) -> float:
        """The smoothed probability of ``token`` after ``context``."""
        return float(self.distribution(context)[int(token)])

    def _level_counts(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Counts ``c(context, x)`` and ``c(context)`` for every position and order.

        Position ``t`` at level ``k`` uses the ``k`` tokens before it; positions with
        fewer than ``k`` tokens before them get zeros (the level is skipped).

        Shape:
            returns ``(numer, denom)``, each ``(order, T)``.
        """
        tokens = ids.tolist()
        numer = np.zeros((self.order, len(tokens)))
        denom = np.zeros((self.order, len(tokens)))
        for k in range(min(self.order, len(tokens))):
            grams, totals = self.gram_counts[k], self.context_totals[k]
            numer[k, k:] = [grams.get(gram, 0) for gram in _windows(tokens, k + 1)]
            denom[k, k:] = [totals.get(gram[:-1], 0) for gram in _windows(tokens, k + 1)]
        return numer, denom

    def _combine(self, numer: np.ndarray, denom: np.ndarray,
                 eps: Sequence[float]) -> np.ndarray:
        """Apply the smoothing recursion to per-position counts; ``(T,)`` probabilities."""
        probs = np.full(numer.shape[1], 1.0 / self.vocab_size)
        for k, e in enumerate(eps):
            seen = denom[k] + e > 0
            smoothed = (numer[k] + e * probs) / np.where(seen, denom[k] + e, 1.0)
            if k == 0:
                probs = np.where(seen, smoothed, 0.0)
            else:
                probs = np.where(seen, smoothed, probs)
        return probs

    def token_log_probs(self, ids: Sequence[int],
                        eps: float | Sequence[float] | None = None) -> np.ndarray:
        """The natural log of the probability of every token given the ones before it.

        The first ``order - 1`` tokens have shorter histories and use lower orders.

        Args:
            ids: the token sequence to score.
            eps: smoothing constants to use instead of ``self.eps`` (the counts are
                reused, so trying many values is cheap).

        Shape:
            ``ids``: ``(T,)``; returns ``(T,)`` (``-inf`` where the probability is 0).
        """
        self._check_fitted()
        eps = self.eps if eps is None else self._check_eps(eps)
        numer, denom = self._level_counts(self._check_ids(ids))
        with np.errstate(divide="ignore"):
            return np.log(self._combine(numer, denom, eps))

    def perplexity_by_order(self, ids: Sequence[int], eps=None) -> list[float]:
        """The perplexity of the order-``k`` model for every ``k = 1 … order``.

        A model of order ``k`` fitted on the same data has exactly the first ``k``
        levels of counts of this one, so one fit and one pass over ``ids`` serve all
        orders; the order-``k`` model uses ``eps[:k]``.
        """
        self._check_fitted()
        if len(ids) == 0:
            raise ValueError("Cannot score an empty sequence.")
        eps = self.eps if eps is None else self._check_eps(eps)
        numer, denom = self._level_counts(self._check_ids(ids))
        with np.errstate(divide="ignore"):
            return [math.exp(-float(np.mean(np.log(
                self._combine(numer[:k], denom[:k], eps[:k])))))
                for k in range(1, self.order + 1)]

    def log_likelihood(self, ids: Sequence[int], eps=None) -> float:
        """The total log-likelihood (natural log) of a token sequence."""
        return float(np.sum(self.token_log_probs(ids, eps)))

    def cross_entropy(self, ids: Sequence[int], eps=None) -> float:
        """The mean negative log-likelihood per token, in nats."""
        if len(ids) == 0:
            raise ValueError("Cannot score an empty sequence.")
        return -self.log_likelihood(ids, eps) / len(ids)

    def perplexity(self, ids: Sequence[int], eps=None) -> float:
        """``exp`` of the mean negative log-likelihood per token (``inf`` if any p = 0)."""
        return math.exp(self.cross_entropy(ids, eps))

    # ------------------------------------------------------------------ sampling

    def sample(self, prefix: Sequence[int], num_tokens: int,
               rng: np.random.Generator) -> list[int]:
        """Continue ``prefix`` with ``num_tokens`` tokens drawn from the model.

        Args:
            prefix: the ids to start from (may be empty).
            num_tokens: how many ids to draw.
            rng: the NumPy generator to draw with (seed it to repeat a sample).

        Returns:
            ``prefix`` followed by the drawn ids.
        """
        self._check_fitted()
        out = [int(i) for i in prefix]
        for _ in range(num_tokens):
            probs = self.distribution(out[len(out) - self.order + 1:]
                                      if self.order > 1 else ())
            out.append(int(rng.choice(self.vocab_size, p=probs / probs.sum())))
        return out


def select_eps(model: NGramModel, ids: Sequence[int], grid: Sequence[float]
               ) -> tuple[tuple[float, ...], list[list[float]]]:
    """Choose the smoothing constants one order at a time by perplexity on ``ids``.

    Order 1 first: ``eps_1`` is the grid value with the lowest perplexity of the
    unigram model. Then, with ``eps_1`` fixed, ``eps_2`` the best one for the bigram
    model, and so on. ``ids`` must be data the model was *not* fitted on (a slice held
    out from the training text), never the validation or test data.

    Args:
        model: a fitted model; its counts are reused, its ``eps`` is not changed.
        ids: held-out token ids to score.
        grid: candidate values, all positive.

    Returns:
        ``(eps, table)``: the chosen constants, and ``table[k][j]``, the perplexity of
        the order-``k+1`` model with ``grid[j]`` at its top order.
    """
    if not grid or min(grid) <= 0:
        raise ValueError(f"grid must hold positive values, got {list(grid)}")
    model._check_fitted()
    numer, denom = model._level_counts(model._check_ids(ids))
    chosen: list[float] = []
    table = []
    for k in range(model.order):
        row = []
        for value in grid:
            probs = model._combine(numer[:k + 1], denom[:k + 1], chosen + [value])
            row.append(math.exp(-float(np.mean(np.log(probs)))))
        table.append(row)
        chosen.append(float(grid[int(np.argmin(row))]))
    return tuple(chosen), table
