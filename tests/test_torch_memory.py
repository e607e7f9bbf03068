"""The recall task, the equal-size models, the loop and the gradient probe."""
from __future__ import annotations

from dataclasses import dataclass

import pytest
import torch

from utils.torch.core import count_parameters
from utils.torch.memory import (LAYERS, RecallNet, char_losses, gradient_by_distance,
                                lm_matched_hiddens, lm_parameters, lstm_trace,
                                matched_hiddens, num_parameters, recall_accuracy,
                                recall_batch, train_recall)


@dataclass(frozen=True)
class Config:
    num_keys: int = 4
    distances: tuple = (1, 2, 4)
    num_updates: int = 5
    batch_size: int = 8
    lr: float = 1e-2
    clip: float = 1.0


def test_the_label_is_the_key_shown_k_steps_before_the_query():
    X, y = recall_batch(32, 5, num_keys=4, generator=torch.Generator().manual_seed(0))
    assert X.shape == (32, 7) and y.shape == (32,)
    assert bool((X[:, 0] == 4).all())                             # the marker
    assert torch.equal(X[:, 1], y) and bool((y < 4).all())        # the key
    assert bool((X[:, 2:-1] < 4).all())                           # symbols like it
    assert bool((X[:, -1] == 5).all())                          # the query, k = 5 on
    again, _ = recall_batch(32, 5, 4, torch.Generator().manual_seed(0))
    assert torch.equal(X, again)


def test_distance_one_is_marker_key_query():
    X, y = recall_batch(3, 1, num_keys=2)
    assert X.shape == (3, 3) and torch.equal(X[:, 1], y)
    assert X[:, 0].tolist() == [2, 2, 2] and X[:, 2].tolist() == [3, 3, 3]


@pytest.mark.parametrize("cell", sorted(LAYERS))
def test_the_formula_counts_the_model(cell):
    model = RecallNet(cell, vocab_size=17, num_classes=8, num_hiddens=20, embed_size=6)
    assert count_parameters(model) == num_parameters(cell, 20, 17, 8, 6)


def test_matched_widths_give_equal_parameter_counts():
    budget = num_parameters("lstm", 48, 17, 8)
    widths = matched_hiddens(budget, 17, 8)
    assert widths["lstm"] == 48 and widths["rnn"] > widths["gru"] > widths["lstm"]
    for cell, width in widths.items():
        count = count_parameters(RecallNet(cell, 17, 8, width))
        assert abs(count / budget - 1) < 0.02, (cell, count, budget)


def test_the_model_reads_the_last_step():
    model = RecallNet("gru", 8, 4, 6)
    logits, state = model(torch.zeros(3, 5, dtype=torch.long))
    assert logits.shape == (3, 4) and state.shape == (1, 3, 6)


def test_training_scoring_and_the_gradient_probe_run():
    cfg = Config()
    torch.manual_seed(0)
    model = RecallNet("lstm", cfg.num_keys + 2, cfg.num_keys, 6, embed_size=4)
    losses = train_recall(model, cfg, torch.Generator().manual_seed(0))
    assert len(losses) == cfg.num_updates
    accuracy = recall_accuracy(model, 3, 50, cfg, torch.Generator().manual_seed(1))
    assert 0.0 <= accuracy <= 1.0
    X, _ = recall_batch(4, 6, cfg.num_keys)
    norms = gradient_by_distance(model, X)
    assert len(norms) == 8 and all(n >= 0 for n in norms)


@pytest.mark.parametrize("kwargs, error, words", [
    ({"distance": 0}, ValueError, "distance must be at least 1"),
    ({"distance": 2.5}, TypeError, "distance must be an int"),
    ({"batch_size": 0}, ValueError, "batch_size must be at least 1"),
    ({"num_keys": 1}, ValueError, "num_keys must be at least 2"),
])
def test_recall_batch_names_a_bad_argument(kwargs, error, words):
    args = {"batch_size": 2, "distance": 3, **kwargs}
    with pytest.raises(error, match=words):
        recall_batch(**args)


def test_an_unknown_cell_is_named():
    with pytest.raises(ValueError, match="cell must be one of"):
        RecallNet("transformer", 8, 4, 6)
    with pytest.raises(ValueError, match="cell must be one of"):
        num_parameters("Lstm", 8, 8, 4)
    with pytest.raises(ValueError, match="budget must be at least 1"):
        matched_hiddens(0, 8, 4)


# ------------------------------------------------------------------ the book's text


def test_lm_parameters_counts_a_one_hot_character_model():
    from utils.torch.rnn import RNNLM

    for cell, layer in LAYERS.items():
        model = RNNLM(layer(11, 7), 11)
        assert count_parameters(model) == lm_parameters(cell, 7, 11)


def test_lm_matched_hiddens_sizes_the_three_layers_to_one_budget():
    budget = lm_parameters("rnn", 128, 28)
    widths = lm_matched_hiddens(budget, 28)
    assert widths["rnn"] == 128 and widths["lstm"] < widths["gru"] < widths["rnn"]
    for cell, width in widths.items():
        assert abs(lm_parameters(cell, width, 28) / budget - 1) < 0.02


def test_char_losses_score_every_token_after_the_first_in_one_stream():
    from utils.torch.rnn import RNNLM

    torch.manual_seed(0)
    model = RNNLM(torch.nn.GRU(5, 6), 5)
    ids = [0, 1, 2, 3, 4, 0, 1]
    losses = char_losses(model, ids)
    assert losses.shape == (6,)
    logits, _ = model(torch.tensor([ids[:-1]]))
    expected = -torch.log_softmax(logits[0], -1)[torch.arange(6), torch.tensor(ids[1:])]
    assert torch.allclose(losses, expected, atol=1e-6)
    with pytest.raises(ValueError, match="at least 2"):
        char_losses(model, [3])


def test_lstm_trace_gives_back_the_layers_hidden_states():
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(3, 4)
    inputs = torch.randn(9, 3)
    trace = lstm_trace(lstm, inputs)
    assert set(trace) == {"input", "forget", "output", "candidate", "cell", "hidden"}
    assert all(value.shape == (9, 4) for value in trace.values())
    assert torch.allclose(trace["output"] * torch.tanh(trace["cell"]), trace["hidden"],
                          atol=1e-6)
    _, (_, c_last) = lstm(inputs[:, None])
    assert torch.allclose(trace["cell"][-1], c_last[0, 0], atol=1e-6)
    with pytest.raises(ValueError, match="one-layer"):
        lstm_trace(torch.nn.LSTM(3, 4, num_layers=2), inputs)
    with pytest.raises(ValueError, match=r"\(T, 3\)"):
        lstm_trace(lstm, torch.randn(9, 5))
