"""Minibatches: language-model iterators, BPTT batchification, padding and bucketing.

Every iterator here yields NumPy arrays, **batch first**: ``X`` and ``Y`` are ``(B, T)``
(``B`` batch, ``T`` time steps) and ``Y`` is ``X`` shifted left by one token: the target
at every position is the next token. Framework code converts once, at its edge.

This module imports no deep-learning framework.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np

from .checks import check_int, check_iterable


def check_lm_args(corpus: Sequence, batch_size: int, num_steps: int) -> None:
    check_iterable("corpus", corpus, "a flat sequence of token ids")
    check_int("batch_size", batch_size, minimum=1)
    check_int("num_steps", num_steps, minimum=1)
    if len(corpus) == 0:
        raise ValueError("The corpus is empty: there is nothing to batch.")
    # One input window needs num_steps tokens plus one more for its last target.
    if len(corpus) < num_steps + 1:
        raise ValueError(
            f"num_steps={num_steps} is too long for a corpus of {len(corpus)} tokens: "
            f"a window needs num_steps + 1 tokens. Use a smaller num_steps.")


def seq_data_iter_random(corpus: Sequence[int], batch_size: int, num_steps: int,
                         rng: np.random.Generator | None = None
                         ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Random sampling: windows of ``num_steps`` tokens, in random order.

    The corpus is cut into non-overlapping windows after a random offset in
    ``[0, num_steps)``, so that different epochs see different cuts. Two windows in
    one minibatch, or in consecutive minibatches, are not adjacent in the text: the
    hidden state must be reset for every minibatch.

    Shape:
        yields ``X, Y`` of shape ``(B, T)``; ``Y[:, t]`` is the token after ``X[:, t]``.
    """
    check_lm_args(corpus, batch_size, num_steps)
    rng = np.random.default_rng() if rng is None else rng
    corpus = np.asarray(corpus)
    offset = int(rng.integers(0, num_steps))
    corpus = corpus[offset:]
    num_windows = (len(corpus) - 1) // num_steps
    starts = np.arange(num_windows) * num_steps
    rng.shuffle(starts)
    num_batches = num_windows // batch_size
    for i in range(num_batches):
        batch_starts = starts[i * batch_size:(i + 1) * batch_size]
        X = np.stack([corpus[s:s + num_steps] for s in batch_starts])          # (B, T)
        Y = np.stack([corpus[s + 1:s + 1 + num_steps] for s in batch_starts])  # (B, T)
        yield X, Y


