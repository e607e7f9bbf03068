"""N-gram language models: counting, smoothing, perplexity and sampling.

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

Interpolated modified Kneser–Ney smoothing (Chen & Goodman, 1999), ``KneserNeyLM``,
is the classic strong baseline. Instead of adding a constant to the counts it
*subtracts* a discount from the count of every seen n-gram, and gives the mass freed
that way to the next lower order. The discount depends on the count ``c``
(``D(0) = 0``, ``D(1) = D1``, ``D(2) = D2``, ``D(c) = D3+`` for ``c >= 3``)::

    P(x | h) = (max(c(h, x) - D(c(h, x)), 0) + gamma(h) * P(x | h')) / c(h, .)
    gamma(h) = D1 * N1(h, .) + D2 * N2(h, .) + D3+ * N3+(h, .)

where ``h'`` is ``h`` without its first token, ``c(h, .)`` the number of times ``h`` is
followed by a token and ``Nr(h, .)`` the number of distinct tokens that follow ``h``
exactly ``r`` times (``r`` or more for ``N3+``). Only the top order uses the raw counts
``c``; every lower order uses *continuation counts* ``N1+(., h, x)``, the number of
distinct tokens seen before ``(h, x)``: a word that follows few different contexts
("Francisco", always after "San") gets a low probability when the model has to back
off. The unigram level interpolates with the uniform distribution ``1 / m``; a context
never seen (``c(h, .) = 0``) hands all its mass to the lower order. The discounts of
each order and count type come from the count-of-counts ``n1 … n4`` (``nr`` distinct
n-grams seen exactly ``r`` times)::

    Y = n1 / (n1 + 2 n2)
    D1 = 1 - 2 Y n2 / n1,   D2 = 2 - 3 Y n3 / n2,   D3+ = 3 - 4 Y n4 / n3

Where these are undefined or some ``Dr`` falls outside ``(0, r]`` (tiny corpora, or
unigram counts cut by a vocabulary: PTB's give ``D2 < 0``), fixed fallback discounts
``(0.5, 1, 1.5)`` are used instead, so that every probability stays positive.

This module imports no deep-learning framework (NumPy only).
"""
from __future__ import annotations

import collections
import math
import numbers
from collections.abc import Mapping, Sequence

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
                        eps: float | Sequence[float] | None = None,
                        order: int | None = None) -> np.ndarray:
        """The natural log of the probability of every token given the ones before it.

        The first ``order - 1`` tokens have shorter histories and use lower orders.

        Args:
            ids: the token sequence to score.
            eps: smoothing constants to use instead of ``self.eps`` (the counts are
                reused, so trying many values is cheap).
            order: score with the order-``k`` model instead, ``k <= self.order``: its
                counts are the first ``k`` levels of these (``perplexity_by_order``).

        Shape:
            ``ids``: ``(T,)``; returns ``(T,)`` (``-inf`` where the probability is 0).
        """
        self._check_fitted()
        eps = self.eps if eps is None else self._check_eps(eps)
        order = self.order if order is None else _check_int("order", order, 1)
        if order > self.order:
            raise ValueError(f"order must be at most this model's {self.order}, got "
                             f"{order}; fit a model of order {order}")
        numer, denom = self._level_counts(self._check_ids(ids))
        with np.errstate(divide="ignore"):
            return np.log(self._combine(numer[:order], denom[:order], eps[:order]))

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


# ---------------------------------------------------------------------------- Kneser-Ney

_IDS_HELP = "a 1-D sequence of int token ids (a list, tuple, range or integer array)"


