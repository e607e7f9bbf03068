"""Text classification data: IMDB reviews as token ids, subsets, and padded minibatches.

The path from raw reviews to minibatches, shared by every sentiment chapter::

    read_imdb ──tokenize_review──▶ tokens ──Vocab (train only)──▶ ids ──▶ ClassifyLoader
                                                                         (B, T) ids,
                                                                         (B,) lengths,
                                                                         (B,) labels

This module imports no deep-learning framework: it hands NumPy arrays to the framework
code, which converts them once, at its edge.
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .batching import bucket_batches, pad_batch
from .checks import check_int
from .text import Vocab, tokenize_review

PAD_TOKEN = "<pad>"
SENTIMENTS = ("negative", "positive")  # label 0, label 1


def stratified_subset(labels: Sequence[int], size: int | None, seed: int = 0
                      ) -> np.ndarray:
    """Indices of a random subset that keeps the share of every label.

    Args:
        labels: one integer label per example.
        size: how many examples to keep; ``None`` (or at least ``len(labels)``) keeps
            them all.
        seed: seeds the draw, so that the same call gives the same subset.

    Returns:
        the chosen indices, sorted.
    """
    labels = _check_labels(labels)
    if size is not None and (isinstance(size, bool)
                             or not isinstance(size, numbers.Integral)):
        raise TypeError(f"size must be an int or None, got {type(size).__name__} "
                        f"{size!r}")
    _check_seed(seed)
    if size is None or size >= len(labels):
        return np.arange(len(labels))
    if size < 1:
        raise ValueError(f"size must be at least 1 (or None for all), got {size}")
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(labels, return_counts=True)
    # Largest-remainder rounding: the per-class sizes add up to exactly `size`.
    exact = counts * size / len(labels)
    take = np.floor(exact).astype(int)
    for i in np.argsort(-(exact - take), kind="stable")[:size - take.sum()]:
        take[i] += 1
    chosen = [rng.choice(np.flatnonzero(labels == c), k, replace=False)
              for c, k in zip(classes, take)]
    return np.sort(np.concatenate(chosen))


def _check_labels(labels, name: str = "labels") -> np.ndarray:
    """``labels`` as a 1-D integer array, or TypeError/ValueError naming ``name``."""
    if isinstance(labels, (str, bytes)) or not isinstance(labels,
                                                          (Sequence, np.ndarray)):
        raise TypeError(f"{name} must be a sequence of int labels, got "
                        f"{type(labels).__name__}")
    array = np.asarray(labels)
    if array.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one label per example), got shape "
                         f"{array.shape}")
    if array.size and array.dtype.kind not in "iub":
        raise TypeError(f"{name} must hold integer labels, got dtype {array.dtype}")
    return array


def check_training_args(num_epochs, lr, weight_decay=0.0, clip=None,
                        keep_best=True) -> None:
    """The framework-free checks of a classifier's training settings.

    ``num_epochs`` an int >= 1, ``lr`` a finite number > 0, ``weight_decay`` >= 0,
    ``clip`` > 0 or ``None``, ``keep_best`` a bool; a ``TypeError`` or
    ``ValueError`` names the argument otherwise.
    """
    check_int("num_epochs", num_epochs, minimum=1)
    for name, value, low in (("lr", lr, "> 0"), ("weight_decay", weight_decay, ">= 0"),
                             ("clip", clip, "> 0")):
        if value is None and name == "clip":
            continue
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise TypeError(f"{name} must be a number {low}, got "
                            f"{type(value).__name__} {value!r}")
        if not math.isfinite(value) or value < 0 or (low == "> 0" and value == 0):
            raise ValueError(f"{name} must be a finite number {low}, got {value!r}")
    if not isinstance(keep_best, bool):
        raise TypeError(f"keep_best must be a bool, got {type(keep_best).__name__}")


def _check_seed(seed) -> None:
    check_int("seed", seed, minimum=0)


def train_valid_indices(labels: Sequence[int], valid_fraction: float = 0.1,
                        seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Indices of a stratified split of training data into a training and a validation part.

    The validation part is ``stratified_subset(labels, round(valid_fraction * n),
    seed)``: it keeps the share of every label (to within one example per label),
    and the training part is everything else. Carve it out of the training split only,
    to choose settings (a learning rate, a regularization strength, an epoch) without
    looking at the test split.

    Args:
        labels: one integer label per example.
        valid_fraction: the share of examples for validation, in (0, 1); it must
            leave at least one example on each side.
        seed: seeds the draw (an int >= 0): the same call gives the same split.

    Returns:
        ``(train_idx, valid_idx)``: sorted, disjoint, and together ``0 .. n - 1``.
    """
    labels = _check_labels(labels)
    if isinstance(valid_fraction, bool) or not isinstance(valid_fraction,
                                                          numbers.Real):
        raise TypeError(f"valid_fraction must be a float in (0, 1), got "
                        f"{type(valid_fraction).__name__} {valid_fraction!r}")
    if not 0 < valid_fraction < 1:
        raise ValueError(f"valid_fraction must lie in (0, 1), got {valid_fraction}")
    _check_seed(seed)
    n = len(labels)
    num_valid = int(round(valid_fraction * n))
    if not 1 <= num_valid <= n - 1:
        raise ValueError(f"valid_fraction={valid_fraction} of {n} examples gives "
                         f"{num_valid} for validation and {n - num_valid} for "
                         "training; each part needs at least 1")
    valid_idx = stratified_subset(labels, num_valid, seed)
    in_valid = np.zeros(n, dtype=bool)
    in_valid[valid_idx] = True
    return np.flatnonzero(~in_valid), valid_idx


