"""Tests of utils.ngram: smoothed n-gram probabilities, perplexity, sampling, tuning."""
import math

import numpy as np
import pytest

from utils.ngram import NGramModel, select_eps

RNG_TEXT = np.random.default_rng(0).integers(0, 6, size=500).tolist()


@pytest.mark.parametrize("order", [1, 2, 3, 4])
@pytest.mark.parametrize("eps", [0.5, (1.0, 0.1, 5.0, 2.0)])
def test_distributions_sum_to_one(order, eps):
    eps = eps if np.isscalar(eps) else eps[:order]
    model = NGramModel(order, vocab_size=7, eps=eps).fit(RNG_TEXT)  # id 6 never seen
    for context in ([], [1], [2, 3], [0, 1, 2], [6, 6, 6], [5, 4, 3, 2, 1]):
        probs = model.distribution(context)
        assert probs.shape == (7,)
        assert probs.sum() == pytest.approx(1.0, abs=1e-12)
        assert (probs > 0).all()


def test_prob_matches_distribution_and_token_log_probs():
    model = NGramModel(3, vocab_size=6, eps=(1.0, 2.0, 3.0)).fit(RNG_TEXT)
    seq = [0, 1, 2, 3, 4, 5, 0, 0]
    expected = [math.log(model.prob(tok, seq[:t])) for t, tok in enumerate(seq)]
    np.testing.assert_allclose(model.token_log_probs(seq), expected, rtol=1e-12)


def test_known_small_example_by_hand():
    # 0 1 0 1 2 over m = 3 ids: n = 5, n(2) = 1; context 1 is followed twice, once by 2.
    model = NGramModel(2, vocab_size=3, eps=1.0).fit([0, 1, 0, 1, 2])
    p2 = (1 + 1 / 3) / (5 + 1)
    assert model.prob(2) == pytest.approx(p2)
    assert model.prob(2, context=[1]) == pytest.approx((1 + 1.0 * p2) / (2 + 1))
    # Context 2 is never followed by anything: back to the unigram estimate.
    assert model.prob(0, context=[2]) == pytest.approx(model.prob(0))
    # Only the last order - 1 ids of a context matter.
    assert model.prob(2, context=[0, 0, 1]) == model.prob(2, context=[1])


def test_trigram_by_hand():
    tokens = [0, 0, 1, 0, 0, 1, 1]
    eps = (2.0, 1.0, 0.5)
    model = NGramModel(3, vocab_size=2, eps=eps).fit(tokens)
    p1 = (3 + 2.0 / 2) / (7 + 2.0)   # n(1) = 3 of n = 7
    p2 = (2 + 1.0 * p1) / (4 + 1.0)  # n(0, 1) = 2; 0 is followed 4 times
    p3 = (2 + 0.5 * p2) / (2 + 0.5)  # n(0, 0, 1) = 2; (0, 0) is followed twice
    assert model.prob(1, context=[0, 0]) == pytest.approx(p3)


def test_maximum_likelihood_without_smoothing():
    model = NGramModel(2, vocab_size=4, eps=0).fit([0, 1, 0, 2, 0, 1])
    assert model.prob(1, context=[0]) == pytest.approx(2 / 3)
    assert model.prob(3) == 0.0
    assert model.perplexity([0, 3]) == math.inf
    # An unseen context backs off to the unigram counts.
    assert model.prob(0, context=[3]) == pytest.approx(3 / 6)


def test_uniform_model_has_perplexity_vocab_size():
    model = NGramModel(1, vocab_size=10, eps=1e15).fit([0, 0, 1])
    assert model.perplexity([3, 4, 5, 9]) == pytest.approx(10.0, rel=1e-9)
    model = NGramModel(1, vocab_size=4, eps=0).fit([0, 1, 2, 3])
    assert model.perplexity([3, 2, 1, 0, 0]) == pytest.approx(4.0)
    assert model.cross_entropy([1, 2]) == pytest.approx(math.log(4))


def test_higher_order_fits_its_training_text_better():
    ppl = [NGramModel(n, 6, eps=1.0).fit(RNG_TEXT[:300]).perplexity(RNG_TEXT[:300])
           for n in (1, 2, 3)]
    assert ppl[0] > ppl[1] > ppl[2]


def test_eps_override_reuses_counts():
    model = NGramModel(2, 6, eps=1.0).fit(RNG_TEXT)
    other = NGramModel(2, 6, eps=(0.3, 7.0)).fit(RNG_TEXT)
    assert model.perplexity(RNG_TEXT[:50], eps=(0.3, 7.0)) == pytest.approx(
        other.perplexity(RNG_TEXT[:50]), rel=1e-12)


def test_sampling_is_seeded_and_follows_the_model():
    tokens = [0, 1, 2] * 50
    model = NGramModel(2, vocab_size=3, eps=1e-9).fit(tokens)
    a = model.sample([0], 20, np.random.default_rng(1))
    b = model.sample([0], 20, np.random.default_rng(1))
    assert a == b and len(a) == 21
    assert a == [0, 1, 2] * 7  # almost deterministic transitions
    unigram = NGramModel(1, vocab_size=3, eps=1.0).fit(tokens)
    assert len(unigram.sample([], 5, np.random.default_rng(0))) == 5


def test_select_eps_picks_the_best_grid_value():
    model = NGramModel(3, 6, eps=1.0).fit(RNG_TEXT[:400])
    grid = [0.1, 1.0, 10.0, 100.0]
    eps, table = select_eps(model, RNG_TEXT[400:], grid)
    assert len(eps) == 3 and len(table) == 3 and all(len(r) == len(grid) for r in table)
    for k in range(3):
        assert eps[k] == grid[int(np.argmin(table[k]))]
    assert model.eps == (1.0, 1.0, 1.0)  # unchanged
    assert min(table[2]) == pytest.approx(model.perplexity(RNG_TEXT[400:], eps=eps))
    with pytest.raises(ValueError, match="grid"):
        select_eps(model, RNG_TEXT[400:], [0.0, 1.0])


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="order"):
        NGramModel(0, 5)
    with pytest.raises(ValueError, match="vocab_size"):
        NGramModel(2, 0)
    with pytest.raises(ValueError, match="eps"):
        NGramModel(2, 5, eps=(1.0,))
    with pytest.raises(ValueError, match="non-negative"):
        NGramModel(2, 5, eps=-1.0)
    with pytest.raises(ValueError, match="empty"):
        NGramModel(2, 5).fit([])
    with pytest.raises(ValueError, match="token ids"):
        NGramModel(2, 5).fit([0, 5])
    with pytest.raises(RuntimeError, match="fit"):
        NGramModel(2, 5).perplexity([0, 1])
    with pytest.raises(ValueError, match="empty"):
        NGramModel(2, 5).fit([0, 1]).perplexity([])


def test_perplexity_by_order_matches_separate_models():
    eps = (0.5, 2.0, 1.0, 3.0)
    model = NGramModel(4, 6, eps=eps).fit(RNG_TEXT[:400])
    by_order = model.perplexity_by_order(RNG_TEXT[400:])
    for k in range(1, 5):
        alone = NGramModel(k, 6, eps=eps[:k]).fit(RNG_TEXT[:400])
        assert by_order[k - 1] == pytest.approx(alone.perplexity(RNG_TEXT[400:]),
                                                rel=1e-12)
