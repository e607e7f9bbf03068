"""Tests of utils.transfer (one vocabulary for the LM and the classifier) and of
utils.torch.transfer (a language model's encoder under a classification head)."""
import numpy as np
import pytest
import torch

from utils.classify_data import ClassifyLoader
from utils.torch.classify import (discriminative_param_groups, train_classifier,
                                  unfreeze_top)
from utils.torch.lm import WordLM
from utils.torch.train import TrainConfig, fit
from utils.torch.transfer import LMClassifier
from utils.transfer import (EOS_TOKEN, nested_label_subsets, token_stream,
                            wikitext_review_tokens)
from utils.batching import BPTTWindows, bptt_batchify


def test_wikitext_tokens_follow_the_review_conventions():
    lines = [" = Film = ", "", " The <unk> film @-@ maker 's 1 @,@ 000 fans . ",
             " = = Reception = = ", " Great ! "]
    assert wikitext_review_tokens(lines) == [
        "the", "<unk>", "film", "-", "maker", "'", "s", "1", ",", "000", "fans", ".",
        EOS_TOKEN,
        "great", "!", EOS_TOKEN]


def test_wikitext_tokens_refuse_one_string():
    with pytest.raises(TypeError, match="splitlines"):
        wikitext_review_tokens(" a line ")


def test_token_stream_puts_eos_after_every_document():
    assert token_stream([[5, 6], [], [7]], eos_id=2).tolist() == [5, 6, 2, 2, 7, 2]
    with pytest.raises(ValueError, match="at least one"):
        token_stream([], eos_id=2)


def test_nested_label_subsets_are_balanced_and_nested():
    labels = np.array([0, 1] * 50 + [1] * 20)
    small, large, everything = nested_label_subsets(labels, [10, 41, None], seed=3)
    assert set(small) <= set(large) and len(everything) == len(labels)
    assert np.bincount(labels[small]).tolist() == [5, 5]
    assert np.bincount(labels[large]).tolist() == [21, 20]
    again = nested_label_subsets(labels, [10], seed=3)[0]
    assert again.tolist() == small.tolist()
    with pytest.raises(ValueError, match="balanced subset"):
        nested_label_subsets(labels, [110])
    with pytest.raises(TypeError, match="sizes"):
        nested_label_subsets(labels, 10)


def _tiny_lm(vocab_size=40, layers=2):
    torch.manual_seed(0)
    return WordLM(vocab_size, 8, 16, layers, dropout=0.0, adaptive_cutoffs=(10, 20))


def test_adaptive_softmax_lm_returns_log_probabilities_and_trains():
    lm = _tiny_lm()
    X = torch.randint(0, 40, (3, 7))
    log_probs, _ = lm(X)
    assert log_probs.shape == (3, 7, 40)
    torch.testing.assert_close(log_probs.exp().sum(-1), torch.ones(3, 7))
    ids = np.tile(np.arange(40), 30)                   # a cycle: easy to learn
    data = BPTTWindows(bptt_batchify(ids, 4), 10)
    history = fit(lm, data, bptt_batchify(ids[:400], 2),
                  TrainConfig(num_epochs=3, lr=1e-2, fused_loss=True), "cpu")
    assert history["best_val_ppl"] < 0.5 * history["initial_val_ppl"]


def test_adaptive_cutoffs_are_checked():
    with pytest.raises(ValueError, match="adaptive_cutoffs"):
        WordLM(40, 8, 8, adaptive_cutoffs=(20, 10))
    with pytest.raises(ValueError, match="adaptive_cutoffs"):
        WordLM(40, 8, 8, tie_weights=True, adaptive_cutoffs=(10,))
    with pytest.raises(ValueError, match="num_hiddens"):
        WordLM(40, 8, 8, adaptive_cutoffs=(10, 20))      # 8 / 4**2 < 1: an empty band


def test_lm_classifier_copies_the_encoder_and_ignores_padding():
    lm = _tiny_lm()
    model = LMClassifier.from_lm(lm, dropout=0.0).eval()
    torch.testing.assert_close(model.embedding.weight, lm.embedding.weight)
    torch.testing.assert_close(model.rnn.weight_hh_l1, lm.rnn.weight_hh_l1)
    review = torch.tensor([[4, 9, 3, 7]])
    padded = torch.tensor([[4, 9, 3, 7, 1, 1, 1]])
    with torch.no_grad():
        alone = model(review, torch.tensor([4]))
        with_pad = model(padded, torch.tensor([4]))
    assert alone.shape == (1, 2)
    torch.testing.assert_close(alone, with_pad, rtol=0, atol=1e-6)
    groups = model.layer_groups()
    assert len(groups) == 4                              # embedding, 2 layers, head
    assert sum(len(g) for g in groups) == len(list(model.parameters()))


def test_lm_classifier_refuses_other_models():
    with pytest.raises(TypeError, match="WordLM"):
        LMClassifier.from_lm(torch.nn.LSTM(3, 3))


