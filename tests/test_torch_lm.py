"""Tests of utils.torch.lm, of the shared loop (utils.torch.train) on a word model, and of
the PTB corpus helper it is trained on."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

import utils
from utils import datasets, text
from utils.torch import core as torch_core, fast, lm as torch_lm, train as torch_train
from utils.torch.core import as_ids

ROOT = Path(__file__).resolve().parent.parent


def tiny_config(**changes) -> torch_train.TrainConfig:
    """The word chapter's recipe, small: SGD, decay on a plateau, windows of 6."""
    settings = dict(num_epochs=3, lr=1.0, optimizer="sgd", clip=1.0,
                    lr_schedule="plateau", lr_decay=0.25, eval_num_steps=6)
    settings.update(changes)
    return torch_train.TrainConfig(**settings)


def windows(ids, batch_size=4, num_steps=6):
    """A re-iterable training stream and the same stream for validation."""
    data = as_ids(utils.bptt_batchify(ids, batch_size), "cpu")
    return utils.BPTTWindows(data, num_steps), data


def tiny_model(vocab_size=12, size=8, tie=True, dropout=0.0, seed=0):
    torch.manual_seed(seed)
    return torch_lm.WordLM(vocab_size, size, size, num_layers=2, dropout=dropout,
                           tie_weights=tie)


def test_shapes_and_begin_state():
    model = tiny_model()
    X = torch.randint(0, 12, (3, 5))                     # (B, T)
    logits, (h, c) = model(X)
    assert logits.shape == (3, 5, 12)                    # (B, T, V)
    assert h.shape == c.shape == (2, 3, 8)               # (L, B, H)
    zero = model.begin_state(3)
    logits_zero, _ = model(X, zero)
    torch.testing.assert_close(logits, logits_zero)


def test_state_carries_over():
    model = tiny_model().eval()
    X = torch.randint(0, 12, (2, 8))
    whole, _ = model(X)
    first, state = model(X[:, :3])
    second, _ = model(X[:, 3:], state)
    torch.testing.assert_close(torch.cat([first, second], dim=1), whole)


def test_tying_shares_one_parameter():
    tied, untied = tiny_model(tie=True), tiny_model(tie=False)
    assert tied.decoder.weight is tied.embedding.weight
    assert untied.decoder.weight is not untied.embedding.weight
    assert (torch_core.count_parameters(untied) - torch_core.count_parameters(tied)
            == 12 * 8)
    with pytest.raises(ValueError, match="embed_size == num_hiddens"):
        torch_lm.WordLM(12, 8, 16, tie_weights=True)


def test_loss_conventions():
    torch.manual_seed(0)
    logits, Y = torch.randn(4, 7, 10), torch.randint(0, 10, (4, 7))
    mean = torch_lm.lm_loss(logits, Y, "token_mean")
    summed = torch_lm.lm_loss(logits, Y, "sum_steps_mean_batch")
    torch.testing.assert_close(summed, 7 * mean)
    torch.testing.assert_close(mean, torch.nn.functional.cross_entropy(
        logits.reshape(-1, 10), Y.reshape(-1)))
    ppl_mean = torch_lm.loss_to_perplexity(float(mean), "token_mean", 7)
    ppl_sum = torch_lm.loss_to_perplexity(float(summed), "sum_steps_mean_batch", 7)
    assert math.isclose(ppl_mean, ppl_sum, rel_tol=1e-6)
    assert math.isclose(ppl_mean, math.exp(float(mean)), rel_tol=1e-6)
    with pytest.raises(ValueError, match="convention"):
        torch_lm.lm_loss(logits, Y, "mean")


def test_checkpoint_is_atomic_and_round_trips(tmp_path):
    model, other = tiny_model(seed=0), tiny_model(seed=1)
    path = torch_core.save_checkpoint(model, tmp_path / "sub" / "best.pt")
    assert sorted(p.name for p in path.parent.iterdir()) == ["best.pt"]
    torch_core.save_checkpoint(model, path)  # overwriting leaves no temporary file
    assert sorted(p.name for p in path.parent.iterdir()) == ["best.pt"]
    torch_core.load_checkpoint(other, path)
    for a, b in zip(model.state_dict().values(), other.state_dict().values()):
        torch.testing.assert_close(a, b)
    assert other.decoder.weight is other.embedding.weight  # tying survives loading


def test_tiny_model_overfits_tiny_corpus(tmp_path):
    torch.manual_seed(0)
    train_batches, data = windows(np.tile(np.arange(12), 20))   # a repeating pattern
    model = tiny_model(size=16)
    before = torch_train.evaluate(model, data, 6)
    cfg = tiny_config(lr=10.0, clip=5.0, num_epochs=30)
    history = torch_train.fit(model, train_batches, data, cfg, "cpu",
                              checkpoint_path=tmp_path / "lm.pt")
    after = torch_train.evaluate(model, data, 6)
    assert before > 8 and after < 2.0, (before, after)   # 12 words; 1 is perfect
    assert math.isclose(after, min(history["val_ppl"]), rel_tol=1e-5)
    assert history["initial_val_ppl"] == pytest.approx(before)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lm.pt"]