def train_valid_split(items: Sequence, labels: Sequence[int],
                      valid_fraction: float = 0.1, seed: int = 0):
    """Split training examples into a training and a stratified validation part.

    Args:
        items: the examples: texts, token lists, id lists, or an array whose first
            axis runs over examples (not a single string).
        labels: one integer label per example.
        valid_fraction: the share of examples for validation, in (0, 1).
        seed: seeds the draw (an int >= 0).

    Returns:
        ``(train_items, train_labels), (valid_items, valid_labels)``: the items as
        lists (or arrays, if ``items`` is one), in their original order; the labels
        as arrays. See ``train_valid_indices`` for the guarantees.

    Example:
        >>> (tr_x, tr_y), (va_x, va_y) = train_valid_split(texts, labels, 0.1, seed=0)
    """
    if isinstance(items, (str, bytes)):
        raise TypeError(f"items must be a sequence of examples (a list of texts), "
                        f"got a single {type(items).__name__}")
    if not isinstance(items, (Sequence, np.ndarray)):
        raise TypeError(f"items must be a sequence of examples (a list of texts), "
                        f"got {type(items).__name__}")
    labels = _check_labels(labels)
    if len(items) != len(labels):
        raise ValueError(f"items and labels differ in length: {len(items)} != "
                         f"{len(labels)}")
    train_idx, valid_idx = train_valid_indices(labels, valid_fraction, seed)

    def take(idx):
        if isinstance(items, np.ndarray):
            return items[idx]
        return [items[i] for i in idx]

    return ((take(train_idx), labels[train_idx]),
            (take(valid_idx), labels[valid_idx]))


KEEP_CHOICES = ("first", "last")  # which tokens of a long review are kept


def _check_cut(max_len, keep) -> None:
    if max_len is not None and (isinstance(max_len, bool)
                                or not isinstance(max_len, numbers.Integral)):
        raise TypeError(f"max_len must be an int or None, got {type(max_len).__name__} "
                        f"{max_len!r}")
    if max_len is not None and max_len < 1:
        raise ValueError(f"max_len must be at least 1 (or None), got {max_len}")
    if not isinstance(keep, str) or keep not in KEEP_CHOICES:
        raise ValueError(f"keep must be one of {KEEP_CHOICES}, got {keep!r}")


def cut_tokens(tokens: Sequence, max_len: int | None, keep: str = "first") -> list:
    """At most ``max_len`` tokens of a review: its first ones, or its last ones.

    Args:
        tokens: the review's tokens (or ids).
        max_len: how many to keep (``None``: all).
        keep: ``"first"`` keeps the start of a long review, ``"last"`` its end, where
            a reviewer's verdict tends to be.
    """
    _check_cut(max_len, keep)
    if max_len is None or len(tokens) <= max_len:
        return list(tokens)
    return list(tokens[:max_len] if keep == "first" else tokens[-max_len:])


