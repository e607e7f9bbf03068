"""Tests of utils.paddle.lm (skipped when PaddlePaddle is not installed)."""
import math
import json
import warnings
from types import SimpleNamespace

import numpy as np
import pytest

import utils
from utils.lm_compare import reference_weights

paddle_lm = pytest.importorskip("utils.paddle.lm")
to_tensor = pytest.importorskip("utils.paddle.core").to_tensor
paddle = paddle_lm.paddle
F = paddle.nn.functional


def tiny_model(**kwargs):
    paddle.seed(0)
    args = dict(vocab_size=50, embed_size=8, num_hiddens=12, num_layers=2, dropout=0.0)
    args.update(kwargs)
    return paddle_lm.RnnLm(**args)


def test_mkl_avx2_override_only_on_amd_with_avx2(tmp_path):
    from utils.paddle import wants_mkl_avx2_override

    def cpuinfo(vendor, flags):
        path = tmp_path / f"{vendor}-{len(flags)}"
        path.write_text(f"processor\t: 0\nvendor_id\t: {vendor}\n"
                        f"flags\t\t: {' '.join(flags)}\n\nprocessor\t: 1\n")
        return str(path)

    assert wants_mkl_avx2_override(cpuinfo("AuthenticAMD", ["sse2", "avx", "avx2"]))
    assert not wants_mkl_avx2_override(cpuinfo("AuthenticAMD", ["sse2", "avx"]))
    assert not wants_mkl_avx2_override(cpuinfo("GenuineIntel", ["sse2", "avx2"]))
    assert not wants_mkl_avx2_override(str(tmp_path / "missing"))


def test_import_paddle_hides_the_ccache_warning():
    from utils.paddle import import_paddle

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert import_paddle() is paddle
    assert not any("ccache" in str(w.message) for w in caught)


def test_import_paddle_leaves_the_environment_as_it_was():
    """``import paddle`` writes OMP_NUM_THREADS=1 and CUSTOM_DEVICE_ROOT; import_paddle
    puts them back, so a kernel or worker started afterwards does not inherit them.
    Only MKL_DEBUG_CPU_TYPE may stay (MKL reads it at its first product)."""
    import os
    import subprocess
    import sys

    code = ("import json, os; before = dict(os.environ); "
            "from utils.paddle import import_paddle; import_paddle(); "
            "print(json.dumps(sorted(k for k in set(before) | set(os.environ) "
            "if before.get(k) != os.environ.get(k))))")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {k: v for k, v in os.environ.items()
           if k not in ("OMP_NUM_THREADS", "CUSTOM_DEVICE_ROOT", "MKL_DEBUG_CPU_TYPE")}
    env["PYTHONPATH"] = root
    done = subprocess.run([sys.executable, "-c", code], env=env, cwd=root,
                          capture_output=True, text=True, check=True)
    changed = set(json.loads(done.stdout.splitlines()[-1]))
    assert changed <= {"MKL_DEBUG_CPU_TYPE"}, changed


def test_rnnlm_shapes():
    model = tiny_model()
    X = to_tensor(np.zeros((3, 7), dtype=np.int64))
    logits, (h, c) = model(X)
    assert list(logits.shape) == [3, 7, 50]
    assert list(h.shape) == [2, 3, 12] and list(c.shape) == [2, 3, 12]


def test_rnnlm_carries_the_state_across_windows():
    """Two windows with the state carried give the logits of one long window."""
    model = tiny_model()
    model.eval()
    ids = np.random.default_rng(0).integers(0, 50, size=(2, 10))
    whole, _ = model(to_tensor(ids))
    first, state = model(to_tensor(ids[:, :4]))
    second, _ = model(to_tensor(ids[:, 4:]), state)
    joined = np.concatenate([first.numpy(), second.numpy()], axis=1)
    np.testing.assert_allclose(joined, whole.numpy(), rtol=1e-5, atol=1e-6)
    fresh, _ = model(to_tensor(ids[:, 4:]))
    assert not np.allclose(fresh.numpy(), second.numpy())


def test_loss_for_lm_is_num_steps_times_the_token_mean():
    rng = np.random.default_rng(1)
    logits = paddle.to_tensor(rng.normal(size=(4, 6, 11)).astype(np.float32))
    labels = to_tensor(rng.integers(0, 11, size=(4, 6)))
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


def test_load_reference_weights_transposes_the_decoder_and_zeros_biases():
    model = tiny_model()
    cfg = SimpleNamespace(embed_size=model.embedding.weight.shape[1],
                          num_hiddens=model.num_hiddens, num_layers=model.num_layers,
                          init_scale=0.05)
    vocab_size = model.embedding.weight.shape[0]
    weights = reference_weights(cfg, vocab_size, seed=0)
    paddle_lm.load_reference_weights(model, weights)
    params = {name: param.numpy() for name, param in model.named_parameters()}
    np.testing.assert_array_equal(params["embedding.weight"], weights["embedding"])
    np.testing.assert_array_equal(params["lstm.weight_ih_l0"], weights["lstm.l0.w_ih"])
    np.testing.assert_array_equal(params["decoder.weight"], weights["decoder.weight"].T)
    assert not any(values.any() for name, values in params.items() if "bias" in name)
    with pytest.raises(ValueError, match="reference_weights"):
        paddle_lm.load_reference_weights(
            model, reference_weights(cfg, vocab_size + 1, seed=0))


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
    result = paddle_lm.train_reference_lm(data, data, 10, cfg, num_updates=60, seed=0,
                                          weights=reference_weights(cfg, 10, 0))
    losses = result["train_losses"]
    assert len(losses) == 60                                  # wraps around the stream
    assert np.mean(losses[-10:]) < 0.5 * losses[0]
    assert result["val_ppl"] < 3 and result["tokens_per_s"] > 0
