"""Tests of utils.classify_data and of the review tokenizer (utils.text.tokenize_review)."""
import numpy as np
import pytest

from utils.classify_data import (PAD_TOKEN, ClassifyLoader, confusion_matrix,
                                 encode_texts, stratified_subset)
from utils.text import Vocab, tokenize_review


def test_tokenize_review_rules():
    text = "Don't MISS it!<br /><br />A 10/10 film...<br/>Isn't it?"
    assert tokenize_review(text) == [
        "don't", "miss", "it", "!", "a", "10", "/", "10", "film", ".", ".", ".",
        "isn't", "it", "?"]


def test_tokenize_review_quotes_and_edge_cases():
    assert tokenize_review("'Great' movie") == ["'", "great", "'", "movie"]
    assert tokenize_review("rock'n'roll café") == ["rock'n'roll", "café"]
    assert tokenize_review("") == []
    assert tokenize_review("   <br />  ") == []
    with pytest.raises(TypeError):
        tokenize_review(None)


def test_stratified_subset_keeps_balance_and_is_seeded():
    labels = [0] * 600 + [1] * 400
    idx = stratified_subset(labels, 100, seed=3)
    assert len(idx) == 100 and len(set(idx.tolist())) == 100
    assert np.bincount(np.asarray(labels)[idx]).tolist() == [60, 40]
    assert np.array_equal(idx, stratified_subset(labels, 100, seed=3))
    assert len(stratified_subset(labels, None)) == 1000
    with pytest.raises(ValueError):
        stratified_subset(labels, 0)


def test_encode_texts_unknown_empty_and_long():
    vocab = Vocab([["good", "film"]], reserved_tokens=[PAD_TOKEN])
    ids = encode_texts(["Good zzz", "", "film " * 50], vocab, max_len=4)
    assert ids[0] == [vocab["good"], vocab.unk]
    assert ids[1] == []
    assert ids[2] == [vocab["film"]] * 4


def test_loader_shapes_lengths_and_fixed_len():
    ids = [[2, 3, 4], [5], [], [6, 7, 8, 9, 10]]
    loader = ClassifyLoader(ids, [0, 1, 0, 1], batch_size=2, pad_id=1)
    batches = list(loader)
    assert len(batches) == len(loader) == 2
    seen = sorted(int(n) for _, lengths, _ in batches for n in lengths)
    assert seen == [0, 1, 3, 5]
    for X, lengths, y in batches:
        assert X.shape == (len(y), max(1, lengths.max()))
    fixed = ClassifyLoader(ids, [0, 1, 0, 1], 4, pad_id=1, fixed_len=4, bucket=False)
    X, lengths, _ = next(iter(fixed))
    assert X.shape == (4, 4) and X[0].tolist() == [2, 3, 4, 1]
    assert lengths.tolist() == [3, 1, 0, 4]


def test_loader_shuffles_differently_every_epoch():
    ids = [[i + 2] * (i % 7 + 1) for i in range(200)]
    loader = ClassifyLoader(ids, [i % 2 for i in range(200)], 8, 1, shuffle=True)
    first = [y.tolist() for _, _, y in loader]
    second = [y.tolist() for _, _, y in loader]
    assert first != second


def test_confusion_matrix():
    counts = confusion_matrix([0, 0, 1, 1, 1], [0, 1, 1, 1, 0])
    assert counts.tolist() == [[1, 1], [1, 2]]
    with pytest.raises(ValueError):
        confusion_matrix([0, 1], [0])
