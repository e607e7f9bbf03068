"""Arguments checked at the door: the wrong type or value fails at once and names the
argument, what it got and what it accepts."""
import math

import numpy as np
import pytest
import torch

import utils
from utils import batching, checks
from utils.torch.train import predict
from utils.torch.core import clip_gradients


@pytest.mark.parametrize("value, error, words", [
    ("20", TypeError, "batch_size must be an int, got str '20'"),
    (2.0, TypeError, "batch_size must be an int, got float"),
    (True, TypeError, "batch_size must be an int, got bool"),
    (0, ValueError, "batch_size must be at least 1, got 0"),
])
def test_check_int(value, error, words):
    with pytest.raises(error, match=words):
        checks.check_int("batch_size", value, minimum=1)


def test_check_int_accepts_numpy_integers():
    assert checks.check_int("n", np.int64(3), minimum=1) == 3


@pytest.mark.parametrize("value, kwargs, error, words", [
    ("0.25", {}, TypeError, "clip must be a number, got str"),
    (math.nan, {}, ValueError, "finite number"),
    (math.inf, {}, ValueError, "finite number, got inf"),
    (-1.0, {"strictly_above": 0.0}, ValueError, "greater than 0.0, got -1.0"),
    (-1.0, {"minimum": 0.0}, ValueError, "at least 0.0, got -1.0"),
])
def test_check_number(value, kwargs, error, words):
    with pytest.raises(error, match=words):
        checks.check_number("clip", value, **kwargs)


def test_check_number_can_allow_inf():
    assert checks.check_number("max_norm", math.inf, allow_inf=True) == math.inf


def test_check_str():
    with pytest.raises(TypeError, match="mode must be a str, got int 3"):
        checks.check_str("mode", 3)
    with pytest.raises(ValueError, match=r"mode must be one of \('word', 'char'\)"):
        checks.check_str("mode", "sentence", ("word", "char"))


# ---------------------------------------------------------- the public functions


def test_tokenize_checks_its_lines():
    with pytest.raises(TypeError, match="lines must be a str or a sequence of str"):
        utils.tokenize(None)
    with pytest.raises(TypeError, match="lines must hold str, got int 5 at index 1"):
        utils.tokenize(["a b", 5])


def test_vocab_checks_its_tokens():
    with pytest.raises(TypeError, match="tokens must be a list of tokens"):
        utils.Vocab(123)
    with pytest.raises(TypeError, match="min_freq must be an int"):
        utils.Vocab(["a"], min_freq="2")
    with pytest.raises(TypeError, match=r"write \['<pad>'\]"):
        utils.Vocab(["a"], reserved_tokens="<pad>")


@pytest.mark.parametrize("call", [
    lambda: utils.bptt_batchify(list(range(100)), "4"),
    lambda: list(batching.seq_data_iter_sequential(list(range(100)), "2", 5)),
    lambda: list(utils.seq_data_iter_random(list(range(100)), "2", 5)),
    lambda: utils.SeqDataLoader(list(range(100)), "2", 5),
    lambda: utils.bucket_batches([3, 1, 2], "2"),
])
def test_a_string_batch_size_is_named(call):
    with pytest.raises(TypeError, match="batch_size must be an int, got str"):
        call()


def test_batching_checks_steps_and_layouts():
    with pytest.raises(TypeError, match="num_steps must be an int, got str"):
        list(utils.bptt_batches(np.zeros((2, 10)), "5"))
    with pytest.raises(TypeError, match="data must be a 2-D"):
        list(utils.bptt_batches(np.zeros(10), 5))
    with pytest.raises(TypeError, match="corpus must be a flat sequence"):
        utils.SeqDataLoader(None, 2, 5)
    with pytest.raises(TypeError, match="max_len must be an int"):
        batching.truncate_pad([1, 2], "3", 0)


def test_a_negative_clipping_threshold_is_refused():
    param = torch.nn.Parameter(torch.ones(3))
    param.grad = torch.ones(3)
    with pytest.raises(ValueError, match="max_norm must be greater than 0.0, got -1.0"):
        clip_gradients([param], -1)
    assert torch.equal(param.grad, torch.ones(3))  # untouched, not reversed
    with pytest.raises(TypeError, match="max_norm must be a number"):
        clip_gradients([param], "1")


def test_predict_checks_num_preds_and_temperature():
    with pytest.raises(ValueError, match="num_preds must be at least 0, got -1"):
        predict("ab", -1, None, None)
    with pytest.raises(TypeError, match="num_preds must be an int"):
        predict("ab", 2.5, None, None)
    with pytest.raises(ValueError, match="temperature must be at least 0.0"):
        predict("ab", 3, None, None, temperature=-0.5)


def test_train_checks_epochs_and_learning_rate():
    from utils.torch.train import train
    with pytest.raises(ValueError, match="num_epochs must be at least 1, got 0"):
        train(None, [], [1, 2, 3], num_epochs=0, lr=1.0, device="cpu")
    with pytest.raises(ValueError, match="lr must be greater than 0.0"):
        train(None, [], [1, 2, 3], num_epochs=1, lr=0.0, device="cpu")


def test_check_lr_decay_accepts_factors_and_explains_a_divisor():
    assert checks.check_lr_decay("lr_decay", 0.25) == 0.25
    assert checks.check_lr_decay("lr_decay", 1) == 1.0   # no decay
    with pytest.raises(ValueError, match=r"must be in \(0, 1\], got 4; to divide the "
                                         r"rate by 4, write 0.25"):
        checks.check_lr_decay("lr_decay", 4.0)
    with pytest.raises(ValueError, match="greater than 0.0"):
        checks.check_lr_decay("lr_decay", 0.0)
    with pytest.raises(TypeError, match="lr_decay must be a number, got str"):
        checks.check_lr_decay("lr_decay", "0.25")
