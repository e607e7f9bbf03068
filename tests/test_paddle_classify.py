"""Tests of utils.paddle_classify: padded steps never leak into the encoder's output."""
import numpy as np
import pytest

pytest.importorskip("paddle")
from utils.paddle_classify import (DIRECTIONS, POOLING_TYPES, LSTMEncoder,  # noqa: E402
                                   LSTMModel, MeanOverTimeLSTM, paddle, to_tensor)

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