def encode_texts(texts: Sequence[str], vocab: Vocab, max_len: int | None = None,
                 keep: str = "first") -> list[list[int]]:
    """Tokenize texts with ``tokenize_review`` and map the tokens to ids.

    Unknown words map to ``<unk>``; an empty text gives an empty list; a text longer
    than ``max_len`` tokens keeps its first ``max_len`` (``keep="first"``) or its last
    ones (``keep="last"``).
    """
    if isinstance(texts, (str, bytes)):
        raise TypeError(f"texts must be a list of texts, got a single "
                        f"{type(texts).__name__}; wrap one text in a list")
    _check_cut(max_len, keep)
    return [vocab[cut_tokens(tokenize_review(text), max_len, keep)] for text in texts]


@dataclass
class EncodedSplit:
    """One split as token ids: ``ids[i]`` (a list) is review ``i``, ``labels[i]`` its label."""

    ids: list[list[int]]
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)


@dataclass
class ImdbIds:
    """IMDB as token ids: the splits and the vocabulary built on the training one.

    ``valid``, when ``load_imdb_ids`` was asked for it, holds reviews taken out of the
    training split (``train`` then holds the rest): the split that choices are made on.
    """

    train: EncodedSplit
    test: EncodedSplit
    vocab: Vocab
    valid: EncodedSplit | None = None  # carved from the training reviews, if asked


def load_imdb_ids(num_train: int | None = None, num_test: int | None = None,
                  min_freq: int = 1, max_len: int | None = None, seed: int = 0,
                  cache=None, valid_fraction: float | None = None,
                  keep: str = "first") -> ImdbIds:
    """Read IMDB, keep (stratified) subsets, build the vocabulary, encode to ids.

    The vocabulary sees the training reviews only (the ones kept), so that nothing of
    the test split leaks into the model: test words never seen in training are
    ``<unk>``. It reserves ``<pad>`` (id 1) after ``<unk>`` (id 0).

    Args:
        num_train, num_test: how many reviews to keep of each split (``None``: all);
            the subsets keep the balance of positive and negative reviews.
        min_freq: words seen fewer times in training map to ``<unk>``.
        max_len: keep at most ``max_len`` tokens of every review (``None``: all).
        seed: seeds the choice of the subsets (and of the validation split).
        cache: the data cache folder (default ``$SEQBOOK_DATA``).
        valid_fraction: if given, a share in (0, 1) of the kept training reviews
            moved to a stratified validation split (``train_valid_indices`` with
            ``seed``) *before* the vocabulary is built, which then sees the rest of
            the training reviews only; ``None``: no validation split.
        keep: which tokens of a longer review are kept: ``"first"`` (its start) or
            ``"last"`` (its end, where the verdict tends to be).
    """
    from .datasets import read_imdb

    if valid_fraction is not None and (isinstance(valid_fraction, bool) or
                                       not isinstance(valid_fraction, numbers.Real)):
        raise TypeError(f"valid_fraction must be a float in (0, 1) or None, got "
                        f"{type(valid_fraction).__name__} {valid_fraction!r}")
    if valid_fraction is not None and not 0 < valid_fraction < 1:
        raise ValueError(f"valid_fraction must lie in (0, 1) (or be None), got "
                         f"{valid_fraction}")
    _check_cut(max_len, keep)
    for name, value in (("num_train", num_train), ("num_test", num_test),
                        ("min_freq", min_freq)):
        if value is None and name != "min_freq":
            continue
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            raise TypeError(f"{name} must be an int"
                            f"{'' if name == 'min_freq' else ' or None'}, got "
                            f"{type(value).__name__} {value!r}")
        if value < 1:
            raise ValueError(f"{name} must be at least 1, got {value}")
    _check_seed(seed)

    splits, tokens = {}, {}
    for split, size in (("train", num_train), ("test", num_test)):
        texts, labels = read_imdb(split, cache)
        kept = stratified_subset(labels, size, seed)
        tokens[split] = [tokenize_review(texts[i]) for i in kept]
        splits[split] = np.asarray(labels)[kept]
    if valid_fraction is not None:
        train_idx, valid_idx = train_valid_indices(splits["train"], valid_fraction, seed)
        for split, idx in (("valid", valid_idx), ("train", train_idx)):
            tokens[split] = [tokens["train"][i] for i in idx]
            splits[split] = splits["train"][idx]
    # The vocabulary counts whole reviews, even the part that max_len cuts off.
    vocab = Vocab(tokens["train"], min_freq=min_freq, reserved_tokens=[PAD_TOKEN])
    encoded = {split: EncodedSplit([vocab[cut_tokens(t, max_len, keep)]
                                    for t in tokens[split]],
                                   splits[split].astype(np.int64))
               for split in splits}
    return ImdbIds(encoded["train"], encoded["test"], vocab, encoded.get("valid"))


