"""Tests of utils.text: tokenize, Vocab, corpus loading and splitting."""
import pytest

from utils.text import (Vocab, clean_time_machine, count_corpus, flatten,
                        load_corpus_time_machine, split_corpus, time_machine_splits,
                        tokenize)

TEXT = "The Time Machine, by H. G. Wells!\n\nThe time traveller -- 1898."


def test_clean_keeps_lowercase_letters_and_single_spaces():
    cleaned = clean_time_machine(TEXT)
    assert cleaned == "the time machine by h g wells the time traveller"
    assert set(cleaned) <= set("abcdefghijklmnopqrstuvwxyz ")


def test_tokenize_modes():
    assert tokenize("a bc  d", "word") == [["a", "bc", "d"]]
    assert tokenize(["ab", "c d"], "char") == [["a", "b"], ["c", " ", "d"]]
    assert tokenize(["x y", ""], "word") == [["x", "y"], []]


def test_tokenize_bad_mode_raises():
    with pytest.raises(ValueError, match="mode"):
        tokenize("abc", "sentence")


def test_flatten_and_count():
    assert flatten([["a", "b"], ["c"]]) == ["a", "b", "c"]
    assert flatten(["a", "b"]) == ["a", "b"]
    assert count_corpus([["a", "b"], ["a"]]) == {"a": 2, "b": 1}


def test_vocab_round_trip_and_unk():
    tokens = "the cat sat on the mat the end".split()
    vocab = Vocab(tokens)
    ids = vocab[tokens]
    assert vocab.to_tokens(ids) == tokens
    assert vocab["dog"] == vocab.unk == 0
    assert vocab.to_tokens(vocab[["dog", "cat"]]) == ["<unk>", "cat"]
    assert vocab[("the", "cat")] == [vocab["the"], vocab["cat"]]
    assert "cat" in vocab and "dog" not in vocab
    assert len(vocab) == len(set(tokens)) + 1


def test_vocab_order_frequency_then_alphabetical():
    vocab = Vocab(list("bbcaad"))  # a:2 b:2 c:1 d:1
    assert vocab.idx_to_token == ["<unk>", "a", "b", "c", "d"]
    assert vocab.token_freqs == [("a", 2), ("b", 2), ("c", 1), ("d", 1)]
    # Ties do not depend on the order of the text.
    assert Vocab(list("daacbb")).idx_to_token == vocab.idx_to_token


def test_vocab_min_freq():
    vocab = Vocab(list("aaabbc"), min_freq=2)
    assert vocab.idx_to_token == ["<unk>", "a", "b"]
    assert vocab["c"] == 0
    assert ("c", 1) in vocab.token_freqs  # counted, but not given an id
    with pytest.raises(ValueError, match="min_freq"):
        Vocab(["a"], min_freq=0)


def test_vocab_reserved_tokens_come_right_after_unk():
    vocab = Vocab(list("abba"), reserved_tokens=["<pad>", "<eos>", "<pad>"])
    assert vocab.idx_to_token == ["<unk>", "<pad>", "<eos>", "a", "b"]
    assert vocab["<pad>"] == 1 and vocab["<eos>"] == 2
    # A reserved token that also occurs in the text keeps its reserved id only once.
    vocab = Vocab(["<eos>", "x", "<eos>"], reserved_tokens=["<eos>"])
    assert vocab.idx_to_token == ["<unk>", "<eos>", "x"]


def test_vocab_to_tokens_accepts_arrays():
    np = pytest.importorskip("numpy")
    vocab = Vocab(list("abc"))
    assert vocab.to_tokens(np.array([1, 2])) == ["a", "b"]
    assert vocab.to_tokens(np.int64(3)) == "c"


def test_load_corpus_from_text():
    corpus, vocab = load_corpus_time_machine("char", text="ab ba")
    assert vocab.to_tokens(corpus) == list("ab ba")
    corpus, vocab = load_corpus_time_machine("word", text="A b, a!", max_tokens=2)
    assert vocab.to_tokens(corpus) == ["a", "b"]


def test_split_corpus():
    head, tail = split_corpus(list(range(100)), 0.1)
    assert head == list(range(90)) and tail == list(range(90, 100))
    for bad in (0.0, 1.0, -0.5, 1.5):
        with pytest.raises(ValueError, match="valid_fraction"):
            split_corpus(list(range(10)), bad)
    with pytest.raises(ValueError, match="too short"):
        split_corpus([1], 0.1)
    with pytest.raises(ValueError, match="too short"):
        split_corpus([], 0.5)


def test_time_machine_splits_matches_whole_corpus():
    pytest.importorskip("numpy")
    try:
        corpus, vocab = load_corpus_time_machine("char")
    except Exception as err:  # the dataset is not in the cache and there is no network
        pytest.skip(f"The Time Machine is not available: {err}")
    train_ids, valid_ids, split_vocab = time_machine_splits("char")
    assert train_ids + valid_ids == corpus
    assert split_vocab.idx_to_token == vocab.idx_to_token
    assert len(valid_ids) == len(corpus) - round(0.9 * len(corpus))


def test_vocab_max_size_keeps_the_most_frequent():
    vocab = Vocab(list("aaabbc") + ["d"], reserved_tokens=["<pad>"], max_size=4)
    assert vocab.idx_to_token == ["<unk>", "<pad>", "a", "b"]
    assert vocab["c"] == vocab.unk and len(vocab) == 4
    assert len(Vocab(list("ab"), max_size=10)) == 3      # a cap above the size: no-op


@pytest.mark.parametrize("max_size, error", [(1.5, TypeError), (True, TypeError),
                                             (1, ValueError)])
def test_vocab_max_size_is_checked(max_size, error):
    with pytest.raises(error, match="max_size"):
        Vocab(list("ab"), reserved_tokens=["<pad>"], max_size=max_size)
