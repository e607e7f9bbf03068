"""Tests of utils.lm_compare: the shared configuration, the shared batches, the CLI."""
import dataclasses
import importlib.util
import math

import numpy as np
import pytest

from utils import lm_compare
from utils.datasets import COMPLETE_MARKER

WORDS = [f"w{i}" for i in range(30)]
TINY = dict(embed_size=8, num_hiddens=8, num_layers=2, dropout=0.0, batch_size=4,
            num_steps=5, lr=1.0, clip=0.25, init_scale=0.1, valid_tokens=200)


def write_tiny_ptb(cache, num_lines=(200, 40, 40)):
    """A fake Penn Treebank cache: random lines over 30 words (every word in train)."""
    rng = np.random.default_rng(0)
    folder = cache / "ptb"
    folder.mkdir(parents=True)
    for split, count in zip(("train", "valid", "test"), num_lines):
        lines = [" ".join(rng.choice(WORDS, size=8)) for _ in range(count)]
        if split == "train":
            lines.append(" ".join(WORDS))
        (folder / f"ptb.{split}.txt").write_text("\n".join(lines) + "\n")
    (folder / COMPLETE_MARKER).write_text("")  # unpacked and whole
    return cache


def test_reference_config_is_shared_and_frozen():
    cfg = lm_compare.ReferenceLMConfig()
    assert (cfg.embed_size, cfg.num_hiddens, cfg.num_layers) == (200, 200, 2)
    assert (cfg.batch_size, cfg.num_steps, cfg.dropout, cfg.init_scale) == (
        20, 35, 0.2, 0.1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        cfg.lr = 1.0


def test_reference_data_shapes(tmp_path):
    cfg = lm_compare.ReferenceLMConfig(**TINY)
    train_data, valid_data, vocab_size = lm_compare.reference_data(
        cfg, cache=write_tiny_ptb(tmp_path))
    assert vocab_size == len(WORDS) + 2                       # + <unk>, <eos>
    assert train_data.shape[0] == valid_data.shape[0] == cfg.batch_size
    assert valid_data.size <= cfg.valid_tokens


def test_unknown_framework_is_refused():
    with pytest.raises(ValueError, match="framework must be one of"):
        lm_compare.run_framework("jax", lm_compare.ReferenceLMConfig(), 1, 0,
                                 data=(None, None, 0))


def test_reference_weights_are_seeded_float32_in_the_documented_shapes():
    cfg = lm_compare.ReferenceLMConfig(**TINY)
    weights = lm_compare.reference_weights(cfg, 30, seed=0)
    assert {name: w.shape for name, w in weights.items()} == {
        "embedding": (30, 8), "lstm.l0.w_ih": (32, 8), "lstm.l0.w_hh": (32, 8),
        "lstm.l1.w_ih": (32, 8), "lstm.l1.w_hh": (32, 8), "decoder.weight": (30, 8)}
    assert all(w.dtype == np.float32 and np.abs(w).max() <= cfg.init_scale
               for w in weights.values())
    again = lm_compare.reference_weights(cfg, 30, seed=0)
    assert all(np.array_equal(weights[n], again[n]) for n in weights)
    assert not np.array_equal(weights["embedding"],
                              lm_compare.reference_weights(cfg, 30, 1)["embedding"])


def test_checked_weights_names_the_problem():
    cfg = lm_compare.ReferenceLMConfig(**TINY)
    weights = lm_compare.reference_weights(cfg, 30, seed=0)
    shapes = lm_compare.reference_weight_shapes(cfg, 30)
    assert lm_compare.checked_weights(weights, shapes) is weights
    with pytest.raises(ValueError, match="decoder.weight"):
        lm_compare.checked_weights(weights, dict(shapes, **{"decoder.weight": (31, 8)}))
    with pytest.raises(ValueError, match="the model has"):
        lm_compare.checked_weights(weights, {"embedding": (30, 8)})


def test_run_in_subprocess_wants_runs():
    with pytest.raises(ValueError, match="lm_compare.Run"):
        lm_compare.run_in_subprocess("torch", [])


def available(framework):
    package = lm_compare.REFERENCE_MODULES[framework][1]
    return importlib.util.find_spec(package) is not None


@pytest.mark.parametrize("framework", ["mxnet", "paddle"])
def test_batches_are_the_same_arrays_in_every_framework(framework, monkeypatch):
    """Every trainer walks the same NumPy windows as the PyTorch one, in order."""
    if not (available("torch") and available(framework)):
        pytest.skip(f"needs torch and {framework}")
    cfg = lm_compare.ReferenceLMConfig(**TINY)
    ids = np.random.default_rng(1).integers(0, 12, size=400)
    train_data = lm_compare.bptt_batchify(ids, cfg.batch_size)
    valid_data = train_data[:, :30]

    def windows_seen(name):
        module = lm_compare._trainer_module(name)
        seen, original = [], module.bptt_batches

        def recording(data, num_steps):
            for X, Y in original(data, num_steps):
                seen.append((np.asarray(X).copy(), np.asarray(Y).copy()))
                yield X, Y

        monkeypatch.setattr(module, "bptt_batches", recording)
        module.train_reference_lm(train_data, valid_data, 12, cfg, 3, 0,
                                  lm_compare.reference_weights(cfg, 12, 0))
        return seen[:3]                      # the training windows come first

    for (X1, Y1), (X2, Y2) in zip(windows_seen("torch"), windows_seen(framework)):
        np.testing.assert_array_equal(X1, X2)
        np.testing.assert_array_equal(Y1, Y2)


@pytest.mark.skipif(not available("torch"), reason="needs torch")
def test_cli_trains_torch_on_a_tiny_corpus(tmp_path, monkeypatch):
    monkeypatch.setenv("SEQBOOK_DATA", str(write_tiny_ptb(tmp_path)))
    results = lm_compare.run_in_subprocess(
        "torch", [lm_compare.Run(3, seed=0, dropout=0.0), lm_compare.Run(2, seed=1)])
    result, other = results
    assert (other["num_updates"], other["seed"]) == (2, 1)
    assert other["config"]["dropout"] == lm_compare.ReferenceLMConfig().dropout
    assert other["data_sha1"] == result["data_sha1"]
    assert other["weights_sha1"] != result["weights_sha1"]      # seed 1 draws others
    assert result["framework"] == "torch" and result["num_updates"] == 3
    assert len(result["train_losses"]) == 3
    assert result["config"]["dropout"] == 0.0
    # The untrained model is near uniform over the 32 words: its first loss is ln 32.
    assert result["train_losses"][0] == pytest.approx(math.log(32), abs=0.05)
    assert math.isfinite(result["val_ppl"])
    assert result["tokens_per_s"] > 0


@pytest.mark.skipif(not all(available(fw) for fw in lm_compare.REFERENCE_MODULES),
                    reason="needs torch, mxnet and paddle")
def test_the_three_trainers_compute_the_same_function():
    """Same weights, no dropout: the first losses agree to float32 rounding.

    The loss of update 0 is the initial model's; later ones follow SGD steps with
    clipping, so a difference of recipe (gate order, a transposed weight, the loss's
    reduction, the clipping, the learning rate, the carried state) would show within
    a few updates, far above rounding.
    """
    # A larger scale and step than the book's make the model move within 6 updates:
    # swapping two gates' rows in one framework then changes the losses by 3e-3.
    cfg = lm_compare.ReferenceLMConfig(**dict(TINY, num_hiddens=16, embed_size=12,
                                              init_scale=0.5, lr=5.0, clip=0.5))
    ids = np.tile(np.random.default_rng(2).permutation(40), 50)
    train_data = lm_compare.bptt_batchify(ids, cfg.batch_size)
    valid_data = train_data[:, :40]
    weights = lm_compare.reference_weights(cfg, 40, seed=5)
    losses = {}
    for framework in lm_compare.REFERENCE_MODULES:
        module = lm_compare._trainer_module(framework)
        result = module.train_reference_lm(train_data, valid_data, 40, cfg, 6, 0, weights)
        losses[framework] = np.array(result["train_losses"])
    assert np.ptp(losses["torch"]) > 0.1          # the weights moved: losses changed
    for framework in ("mxnet", "paddle"):
        np.testing.assert_allclose(losses[framework], losses["torch"], rtol=1e-5)


def test_fingerprint_sees_one_changed_element_and_checks_its_arguments():
    a, b = np.arange(12, dtype=np.int64).reshape(3, 4), np.ones(5, dtype=np.float32)
    assert lm_compare.fingerprint(a, b) == lm_compare.fingerprint(a.copy(), b.copy())
    assert lm_compare.fingerprint(a, b) != lm_compare.fingerprint(b, a)
    changed = a.copy()
    changed[2, 3] += 1
    assert lm_compare.fingerprint(changed, b) != lm_compare.fingerprint(a, b)
    # a transposed view holds the same numbers in another order: another fingerprint
    assert lm_compare.fingerprint(a.T) != lm_compare.fingerprint(a)
    with pytest.raises(TypeError, match="NumPy arrays"):
        lm_compare.fingerprint([1, 2, 3])
    with pytest.raises(TypeError, match="NumPy arrays"):
        lm_compare.fingerprint()


def test_every_framework_of_the_book_has_a_reference_module():
    from utils.runs import FRAMEWORKS
    assert tuple(lm_compare.REFERENCE_MODULES) == FRAMEWORKS
