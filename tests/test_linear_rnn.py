"""The linear recurrences of chapter 11: both scans agree, and the models keep the contract."""
from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from utils.torch import linear_rnn as lr  # noqa: E402


def test_the_log_space_scan_computes_the_sequential_recurrence():
    gen = torch.Generator().manual_seed(0)
    a = torch.rand(3, 50, 4, generator=gen)                # in (0, 1)
    b = torch.rand(3, 50, 4, generator=gen) + 0.1          # positive
    h0 = torch.rand(3, 4, generator=gen) + 0.1
    for start in (None, h0):
        expected = lr.scan_sequential(a, b, start)
        log_h0 = None if start is None else start.log()
        got = lr.scan_log_space(a.log(), b.log(), log_h0)
        torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-6)


def test_positive_and_its_log():
    x = torch.linspace(-6, 6, 101)
    assert (lr.positive(x) > 0).all()
    torch.testing.assert_close(lr.log_positive(x), lr.positive(x).log())


def test_mingru_modes_agree_and_the_state_carries_over():
    torch.manual_seed(0)
    model = lr.MinGRULM(20, 16, num_layers=2)
    X = torch.randint(0, 20, (2, 12))
    parallel, state = model(X)
    sequential, _ = model(X, None, "sequential")
    torch.testing.assert_close(parallel, sequential, rtol=1e-4, atol=1e-5)
    first, middle = model(X[:, :5])
    second, _ = model(X[:, 5:], middle)
    torch.testing.assert_close(torch.cat([first, second], 1), parallel, rtol=1e-4,
                               atol=1e-5)
    assert len(state) == 2 and state[0].shape == (2, 16)
    with pytest.raises(ValueError, match="mode"):
        model.recurrent[0](torch.zeros(1, 2, 16), None, "scan")


def test_linear_attention_is_a_recurrence():
    gen = torch.Generator().manual_seed(1)
    Q, K, V = torch.randn(3, 2, 9, 5, generator=gen).unbind(0)
    torch.testing.assert_close(lr.causal_linear_attention(Q, K, V),
                               lr.linear_attention_recurrent(Q, K, V))


def test_causal_transformer_does_not_look_ahead():
    torch.manual_seed(0)
    model = lr.CausalTransformerLM(10, 8, 1, 2, max_len=6).eval()
    X = torch.randint(0, 10, (1, 6))
    changed = X.clone()
    changed[0, -1] = (X[0, -1] + 1) % 10
    with torch.no_grad():
        a, _ = model(X)
        b, _ = model(changed)
    torch.testing.assert_close(a[:, :-1], b[:, :-1])
    with pytest.raises(ValueError, match="max_len"):
        model(torch.zeros(1, 7, dtype=torch.long))


def test_recall_pairs_answers_are_the_queried_values():
    keys, values, answers = lr.recall_pairs(5, 4, 10, 3, torch.Generator().manual_seed(0))
    assert keys.shape == values.shape == (5, 5) and answers.shape == (5,)
    for row in range(5):
        pairs = dict(zip(keys[row, :-1].tolist(), values[row, :-1].tolist()))
        assert len(pairs) == 4                             # distinct keys
        assert pairs[int(keys[row, -1])] == int(answers[row])
        assert int(values[row, -1]) == 3                   # the blank value id
    with pytest.raises(ValueError, match="num_pairs"):
        lr.recall_pairs(2, 5, 4, 3)
    for reader in ("mingru", "attention"):
        assert lr.PairRecall(reader, 10, 3, 8)(keys, values).shape == (5, 3)