class ClassifyLoader:
    """Minibatches of padded token ids, true lengths and labels; each pass is an epoch.

    With ``shuffle=True`` every epoch draws a new order; with ``bucket=True`` (the
    default) each batch gathers reviews of similar length (``bucket_batches``), so
    that little of it is padding. Without shuffling, batches come sorted by length,
    which suits evaluation.

    Args:
        ids: one list of token ids per example.
        labels: one label per example.
        batch_size: ``B``.
        pad_id: the id that fills the positions after a review's end.
        shuffle: a new random order every epoch.
        bucket: batch reviews of similar length together.
        fixed_len: if given, every batch is cut or padded to exactly this many steps
            (as models that ignore lengths expect); otherwise to its longest review.
        seed: seeds the shuffling.

    Shape:
        yields ``X, lengths, y`` of shapes ``(B, T)``, ``(B,)``, ``(B,)``; an empty
        review has length 0 (the models treat it as one padding token).
    """

    def __init__(self, ids: Sequence[Sequence[int]], labels: Sequence[int],
                 batch_size: int, pad_id: int, shuffle: bool = False,
                 bucket: bool = True, fixed_len: int | None = None, seed: int = 0):
        if len(ids) != len(labels):
            raise ValueError(f"ids and labels differ in length: {len(ids)} != "
                             f"{len(labels)}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.ids, self.labels = list(ids), np.asarray(labels, dtype=np.int64)
        self.batch_size, self.pad_id = batch_size, pad_id
        self.shuffle, self.bucket, self.fixed_len = shuffle, bucket, fixed_len
        self.lengths = np.array([len(s) for s in self.ids])
        self.rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return -(-len(self.ids) // self.batch_size)

    def _batches(self) -> list[np.ndarray]:
        rng = self.rng if self.shuffle else None
        if self.bucket:
            return bucket_batches(self.lengths, self.batch_size, rng)
        order = rng.permutation(len(self.ids)) if rng else np.arange(len(self.ids))
        return [order[i:i + self.batch_size]
                for i in range(0, len(order), self.batch_size)]

    def __iter__(self):
        for idx in self._batches():
            seqs = [self.ids[i] for i in idx]
            X, lengths = pad_batch(seqs, self.pad_id, self.fixed_len)  # (B, T), (B,)
            if self.fixed_len is not None and X.shape[1] < self.fixed_len:
                extra = np.full((len(idx), self.fixed_len - X.shape[1]), self.pad_id)
                X = np.concatenate([X, extra], axis=1)                  # (B, fixed_len)
            yield X, lengths, self.labels[idx]


def best_epoch(history: Sequence[dict], key: str = "valid_acc") -> dict:
    """The row of a training history with the highest ``key``: the epoch to keep.

    Args:
        history: one dict per epoch, as the ``train_classifier`` functions return;
            every row must hold ``key`` as a number.
        key: the validation metric to maximise (``"valid_acc"``), never a test one.

    Returns:
        the row of the best epoch; the earliest one among ties.
    """
    if not isinstance(key, str) or not key:
        raise TypeError(f"key must be a metric name (a non-empty str), got "
                        f"{type(key).__name__} {key!r}")
    if key.startswith("test"):
        raise ValueError(f"key must be a validation metric: choosing by {key!r} would "
                         "tune on the test split")
    if isinstance(history, (str, bytes, dict)) or not isinstance(history, Sequence):
        raise TypeError(f"history must be a list of per-epoch dicts, got "
                        f"{type(history).__name__}")
    if len(history) == 0:
        raise ValueError("history must hold at least one epoch, got an empty list")
    for i, row in enumerate(history):
        if not isinstance(row, dict):
            raise TypeError(f"history[{i}] must be a dict, got {type(row).__name__}")
        value = row.get(key)
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ValueError(f"history[{i}][{key!r}] must be a number, got {value!r}; "
                             "was the model trained with a validation iterator?")
    return max(history, key=lambda row: row[key])  # max keeps the first of ties


def confusion_matrix(y_true: Sequence[int], y_pred: Sequence[int],
                     num_classes: int = 2) -> np.ndarray:
    """Counts of (true label, predicted label) pairs.

    Shape:
        returns ``(num_classes, num_classes)``: row = true label, column = prediction.
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred differ in shape: {y_true.shape} != "
                         f"{y_pred.shape}")
    counts = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(counts, (y_true, y_pred), 1)
    return counts
