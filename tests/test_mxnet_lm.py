"""Tests of utils.mxnet and utils.mxnet.lm, skipped where MXNet cannot import."""
import math
from types import SimpleNamespace

import numpy as np
import pytest

from utils.mxnet import import_mxnet

try:
    mx, nlp = import_mxnet()
except ImportError as err:  # pragma: no cover - depends on the environment
    pytest.skip(f"MXNet/GluonNLP not importable: {err}", allow_module_level=True)

from mxnet import gluon  # noqa: E402

from utils import bptt_batchify  # noqa: E402
from utils.lm_compare import reference_weights  # noqa: E402
from utils.mxnet.lm import (ReferenceLM, detach, epoch_batches, evaluate,  # noqa: E402
                            load_reference_weights, save_parameters_atomic,
                            token_nll, train_reference_lm, train_step)

V, E, H, L, B, T = 13, 8, 16, 2, 3, 5


def tiny_cfg(**changes):
    cfg = dict(embed_size=E, num_hiddens=H, num_layers=L, dropout=0.0, batch_size=B,
               num_steps=T, lr=1.0, clip=1.0, init_scale=0.1)
    cfg.update(changes)
    return SimpleNamespace(**cfg)


def make_model(seed=0):
    model = ReferenceLM(V, E, H, L, dropout=0.0)
    load_reference_weights(model, reference_weights(tiny_cfg(), V, seed))
    return model


def test_load_reference_weights_places_every_array_and_zeros_biases():
    weights = reference_weights(tiny_cfg(), V, seed=3)
    model = ReferenceLM(V, E, H, L, dropout=0.0)
    load_reference_weights(model, weights)
    params = {name[len(model.prefix):]: p.data().asnumpy()
              for name, p in model.collect_params().items()}
    np.testing.assert_array_equal(params["embedding0_weight"], weights["embedding"])
    np.testing.assert_array_equal(params["dense0_weight"], weights["decoder.weight"])
    np.testing.assert_array_equal(params["lstm0_l1_h2h_weight"], weights["lstm.l1.w_hh"])
    assert not any(values.any() for name, values in params.items()
                   if name.endswith("bias"))
    with pytest.raises(ValueError, match="reference_weights"):
        load_reference_weights(model, reference_weights(tiny_cfg(), V + 1, seed=3))


def test_import_mxnet_returns_modules_with_the_shim():
    assert mx.__version__.startswith("1.") and hasattr(nlp, "Vocab")
    # NumPy 1.24-1.26 lack np.bool and get the builtin back; NumPy 2 has its own
    # np.bool again (the boolean scalar type), which the shim leaves alone.
    assert np.bool is (bool if np.__version__.startswith("1.") else np.bool_)
    assert np.PZERO == 0.0 or np.__version__.startswith("1.")


def test_reference_lm_shapes_and_state():
    model = make_model()
    X = mx.nd.array(np.arange(B * T).reshape(B, T) % V)
    logits, state = model(X)
    assert logits.shape == (B, T, V)
    assert [s.shape for s in state] == [(L, B, H), (L, B, H)]
    logits2, _ = model(X, state)  # a given state is used, not reset
    assert not np.allclose(logits.asnumpy(), logits2.asnumpy())


def test_init_is_uniform_and_biases_are_zero():
    model = make_model()
    for name, param in model.collect_params().items():
        data = param.data().asnumpy()
        if name.endswith("bias"):
            assert not data.any(), name
        else:
            assert np.abs(data).max() <= 0.1 and data.std() > 0.02, name


def test_detach_cuts_the_graph():
    from mxnet import autograd
    x = mx.nd.ones((2,))
    x.attach_grad()
    with autograd.record():
        y = x * 3
        state = detach([y, (y * 2,)])
        z = (state[0] + state[1][0]).sum() + x.sum()
    z.backward()
    assert np.allclose(x.grad.asnumpy(), 1.0)  # only the direct path carries gradient
    assert isinstance(state[1], list)


def test_token_nll_of_uniform_logits_is_log_vocab():
    output = mx.nd.zeros((T, B, V))
    target = mx.nd.ones((T, B))
    assert np.allclose(token_nll(output, target).asnumpy(), math.log(V), atol=1e-5)


def test_train_step_clips_and_lowers_the_loss_on_one_batch():
    model = make_model()
    trainer = gluon.Trainer(model.collect_params(), "sgd", {"learning_rate": 1.0})
    rng = np.random.default_rng(0)
    X = mx.nd.array(rng.integers(0, V, (B, T)))
    Y = mx.nd.array(rng.integers(0, V, (B, T)))
    first, _, norm = train_step(model, trainer, X, Y, model.begin_state(B), clip=0.5)
    for _ in range(20):
        loss, _, _ = train_step(model, trainer, X, Y, model.begin_state(B), clip=0.5)
    assert norm > 0 and float(loss.asscalar()) < float(first.asscalar())


def test_reference_trainer_learns_a_repeating_corpus():
    ids = np.tile(np.arange(V), 40)                  # 0 1 2 ... 12 0 1 2 ...
    train, valid = bptt_batchify(ids, B), bptt_batchify(ids[:200], 2)
    # A larger init than the book's 0.1 lets so small a model learn within 60 updates.
    cfg = tiny_cfg(lr=2.0, clip=5.0, init_scale=0.5)
    result = train_reference_lm(train, valid, V, cfg, num_updates=60, seed=0,
                                weights=reference_weights(cfg, V, 0))
    losses = result["train_losses"]
    assert len(losses) == 60 and result["tokens_per_s"] > 0
    assert np.mean(losses[-5:]) < 0.3 * np.mean(losses[:5])   # measured: 0.14
    assert result["val_ppl"] < 3.0        # measured 1.36; guessing uniformly gives 13


