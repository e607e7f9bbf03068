"""Tests of utils.classify_data and of the review tokenizer (utils.text.tokenize_review)."""
import numpy as np
import pytest

from utils.classify_data import (PAD_TOKEN, ClassifyLoader, best_epoch,
                                 confusion_matrix, cut_tokens, encode_texts,
                                 load_imdb_ids,
                                 stratified_subset, train_valid_indices,
                                 train_valid_split)
from utils.datasets import COMPLETE_MARKER
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


def test_train_valid_split_is_stratified_disjoint_complete_and_seeded():
    labels = np.array([0] * 300 + [1] * 100 + [2] * 50)
    items = [f"review {i}" for i in range(len(labels))]
    (tr_x, tr_y), (va_x, va_y) = train_valid_split(items, labels, 0.2, seed=1)
    assert len(va_x) == 90 and len(tr_x) == 360
    assert np.bincount(va_y).tolist() == [60, 20, 10]       # the shares of labels
    assert np.bincount(tr_y).tolist() == [240, 80, 40]
    assert set(tr_x).isdisjoint(va_x) and set(tr_x) | set(va_x) == set(items)
    # every item keeps its label, and the parts keep the original order
    for part, part_y in ((tr_x, tr_y), (va_x, va_y)):
        idx = [int(x.split()[1]) for x in part]
        assert idx == sorted(idx) and labels[idx].tolist() == part_y.tolist()
    again = train_valid_split(items, labels, 0.2, seed=1)
    assert again[1][0] == va_x and again[0][0] == tr_x
    other = train_valid_split(items, labels, 0.2, seed=2)
    assert other[1][0] != va_x


def test_train_valid_indices_and_arrays():
    labels = [0, 1] * 50
    train_idx, valid_idx = train_valid_indices(labels, 0.1, seed=0)
    assert len(valid_idx) == 10
    assert np.bincount(np.asarray(labels)[valid_idx]).tolist() == [5, 5]
    assert np.array_equal(np.sort(np.concatenate([train_idx, valid_idx])),
                          np.arange(100))
    # the validation part is the stratified subset of the same size and seed
    assert np.array_equal(valid_idx, stratified_subset(labels, 10, seed=0))
    X = np.arange(200).reshape(100, 2)
    (tr_x, tr_y), (va_x, va_y) = train_valid_split(X, labels, 0.1, seed=0)
    assert tr_x.shape == (90, 2) and va_x.shape == (10, 2)
    assert np.array_equal(va_x, X[valid_idx])
    assert np.array_equal(tr_y, np.asarray(labels)[train_idx])


@pytest.mark.parametrize("args, kwargs, error, match", [
    (("some text", [0] * 9), {}, TypeError, "items must be a sequence .* single str"),
    ((iter(range(3)), [0, 1, 0]), {}, TypeError, "items must be a sequence"),
    ((["a", "b"], [0]), {}, ValueError, r"items and labels differ in length: 2 != 1"),
    ((["a", "b"], "01"), {}, TypeError, "labels must be a sequence of int labels"),
    ((["a", "b"], [0.0, 1.0]), {}, TypeError, "integer labels, got dtype float64"),
    ((["a", "b"], [0, 1]), {"valid_fraction": 1.5}, ValueError,
     r"valid_fraction must lie in \(0, 1\), got 1.5"),
    ((["a", "b"], [0, 1]), {"valid_fraction": 0}, ValueError,
     r"valid_fraction must lie in \(0, 1\), got 0"),
    ((["a", "b"], [0, 1]), {"valid_fraction": "0.1"}, TypeError,
     "valid_fraction must be a float in \\(0, 1\\), got str"),
    ((["a", "b", "c"], [0, 1, 0]), {"valid_fraction": 0.1}, ValueError,
     "gives 0 for validation"),
    ((["a", "b"], [0, 1]), {"valid_fraction": 0.5, "seed": 1.0}, TypeError,
     "seed must be an int, got float"),
    ((["a", "b"], [0, 1]), {"valid_fraction": 0.5, "seed": -1}, ValueError,
     "seed must be at least 0, got -1"),
])
def test_train_valid_split_checks_arguments(args, kwargs, error, match):
    with pytest.raises(error, match=match):
        train_valid_split(*args, **kwargs)


def test_stratified_subset_and_encode_texts_check_types():
    with pytest.raises(TypeError, match="size must be an int or None, got float"):
        stratified_subset([0, 1], 1.5)
    with pytest.raises(TypeError, match="labels must be a sequence"):
        stratified_subset("0101", 2)
    with pytest.raises(TypeError, match="seed must be an int"):
        stratified_subset([0, 1], 1, seed="0")
    assert stratified_subset(np.array([0, 1, 0, 1]), np.int64(2)).tolist() in (
        [0, 1], [0, 3], [1, 2], [2, 3])
    vocab = Vocab([["good"]], reserved_tokens=[PAD_TOKEN])
    with pytest.raises(TypeError, match="texts must be a list of texts, got a single"):
        encode_texts("good film", vocab)


def _fake_imdb(root, per_class=10):
    """A tiny aclImdb folder: every review holds a word of its own and its label's word."""
    for split in ("train", "test"):
        for sub, word in (("neg", "bad"), ("pos", "good")):
            folder = root / "aclImdb" / split / sub
            folder.mkdir(parents=True)
            for i in range(per_class):
                (folder / f"{i}_1.txt").write_text(f"{split}{sub}{i} {word} film")
    (root / "aclImdb" / COMPLETE_MARKER).write_text("")  # unpacked and whole
    return root


