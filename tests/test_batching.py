"""Tests of utils.batching: language-model iterators, BPTT layout, padding, bucketing."""
import numpy as np
import pytest

from utils.batching import (SeqDataLoader, bptt_batches, bptt_batchify, bucket_batches,
                            num_bptt_batches, pad_batch, seq_data_iter_random,
                            seq_data_iter_sequential, truncate_pad)

ITERATORS = [seq_data_iter_random, seq_data_iter_sequential]


@pytest.mark.parametrize("iterator", ITERATORS)
@pytest.mark.parametrize("seed", range(5))
def test_target_is_next_token_and_inputs_used_once(iterator, seed):
    corpus = list(range(100))  # each token is its own position
    batch_size, num_steps = 3, 7
    batches = list(iterator(corpus, batch_size, num_steps, np.random.default_rng(seed)))
    assert batches
    positions = []
    for X, Y in batches:
        assert X.shape == Y.shape == (batch_size, num_steps)
        np.testing.assert_array_equal(Y, X + 1)          # the next token
        np.testing.assert_array_equal(np.diff(X, axis=1), 1)  # contiguous windows
        positions += X.ravel().tolist()
    assert len(positions) == len(set(positions))         # at most once per epoch


@pytest.mark.parametrize("seed", range(5))
def test_sequential_rows_continue_across_batches(seed):
    corpus = list(range(200))
    batches = list(seq_data_iter_sequential(corpus, 4, 5, np.random.default_rng(seed)))
    assert len(batches) > 1
    for (X0, _), (X1, _) in zip(batches, batches[1:]):
        np.testing.assert_array_equal(X1[:, 0], X0[:, -1] + 1)


def test_random_iterator_is_reproducible_with_a_seed():
    corpus = list(range(60))
    a = list(seq_data_iter_random(corpus, 2, 5, np.random.default_rng(3)))
    b = list(seq_data_iter_random(corpus, 2, 5, np.random.default_rng(3)))
    for (Xa, Ya), (Xb, Yb) in zip(a, b):
        np.testing.assert_array_equal(Xa, Xb)
        np.testing.assert_array_equal(Ya, Yb)


@pytest.mark.parametrize("iterator", ITERATORS)
def test_bad_lm_arguments_raise(iterator):
    with pytest.raises(ValueError, match="empty"):
        list(iterator([], 2, 3))
    with pytest.raises(ValueError, match="num_steps"):
        list(iterator(list(range(5)), 1, 5))  # a window needs num_steps + 1 tokens
    with pytest.raises(ValueError, match="batch_size"):
        list(iterator(list(range(50)), 0, 3))
    with pytest.raises(ValueError, match="num_steps"):
        list(iterator(list(range(50)), 2, 0))


def test_sequential_too_many_rows_raises():
    with pytest.raises(ValueError, match="batch_size"):
        list(seq_data_iter_sequential(list(range(20)), 10, 5, np.random.default_rng(0)))


@pytest.mark.parametrize("use_random_iter", [False, True])
def test_seq_data_loader_epochs(use_random_iter):
    corpus = list(range(300))
    loader = SeqDataLoader(corpus, 4, 6, use_random_iter=use_random_iter, seed=0)
    for _ in range(3):  # every pass is a full epoch, never fewer batches than len()
        batches = list(loader)
        assert len(batches) >= len(loader) > 0
        for X, Y in batches:
            np.testing.assert_array_equal(Y, X + 1)
    with pytest.raises(ValueError):
        SeqDataLoader(list(range(20)), 8, 5)


def test_bptt_batchify_layout():
    data = bptt_batchify(list(range(13)), 3)
    np.testing.assert_array_equal(data, [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]])
    with pytest.raises(ValueError, match="batch_size"):
        bptt_batchify(list(range(10)), 0)
    with pytest.raises(ValueError, match="too few"):
        bptt_batchify(list(range(5)), 3)


def test_bptt_batches_cover_the_stream():
    data = bptt_batchify(list(range(30)), 2)  # rows of 15
    windows = list(bptt_batches(data, 4))
    assert len(windows) == num_bptt_batches(data, 4) == 4
    assert [X.shape[1] for X, _ in windows] == [4, 4, 4, 2]  # the last one is shorter
    for X, Y in windows:
        np.testing.assert_array_equal(Y, X + 1)
    inputs = np.concatenate([X for X, _ in windows], axis=1)
    np.testing.assert_array_equal(inputs, data[:, :-1])
    with pytest.raises(ValueError, match="num_steps"):
        list(bptt_batches(data, 0))


def test_truncate_pad():
    assert truncate_pad([1, 2, 3], 5, 0) == [1, 2, 3, 0, 0]
    assert truncate_pad([1, 2, 3], 2, 0) == [1, 2]
    assert truncate_pad([], 2, 9) == [9, 9]
    with pytest.raises(ValueError, match="max_len"):
        truncate_pad([1], 0, 0)


def test_pad_batch():
    ids, lengths = pad_batch([[1, 2, 3], [4], []], pad_id=0)
    np.testing.assert_array_equal(ids, [[1, 2, 3], [4, 0, 0], [0, 0, 0]])
    np.testing.assert_array_equal(lengths, [3, 1, 0])
    ids, lengths = pad_batch([[1, 2, 3], [4]], pad_id=-1, max_len=2)
    np.testing.assert_array_equal(ids, [[1, 2], [4, -1]])
    np.testing.assert_array_equal(lengths, [2, 1])
    ids, lengths = pad_batch([[]], pad_id=0)
    assert ids.shape == (1, 1) and lengths.tolist() == [0]
    with pytest.raises(ValueError):
        pad_batch([], pad_id=0)


@pytest.mark.parametrize("rng", [None, np.random.default_rng(0)])
def test_bucket_batches_cover_every_index_once(rng):
    lengths = np.random.default_rng(1).integers(1, 100, size=1003)
    batches = bucket_batches(lengths, 16, rng=rng, bucket_factor=5)
    everything = np.concatenate(batches)
    assert sorted(everything.tolist()) == list(range(len(lengths)))
    assert all(1 <= len(b) <= 16 for b in batches)


def test_bucket_batches_sorted_without_rng_and_bad_batch_size():
    lengths = [5, 1, 3, 2, 4]
    batches = bucket_batches(lengths, 2)
    assert [list(b) for b in batches] == [[1, 3], [2, 4], [0]]
    with pytest.raises(ValueError, match="batch_size"):
        bucket_batches(lengths, 0)
