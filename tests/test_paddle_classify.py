"""Tests of utils.paddle.classify: padded steps never leak into the encoder's output;
training keeps the weights of the best validation epoch."""
import numpy as np
import pytest

pytest.importorskip("utils.paddle.classify")  # imports paddle through import_paddle
from utils.classify_data import ClassifyLoader, best_epoch  # noqa: E402
from utils.paddle.classify import (DIRECTIONS, POOLING_TYPES, LSTMEncoder,  # noqa: E402
                                   LSTMModel, MeanOverTimeLSTM, evaluate_accuracy,
                                   paddle, to_tensor, train_classifier)

PAD = 1


@pytest.mark.parametrize("pooling_type", POOLING_TYPES)
@pytest.mark.parametrize("direction", DIRECTIONS)
def test_padding_does_not_leak_into_encoder(direction, pooling_type):
    paddle.seed(0)
    encoder = LSTMEncoder(4, 5, num_layers=2, direction=direction,
                          pooling_type=pooling_type)
    encoder.eval()
    rng = np.random.default_rng(0)
    review = rng.normal(size=(6, 4)).astype("float32")
    outs = []
    for width in (6, 9, 20):
        # The padded steps hold large junk: it must not change anything.
        inputs = np.full((2, width, 4), 50.0, dtype="float32")
        inputs[0, :6] = review
        outs.append(encoder(paddle.to_tensor(inputs), to_tensor(np.array([6, 2]))))
    for out in outs[1:]:
        np.testing.assert_allclose(outs[0].numpy()[0], out.numpy()[0], atol=1e-5)
    assert outs[0].shape == [2, encoder.get_output_dim()]


def test_max_pooling_of_negative_outputs_is_not_zero():
    # With all outputs negative, a max that saw the zeros at padded steps would be 0.
    paddle.seed(0)
    encoder = LSTMEncoder(3, 4, pooling_type="max")
    encoder.eval()
    inputs = paddle.to_tensor(np.full((1, 8, 3), -5.0, dtype="float32"))
    out = encoder(inputs, to_tensor(np.array([3])))
    full = encoder(inputs[:, :3], to_tensor(np.array([3])))
    np.testing.assert_allclose(out.numpy(), full.numpy(), atol=1e-6)


def test_encoder_refuses_bad_arguments():
    with pytest.raises(ValueError, match="direction"):
        LSTMEncoder(3, 4, direction="backward")
    with pytest.raises(ValueError, match="pooling_type"):
        LSTMEncoder(3, 4, pooling_type="median")


def test_lstm_model_and_small_network_shapes():
    paddle.seed(0)
    model = LSTMModel(30, embed_size=8, hidden_size=6, direction="bidirect",
                      pooling_type="mean", fc_hidden_size=5)
    X = to_tensor(np.array([[3, 4, PAD], [PAD, PAD, PAD]]))
    assert model(X, to_tensor(np.array([2, 0]))).shape == [2, 2]  # empty text too
    small = MeanOverTimeLSTM(30)
    assert small(to_tensor(np.full((4, 7), 2)), None).shape == [4, 2]


def _trivial_task(n, seed):
    """Label 1 iff the review contains token 3."""
    rng = np.random.default_rng(seed)
    ids = [list(rng.integers(4, 12, size=rng.integers(1, 6))) for _ in range(n)]
    labels = [int(i % 2) for i in range(n)]
    for seq, label in zip(ids, labels):
        if label:
            seq[rng.integers(len(seq))] = 3
    return ids, labels


def test_training_learns_and_keeps_the_best_validation_epoch():
    train = ClassifyLoader(*_trivial_task(128, 0), 32, PAD, shuffle=True)
    valid = ClassifyLoader(*_trivial_task(64, 1), 64, PAD)
    paddle.seed(0)
    model = LSTMModel(12, embed_size=8, hidden_size=8, pooling_type="max",
                      fc_hidden_size=8)
    history = train_classifier(model, train, 10, 3e-2, valid_iter=valid)
    assert set(history[0]) == {"epoch", "train_loss", "train_acc", "valid_acc"}
    best = best_epoch(history)
    assert best["valid_acc"] > 0.9
    assert evaluate_accuracy(model, valid) == best["valid_acc"]


class _Scripted(paddle.nn.Layer):
    """A model whose validation accuracy follows a script, epoch by epoch."""

    def __init__(self, script):
        super().__init__()
        self.w = self.create_parameter(
            [2], default_initializer=paddle.nn.initializer.Constant(0.0))
        self.epoch = self.create_parameter(
            [1], default_initializer=paddle.nn.initializer.Constant(0.0))
        self.epoch.stop_gradient = True
        self.script = script

    def forward(self, X, lengths):
        if self.training:  # one call per epoch (one batch): count the epochs
            self.epoch.set_value(self.epoch.numpy() + 1)
            return paddle.zeros([X.shape[0], 2]) + self.w
        right = self.script[int(self.epoch.numpy()[0]) - 1]  # correct predictions
        logits = np.zeros((X.shape[0], 2), dtype="float32")
        logits[:right, 1] = 1.0   # the labels are all 1: the first `right` are right
        logits[right:, 0] = 1.0
        return paddle.to_tensor(logits)


def test_training_restores_the_best_validation_epoch():
    batch = [(np.zeros((4, 1), dtype=np.int64), np.ones(4, dtype=np.int64),
              np.ones(4, dtype=np.int64))]
    model = _Scripted([1, 3, 3, 2])
    history = train_classifier(model, batch, 4, 0.1, valid_iter=batch)
    assert [row["valid_acc"] for row in history] == [0.25, 0.75, 0.75, 0.5]
    assert best_epoch(history)["epoch"] == 2
    assert model.epoch.numpy()[0] == 2  # epoch 2's weights, the first of the tie
    last = _Scripted([1, 3, 3, 2])
    train_classifier(last, batch, 4, 0.1, valid_iter=batch, keep_best=False)
    assert last.epoch.numpy()[0] == 4
    blind = _Scripted([1, 3])
    history = train_classifier(blind, batch, 2, 0.1)
    assert [row["valid_acc"] for row in history] == [None, None]
    assert blind.epoch.numpy()[0] == 2


@pytest.mark.parametrize("kwargs, error, match", [
    ({"model": "lstm"}, TypeError, "model must be a paddle.nn.Layer, got str"),
    ({"num_epochs": 2.0}, TypeError, "num_epochs must be an int, got float"),
    ({"num_epochs": 0}, ValueError, "num_epochs must be at least 1, got 0"),
    ({"lr": None}, TypeError, "lr must be a number > 0, got NoneType"),
    ({"lr": -1e-3}, ValueError, "lr must be a finite number > 0, got -0.001"),
    ({"keep_best": "yes"}, TypeError, "keep_best must be a bool, got str"),
])
def test_train_classifier_checks_arguments(kwargs, error, match):
    paddle.seed(0)
    args = {"model": MeanOverTimeLSTM(10, 4, 4, 4), "train_iter": [], "num_epochs": 1,
            "lr": 1e-3}
    args.update(kwargs)
    with pytest.raises(error, match=match):
        train_classifier(**args)
