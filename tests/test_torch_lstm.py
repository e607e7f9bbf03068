"""Tests of utils.torch.lstm: a stack of LSTMCells equals nn.LSTM; hand-set gates."""
import pytest
import torch
from torch import nn

from utils.torch.lstm import StackedLSTMCells, hand_set_lstm_cell

T, B, E, H, L = 7, 3, 5, 4, 2


def _pair(batch_first=False):
    torch.manual_seed(0)
    layer = nn.LSTM(E, H, num_layers=L, batch_first=batch_first)
    cells = StackedLSTMCells(E, H, num_layers=L, batch_first=batch_first)
    cells.copy_from_lstm(layer)
    return layer, cells


@pytest.mark.parametrize("batch_first", [False, True])
def test_stack_matches_nn_lstm(batch_first):
    layer, cells = _pair(batch_first)
    X = torch.randn((B, T, E) if batch_first else (T, B, E))
    state = (torch.randn(L, B, H), torch.randn(L, B, H))
    for given in (None, state):
        expected, (h_ref, c_ref) = layer(X, given)
        outputs, (h, c) = cells(X, given)
        assert outputs.shape == expected.shape
        assert h.shape == c.shape == (L, B, H)
        for ours, ref in ((outputs, expected), (h, h_ref), (c, c_ref)):
            assert (ours - ref).abs().max() < 1e-6


def test_gradients_match():
    layer, cells = _pair()
    X = torch.randn(T, B, E)
    layer(X)[0].sum().backward()
    cells(X)[0].sum().backward()
    assert (cells.cells[1].weight_hh.grad - layer.weight_hh_l1.grad).abs().max() < 1e-5


def test_dropout_only_in_training():
    torch.manual_seed(0)
    cells = StackedLSTMCells(E, H, num_layers=L, dropout=0.5).eval()
    X = torch.randn(T, B, E)
    assert torch.equal(cells(X)[0], cells(X)[0])


def test_copy_rejects_wrong_sizes():
    cells = StackedLSTMCells(E, H, num_layers=L)
    with pytest.raises(ValueError, match="num_layers"):
        cells.copy_from_lstm(nn.LSTM(E, H, num_layers=1))
    with pytest.raises(ValueError, match="unidirectional"):
        cells.copy_from_lstm(nn.LSTM(E, H, num_layers=L, bidirectional=True))
    with pytest.raises(TypeError):
        cells.copy_from_lstm(nn.GRU(E, H, num_layers=L))


@pytest.mark.parametrize("input_gate, forget_gate, expected", [
    (0.0, 1.0, 0.5),                            # remember
    (1.0, 1.0, 0.5 + torch.tanh(torch.tensor(1.0)).item()),   # add
    (0.0, 0.0, 0.0),                           # erase
    (1.0, 0.0, torch.tanh(torch.tensor(1.0)).item()),        # overwrite
])
def test_hand_set_gates(input_gate, forget_gate, expected):
    cell = hand_set_lstm_cell(input_gate, forget_gate)
    x, h0, c0 = torch.ones(1, 1), torch.zeros(1, 1), torch.full((1, 1), 0.5)
    h, c = cell(x, (h0, c0))
    assert abs(c.item() - expected) < 1e-6
    assert abs(h.item() - torch.tanh(c).item()) < 1e-6
    shut = hand_set_lstm_cell(input_gate, forget_gate, output_gate=0.0)
    assert abs(shut(x, (h0, c0))[0].item()) < 1e-6


def test_hand_set_gate_in_between_and_errors():
    cell = hand_set_lstm_cell(input_gate=0.0, forget_gate=0.9)
    c0 = torch.ones(1, 1)
    _, c = cell(torch.zeros(1, 1), (torch.zeros(1, 1), c0))
    assert abs(c.item() - 0.9) < 1e-6
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        hand_set_lstm_cell(input_gate=1.5, forget_gate=1.0)


# ------------------------------------------------------------ training and evaluation
from dataclasses import dataclass  # noqa: E402

from utils.text import Vocab  # noqa: E402
from utils.torch.lstm import generate_by_rereading, left_context_scores  # noqa: E402
from utils.torch.train import fit_char_lm, lm_metrics  # noqa: E402
from utils.torch.rnn import RNNLM  # noqa: E402
from utils.torch.train import predict  # noqa: E402

TEXT = "the time machine is a story about a time traveller " * 20
VOCAB = Vocab(list(TEXT))
IDS = VOCAB[list(TEXT)]


@dataclass(frozen=True)
class TinyConfig:
    seed: int = 0
    batch_size: int = 4
    num_steps: int = 8
    dropout: float = 0.0
    num_epochs: int = 2
    lr: float = 1e-2
    clip: float = 1.0
    cosine_decay: bool = False


def _model(bidirectional=False):
    torch.manual_seed(0)
    return RNNLM(nn.LSTM(len(VOCAB), 8, bidirectional=bidirectional), len(VOCAB))


def test_fit_char_lm_and_metrics():
    model, history = fit_char_lm(lambda: nn.LSTM(len(VOCAB), 8), IDS[:800], IDS[800:],
                                 len(VOCAB), TinyConfig(), "cpu")
    metrics = lm_metrics(model, history)
    assert set(metrics) == {"val_ppl", "train_ppl", "tokens_per_s", "num_params"}
    assert metrics["val_ppl"] < history["initial_val_ppl"]
    assert metrics["num_params"] == sum(p.numel() for p in model.parameters())


def test_left_context_ignores_the_future():
    model = _model(bidirectional=True)
    scores = left_context_scores(model, IDS[:60], context_size=5, device="cpu",
                                 max_positions=10)
    assert scores["num_positions"] == 10 and 0.0 <= scores["accuracy"] <= 1.0
    # One position: the model reads 5 tokens from a zero state and predicts the 6th.
    one = left_context_scores(model, IDS[:6], 5, "cpu")
    logits, _ = model(torch.tensor([IDS[:5]]), None)
    log_prob = torch.log_softmax(logits[0, -1], -1)[IDS[5]].item()
    assert one["num_positions"] == 1
    assert abs(one["ppl"] - torch.exp(torch.tensor(-log_prob)).item()) < 1e-4
    with pytest.raises(ValueError, match="context_size"):
        left_context_scores(model, IDS[:3], context_size=5, device="cpu")


def test_rereading_equals_stateful_greedy_for_a_left_to_right_model():
    model = _model()
    prefix = "the time "
    assert (generate_by_rereading(prefix, 12, model, VOCAB)
            == predict(prefix, 12, model, VOCAB))
