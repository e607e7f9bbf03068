"""Tests of utils.torch_classify: padding never changes a prediction; predict is robust."""
import numpy as np
import pytest
import torch

from utils.classify_data import PAD_TOKEN, ClassifyLoader
from utils.text import Vocab
from utils.torch_classify import (POOLINGS, BagOfEmbeddings, SentimentLSTM,
                                  evaluate_accuracy, masked_pool, predict_sentiment,
                                  train_classifier)

PAD = 1


def _padded(ids, width):
    X = np.full((1, width), PAD)
    X[0, :len(ids)] = ids
    return torch.as_tensor(X), torch.as_tensor([len(ids)])


@pytest.mark.parametrize("pooling", POOLINGS)
@pytest.mark.parametrize("bidirectional", [True, False])
def test_padding_does_not_change_logits(pooling, bidirectional):
    torch.manual_seed(0)
    model = SentimentLSTM(30, 8, 6, num_layers=2, pooling=pooling,
                          bidirectional=bidirectional).eval()
    review = [5, 9, 3, 7, 2, 11]
    with torch.no_grad():
        alone = model(*_padded(review, 6))
        padded = model(*_padded(review, 25))
        # The same review inside a batch with a longer and a shorter one.
        X = torch.full((3, 10), PAD)
        X[0, :6], X[1, :10], X[2, :2] = torch.tensor(review), 4, 8
        batch = model(X, torch.tensor([6, 10, 2]))
    torch.testing.assert_close(alone, padded, rtol=0, atol=1e-6)
    torch.testing.assert_close(alone[0], batch[0], rtol=0, atol=1e-6)


def test_masked_pool_ignores_padding():
    outputs = torch.tensor([[[-1.0], [-3.0], [99.0]]])      # (B=1, T=3, H=1)
    lengths = torch.tensor([2])
    assert masked_pool(outputs, lengths, "max").item() == -1.0
    assert masked_pool(outputs, lengths, "mean").item() == -2.0
    with pytest.raises(ValueError):
        masked_pool(outputs, lengths, "median")


def test_bad_pooling_is_refused():
    with pytest.raises(ValueError, match="pooling"):
        SentimentLSTM(10, 4, 4, pooling="sum")


def test_predict_handles_unknown_empty_and_long_texts():
    vocab = Vocab([["good", "bad", "film"]], reserved_tokens=[PAD_TOKEN])
    torch.manual_seed(0)
    model = SentimentLSTM(len(vocab), 8, 6, pooling="max")
    texts = ["a good film", "qwertyuiop zxcvb", "", "   ", "good " * 5000]
    preds = predict_sentiment(model, vocab, texts, max_len=50, device="cpu")
    assert len(preds) == len(texts)
    for label, prob in preds:
        assert label in ("negative", "positive") and 0.0 <= prob <= 1.0
    # Cut to max_len: a very long text reads like its first max_len tokens.
    cut = predict_sentiment(model, vocab, ["good " * 50], max_len=50, device="cpu")
    assert preds[-1][1] == pytest.approx(cut[0][1], abs=1e-6)
    with pytest.raises(TypeError):
        predict_sentiment(model, vocab, "one string", max_len=50, device="cpu")


def test_bag_of_embeddings_shapes_and_padding():
    torch.manual_seed(0)
    model = BagOfEmbeddings(20, 5)
    X = torch.tensor([[3, 4, PAD, PAD], [5, PAD, PAD, PAD]])
    logits = model(X, torch.tensor([2, 0]))
    assert logits.shape == (2, 2)
    torch.testing.assert_close(logits[:1], model(X[:1, :2], torch.tensor([2])))


def test_training_learns_a_trivial_task():
    # Label 1 iff the review contains token 3: a few epochs must get it right.
    rng = np.random.default_rng(0)
    ids = [list(rng.integers(4, 12, size=rng.integers(1, 6))) for _ in range(128)]
    labels = [int(i % 2) for i in range(128)]
    for seq, label in zip(ids, labels):
        if label:
            seq[rng.integers(len(seq))] = 3
    loader = ClassifyLoader(ids, labels, 32, PAD, shuffle=True)
    torch.manual_seed(0)
    model = SentimentLSTM(12, 8, 8, pooling="max")
    history = train_classifier(model, loader, 10, 3e-2, "cpu", test_iter=loader)
    assert history[-1]["test_acc"] > 0.9
    assert evaluate_accuracy(model, ClassifyLoader(ids, labels, 64, PAD), "cpu") > 0.9