def _check_int(name: str, value, minimum: int) -> int:
    """``value`` as an int, if it is an integer (not a bool) of at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int >= {minimum}, got "
                        f"{type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value}")
    return int(value)


def _check_id_array(name: str, ids, vocab_size: int, allow_empty: bool = False
                    ) -> np.ndarray:
    """``ids`` as an int64 array, if it is a 1-D sequence of ids in ``[0, vocab_size)``.

    Shape:
        returns ``(len(ids),)``.
    """
    if isinstance(ids, (str, bytes, bytearray)):
        raise TypeError(f"{name} must be {_IDS_HELP}, got a {type(ids).__name__} "
                        f"(encode text with a Vocab first)")
    try:
        array = np.asarray(ids)
    except (TypeError, ValueError) as err:  # ragged nested lists and the like
        raise TypeError(f"{name} must be {_IDS_HELP}, got {type(ids).__name__} "
                        f"({err})") from err
    if array.ndim == 0:  # a number, None, a set, a generator
        raise TypeError(f"{name} must be {_IDS_HELP}, got {type(ids).__name__}")
    if array.ndim != 1:
        raise ValueError(f"{name} must be {_IDS_HELP}, got shape {array.shape}")
    if array.size == 0:
        if not allow_empty:
            raise ValueError(f"{name} must hold at least one token id, got an empty "
                             f"{type(ids).__name__}")
        return np.zeros(0, dtype=np.int64)
    if array.dtype.kind not in "iu":
        raise TypeError(f"{name} must be {_IDS_HELP}, got {type(ids).__name__} with "
                        f"dtype {array.dtype}")
    low, high = array.min(), array.max()
    if low < 0 or high >= vocab_size:
        raise ValueError(f"{name} must hold ids in [0, {vocab_size}) (vocab_size = "
                         f"{vocab_size}), got values from {low} to {high}")
    return array.astype(np.int64, copy=False)


def _check_discounts(name: str, discounts) -> tuple[float, float, float]:
    """Three numbers ``(D1, D2, D3+)`` with ``0 < Dr <= r``, as floats."""
    accepts = "3 numbers (D1, D2, D3+) with 0 < D1 <= 1, 0 < D2 <= 2, 0 < D3+ <= 3"
    if not isinstance(discounts, (list, tuple, np.ndarray)):
        raise TypeError(f"{name} must be {accepts}, got {type(discounts).__name__}")
    if len(discounts) != 3 or any(isinstance(d, bool) or not isinstance(d, numbers.Real)
                                  for d in discounts):
        if len(discounts) == 3:
            raise TypeError(f"{name} must be {accepts}, got {tuple(discounts)!r}")
        raise ValueError(f"{name} must be {accepts}, got {len(discounts)} values")
    values = tuple(float(d) for d in discounts)
    if not all(0 < d <= r for r, d in enumerate(values, start=1)):
        raise ValueError(f"{name} must be {accepts}, got {values}")
    return values


def _estimate_discounts(counts: np.ndarray, fallback: tuple[float, float, float]
                        ) -> tuple[tuple[float, float, float], bool]:
    """Chen & Goodman's ``(D1, D2, D3+)`` from the count-of-counts of ``counts``.

    ``nr`` is the number of n-grams with count exactly ``r`` (zero counts are ignored).
    The estimate is used when ``n1 … n4`` are all positive and every ``Dr`` lies in
    ``(0, r]`` (so that every probability stays positive); otherwise, as on tiny
    corpora, ``fallback`` is.

    Returns:
        ``(discounts, estimated)``, ``estimated`` False where ``fallback`` was used.
    """
    n = np.bincount(np.minimum(counts, 5), minlength=6)[1:5].astype(float)  # n1 … n4
    if (n > 0).all():
        y = n[0] / (n[0] + 2 * n[1])
        discounts = (1 - 2 * y * n[1] / n[0], 2 - 3 * y * n[2] / n[1],
                     3 - 4 * y * n[3] / n[2])
        if all(0 < d <= r for r, d in enumerate(discounts, start=1)):
            return tuple(float(d) for d in discounts), True
    return fallback, False


def _take(values: np.ndarray, index: np.ndarray, fill) -> np.ndarray:
    """``values[index]`` where ``index >= 0`` and ``fill`` where it is -1 (unseen)."""
    out = np.full(len(index), fill, dtype=values.dtype)
    seen = index >= 0
    out[seen] = values[index[seen]]
    return out


class _Level:
    """The counts of one order and one count type, and their per-context sums.

    Attributes:
        counts: ``(U_k,)`` the raw or continuation count of every distinct k-gram.
        discounts: ``(4,)`` the discount of a count of 0, 1, 2 and 3 or more.
        totals: ``(U_{k-1},)`` ``c(h, .)``, the sum of the counts of the k-grams whose
            first ``k - 1`` tokens are context ``h``.
        gammas: ``(U_{k-1},)`` ``gamma(h)``, the discount mass of context ``h``.
    """

    def __init__(self, counts: np.ndarray, contexts: np.ndarray, num_contexts: int,
                 discounts: tuple[float, float, float]):
        self.counts = counts
        self.discounts = np.array((0.0,) + tuple(discounts))
        self.totals = np.bincount(contexts, weights=counts, minlength=num_contexts)
        self.gammas = np.bincount(contexts, minlength=num_contexts,
                                  weights=self.discounts[np.minimum(counts, 3)])

    def interpolate(self, grams: np.ndarray, contexts: np.ndarray,
                    lower: np.ndarray) -> np.ndarray:
        """``P(x | h)`` from the k-gram ids ``(h, x)``, the context ids ``h`` (-1 where
        unseen) and the lower-order probabilities ``P(x | h')``; all ``(T,)``."""
        counts = _take(self.counts, grams, 0)
        totals = _take(self.totals, contexts, 0.0)
        kept = np.maximum(counts - self.discounts[np.minimum(counts, 3)], 0.0)
        seen = totals > 0
        mixed = (kept + _take(self.gammas, contexts, 0.0) * lower) / np.where(
            seen, totals, 1.0)
        return np.where(seen, mixed, lower)


class KneserNeyLM:
    """An interpolated modified Kneser–Ney n-gram model over integer token ids.

    The formulas are in the module docstring. Training and scored texts are each one
    continuous token stream (an ``<eos>`` id is an ordinary token); every token is
    predicted from the ``order - 1`` tokens before it, and the first tokens of a stream,
    with fewer tokens before them, by the model of the order their history allows
    (the token at position ``t < order - 1`` by the order-``t + 1`` model, whose top
    level uses raw counts).

    One fit holds everything that the models of every order ``k <= order`` need: the
    raw counts of every level (the top level of the order-``k`` model) and the
    continuation counts of the levels below ``order``, each with its own discounts.
    ``perplexity_by_order`` therefore gives, from one fit, exactly what separately
    fitted models of orders ``1 … order`` would.

    Internally a k-gram is the int64 key ``id(first k - 1 tokens) * m + last token``,
    where ``id`` numbers the distinct (k-1)-grams in sorted order (the empty 0-gram is
    0): counting is one ``np.unique`` per order and looking up is ``np.searchsorted``.

    Args:
        order: ``n``, the longest n-gram (1 = unigram model); an int >= 1.
        vocab_size: ``m``, the number of ids the model predicts over (``0 … m-1``).
        fallback_discounts: ``(D1, D2, D3+)`` used for a level whose count-of-counts
            cannot give valid discounts (some ``nr = 0``, as on tiny corpora).

    Attributes (after ``fit``):
        raw_discounts: ``(order, 3)`` the ``(D1, D2, D3+)`` of the raw counts of each
            order ``k = 1 … order`` (row ``k - 1``), used when ``k`` is the top order.
        continuation_discounts: ``(order - 1, 3)`` those of the continuation counts
            of each order ``k = 1 … order - 1``, used below the top order.
        num_ngrams: the number of distinct k-grams in training, ``k = 1 … order``.

    Example:
        >>> model = KneserNeyLM(order=2, vocab_size=3).fit([0, 1, 0, 1, 2])
        >>> round(model.prob(2, context=[1]), 4)
        0.4167
    """

    def __init__(self, order: int, vocab_size: int, *,
                 fallback_discounts: Sequence[float] = (0.5, 1.0, 1.5)):
        self.order = _check_int("order", order, 1)
        self.vocab_size = _check_int("vocab_size", vocab_size, 1)
        self.fallback_discounts = _check_discounts("fallback_discounts",
                                                   fallback_discounts)
        # For k = 1 … order (index k - 1): the sorted keys of the distinct k-grams,
        # the raw-count level, and (k < order) the continuation-count level.
        self._keys: list[np.ndarray] = []
        self._raw: list[_Level] = []
        self._continuation: list[_Level] = []
        self.raw_discounts = np.zeros((0, 3))
        self.continuation_discounts = np.zeros((0, 3))
        self.num_ngrams: tuple[int, ...] = ()

    def __repr__(self) -> str:
        fitted = f", num_ngrams={self.num_ngrams}" if self._keys else ", not fitted"
        return f"KneserNeyLM(order={self.order}, vocab_size={self.vocab_size}{fitted})"

    # ------------------------------------------------------------------ fitting

    def fit(self, ids: Sequence[int]) -> "KneserNeyLM":
        """Count the k-grams (k = 1 … order) of a training stream; returns ``self``.

        Shape:
            ``ids``: ``(N,)`` int ids in ``[0, vocab_size)``, ``N >= 1``.
        """
        ids = _check_id_array("ids", ids, self.vocab_size)
        num_tokens, m = len(ids), self.vocab_size
        if (num_tokens + 1) * m >= 2 ** 63:
            raise ValueError(f"ids (N = {num_tokens:,d} tokens) and vocab_size "
                             f"(m = {m:,d}) are too large: the n-gram keys need "
                             f"(N + 1) * m < 2**63")
        keys, raw_counts, continuation_counts = [], [], []
        # prev[t]: the id of the (k-1)-gram ending at position t (-1 before it starts);
        # the empty 0-gram (id 0) "ends" everywhere.
        prev = np.zeros(num_tokens, dtype=np.int64)
        for k in range(1, self.order + 1):
            grams = np.full(num_tokens, -1, dtype=np.int64)
            if num_tokens >= k:
                # The k-gram ending at t >= k-1: its first k-1 tokens end at t - 1.
                context = prev[k - 2:num_tokens - 1] if k > 1 else prev
                uniq, first, inverse = np.unique(context * m + ids[k - 1:],
                                                 return_index=True, return_inverse=True)
                grams[k - 1:] = inverse.reshape(-1)
                counts = np.bincount(inverse.reshape(-1), minlength=len(uniq))
            else:
                uniq, first = np.zeros(0, np.int64), np.zeros(0, np.int64)
                counts = np.zeros(0, np.int64)
            if k > 1:  # every distinct k-gram adds one to its last k-1 tokens' count
                suffixes = prev[first + k - 1]  # the (k-1)-gram ending where it ends
                continuation_counts.append(np.bincount(suffixes,
                                                       minlength=len(keys[-1])))
            keys.append(uniq)
            raw_counts.append(counts)
            prev = grams

        self._keys, self._raw, self._continuation = keys, [], []
        raw_discounts, continuation_discounts = [], []
        for k in range(1, self.order + 1):
            contexts = keys[k - 1] // m  # ids of the (k-1)-gram contexts
            num_contexts = len(keys[k - 2]) if k > 1 else 1
            discounts, _ = _estimate_discounts(raw_counts[k - 1], self.fallback_discounts)
            raw_discounts.append(discounts)
            self._raw.append(_Level(raw_counts[k - 1], contexts, num_contexts, discounts))
            if k < self.order:
                discounts, _ = _estimate_discounts(continuation_counts[k - 1],
                                                   self.fallback_discounts)
                continuation_discounts.append(discounts)
                self._continuation.append(_Level(continuation_counts[k - 1], contexts,
                                                 num_contexts, discounts))
        self.raw_discounts = np.array(raw_discounts).reshape(-1, 3)
        self.continuation_discounts = np.array(continuation_discounts).reshape(-1, 3)
        self.num_ngrams = tuple(len(k) for k in keys)
        return self

    def _check_fitted(self) -> None:
        if not self._keys:
            raise RuntimeError("The model has no counts yet: call fit(ids) first.")

    # ------------------------------------------------------------------ look-ups

    def _find(self, k: int, keys: np.ndarray) -> np.ndarray:
        """The ids of the k-grams with these keys in training, -1 where unseen."""
        table = self._keys[k - 1]
        if len(table) == 0:
            return np.full(len(keys), -1, dtype=np.int64)
        index = np.minimum(np.searchsorted(table, keys), len(table) - 1)
        return np.where(table[index] == keys, index, -1)

    def _gram_ids(self, ids: np.ndarray, max_order: int) -> list[np.ndarray]:
        """``grams[k][t]``: the training id of the k-gram ending at position ``t``.

        -1 where that k-gram was never seen or ``t < k - 1``; ``grams[0]`` is all 0.

        Shape:
            ``ids``: ``(T,)``; returns ``max_order + 1`` arrays ``(T,)``.
        """
        num_tokens, m = len(ids), self.vocab_size
        grams = [np.zeros(num_tokens, dtype=np.int64)]
        for k in range(1, max_order + 1):
            found = np.full(num_tokens, -1, dtype=np.int64)
            if num_tokens >= k:
                context = grams[k - 1][k - 2:num_tokens - 1] if k > 1 else grams[0]
                seen = context >= 0
                hits = np.full(len(context), -1, dtype=np.int64)
                hits[seen] = self._find(k, context[seen] * m + ids[k - 1:][seen])
                found[k - 1:] = hits
            grams.append(found)
        return grams

    def _top_probs(self, ids: np.ndarray, max_order: int) -> list[np.ndarray]:
        """``probs[k - 1][t - k + 1]``: the order-``k`` model's probability of token
        ``t`` given the ``k - 1`` tokens before it, for ``k = 1 … max_order``.

        Shape:
            ``ids``: ``(T,)``; returns ``max_order`` arrays ``(max(T - k + 1, 0),)``.
        """
        num_tokens = len(ids)
        grams = self._gram_ids(ids, max_order)
        lower = np.full(num_tokens, 1.0 / self.vocab_size)  # P0: uniform; (T - k + 2,)
        probs = []
        for k in range(1, max_order + 1):
            n = max(num_tokens - k + 1, 0)  # positions t = k-1 … T-1
            contexts = grams[k - 1][k - 2:num_tokens - 1] if k > 1 else grams[0]
            level_grams, below = grams[k][k - 1:], lower[len(lower) - n:]
            probs.append(self._raw[k - 1].interpolate(level_grams, contexts, below))
            if k < max_order:
                lower = self._continuation[k - 1].interpolate(level_grams, contexts,
                                                              below)
        return probs

    @staticmethod
    def _stream_probs(probs: list[np.ndarray], order: int) -> np.ndarray:
        """The order-``order`` model's ``(T,)`` probabilities of a whole stream: token
        ``t < order - 1`` from the order-``t + 1`` model, the others from ``order``."""
        head = [probs[t][:1] for t in range(min(order - 1, len(probs[0])))]
        return np.concatenate(head + [probs[order - 1]])

    # ------------------------------------------------------------------ estimates

    def distribution(self, context: Sequence[int] = ()) -> np.ndarray:
        """The distribution of the next token after ``context``.

        Only the last ``order - 1`` ids of ``context`` matter; a shorter context is
        read by the model of order ``len(context) + 1``.

        Shape:
            ``context``: ``(L,)``, possibly empty; returns ``(V,)`` positive
            probabilities that sum to one.
        """
        self._check_fitted()
        context = _check_id_array("context", context, self.vocab_size, allow_empty=True)
        context = context[max(0, len(context) - self.order + 1):].tolist()
        top, m = len(context) + 1, self.vocab_size
        probs = np.full(m, 1.0 / m)
        for k in range(1, top + 1):
            level = self._raw[k - 1] if k == top else self._continuation[k - 1]
            h = 0  # the id of the context: the last k - 1 tokens, read left to right
            for j, token in enumerate(context[len(context) - k + 1:] if k > 1 else [],
                                      start=1):
                h = int(self._find(j, np.array([h * m + token]))[0])
                if h < 0:
                    break
            if h < 0 or level.totals[h] == 0:  # unseen context: keep the lower order
                continue
            start, stop = np.searchsorted(self._keys[k - 1], [h * m, (h + 1) * m])
            counts = level.counts[start:stop]
            kept = np.maximum(counts - level.discounts[np.minimum(counts, 3)], 0.0)
            probs = level.gammas[h] * probs
            probs[self._keys[k - 1][start:stop] - h * m] += kept
            probs /= level.totals[h]
        return probs

    def prob(self, token: int, context: Sequence[int] = ()) -> float:
        """The probability of ``token`` after ``context`` (see ``distribution``)."""
        token = _check_int("token", token, 0)
        if token >= self.vocab_size:
            raise ValueError(f"token must be an int in [0, {self.vocab_size}), "
                             f"got {token}")
        return float(self.distribution(context)[token])

    def token_log_probs(self, ids: Sequence[int]) -> np.ndarray:
        """The natural log of the probability of every token given the ones before it.

        The first ``order - 1`` tokens have shorter histories and use lower orders.

        Shape:
            ``ids``: ``(T,)``, ``T >= 1``; returns ``(T,)``.
        """
        self._check_fitted()
        ids = _check_id_array("ids", ids, self.vocab_size)
        return np.log(self._stream_probs(self._top_probs(ids, self.order), self.order))

    def perplexity(self, ids: Sequence[int]) -> float:
        """``exp`` of the mean negative log-likelihood per token of a stream."""
        return math.exp(-float(np.mean(self.token_log_probs(ids))))

    def perplexity_by_order(self, ids: Sequence[int]) -> list[float]:
        """The perplexity of the order-``k`` model for every ``k = 1 … order``.

        Entry ``k - 1`` equals ``KneserNeyLM(k, vocab_size).fit(same ids).perplexity``:
        its top level uses the raw counts of order ``k``, the levels below the
        continuation counts, each with the discounts of its own counts.
        """
        self._check_fitted()
        ids = _check_id_array("ids", ids, self.vocab_size)
        probs = self._top_probs(ids, self.order)
        return [math.exp(-float(np.mean(np.log(self._stream_probs(probs, k)))))
                for k in range(1, self.order + 1)]


def kneser_ney_baselines(train_ids: Sequence[int],
                         eval_splits: Mapping[str, Sequence[int]], vocab_size: int,
                         orders: Sequence[int] = (2, 3, 4, 5)
                         ) -> dict[str, dict[int, float]]:
    """Perplexities of modified Kneser–Ney models of several orders on several splits.

    One ``KneserNeyLM`` of the largest order is fitted on ``train_ids``; every split
    is scored as one stream by every order (``perplexity_by_order``).

    Args:
        train_ids: the training stream, ``(N,)`` ids in ``[0, vocab_size)``.
        eval_splits: split name -> id stream, e.g. ``{"valid": ..., "test": ...}``.
        vocab_size: the number of ids.
        orders: the orders to report, distinct ints >= 1.

    Returns:
        ``{split: {order: perplexity}}``, splits in the given order, orders ascending.

    Example:
        >>> ppl = kneser_ney_baselines([0, 1, 2, 0, 1, 2, 0], {"valid": [0, 1, 2, 0]},
        ...                            vocab_size=3, orders=(1, 2))
        >>> {k: round(v, 2) for k, v in ppl["valid"].items()}
        {1: 2.91, 2: 1.73}
    """
    vocab_size = _check_int("vocab_size", vocab_size, 1)
    if isinstance(orders, (str, bytes)) or not isinstance(orders, Sequence):
        raise TypeError(f"orders must be a sequence of distinct ints >= 1, got "
                        f"{type(orders).__name__}")
    orders = sorted(_check_int("orders[i]", k, 1) for k in orders)
    if not orders or len(set(orders)) != len(orders):
        raise ValueError(f"orders must be a non-empty sequence of distinct ints >= 1, "
                         f"got {orders}")
    if not isinstance(eval_splits, Mapping):
        raise TypeError(f"eval_splits must be a dict of split name -> id sequence, got "
                        f"{type(eval_splits).__name__}")
    if not eval_splits:
        raise ValueError("eval_splits must hold at least one split, got an empty dict")
    streams = {}
    for name, ids in eval_splits.items():
        if not isinstance(name, str):
            raise TypeError(f"eval_splits keys must be split names (str), got "
                            f"{type(name).__name__} {name!r}")
        streams[name] = _check_id_array(f"eval_splits[{name!r}]", ids, vocab_size)
    model = KneserNeyLM(orders[-1], vocab_size).fit(train_ids)
    results = {}
    for name, ids in streams.items():
        by_order = model.perplexity_by_order(ids)
        results[name] = {k: by_order[k - 1] for k in orders}
    return results
