"""Tests of utils.baselines: the baselines the model chapters compare with."""
from __future__ import annotations

import math

import numpy as np
import pytest

from utils import baselines
from utils.ngram import NGramModel, select_eps
from utils.text import split_corpus


def _corpus(n=3000, vocab_size=6, seed=0):
    rng = np.random.default_rng(seed)
    # A Markov chain: each token mostly follows its predecessor + 1.
    ids = [0]
    for _ in range(n - 1):
        ids.append((ids[-1] + 1) % vocab_size if rng.random() < 0.8
                   else int(rng.integers(vocab_size)))
    return ids


def test_char_ngram_baseline_is_chapter_2s_procedure():
    ids = _corpus()
    train, valid = ids[:2500], ids[2500:]
    got = baselines.char_ngram_baseline(train, valid, 6, max_order=3)
    fit, tune = split_corpus(train, 0.1)
    eps, _ = select_eps(NGramModel(3, 6).fit(fit), tune, list(baselines.EPS_GRID))
    expected = NGramModel(3, 6, eps).fit(train).perplexity_by_order(valid)
    assert got["eps"] == eps
    assert got["val_ppl_by_order"] == pytest.approx(expected)
    assert got["val_ppl"] == min(expected)
    assert got["best_order"] == int(np.argmin(expected)) + 1
    best = NGramModel(got["best_order"], 6, eps[:got["best_order"]]).fit(train)
    assert np.allclose(got["model"].token_log_probs(valid, order=got["best_order"]),
                       best.token_log_probs(valid))


def test_char_ngram_baseline_learns_the_chain():
    ids = _corpus()
    got = baselines.char_ngram_baseline(ids[:2500], ids[2500:], 6, max_order=2)
    unigram, bigram = got["val_ppl_by_order"]
    assert unigram > 5.0 and bigram < 3.0  # the chain is predictable from one token


@pytest.mark.parametrize("kwargs, error, match", [
    ({"train_ids": "abc"}, TypeError, "train_ids"),
    ({"valid_ids": [0.5, 1.5]}, TypeError, "valid_ids"),
    ({"valid_ids": []}, ValueError, "valid_ids"),
    ({"valid_ids": [0, 9]}, ValueError, "valid_ids"),
    ({"vocab_size": "6"}, TypeError, "vocab_size"),
    ({"vocab_size": 0}, ValueError, "vocab_size"),
    ({"max_order": 0}, ValueError, "max_order"),
    ({"max_order": 2.0}, TypeError, "max_order"),
    ({"tune_fraction": 1.0}, ValueError, "tune_fraction"),
])
def test_char_ngram_baseline_checks_its_arguments(kwargs, error, match):
    args = {"train_ids": [0, 1, 2, 3] * 10, "valid_ids": [0, 1, 2], "vocab_size": 6}
    args.update(kwargs)
    with pytest.raises(error, match=match):
        baselines.char_ngram_baseline(**args)


def test_unigram_perplexity():
    # Training frequencies 3:1 (+1 each: 4:2); the eval text has one of each.
    ppl = baselines.unigram_perplexity([0, 0, 0, 1], [0, 1], 2)
    assert ppl == pytest.approx(math.exp(-(math.log(4 / 6) + math.log(2 / 6)) / 2))
    assert baselines.unigram_perplexity([0, 1, 2], [0, 1, 2], 3) == pytest.approx(3.0)
    with pytest.raises(ValueError, match="eval_ids"):
        baselines.unigram_perplexity([0, 1], [2], 2)
    with pytest.raises(TypeError, match="train_ids"):
        baselines.unigram_perplexity(None, [0], 2)