def test_discriminative_learning_rates_fall_towards_the_input():
    model = LMClassifier(30, 4, 5, num_layers=2)
    groups = discriminative_param_groups(model.layer_groups(), 1e-2, 2.0)
    assert [g["lr"] for g in groups] == [1e-2 / 8, 1e-2 / 4, 1e-2 / 2, 1e-2]
    with pytest.raises(ValueError, match="lr_factor"):
        discriminative_param_groups(model.layer_groups(), 1e-2, 0.5)
    with pytest.raises(TypeError, match="layer_groups"):
        discriminative_param_groups(model, 1e-2, 2.0)


def test_unfreeze_top_freezes_the_rest():
    model = LMClassifier(30, 4, 5, num_layers=2)
    groups = model.layer_groups()
    unfreeze_top(groups, 1)
    assert [all(p.requires_grad for p in g) for g in groups] == [False, False, False, True]
    unfreeze_top(groups, 3)
    assert [all(p.requires_grad for p in g) for g in groups] == [False, True, True, True]


def test_gradual_unfreezing_moves_only_the_unfrozen_groups():
    torch.manual_seed(0)
    model = LMClassifier(30, 4, 5, num_layers=1, dropout=0.0)
    rng = np.random.default_rng(0)
    ids = [list(rng.integers(2, 30, 6)) for _ in range(16)]
    labels = [i % 2 for i in range(16)]
    loader = ClassifyLoader(ids, labels, 8, pad_id=1)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    train_classifier(model, loader, 1, 1e-2, "cpu", layer_groups=model.layer_groups(),
                     lr_factor=2.6, gradual_unfreezing=True)
    after = model.state_dict()
    assert torch.equal(before["embedding.weight"], after["embedding.weight"])
    assert torch.equal(before["rnn.weight_ih_l0"], after["rnn.weight_ih_l0"])
    assert not torch.equal(before["head.weight"], after["head.weight"])
    assert all(p.requires_grad for p in model.parameters())   # nothing left frozen
    train_classifier(model, loader, 2, 1e-2, "cpu", layer_groups=model.layer_groups(),
                     lr_factor=2.6, gradual_unfreezing=True)
    assert not torch.equal(before["rnn.weight_ih_l0"], model.state_dict()["rnn.weight_ih_l0"])


def test_train_classifier_needs_groups_for_the_transfer_settings():
    model = LMClassifier(30, 4, 5)
    loader = ClassifyLoader([[3, 4]], [1], 1, pad_id=1)
    with pytest.raises(ValueError, match="need layer_groups"):
        train_classifier(model, loader, 1, 1e-2, "cpu", lr_factor=2.6)


def test_load_transfer_data_builds_one_vocabulary_and_keeps_test_out(monkeypatch):
    from utils import datasets
    from utils.transfer import load_transfer_data

    good = ["a great film , great cast", "great fun and a fine story", "fine , great"]
    bad = ["a dull film , awful cast", "awful and dull", "dull , dull story"]
    train = (good * 4 + bad * 4, [1] * 12 + [0] * 12)
    test = (["zebra great"] * 4 + ["zebra awful"] * 4, [1] * 4 + [0] * 4)
    wiki = [" = Title = ", " The film @-@ maker <unk> . ", ""]
    monkeypatch.setattr(datasets, "read_imdb",
                        lambda split, cache=None: train if split == "train" else test)
    monkeypatch.setattr(datasets, "read_wikitext2", lambda split, cache=None: wiki)
    data = load_transfer_data(num_valid=4, num_test=6, max_size=12, max_len=3, seed=0)
    assert len(data.vocab) == 12 and data.vocab.idx_to_token[:3] == ["<unk>", "<pad>",
                                                                     EOS_TOKEN]
    assert "zebra" not in data.vocab                    # test words never enter it
    assert len(data.valid) == 4 and len(data.train) == 20 and len(data.test) == 6
    assert max(len(ids) for ids in data.train.ids) <= 3  # the classifiers' cut
    eos = data.vocab[EOS_TOKEN]
    assert int((data.review_train == eos).sum()) == 20   # every training review, whole
    assert int((data.review_valid == eos).sum()) == 4
    assert data.wiki_train.tolist()[-1] == eos and data.vocab.unk in data.wiki_train
    for split, tokens in ((data.train, data.train_tokens), (data.valid, data.valid_tokens),
                          (data.test, data.test_tokens)):  # the same reviews, whole
        assert len(tokens) == len(split)
        for words, ids, label in zip(tokens, split.ids, split.labels):
            assert ids == data.vocab[words[-3:]]          # the ids are its last tokens
            assert label == int("great" in words)        # every positive one says it
    with pytest.raises(ValueError, match="num_valid"):
        load_transfer_data(num_valid=1)


@pytest.mark.parametrize("args, error", [((16, 40, (20, 10)), ValueError),
                                         ((16, 40, ()), ValueError),
                                         ((16, 40, (0, 10)), ValueError),
                                         ((0, 40, (10,)), ValueError),
                                         ((16.0, 40, (10,)), TypeError)])
def test_adaptive_decoder_checks_its_arguments(args, error):
    from utils.torch.lm import AdaptiveDecoder
    with pytest.raises(error):
        AdaptiveDecoder(*args)