def test_reference_trainer_is_reproducible_and_checks_batch_size():
    ids = np.arange(300) % V
    train, valid = bptt_batchify(ids, B), bptt_batchify(ids, 2)
    cfg = tiny_cfg(dropout=0.2)
    runs = [train_reference_lm(train, valid, V, cfg, 5, seed=1,
                               weights=reference_weights(cfg, V, 1))
            for _ in range(2)]
    assert runs[0]["train_losses"] == runs[1]["train_losses"]
    with pytest.raises(ValueError, match="batch_size"):
        train_reference_lm(train, valid, V, tiny_cfg(batch_size=B + 1), 1, seed=0,
                           weights=reference_weights(cfg, V, 0))


def test_evaluate_is_mean_nll_and_bounds_batches():
    model = make_model()
    windows = [(mx.nd.zeros((T, B)), mx.nd.ones((T, B)))] * 3
    state = model.begin_state(T)  # layout NTC: rows are the batch (here T rows)
    nll = evaluate(model, windows, state, max_batches=2)
    assert 0 < nll < 2 * math.log(V)
    with pytest.raises(ValueError, match="no batches"):
        evaluate(model, [], state)


def test_epoch_batches_slices_and_wraps():
    data = list(range(10))
    assert epoch_batches(data, 0, None) == data
    assert epoch_batches(data, 1, 4) == [4, 5, 6, 7]
    assert epoch_batches(data, 2, 4) == [8, 9, 0, 1]
    with pytest.raises(ValueError, match="batches_per_epoch"):
        epoch_batches(data, 0, 0)


def test_save_parameters_atomic_round_trips(tmp_path):
    model = make_model(seed=0)
    path = save_parameters_atomic(model, tmp_path / "sub" / "lm.params")
    assert path.is_file() and [p.name for p in path.parent.iterdir()] == ["lm.params"]
    other = make_model(seed=1)
    other.load_parameters(str(path))
    for (_, a), (_, b) in zip(model.collect_params().items(),
                              other.collect_params().items()):
        assert np.array_equal(a.data().asnumpy(), b.data().asnumpy())


def test_standard_lstm_lm_200_output_shapes():
    vocab = nlp.Vocab(nlp.data.count_tokens("a b c a b a".split()),
                      padding_token=None, bos_token=None)
    model, _ = nlp.model.get_model("standard_lstm_lm_200", vocab=vocab,
                                   dataset_name=None, pretrained=False)
    model.initialize(mx.init.Xavier())
    state = model.begin_state(batch_size=B, func=mx.nd.zeros)
    output, state = model(mx.nd.zeros((T, B)), state)    # time-major (T, B)
    assert output.shape == (T, B, len(vocab))
    assert [s.shape for s in state] == [(2, B, 200), (2, B, 200)]


def test_split_windows_score_every_token_but_the_first_of_each_row():
    from utils.mxnet.lm import split_windows

    ids = np.arange(43) % V                  # 43 tokens, 3 rows of 14, 1 left over
    windows = split_windows(ids, batch_size=3, num_steps=5)
    assert [X.shape for X, _ in windows] == [(5, 3), (5, 3), (3, 3)]  # (T, B), last short
    rows = ids[:42].reshape(3, 14)
    X = np.concatenate([x.asnumpy() for x, _ in windows]).T.astype(int)
    Y = np.concatenate([y.asnumpy() for _, y in windows]).T.astype(int)
    np.testing.assert_array_equal(X, rows[:, :-1])
    np.testing.assert_array_equal(Y, rows[:, 1:])  # every token but each row's first


def test_select_device_is_the_cpu_without_a_gpu():
    from utils.mxnet.core import select_device
    expected = mx.gpu(0) if mx.context.num_gpus() > 0 else mx.cpu()
    assert select_device() == expected


def test_import_mxnet_uses_every_usable_core_unless_told_otherwise():
    """MXNet's OpenMP pool gets every usable core (read from libgomp, which MXNet
    links), and the process environment is left as it was: a leaked
    OMP_NUM_THREADS would reach every process started afterwards."""
    import os
    import subprocess
    import sys

    from utils.runs import usable_cores

    code = ("import ctypes, os; from utils.mxnet import import_mxnet; "
            "import_mxnet(); "
            "print(ctypes.CDLL('libgomp.so.1').omp_get_max_threads(), "
            "os.environ.get('OMP_NUM_THREADS', 'unset'))")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
    env["PYTHONPATH"] = root
    unset = subprocess.run([sys.executable, "-c", code], env=env, cwd=root,
                           capture_output=True, text=True, check=True)
    assert unset.stdout.split()[-2:] == [str(usable_cores()), "unset"]
    told = subprocess.run([sys.executable, "-c", code],
                          env={**env, "OMP_NUM_THREADS": "1"}, cwd=root,
                          capture_output=True, text=True, check=True)
    assert told.stdout.split()[-2:] == ["1", "1"]