def test_load_imdb_ids_carves_validation_before_the_vocabulary(tmp_path):
    cache = _fake_imdb(tmp_path)
    data = load_imdb_ids(cache=cache, valid_fraction=0.2, seed=0)
    assert len(data.train) == 16 and len(data.valid) == 4 and len(data.test) == 20
    assert np.bincount(data.valid.labels).tolist() == [2, 2]
    # every review has a word of its own: those of the validation reviews are unknown
    assert all(ids[0] == data.vocab.unk for ids in data.valid.ids)
    assert all(ids[0] != data.vocab.unk for ids in data.train.ids)
    assert len(data.vocab) == 2 + 16 + 3  # <unk>, <pad>, 16 own words, bad/good/film
    # the split is train_valid_indices on the labels of the kept training reviews
    whole = load_imdb_ids(cache=cache)
    _, valid_idx = train_valid_indices(whole.train.labels, 0.2, seed=0)
    assert data.valid.labels.tolist() == whole.train.labels[valid_idx].tolist()
    assert whole.valid is None and len(whole.train) == 20


@pytest.mark.parametrize("kwargs, error, match", [
    ({"valid_fraction": 1.0}, ValueError, r"valid_fraction must lie in \(0, 1\)"),
    ({"valid_fraction": "0.1"}, TypeError, "valid_fraction must be a float"),
    ({"num_train": 0}, ValueError, "num_train must be at least 1, got 0"),
    ({"num_test": 2.5}, TypeError, "num_test must be an int or None, got float"),
    ({"max_len": 0}, ValueError, "max_len must be at least 1"),
    ({"min_freq": None}, TypeError, "min_freq must be an int, got NoneType"),
    ({"seed": -1}, ValueError, "seed must be at least 0"),
])
def test_load_imdb_ids_checks_arguments(tmp_path, kwargs, error, match):
    with pytest.raises(error, match=match):
        load_imdb_ids(cache=tmp_path, **kwargs)


def test_best_epoch_takes_the_highest_validation_score_earliest_first():
    history = [{"epoch": 1, "valid_acc": 0.7}, {"epoch": 2, "valid_acc": 0.8},
               {"epoch": 3, "valid_acc": 0.8}, {"epoch": 4, "valid_acc": 0.75}]
    assert best_epoch(history)["epoch"] == 2
    assert best_epoch(history[:1])["epoch"] == 1
    history = [{"epoch": 1, "valid_f1": 0.6}, {"epoch": 2, "valid_f1": 0.7}]
    assert best_epoch(history, "valid_f1")["epoch"] == 2


@pytest.mark.parametrize("history, key, error, match", [
    ([], "valid_acc", ValueError, "history must hold at least one epoch"),
    ({"valid_acc": 0.5}, "valid_acc", TypeError, "history must be a list .* got dict"),
    ([0.5], "valid_acc", TypeError, r"history\[0\] must be a dict, got float"),
    ([{"valid_acc": None}], "valid_acc", ValueError,
     r"history\[0\]\['valid_acc'\] must be a number, got None"),
    ([{"test_acc": 0.5}], "test_acc", ValueError, "tune on the test split"),
    ([{"valid_acc": 0.5}], 3, TypeError, "key must be a metric name"),
])
def test_best_epoch_checks_arguments(history, key, error, match):
    with pytest.raises(error, match=match):
        best_epoch(history, key)


def test_cut_tokens_keeps_the_start_or_the_end():
    tokens = ["a", "b", "c", "d"]
    assert cut_tokens(tokens, 2) == ["a", "b"]
    assert cut_tokens(tokens, 2, keep="last") == ["c", "d"]
    assert cut_tokens(tokens, 9, keep="last") == tokens
    assert cut_tokens(tokens, None, keep="last") == tokens
    assert cut_tokens([], 3) == []
    vocab = Vocab([["good", "film", "bad"]], reserved_tokens=[PAD_TOKEN])
    assert encode_texts(["bad film good"], vocab, 2, keep="last") == [
        vocab[["film", "good"]]]


@pytest.mark.parametrize("args, error, match", [
    ((["a"], 0), ValueError, "max_len must be at least 1"),
    ((["a"], 2.0), TypeError, "max_len must be an int or None, got float"),
    ((["a"], 2, "end"), ValueError, r"keep must be one of \('first', 'last'\), got 'end'"),
])
def test_cut_tokens_checks_arguments(args, error, match):
    with pytest.raises(error, match=match):
        cut_tokens(*args)


def test_load_imdb_ids_keeps_the_last_tokens(tmp_path):
    cache = _fake_imdb(tmp_path)
    first = load_imdb_ids(cache=cache, max_len=1)
    last = load_imdb_ids(cache=cache, max_len=1, keep="last")
    assert {first.vocab.to_tokens(ids[0]) for ids in first.train.ids} != {"film"}
    assert all(last.vocab.to_tokens(ids) == ["film"] for ids in last.train.ids)
    with pytest.raises(ValueError, match="keep must be one of"):
        load_imdb_ids(cache=cache, keep="middle")
