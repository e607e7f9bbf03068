"""Data for transfer learning: one vocabulary for a language model and a classifier.

The transfer chapter pretrains a language model on general text (WikiText-2), goes on
training it on the IMDB training reviews read as plain text, and then fine-tunes it
as a sentiment classifier on a few labelled reviews. All three stages must speak one
vocabulary, and the reviews' tokenizer must decide what a word is::

    WikiText-2 lines ─wikitext_review_tokens─┐
                                             ├─ Vocab (training reviews only) ─▶ ids
    IMDB training reviews ─tokenize_review───┘

* ``wikitext_review_tokens``: WikiText-2 in the reviews' conventions (lower case,
  punctuation split off, ``@-@`` joins undone, ``<unk>`` kept as the unknown word);
* ``token_stream``: documents laid end to end as one id stream, ``<eos>`` after each,
  what a language model trains on;
* ``nested_label_subsets``: balanced subsets of growing size, each inside the next, so
  that a learning curve adds labelled reviews rather than swapping them;
* ``load_transfer_data``: the splits, the vocabulary and the streams of the chapter.

This module imports no deep-learning framework.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .checks import check_int, check_iterable, check_number
from .classify_data import (PAD_TOKEN, EncodedSplit, _check_cut, cut_tokens,
                            stratified_subset, train_valid_indices)
from .text import Vocab, tokenize_review

EOS_TOKEN = "<eos>"
_WIKI_JOINS = re.compile(r" @([-,.])@ ")  # WikiText writes 1,000 as "1 @,@ 000"


def wikitext_review_tokens(lines: Sequence[str]) -> list[str]:
    """WikiText lines as one token list in the conventions of ``tokenize_review``.

    Headings (`` = Title = ``) and empty lines are dropped; ``@-@``, ``@,@`` and
    ``@.@`` are joined back (``state @-@ of @-@ the @-@ art`` becomes
    ``state-of-the-art`` before tokenizing); WikiText's own ``<unk>`` stays the unknown
    word; every kept line ends with ``<eos>``.

    Example:
        >>> wikitext_review_tokens([" = Film = ", " The <unk> film @-@ maker 's debut . "])
        ['the', '<unk>', 'film', '-', 'maker', "'", 's', 'debut', '.', '<eos>']
    """
    check_iterable("lines", lines, "a list of str (the lines of a WikiText file)")
    if isinstance(lines, str):
        raise TypeError("lines must be a list of lines, got one str: split it with "
                        ".splitlines()")
    tokens: list[str] = []
    for line in lines:
        if not isinstance(line, str):
            raise TypeError(f"lines must hold str, got {type(line).__name__}")
        line = line.strip()
        if not line or line.startswith("= "):
            continue
        line = _WIKI_JOINS.sub(r"\1", f" {line} ")
        pieces = line.split("<unk>")
        for i, piece in enumerate(pieces):
            if i:
                tokens.append("<unk>")
            tokens.extend(tokenize_review(piece))
        tokens.append(EOS_TOKEN)
    return tokens


def token_stream(documents: Sequence[Sequence[int]], eos_id: int) -> np.ndarray:
    """Documents of ids laid end to end, ``eos_id`` after each: ``(N,)`` int64."""
    check_int("eos_id", eos_id, minimum=0)
    check_iterable("documents", documents, "a list of id lists")
    if not len(documents):
        raise ValueError("documents must hold at least one document, got none")
    pieces = []
    for doc in documents:
        pieces.append(np.asarray(doc, dtype=np.int64))
        pieces.append(np.array([eos_id], dtype=np.int64))
    return np.concatenate(pieces)


def nested_label_subsets(labels: Sequence[int], sizes: Sequence[int | None],
                         seed: int = 0) -> list[np.ndarray]:
    """Balanced index subsets of ``labels`` of the given sizes, each inside the next.

    Every class is shuffled once; a subset of size ``n`` takes the first ``n / C``
    indices of each of the ``C`` classes (the remainder goes to the first classes), so
    the 500 reviews of the smallest subset are among the 2,000 of the next one. A size
    of ``None`` (or one as large as ``labels``) keeps every index.

    Returns:
        one sorted index array per size, in the order of ``sizes``.
    """
    labels = np.asarray(labels)
    if labels.ndim != 1 or not len(labels):
        raise ValueError(f"labels must be a non-empty 1-D sequence, got shape "
                         f"{labels.shape}")
    check_int("seed", seed, minimum=0)
    if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Sequence) or not sizes:
        raise TypeError(f"sizes must be a non-empty list of ints (or None), got "
                        f"{sizes!r}")
    classes = np.unique(labels)
    rng = np.random.default_rng(seed)
    orders = [rng.permutation(np.flatnonzero(labels == c)) for c in classes]
    subsets = []
    for size in sizes:
        if size is None or size >= len(labels):
            subsets.append(np.arange(len(labels)))
            continue
        check_int("sizes[...]", size, minimum=len(classes))
        share, extra = divmod(size, len(classes))
        counts = [share + (i < extra) for i in range(len(classes))]
        if any(n > len(order) for n, order in zip(counts, orders)):
            raise ValueError(f"sizes holds {size}, more than a balanced subset of "
                             f"these labels can hold")
        subsets.append(np.sort(np.concatenate([order[:n] for n, order
                                               in zip(counts, orders)])))
    return subsets


@dataclass
class TransferData:
    """What the transfer chapter trains on.

    Attributes:
        vocab: built on the training reviews (``<unk>`` 0, ``<pad>`` 1, ``<eos>`` 2).
        train, valid, test: reviews as ids, cut to ``max_len`` tokens (the
            classifiers' input); ``valid`` is carved from the training reviews.
        wiki_train, wiki_valid: WikiText-2 as id streams (``<eos>`` per line).
        review_train, review_valid: the training and validation reviews' *text*,
            uncut, as id streams (``<eos>`` per review): the language model's
            in-domain data. No label is used, and no test review.
        train_tokens, valid_tokens, test_tokens: the same reviews, in the same order,
            as whole token lists (``tokenize_review``), for a model that reads words
            rather than ids (the bag of n-grams).
    """

    vocab: Vocab
    train: EncodedSplit
    valid: EncodedSplit
    test: EncodedSplit
    wiki_train: np.ndarray
    wiki_valid: np.ndarray
    review_train: np.ndarray
    review_valid: np.ndarray
    train_tokens: list[list[str]]
    valid_tokens: list[list[str]]
    test_tokens: list[list[str]]


def load_transfer_data(num_valid: int, num_test: int | None = None,
                       max_size: int = 10_000, max_len: int | None = 256,
                       keep: str = "last", max_wiki_tokens: int | None = None,
                       max_review_lm_tokens: int | None = None, seed: int = 0,
                       cache=None) -> TransferData:
    """Read IMDB and WikiText-2, build one vocabulary, encode everything.

    Args:
        num_valid: training reviews moved to a balanced validation split (>= 2).
        num_test: test reviews kept (a balanced subset; ``None``: all).
        max_size: the vocabulary's size (the most frequent words of the training
            reviews; the rest become ``<unk>``).
        max_len, keep: the classifiers' cut of every review (``None``: whole).
        max_wiki_tokens: keep the first this many WikiText-2 training tokens
            (``None``: all, about 2.4 million in these conventions).
        max_review_lm_tokens: keep about this many tokens of the reviews' text for
            the language model (whole reviews, in a shuffled order; ``None``: all).
        seed: seeds the splits and the order of the reviews' text.
        cache: the data cache folder (default ``$SEQBOOK_DATA``).
    """
    from .datasets import read_imdb, read_wikitext2

    check_int("num_valid", num_valid, minimum=2)
    if num_test is not None:
        check_int("num_test", num_test, minimum=2)
    check_int("max_size", max_size, minimum=4)
    _check_cut(max_len, keep)
    for name, value in (("max_wiki_tokens", max_wiki_tokens),
                        ("max_review_lm_tokens", max_review_lm_tokens)):
        if value is not None:
            check_int(name, value, minimum=2)
    check_int("seed", seed, minimum=0)

    texts, labels = read_imdb("train", cache)
    labels = np.asarray(labels, dtype=np.int64)
    fraction = check_number("num_valid / len(training reviews)",
                            num_valid / len(labels), strictly_above=0.0)
    train_idx, valid_idx = train_valid_indices(labels, fraction, seed)
    train_tokens = [tokenize_review(texts[i]) for i in train_idx]
    valid_tokens = [tokenize_review(texts[i]) for i in valid_idx]
    vocab = Vocab(train_tokens, reserved_tokens=[PAD_TOKEN, EOS_TOKEN], max_size=max_size)
    test_texts, test_labels = read_imdb("test", cache)
    test_idx = stratified_subset(test_labels, num_test, seed)
    test_tokens = [tokenize_review(test_texts[i]) for i in test_idx]

    def encoded(tokens, split_labels):
        return EncodedSplit([vocab[cut_tokens(t, max_len, keep)] for t in tokens],
                            np.asarray(split_labels, dtype=np.int64))

    eos = vocab[EOS_TOKEN]
    order = np.random.default_rng(seed).permutation(len(train_tokens))
    lm_reviews, total = [], 0
    for i in order:
        if max_review_lm_tokens is not None and total >= max_review_lm_tokens:
            break
        lm_reviews.append(vocab[train_tokens[i]])
        total += len(train_tokens[i]) + 1
    wiki_train = np.asarray(vocab[wikitext_review_tokens(read_wikitext2("train", cache))],
                            dtype=np.int64)
    if max_wiki_tokens is not None:
        wiki_train = wiki_train[:max_wiki_tokens]
    wiki_valid = np.asarray(vocab[wikitext_review_tokens(read_wikitext2("valid", cache))],
                            dtype=np.int64)
    return TransferData(
        vocab=vocab, train=encoded(train_tokens, labels[train_idx]),
        valid=encoded(valid_tokens, labels[valid_idx]),
        test=encoded(test_tokens, np.asarray(test_labels)[test_idx]),
        wiki_train=wiki_train, wiki_valid=wiki_valid,
        review_train=token_stream(lm_reviews, eos),
        review_valid=token_stream([vocab[t] for t in valid_tokens], eos),
        train_tokens=train_tokens, valid_tokens=valid_tokens, test_tokens=test_tokens)
