"""Device discipline: the helpers that take a ``device`` keep every tensor there.

``tests/device_guard.py`` plays a GPU on the CPU (see its docstring), so that a CPU
tensor meeting a model "on the GPU" fails here as it would on Colab's GPU. The first
test is the slip chapter 8's max-pool exercise once made (inputs built on the CPU for
a model on the device): the guard must catch it. The others run the helpers the
chapters call with a device, on small models.
"""
import numpy as np
import pytest
import torch
from torch import nn

from device_guard import DeviceGuard
from utils.batching import SeqDataLoader
from utils.classify_data import ClassifyLoader
from utils.torch.classify import (SentimentLSTM, evaluate_accuracy, predict_sentiment,
                                  train_classifier)
from utils.torch.rnn import RNNLM
from utils.torch.train import evaluate_perplexity, generate, train
from utils.text import Vocab


def small_classifier():
    torch.manual_seed(0)
    return SentimentLSTM(vocab_size=20, embed_size=8, num_hiddens=6, num_layers=1,
                         pad_id=1, pooling="max")


def test_the_guard_catches_inputs_left_on_the_cpu():
    with DeviceGuard() as guard:
        model = small_classifier().to(guard.device)
        ids = np.arange(2, 9)
        X_cpu = torch.as_tensor(ids)[None, :]                 # the slip: no device=
        with pytest.raises(RuntimeError, match="same device"):
            model.lstm(model.embedding(X_cpu))
        X = torch.as_tensor(ids, device=guard.device)[None, :]   # the fix
        outputs, _ = model.lstm(model.embedding(X))
        logits = model(X, torch.tensor([len(ids)]))       # lengths stay on the CPU
        assert guard.on_device(outputs) and guard.on_device(logits)
        assert not guard.on_device(outputs[0].cpu())


def test_the_guard_lets_cpu_only_work_alone():
    with DeviceGuard():
        model = small_classifier()                         # never moved
        X = torch.as_tensor(np.arange(2, 9))[None, :]
        assert model(X, torch.tensor([7])).shape == (1, 2)


def test_classifier_training_evaluation_and_prediction_stay_on_the_device():
    rng = np.random.default_rng(0)
    ids = [list(rng.integers(2, 20, size=rng.integers(3, 9))) for _ in range(24)]
    labels = [i % 2 for i in range(24)]
    loader = ClassifyLoader(ids, labels, batch_size=8, pad_id=1)
    vocab = Vocab([f"w{i}" for i in range(15)])  # fewer ids than the model has
    with DeviceGuard() as guard:
        model = small_classifier().to(guard.device)
        history = train_classifier(model, loader, num_epochs=1, lr=1e-2,
                                   device=guard.device, valid_iter=loader, clip=1.0)
        assert len(history) == 1
        assert 0.0 <= evaluate_accuracy(model, loader, guard.device) <= 1.0
        verdicts = predict_sentiment(model, vocab, ["w3 w4 w5"], max_len=10,
                                     device=guard.device)
        assert len(verdicts) == 1


def test_language_model_training_evaluation_and_sampling_stay_on_the_device():
    ids = list(np.random.default_rng(0).integers(0, 12, size=400))
    vocab = Vocab([chr(ord("a") + i) for i in range(10)])
    with DeviceGuard() as guard:
        torch.manual_seed(0)
        model = RNNLM(nn.GRU(len(vocab), 16), len(vocab)).to(guard.device)
        train_ids = [i % len(vocab) for i in ids]
        history = train(model, SeqDataLoader(train_ids, 4, 8, seed=0), train_ids[:80],
                        num_epochs=1, lr=1e-2, device=guard.device, eval_batch_size=2,
                        eval_num_steps=8)
        assert np.isfinite(history["val_ppl"][0])
        assert np.isfinite(evaluate_perplexity(model, train_ids[:80], 2, 8))
        tokens = generate(model, vocab, "ab", 5)
        assert len(tokens) >= 5
