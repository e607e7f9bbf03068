"""Tests of utils.torch.classify: padding never changes a prediction; predict is robust;
training keeps the weights of the best validation epoch."""
import numpy as np
import pytest
import torch

from utils.classify_data import PAD_TOKEN, ClassifyLoader, best_epoch
from utils.text import Vocab
from utils.torch.classify import (POOLINGS, BagOfEmbeddings, SentimentLSTM,
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
    # keep="last": a long text reads like its last max_len tokens
    end = predict_sentiment(model, vocab, ["bad " * 100 + "good " * 50], max_len=50,
                            device="cpu", keep="last")
    assert end[0][1] == pytest.approx(cut[0][1], abs=1e-6)
    with pytest.raises(ValueError, match="keep must be one of"):
        predict_sentiment(model, vocab, ["good"], max_len=50, device="cpu", keep="end")
    with pytest.raises(TypeError, match="max_len must be an int"):
        predict_sentiment(model, vocab, ["good"], max_len=None, device="cpu")
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        predict_sentiment(None, vocab, ["good"], max_len=50, device="cpu")


def test_bag_of_embeddings_shapes_and_padding():
    torch.manual_seed(0)
    model = BagOfEmbeddings(20, 5)
    X = torch.tensor([[3, 4, PAD, PAD], [5, PAD, PAD, PAD]])
    logits = model(X, torch.tensor([2, 0]))
    assert logits.shape == (2, 2)
    torch.testing.assert_close(logits[:1], model(X[:1, :2], torch.tensor([2])))


def _trivial_task(n=128, seed=0):
    """Label 1 iff the review contains token 3."""
    rng = np.random.default_rng(seed)
    ids = [list(rng.integers(4, 12, size=rng.integers(1, 6))) for _ in range(n)]
    labels = [int(i % 2) for i in range(n)]
    for seq, label in zip(ids, labels):
        if label:
            seq[rng.integers(len(seq))] = 3
    return ids, labels


def test_training_learns_a_trivial_task():
    ids, labels = _trivial_task()
    loader = ClassifyLoader(ids, labels, 32, PAD, shuffle=True)
    valid_ids, valid_labels = _trivial_task(64, seed=1)
    valid = ClassifyLoader(valid_ids, valid_labels, 64, PAD)
    torch.manual_seed(0)
    model = SentimentLSTM(12, 8, 8, pooling="max")
    history = train_classifier(model, loader, 10, 3e-2, "cpu", valid_iter=valid,
                               clip=5.0)
    assert [row["epoch"] for row in history] == list(range(1, 11))
    assert set(history[0]) == {"epoch", "train_loss", "train_acc", "valid_acc"}
    assert best_epoch(history)["valid_acc"] > 0.9
    assert evaluate_accuracy(model, valid, "cpu") == best_epoch(history)["valid_acc"]
    assert evaluate_accuracy(model, ClassifyLoader(ids, labels, 64, PAD), "cpu") > 0.9


class _Scripted(torch.nn.Module):
    """A model whose validation accuracy follows a script, epoch by epoch."""

    def __init__(self, script):
        super().__init__()
        self.w = torch.nn.Parameter(torch.zeros(2))
        self.epoch = torch.nn.Parameter(torch.zeros(1), requires_grad=False)
        self.script = script

    def forward(self, X, lengths):
        if self.training:  # one call per epoch (one batch): count the epochs
            with torch.no_grad():
                self.epoch += 1
            return torch.zeros(len(X), 2) + self.w
        right = self.script[int(self.epoch.item()) - 1]  # correct predictions
        logits = torch.zeros(len(X), 2)
        logits[:right, 1] = 1.0   # the labels are all 1: the first `right` are right
        logits[right:, 0] = 1.0
        return logits


def test_training_keeps_the_weights_of_the_best_validation_epoch():
    batch = [(np.zeros((4, 1), dtype=np.int64), np.ones(4, dtype=np.int64),
              np.ones(4, dtype=np.int64))]
    model = _Scripted([1, 3, 3, 2])
    history = train_classifier(model, batch, 4, 0.1, "cpu", valid_iter=batch)
    assert [row["valid_acc"] for row in history] == [0.25, 0.75, 0.75, 0.5]
    assert best_epoch(history)["epoch"] == 2
    assert model.epoch.item() == 2  # the weights of epoch 2, the first of the tie
    last = _Scripted([1, 3, 3, 2])
    train_classifier(last, batch, 4, 0.1, "cpu", valid_iter=batch, keep_best=False)
    assert last.epoch.item() == 4
    blind = _Scripted([1, 3])
    history = train_classifier(blind, batch, 2, 0.1, "cpu")
    assert [row["valid_acc"] for row in history] == [None, None]
    assert blind.epoch.item() == 2


@pytest.mark.parametrize("kwargs, error, match", [
    ({"model": "lstm"}, TypeError, "model must be a torch.nn.Module, got str"),
    ({"num_epochs": 2.0}, TypeError, "num_epochs must be an int, got float"),
    ({"num_epochs": 0}, ValueError, "num_epochs must be at least 1, got 0"),
    ({"lr": "1e-3"}, TypeError, "lr must be a number > 0, got str"),
    ({"lr": 0.0}, ValueError, "lr must be a finite number > 0, got 0.0"),
    ({"lr": float("nan")}, ValueError, "lr must be a finite number > 0"),
    ({"weight_decay": -1e-4}, ValueError, "weight_decay must be a finite number >= 0"),
    ({"clip": 0}, ValueError, "clip must be a finite number > 0"),
    ({"clip": True}, TypeError, "clip must be a number > 0, got bool"),
    ({"keep_best": 1}, TypeError, "keep_best must be a bool, got int"),
])
def test_train_classifier_checks_arguments(kwargs, error, match):
    args = {"model": BagOfEmbeddings(10, 4), "train_iter": [], "num_epochs": 1,
            "lr": 1e-3, "device": "cpu"}
    args.update(kwargs)
    with pytest.raises(error, match=match):
        train_classifier(**args)


def test_predict_logits_keeps_the_iterator_order_and_agrees_with_predict_batches():
    from utils.torch.classify import predict_batches, predict_logits
    torch.manual_seed(0)
    model = SentimentLSTM(20, 4, 3, pad_id=1)
    ids = [[2, 3, 4], [5], [6, 7], [8, 9, 10, 11]]
    loader = ClassifyLoader(ids, [0, 1, 0, 1], 3, pad_id=1, bucket=False)
    y_true, logits = predict_logits(model, loader, "cpu")
    assert y_true.tolist() == [0, 1, 0, 1] and logits.shape == (4, 2)
    with torch.no_grad():
        model.eval()
        first = model(torch.tensor([[6, 7]]), torch.tensor([2]))[0].numpy()
    np.testing.assert_allclose(logits[2], first, rtol=1e-5, atol=1e-6)
    assert predict_batches(model, loader, "cpu")[1].tolist() == logits.argmax(1).tolist()
