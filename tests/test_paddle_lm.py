"""Tests of utils.paddle_lm (skipped when PaddlePaddle is not installed)."""
import math
import warnings
from types import SimpleNamespace

import numpy as np
import pytest

import utils

paddle_lm = pytest.importorskip("utils.paddle_lm")
paddle = paddle_lm.paddle
F = paddle.nn.functional


def tiny_model(**kwargs):
    paddle.seed(0)
    args = dict(vocab_size=50, embed_size=8, num_hiddens=12, num_layers=2, dropout=0.0)
    args.update(kwargs)
    return paddle_lm.RnnLm(**args)


def test_import_paddle_hides_the_ccache_warning():
    from utils.paddle_compat import import_paddle

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert import_paddle() is paddle
    assert not any("ccache" in str(w.message) for w in caught)


def test_rnnlm_shapes():
    model = tiny_model()
    X = paddle_lm.to_tensor(np.zeros((3, 7), dtype=np.int64))
    logits, (h, c) = model(X)
    assert list(logits.shape) == [3, 7, 50]
    assert list(h.shape) == [2, 3, 12] and list(c.shape) == [2, 3, 12]


def test_rnnlm_carries_the_state_across_windows():
    """Two windows with the state carried give the logits of one long window."""
    model = tiny_model()
    model.eval()
    ids = np.random.default_rng(0).integers(0, 50, size=(2, 10))
    whole, _ = model(paddle_lm.to_tensor(ids))
    first, state = model(paddle_lm.to_tensor(ids[:, :4]))
    second, _ = model(paddle_lm.to_tensor(ids[:, 4:]), state)
    joined = np.concatenate([first.numpy(), second.numpy()], axis=1)
    np.testing.assert_allclose(joined, whole.numpy(), rtol=1e-5, atol=1e-6)
    fresh, _ = model(paddle_lm.to_tensor(ids[:, 4:]))
    assert not np.allclose(fresh.numpy(), second.numpy())


def test_loss_for_lm_is_num_steps_times_the_token_mean():
    rng = np.random.default_rng(1)
    logits = paddle.to_tensor(rng.normal(size=(4, 6, 11)).astype(np.float32))
    labels = paddle_lm.to_tensor(rng.integers(0, 11, size=(4, 6)))
    summed = float(paddle_lm.CrossEntropyLossForLm()(logits, labels))
    mean = float(F.cross_entropy(logits, labels.unsqueeze(-1)))
    assert summed == pytest.approx(6 * mean, rel=1e-5)
    # The same number from NumPy: log-softmax, pick the label, mean over B, sum over T.
    x = logits.numpy()
    log_probs = x - np.log(np.exp(x).sum(-1, keepdims=True))
    nll = -np.take_along_axis(log_probs, labels.numpy()[..., None], -1)[..., 0]
    assert summed == pytest.approx(nll.mean(axis=0).sum(), rel=1e-5)


def test_lr_schedule_matches_the_example():
    lrs = [paddle_lm.lr_at_epoch(e, 1.0, 0.8, 6) for e in range(8)]
    assert lrs == pytest.approx([1, 1, 1, 1, 1, 1, 0.8, 0.64])


def test_uniform_weights_zero_biases():
    model = tiny_model()
    paddle_lm.uniform_weights_zero_biases(model, 0.05)
    for name, param in model.named_parameters():
        values = param.numpy()
        if "bias" in name:
            assert not values.any(), name
        else:
            assert np.abs(values).max() <= 0.05 and values.std() > 0.01, name


def test_train_epoch_and_evaluate_run():
    model = tiny_model()
    optimizer, scheduler = paddle_lm.make_sgd(model, 1.0, 0.8, 1, 5.0)
    data = utils.bptt_batchify(np.arange(300) % 50, 4)        # (4, 75)
    seen = []
    nll, tokens_per_s = paddle_lm.train_lm_epoch(
        model, paddle_lm.CrossEntropyLossForLm(), optimizer, data, 5, max_batches=3,
        on_batch=lambda i, loss: seen.append(i))
    assert seen == [0, 1, 2] and math.isfinite(nll) and tokens_per_s > 0
    assert 0 < paddle_lm.evaluate_lm(model, data, 5, max_batches=2) < 10
    scheduler.step()
    assert optimizer.get_lr() == pytest.approx(0.8)


def test_reference_trainer_reduces_the_loss():
    cfg = SimpleNamespace(embed_size=16, num_hiddens=16, num_layers=1, dropout=0.0,
                          batch_size=8, num_steps=10, lr=5.0, clip=1.0, init_scale=0.1)
    ids = np.tile(np.random.default_rng(0).permutation(10), 60)  # a predictable stream
    data = utils.bptt_batchify(ids, cfg.batch_size)               # (8, 75)
    result = paddle_lm.train_reference_lm(data, data, 10, cfg, num_updates=60, seed=0)
    losses = result["train_losses"]
    assert len(losses) == 60                                  # wraps around the stream
    assert np.mean(losses[-10:]) < 0.5 * losses[0]
    assert result["val_ppl"] < 3 and result["tokens_per_s"] > 0