def seq_data_iter_sequential(corpus: Sequence[int], batch_size: int, num_steps: int,
                             rng: np.random.Generator | None = None
                             ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Sequential partitioning: row ``b`` of each minibatch continues row ``b`` of the last.

    After a random offset the corpus is cut into ``B`` equal streams, one per row::

        stream 0: t0 t1 t2 | t3 t4 t5 | ...
        stream 1: u0 u1 u2 | u3 u4 u5 | ...
                  batch 0    batch 1

    so the hidden state at the end of one minibatch is the right initial state for the
    next (detach it to truncate backpropagation).

    Shape:
        yields ``X, Y`` of shape ``(B, T)``.
    """
    check_lm_args(corpus, batch_size, num_steps)
    rng = np.random.default_rng() if rng is None else rng
    offset = int(rng.integers(0, num_steps))
    num_tokens = ((len(corpus) - offset - 1) // batch_size) * batch_size
    if num_tokens // batch_size < num_steps:
        raise ValueError(
            f"A corpus of {len(corpus)} tokens gives streams of {num_tokens // batch_size} "
            f"tokens for batch_size={batch_size}, fewer than num_steps={num_steps}. "
            f"Use a smaller batch_size or num_steps.")
    corpus = np.asarray(corpus)
    Xs = corpus[offset:offset + num_tokens].reshape(batch_size, -1)          # (B, L)
    Ys = corpus[offset + 1:offset + 1 + num_tokens].reshape(batch_size, -1)  # (B, L)
    num_batches = Xs.shape[1] // num_steps
    for i in range(0, num_batches * num_steps, num_steps):
        yield Xs[:, i:i + num_steps], Ys[:, i:i + num_steps]


class SeqDataLoader:
    """An iterable over language-model minibatches; each pass is a new epoch.

    Args:
        corpus: a flat sequence of token ids.
        batch_size: ``B``.
        num_steps: ``T``.
        use_random_iter: random sampling if true, sequential partitioning otherwise.
        seed: seeds the offsets and the shuffling, so runs repeat exactly.
    """

    def __init__(self, corpus: Sequence[int], batch_size: int, num_steps: int,
                 use_random_iter: bool = False, seed: int = 0):
        check_lm_args(corpus, batch_size, num_steps)
        self.corpus = np.asarray(corpus)
        self.batch_size, self.num_steps = batch_size, num_steps
        self.use_random_iter = use_random_iter
        self.rng = np.random.default_rng(seed)
        self._iter_fn = seq_data_iter_random if use_random_iter else seq_data_iter_sequential
        # Fail now, not in the middle of training, if no full batch fits.
        if len(self) == 0:
            raise ValueError(
                f"A corpus of {len(corpus)} tokens does not fill one batch of "
                f"batch_size={batch_size} x num_steps={num_steps}.")

    def __iter__(self):
        return self._iter_fn(self.corpus, self.batch_size, self.num_steps, self.rng)

    def __len__(self) -> int:
        """The number of minibatches in an epoch with the worst-case offset."""
        usable = len(self.corpus) - self.num_steps  # worst offset is num_steps - 1
        if self.use_random_iter:
            return (usable // self.num_steps) // self.batch_size
        return (usable // self.batch_size) // self.num_steps


def bptt_batchify(ids: Sequence[int], batch_size: int) -> np.ndarray:
    """Lay a flat token stream out as ``batch_size`` contiguous rows, dropping the tail.

    ``a b c d e f g h i j k l`` with ``batch_size=3`` becomes::

        a b c d
        e f g h
        i j k l

    Shape:
        returns ``(B, N // B)``.
    """
    check_iterable("ids", ids, "a flat sequence of token ids")
    check_int("batch_size", batch_size, minimum=1)
    ids = np.asarray(ids)
    length = len(ids) // batch_size
    if length < 2:
        raise ValueError(f"{len(ids)} tokens are too few for batch_size={batch_size}: "
                         f"each row needs at least 2 tokens.")
    return ids[:length * batch_size].reshape(batch_size, length)


def bptt_batches(data: np.ndarray, num_steps: int
                 ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Walk a batchified stream in windows of ``num_steps``; the last window may be shorter.

    Shape:
        ``data`` is ``(B, L)``; yields ``X, Y`` of shape ``(B, T)`` with ``T <= num_steps``.
    """
    check_int("num_steps", num_steps, minimum=1)
    if getattr(data, "ndim", None) != 2:
        raise TypeError(f"data must be a 2-D (B, L) array from bptt_batchify, got "
                        f"{type(data).__name__} with shape {getattr(data, 'shape', None)}")
    for i in range(0, data.shape[1] - 1, num_steps):
        steps = min(num_steps, data.shape[1] - 1 - i)
        yield data[:, i:i + steps], data[:, i + 1:i + 1 + steps]


def num_bptt_batches(data: np.ndarray, num_steps: int) -> int:
    """How many windows ``bptt_batches(data, num_steps)`` yields."""
    return -(-(data.shape[1] - 1) // num_steps)


class BPTTWindows:
    """``bptt_batches(data, num_steps)`` as a re-iterable: one pass per ``for`` loop.

    A training loop walks its data once per epoch; a generator would be spent after
    the first. This wraps a batchified stream (a NumPy array or a tensor, already on
    the training device) so that every iteration starts again at its first window.

    Shape:
        ``data`` is ``(B, L)``; each pass yields ``X, Y`` of shape ``(B, T)``.
    """

    def __init__(self, data, num_steps: int):
        check_int("num_steps", num_steps, minimum=1)
        if getattr(data, "ndim", None) != 2:
            raise TypeError(f"data must be a 2-D (B, L) array from bptt_batchify, got "
                            f"{type(data).__name__} with shape "
                            f"{getattr(data, 'shape', None)}")
        self.data, self.num_steps = data, num_steps

    def __iter__(self):
        return bptt_batches(self.data, self.num_steps)

    def __len__(self) -> int:
        return num_bptt_batches(self.data, self.num_steps)


# ------------------------------------------------------------------ classification


def truncate_pad(ids: Sequence[int], max_len: int, pad_id: int) -> list[int]:
    """Cut a sequence to ``max_len`` ids, or pad it with ``pad_id`` up to ``max_len``."""
    check_int("max_len", max_len, minimum=1)
    check_int("pad_id", pad_id)
    ids = list(ids[:max_len])
    return ids + [pad_id] * (max_len - len(ids))


def pad_batch(seqs: Sequence[Sequence[int]], pad_id: int, max_len: int | None = None
              ) -> tuple[np.ndarray, np.ndarray]:
    """Pad variable-length sequences into one array, keeping their true lengths.

    Sequences longer than ``max_len`` are cut; an empty sequence keeps length 0 (the
    models treat it as a single padding token, see their docs).

    Shape:
        returns ``(ids, lengths)`` of shapes ``(B, L)`` and ``(B,)`` where ``L`` is the
        longest (cut) length in the batch, at least 1.
    """
    if len(seqs) == 0:
        raise ValueError("pad_batch needs at least one sequence.")
    if max_len is not None:
        seqs = [s[:max_len] for s in seqs]
    lengths = np.array([len(s) for s in seqs], dtype=np.int64)
    width = max(1, int(lengths.max()))
    out = np.full((len(seqs), width), pad_id, dtype=np.int64)
    for row, s in enumerate(seqs):
        out[row, :len(s)] = s
    return out, lengths


def bucket_batches(lengths: Sequence[int], batch_size: int,
                   rng: np.random.Generator | None = None,
                   bucket_factor: int = 50) -> list[np.ndarray]:
    """Group indices into batches of similar length, in random order.

    The data are shuffled, cut into chunks of ``batch_size * bucket_factor`` examples,
    each chunk is sorted by length and cut into batches, and the batches are shuffled.
    Similar lengths mean little padding, hence little wasted computation, while the
    shuffling keeps batches different from epoch to epoch. With ``rng=None`` the order
    is deterministic (sorted by length), which suits evaluation.

    Returns:
        a list of index arrays, each of at most ``batch_size`` indices.
    """
    check_int("batch_size", batch_size, minimum=1)
    check_int("bucket_factor", bucket_factor, minimum=1)
    lengths = np.asarray(lengths)
    if rng is None:
        order = np.argsort(lengths, kind="stable")
        return [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    order = rng.permutation(len(lengths))
    chunk = batch_size * bucket_factor
    batches = []
    for start in range(0, len(order), chunk):
        part = order[start:start + chunk]
        part = part[np.argsort(lengths[part], kind="stable")]
        batches += [part[i:i + batch_size] for i in range(0, len(part), batch_size)]
    rng.shuffle(batches)
    return batches