def test_lr_decays_when_validation_stalls():
    ids = np.random.default_rng(0).integers(0, 12, 400)   # noise: nothing to learn
    train_batches, data = windows(ids)
    history = torch_train.fit(tiny_model(), train_batches, data,
                              tiny_config(lr=5.0, num_epochs=6), "cpu")
    rows = list(zip(history["lr"], history["improved"]))
    assert not all(improved for _, improved in rows)      # the decay is exercised
    for (lr, improved), (next_lr, _) in zip(rows, rows[1:]):
        assert next_lr == pytest.approx(lr if improved else lr * 0.25)


def test_the_plain_fast_step_loss_is_the_plain_step_loss():
    """Without bf16 or the fused loss, the fast path computes the very same numbers."""
    X = torch.arange(12).reshape(2, 6) % 12
    Y = (X + 1) % 12
    model = tiny_model()
    plain, _ = torch_train.lm_step_loss(model, X, Y, None)
    fast_plain, _ = fast.fast_step_loss(model)(model, X, Y, None)
    assert torch.equal(plain, fast_plain)


def test_generate_is_deterministic_with_seeded_generator():
    vocab = utils.Vocab("a b c d e f g h i j k".split())
    model = tiny_model(vocab_size=len(vocab))
    runs = [torch_train.generate(model, vocab, "a b", 10, 1.0,
                                 torch.Generator().manual_seed(3)) for _ in range(2)]
    assert runs[0] == runs[1] and len(runs[0]) == 12 and runs[0][:2] == ["a", "b"]
    greedy = torch_train.generate(model, vocab, "a", 5, temperature=0.0)
    assert greedy == torch_train.generate(model, vocab, ["a"], 5, temperature=0.0)
    with pytest.raises(ValueError, match="prompt"):
        torch_train.generate(model, vocab, "  ", 3)


def test_flops_per_token_formula():
    # one layer, E=2, H=3, V=5: 4*(2+3)*3 + 3*5 = 75 multiply-adds
    assert torch_lm.lm_flops_per_token(5, 2, 3, 1, training=False) == 150
    assert torch_lm.lm_flops_per_token(5, 2, 3, 1) == 450
    # a second layer reads H inputs: 4*(3+3)*3 = 72 more multiply-adds
    assert torch_lm.lm_flops_per_token(5, 2, 3, 2, training=False) == 2 * (75 + 72)


def test_autocast_switch():
    with fast.autocast("cpu", True):
        assert torch.is_autocast_enabled("cpu")
    with fast.autocast("cpu", False):
        assert not torch.is_autocast_enabled("cpu")


def test_cpu_autocast_keeps_the_lstm_in_float32():
    # oneDNN has no bf16 LSTM on the CPU: the recurrence stays float32, the decoder
    # runs in bf16, and the result is close to the float32 forward pass.
    model = tiny_model().eval()
    X = torch.arange(12).reshape(2, 6) % 12
    with torch.no_grad():
        reference, _ = model(X)
        with fast.autocast("cpu", True):
            logits, (h, c) = model(X)
    assert logits.dtype == torch.bfloat16 and h.dtype == torch.float32
    assert torch.allclose(logits.float(), reference, atol=0.05, rtol=0.05)
    native = torch.ops.mkldnn._is_mkldnn_bf16_supported()
    assert fast.bf16_autocast_works(model, "cpu") == native


def test_fast_path_flags_fall_back_on_cpu():
    model = tiny_model()
    works = fast.bf16_autocast_works(model, "cpu")
    assert isinstance(works, bool) and model.training
    assert all(p.grad is None for p in model.parameters())
    train_batches, data = windows(np.arange(120) % 12)
    optimizer = torch_train.make_optimizer(model, tiny_config(fused_optimizer=True), "cpu")
    assert not optimizer.defaults["fused"]     # fused SGD is for CUDA only
    stats = torch_train.train_epoch(model, train_batches, optimizer, "cpu",
                                    step_loss=fast.fast_step_loss(model, bf16=works),
                                    max_batches=2)
    assert stats["num_tokens"] == 2 * 4 * 6 and math.isfinite(stats["train_ppl"])
    lines = []
    torch_train.fit(model, train_batches, data, tiny_config(bf16=True, num_epochs=1),
                    "cpu", log=lines.append)
    assert len(lines) == 2      # the precision chosen, then one line for the epoch
    assert lines[0] == ("precision: bf16 autocast, native on this device" if works
                        else "precision: float32 (bf16 is not native on this device, "
                        "or this model cannot run under it)")


def test_tokenize_with_eos_ends_every_line():
    lines = ["a b", "b c"]
    assert text.tokenize_with_eos(lines) == ["a", "b", "<eos>", "b", "c", "<eos>"]


def test_ptb_corpus_has_eos_and_train_vocab():
    from utils.datasets import COMPLETE_MARKER, cache_dir
    if not (cache_dir() / "ptb" / COMPLETE_MARKER).exists():
        pytest.skip(f"Penn Treebank is not in the cache {cache_dir()}: nothing to check "
                    f"without downloading it")
    train_ids, valid_ids, test_ids, vocab = utils.load_ptb_corpus()
    assert len(vocab) == 10_000 and vocab.to_tokens([0, 1]) == ["<unk>", "<eos>"]
    assert len(train_ids) == 929_589 and len(valid_ids) == 73_760
    assert len(test_ids) == 82_430
    assert valid_ids.count(1) == len(datasets.read_ptb("valid"))


def test_train_config_refuses_a_divisor_given_as_lr_decay():
    with pytest.raises(ValueError, match="TrainConfig.lr_decay multiplies the learning"):
        tiny_config(lr_decay=4.0)
