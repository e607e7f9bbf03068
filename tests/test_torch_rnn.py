"""Tests of utils.torch.rnn and utils.torch.train."""
import math

import pytest
import torch
from torch import nn

from utils.batching import SeqDataLoader
from utils.plot import LiveCurves
from utils.text import Vocab
from utils.torch.rnn import (GRUScratch, LSTMScratch, RNNLM, RNNScratch, begin_state,
                             load_from_torch_layer)
from utils.torch.train import (evaluate_perplexity, next_token_probs, predict,
                                   train, train_epoch)
from utils.torch.core import detach_state

T, B, E, H = 7, 3, 5, 4


@pytest.fixture(autouse=True)
def one_thread():
    """Tiny models run fastest on one thread, and do not stall on a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _pairs():
    return [(RNNScratch(E, H), nn.RNN(E, H)),
            (RNNScratch(E, H, nonlinearity="relu"), nn.RNN(E, H, nonlinearity="relu")),
            (GRUScratch(E, H, reset_after=True), nn.GRU(E, H)),
            (LSTMScratch(E, H), nn.LSTM(E, H))]


@pytest.mark.parametrize("index", range(4))
def test_scratch_matches_torch_layer(index):
    torch.manual_seed(index)
    scratch, layer = _pairs()[index]
    load_from_torch_layer(scratch, layer)
    X = torch.randn(T, B, E)
    state = begin_state(layer, B)
    state = tuple(torch.randn_like(s) for s in state) if isinstance(state, tuple) \
        else torch.randn_like(state)
    out_s, state_s = scratch(X, state)
    out_l, state_l = layer(X, state)
    assert out_s.shape == (T, B, H)
    torch.testing.assert_close(out_s, out_l, rtol=1e-5, atol=1e-6)
    for s, l in zip(state_s if isinstance(state_s, tuple) else [state_s],
                    state_l if isinstance(state_l, tuple) else [state_l]):
        assert s.shape == (1, B, H)
        torch.testing.assert_close(s, l, rtol=1e-5, atol=1e-6)


def test_scratch_gradients_match_torch_layer():
    torch.manual_seed(0)
    scratch, layer = GRUScratch(E, H, reset_after=True), nn.GRU(E, H)
    load_from_torch_layer(scratch, layer)
    X = torch.randn(T, B, E)
    scratch(X)[0].sum().backward()
    layer(X)[0].sum().backward()
    torch.testing.assert_close(scratch.W_hh.grad, layer.weight_hh_l0.grad[2 * H:].T,
                               rtol=1e-5, atol=1e-6)


def test_load_refuses_mismatches():
    with pytest.raises(ValueError, match="reset_after=True"):
        load_from_torch_layer(GRUScratch(E, H), nn.GRU(E, H))
    with pytest.raises(TypeError):
        load_from_torch_layer(RNNScratch(E, H), nn.GRU(E, H))
    with pytest.raises(ValueError, match="input_size"):
        load_from_torch_layer(RNNScratch(E, H), nn.RNN(E + 1, H))


def test_paper_gru_differs_but_runs():
    gru = GRUScratch(E, H)
    outputs, state, gates = gru(torch.randn(T, B, E), return_gates=True)
    assert outputs.shape == (T, B, H) and state.shape == (1, B, H)
    assert gates["reset"].shape == gates["update"].shape == (T, B, H)
    assert 0 < gates["update"].min() and gates["update"].max() < 1


def test_time_major_check():
    with pytest.raises(ValueError, match="time-major"):
        RNNScratch(E, H)(torch.randn(T, B, E + 1))


@pytest.mark.parametrize("make_rnn", [lambda: nn.GRU(6, H), lambda: RNNScratch(6, H),
                                      lambda: LSTMScratch(6, H), lambda: nn.LSTM(6, H)])
def test_rnnlm_shapes(make_rnn):
    model = RNNLM(make_rnn(), vocab_size=6)
    X = torch.randint(0, 6, (B, T))
    logits, state = model(X, model.begin_state(B))
    assert logits.shape == (B, T, 6)
    for s in state if isinstance(state, tuple) else [state]:
        assert s.shape == (1, B, H)


def test_rnnlm_embedding_and_size_check():
    model = RNNLM(nn.GRU(8, H), vocab_size=6, embed_size=8, dropout=0.1)
    assert model(torch.randint(0, 6, (B, T)))[0].shape == (B, T, 6)
    with pytest.raises(ValueError, match="input_size"):
        RNNLM(nn.GRU(5, H), vocab_size=6)


def test_detach_cuts_the_graph():
    model = RNNLM(RNNScratch(6, H), vocab_size=6)
    _, state = model(torch.randint(0, 6, (B, T)))
    assert state.requires_grad and state.grad_fn is not None
    cut = detach_state(state)
    assert cut.grad_fn is None and torch.equal(cut, state)
    logits, _ = model(torch.randint(0, 6, (B, T)), cut)
    logits.sum().backward()  # only the new graph: no error, gradients reach the weights
    assert model.rnn.W_hh.grad is not None


def _tiny_corpus():
    text = "abcab " * 200
    vocab = Vocab(list(text))
    return vocab[list(text)], vocab


def test_predict_greedy_is_deterministic_and_sampling_is_seeded():
    torch.manual_seed(0)
    ids, vocab = _tiny_corpus()
    model = RNNLM(nn.GRU(len(vocab), 8), len(vocab))
    first = predict("ab", 10, model, vocab)
    assert first == predict("ab", 10, model, vocab)
    assert first.startswith("ab")
    assert len(predict(list("ab"), 10, model, vocab, sep="|").split("|")) == 12
    sampled = predict("ab", 10, model, vocab, temperature=1.0, seed=3)
    assert sampled == predict("ab", 10, model, vocab, temperature=1.0, seed=3)
    probs = next_token_probs("ab", model, vocab)
    assert probs.shape == (len(vocab),) and math.isclose(float(probs.sum()), 1.0,
                                                         rel_tol=1e-5)


@pytest.mark.parametrize("use_random_iter", [False, True])
def test_training_lowers_perplexity(use_random_iter):
    torch.manual_seed(0)
    ids, vocab = _tiny_corpus()
    train_iter = SeqDataLoader(ids[:900], 8, 10, use_random_iter=use_random_iter)
    model = RNNLM(nn.GRU(len(vocab), 16), len(vocab))
    curves = LiveCurves("epoch", "perplexity", ["train", "validation"])
    history = train(model, train_iter, ids[900:], num_epochs=8, lr=0.02, device="cpu",
                    eval_batch_size=4, eval_num_steps=10, curves=curves)
    assert curves.xs == [list(map(float, range(1, 9)))] * 2   # one point per epoch
    assert len(history["val_ppl"]) == 8 and len(history["grad_norms"]) > 8
    assert history["best_val_ppl"] < 0.5 * history["initial_val_ppl"]
    assert history["best_val_ppl"] < 1.5  # the text is nearly deterministic
    assert math.isclose(evaluate_perplexity(model, ids[900:], 4, 10),
                        history["best_val_ppl"], rel_tol=1e-6)


def test_train_epoch_clips_and_reports():
    torch.manual_seed(0)
    ids, vocab = _tiny_corpus()
    model = RNNLM(RNNScratch(len(vocab), 8), len(vocab))
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    stats = train_epoch(model, SeqDataLoader(ids, 4, 5), opt, "cpu", clip=1e-3)
    assert stats["num_tokens"] > 0 and stats["tokens_per_s"] > 0
    assert all(norm > 1e-3 for norm in stats["grad_norms"])  # norms before clipping
