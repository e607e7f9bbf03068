"""utils.embeddings: pretrained vectors lined up with a vocabulary."""
import numpy as np
import pytest

import utils
from utils.embeddings import pretrained_matrix


def _vocab():
    return utils.Vocab("the movie was great the movie".split(),
                       reserved_tokens=["<pad>"])


def test_rows_follow_the_vocabulary_and_coverage_is_counted():
    vocab = _vocab()                     # <unk>, <pad>, movie, the, great, was
    words = ["the", "great", "film", "the"]
    vectors = np.arange(8, dtype=np.float32).reshape(4, 2)
    matrix, covered = pretrained_matrix(vocab, words, vectors, missing="zeros")
    assert matrix.shape == (len(vocab), 2) and matrix.dtype == np.float32
    assert covered == 2
    np.testing.assert_array_equal(matrix[vocab["the"]], [0, 1])   # first occurrence
    np.testing.assert_array_equal(matrix[vocab["great"]], [2, 3])
    np.testing.assert_array_equal(matrix[vocab["movie"]], [0, 0])


def test_missing_words_get_seeded_small_random_rows_and_padding_zeros():
    vocab = _vocab()
    pad = vocab["<pad>"]
    first, _ = pretrained_matrix(vocab, ["the"], np.ones((1, 4)), scale=0.1, seed=3,
                                 zero_ids=[pad])
    again, _ = pretrained_matrix(vocab, ["the"], np.ones((1, 4)), scale=0.1, seed=3,
                                 zero_ids=[pad])
    np.testing.assert_array_equal(first, again)
    assert np.all(first[pad] == 0) and np.all(first[vocab["the"]] == 1)
    others = np.delete(first, [pad, vocab["the"]], axis=0)
    assert np.all(np.abs(others) <= 0.1) and np.any(others != 0)


@pytest.mark.parametrize("args, kwargs, error, message", [
    (("not a vocab", ["a"], np.ones((1, 2))), {}, TypeError, "vocab must be a Vocab"),
    ((None, "the", np.ones((3, 2))), {}, TypeError, "vocab must be a Vocab"),
    (("V", "the", np.ones((3, 2))), {}, TypeError, "vocab must be a Vocab"),
    ((_vocab(), "the", np.ones((3, 2))), {}, TypeError, "words must be a list"),
    ((_vocab(), ["a", "b"], np.ones((3, 2))), {}, ValueError, r"\(2, E\), got shape"),
    ((_vocab(), ["a"], np.ones((1, 2))), {"missing": "mean"}, ValueError, "missing"),
    ((_vocab(), ["a"], np.ones((1, 2))), {"scale": -1.0}, ValueError, "scale"),
    ((_vocab(), ["a"], np.ones((1, 2))), {"zero_ids": [99]}, ValueError, "beyond"),
])
def test_arguments_are_checked(args, kwargs, error, message):
    with pytest.raises(error, match=message):
        pretrained_matrix(*args, **kwargs)
