"""Tests of the speed comparison's pieces: the fused loss, the reference, the peaks."""
from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import torch.nn.functional as F  # noqa: E402

from utils.torch import speed  # noqa: E402
from utils.torch.fast import fast_step_loss, linear_cross_entropy  # noqa: E402
from utils.torch.lm import WordLM  # noqa: E402
from utils.torch.rnn import RNNLM, RNNScratch  # noqa: E402
from utils.torch.train import train_epoch  # noqa: E402

V, H, B, T = 50, 8, 3, 5
ROOT = Path(__file__).resolve().parent.parent


def test_linear_cross_entropy_matches_cross_entropy_and_its_gradients():
    gen = torch.Generator().manual_seed(0)
    h = torch.randn(B * T, H, generator=gen, requires_grad=True)
    weight = torch.randn(V, H, generator=gen, requires_grad=True)
    bias = torch.randn(V, generator=gen, requires_grad=True)
    y = torch.randint(0, V, (B * T,), generator=gen)
    fused = linear_cross_entropy(h, weight, bias, y)
    (3.0 * fused).backward()                      # an upstream gradient other than 1
    grads = [t.grad.clone() for t in (h, weight, bias)]
    for t in (h, weight, bias):
        t.grad = None
    plain = F.cross_entropy(F.linear(h, weight, bias), y)
    (3.0 * plain).backward()
    assert math.isclose(fused.item(), plain.item(), rel_tol=1e-6)
    for mine, theirs in zip(grads, (h.grad, weight.grad, bias.grad)):
        torch.testing.assert_close(mine, theirs, rtol=1e-5, atol=1e-6)


def test_linear_cross_entropy_checks_shapes():
    with pytest.raises(ValueError, match="h must be"):
        linear_cross_entropy(torch.zeros(4, 3), torch.zeros(V, 2), torch.zeros(V),
                             torch.zeros(4, dtype=torch.long))
    with pytest.raises(ValueError, match="targets must be"):
        linear_cross_entropy(torch.zeros(4, H), torch.zeros(V, H), torch.zeros(V),
                             torch.zeros(5, dtype=torch.long))


def _windows(seed=0, n=4):
    gen = np.random.default_rng(seed)
    data = gen.integers(0, V, size=(B, n * T + 1))
    return [(data[:, i * T:(i + 1) * T], data[:, i * T + 1:(i + 1) * T + 1])
            for i in range(n)]


def test_train_epoch_with_the_fused_loss_takes_the_same_steps():
    results = []
    for fused in (False, True):
        torch.manual_seed(0)
        model = WordLM(V, H, H, 2, dropout=0.3)
        optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
        stats = train_epoch(model, _windows(), optimizer, "cpu", clip=1.0,
                            step_loss=fast_step_loss(model, fused_loss=fused))
        results.append((stats["train_ppl"], stats["grad_norms"],
                        [p.detach().clone() for p in model.parameters()]))
    (ppl_a, norms_a, params_a), (ppl_b, norms_b, params_b) = results
    assert math.isclose(ppl_a, ppl_b, rel_tol=1e-5)
    np.testing.assert_allclose(norms_a, norms_b, rtol=1e-4)
    for a, b in zip(params_a, params_b):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


def test_the_fused_loss_is_refused_for_a_model_without_features():
    model = RNNLM(RNNScratch(V, H), V)
    with pytest.raises(ValueError, match="fused_loss=True needs"):
        fast_step_loss(model, fused_loss=True)
    with pytest.raises(TypeError, match="fused_loss"):
        fast_step_loss(model, fused_loss="yes")


def test_reference_model_and_its_wordlm_copy_compute_the_same_function():
    torch.manual_seed(0)
    reference = speed.ReferenceLM(V, H, H, 2, dropout=0.2).eval()
    copy = speed.reference_as_wordlm(reference).eval()
    X = torch.randint(0, V, (B, T))
    with torch.no_grad():
        log_probs, (h, c) = reference(X.t())                 # (T * B, V), time first
        logits, (h2, c2) = copy(X)                           # (B, T, V)
    assert log_probs.shape == (T * B, V) and h.shape == (2, B, H)
    expected = F.log_softmax(logits.transpose(0, 1).reshape(-1, V), dim=1)
    torch.testing.assert_close(log_probs, expected, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(h, h2)


def test_reference_train_updates_by_hand_and_counts_tokens():
    torch.manual_seed(0)
    reference = speed.ReferenceLM(V, H, H, 1, dropout=0.0)
    data = torch.randint(0, V, (4 * T + 1, B))                 # (L, B)
    before = [p.detach().clone() for p in reference.parameters()]
    result = speed.reference_train(reference, data, T, lr=1.0, clip=0.25, start=0,
                                   num_batches=4)
    assert result["num_tokens"] == 4 * B * T and result["seconds"] > 0
    assert math.isfinite(result["mean_loss"])
    moved = [(p.detach() - b).norm().item() for p, b in zip(reference.parameters(),
                                                             before)]
    assert sum(moved) > 0


def test_compare_speed_trains_both_paths_on_the_same_tokens():
    rng = np.random.default_rng(0)
    train_ids = rng.integers(0, V, size=B * (20 * T + 2)).tolist()
    valid_ids = rng.integers(0, V, size=400).tolist()
    cfg = speed.SpeedConfig(embed_size=H, num_hiddens=H, batch_size=B, num_steps=T,
                            lr=1.0, num_rounds=2, batches_per_round=3,
                            valid_tokens=200, eval_batch_size=2)
    lines = []
    out = speed.compare_speed(train_ids, valid_ids, V, cfg, log=lines.append)
    assert out["reference"]["num_tokens"] == out["book"]["num_tokens"] == 6 * B * T
    for name in ("reference", "book"):
        assert out[name]["tokens_per_s"] > 0 and len(out[name]["round_tokens_per_s"]) == 2
        assert 1 < out[name]["val_ppl"] < 10 * V
    assert out["speedup_vs_reference"] == pytest.approx(
        out["book"]["tokens_per_s"] / out["reference"]["tokens_per_s"])
    assert len(lines) == 2 and "reference" in lines[0]
    assert len(out["round_speedups"]) == 2
    assert out["median_round_speedup"] in out["round_speedups"]
    with pytest.raises(ValueError, match="fewer than"):
        speed.compare_speed(train_ids[:B * 10], valid_ids, V, cfg)
    with pytest.raises(TypeError, match="cfg must be a SpeedConfig"):
        speed.compare_speed(train_ids, valid_ids, V, {"lr": 1.0})


def test_speed_config_and_options_check_their_fields():
    with pytest.raises(ValueError, match="SpeedConfig.num_rounds"):
        speed.SpeedConfig(num_rounds=0)
    with pytest.raises(ValueError, match="SpeedConfig.dropout"):
        speed.SpeedConfig(dropout=1.0)
    with pytest.raises(ValueError, match="SpeedConfig.valid_tokens"):
        speed.SpeedConfig(valid_tokens=0)
    with pytest.raises(TypeError, match="FastOptions.bf16"):
        speed.FastOptions(bf16=1)
    assert set(speed.SPEED_SETTINGS) == {"quick", "medium", "full"}


def test_peak_flops_says_how_it_was_computed():
    peak = speed.peak_flops("cpu")
    assert set(peak) == {"fp32", "bf16", "how"} and isinstance(peak["how"], str)
    if peak["fp32"] is not None:
        assert peak["fp32"] > 1e9 and "cores" in peak["how"]
        assert peak["bf16"] is None or peak["bf16"] == 2 * peak["fp32"]
    gpu = speed.peak_flops("cuda", gpu_peak=1e15)
    assert gpu["bf16"] == 1e15 and gpu["fp32"] is None
    assert speed.gpu_bf16_peak("NVIDIA H200") == 989.4e12
    assert speed.gpu_bf16_peak("a GPU nobody lists") is None
    assert speed.gemm_flops_per_s(size=64, repeats=1) > 0
    with pytest.raises(ValueError, match="size"):
        speed.gemm_flops_per_s(size=4)


def test_the_speed_script_writes_its_record(tmp_path, monkeypatch, capsys):
    """scripts/speed.py end to end on a tiny synthetic corpus (no data needed)."""
    spec = importlib.util.spec_from_file_location("speed_script",
                                                  ROOT / "scripts" / "speed.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    rng = np.random.default_rng(0)
    corpus = (rng.integers(0, V, size=B * (40 * T + 2)).tolist(),
              rng.integers(0, V, size=400).tolist(), [], list(range(V)))
    monkeypatch.setattr(script.utils, "load_ptb_corpus", lambda: corpus)
    tiny = speed.SpeedConfig(embed_size=H, num_hiddens=H, batch_size=B, num_steps=T,
                             lr=1.0, num_rounds=2, batches_per_round=2,
                             valid_tokens=200, eval_batch_size=2)
    monkeypatch.setitem(speed.SPEED_SETTINGS, "quick", tiny)
    monkeypatch.setattr(speed, "gemm_flops_per_s", lambda device=None: 1e10)
    assert script.main(["--profile", "quick", "--ablation",
                        "--results-dir", str(tmp_path)]) == 0
    record = json.loads((tmp_path / "quick" / "speed.json").read_text())
    metrics = record["metrics"]
    for key in ("speedup_vs_reference", "reference_tokens_per_s", "book_tokens_per_s",
                "reference_val_ppl", "book_val_ppl", "book_gflops",
                "book_gemm_fraction", "speedup_without_fused_loss"):
        assert math.isfinite(metrics[key]) and metrics[key] > 0, key
    assert record["step_profile"] and record["peak_how"]
    # float32 unless asked: the record does not depend on the CPU's bf16 support
    assert record["options"] == {"bf16": False, "fused_loss": True}
    assert record["bf16_used"] is False and "speedup_without_bf16" not in metrics
    assert "speed-up" in capsys.readouterr().out
