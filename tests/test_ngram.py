"""Tests of utils.ngram: smoothed n-gram probabilities, perplexity, sampling, tuning."""
import collections
import math

import numpy as np
import pytest

from utils.ngram import KneserNeyLM, NGramModel, kneser_ney_baselines, select_eps

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


# ---------------------------------------------------------------------------- Kneser-Ney


def _markov_text(num_tokens, num_ids, seed):
    """Text from a random first-order Markov chain with sparse, skewed transitions."""
    rng = np.random.default_rng(seed)
    cumulative = np.cumsum(rng.dirichlet(np.full(num_ids, 0.1), size=num_ids), axis=1)
    tokens, uniform = [0], rng.random(num_tokens - 1)
    for u in uniform:
        tokens.append(min(int(np.searchsorted(cumulative[tokens[-1]], u)), num_ids - 1))
    return tokens


# Text over 40 ids (38 and 39 never occur): its n-gram counts have singletons,
# doubletons, … at orders 2 and up, so those levels estimate their discounts, while
# the unigram raw and continuation counts (some n1 … n4 is 0) take the fallback.
MARKOV_TEXT = _markov_text(1500, 38, seed=1)
FALLBACK = (0.5, 1.0, 1.5)


def _reference_discounts(counts):
    """Chen & Goodman's discounts from a list of counts, written out independently."""
    n = [sum(1 for c in counts if c == r) for r in range(5)]
    if min(n[1:5]) > 0:
        y = n[1] / (n[1] + 2 * n[2])
        d = (1 - 2 * y * n[2] / n[1], 2 - 3 * y * n[3] / n[2], 3 - 4 * y * n[4] / n[3])
        if 0 < d[0] <= 1 and 0 < d[1] <= 2 and 0 < d[2] <= 3:
            return d
    return FALLBACK


class ReferenceKN:
    """A slow, dict-based interpolated modified Kneser–Ney model: the formulas."""

    def __init__(self, tokens, order, vocab_size):
        self.order, self.m = order, vocab_size
        self.raw = [collections.Counter(tuple(tokens[i:i + k])
                                        for i in range(len(tokens) - k + 1))
                    for k in range(order + 1)]
        self.cont = [collections.Counter() for _ in range(order + 1)]
        for k in range(1, order):  # N1+(. g): distinct tokens seen before g
            for gram in self.raw[k + 1]:
                self.cont[k][gram[1:]] += 1
        self.tables = {}
        for k in range(1, order + 1):
            for kind, counts in (("raw", self.raw[k]), ("cont", self.cont[k])):
                by_context = collections.defaultdict(list)
                for gram, c in counts.items():
                    by_context[gram[:-1]].append(c)
                self.tables[kind, k] = (counts, by_context,
                                        _reference_discounts(list(counts.values())))

    def prob(self, token, context):
        context = tuple(context)[max(0, len(context) - self.order + 1):]
        return self._prob(token, context, top=True)

    def _prob(self, token, context, top):
        k = len(context) + 1
        lower = 1 / self.m if k == 1 else self._prob(token, context[1:], top=False)
        counts, by_context, d = self.tables["raw" if top else "cont", k]
        followers = by_context.get(context, [])
        total = sum(followers)
        if total == 0:
            return lower
        discount = lambda c: 0.0 if c == 0 else d[min(c, 3) - 1]  # noqa: E731
        gamma = sum(discount(c) for c in followers)
        c = counts.get(context + (token,), 0)
        return (max(c - discount(c), 0) + gamma * lower) / total


CONTEXTS = ([], [1], [2, 3], [0, 1, 2], [39], [39, 39, 39], [39, 1], [1, 39],
            [3, 39, 2], [5, 4, 3, 2, 1], [0, 0, 0, 0])


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_kn_distributions_sum_to_one(order):
    for text in (MARKOV_TEXT, RNG_TEXT):
        model = KneserNeyLM(order, vocab_size=40).fit(text)
        for context in CONTEXTS:  # seen, unseen (39), partially seen, too long
            probs = model.distribution(context)
            assert probs.shape == (40,)
            assert probs.sum() == pytest.approx(1.0, abs=1e-12)
            assert (probs > 0).all()


@pytest.mark.parametrize("order", [1, 2, 3, 4])
def test_kn_matches_reference_implementation(order):
    train, heldout = MARKOV_TEXT[:1200], MARKOV_TEXT[1200:1400] + [38, 39, 0]
    model = KneserNeyLM(order, vocab_size=40).fit(train)
    reference = ReferenceKN(train, order, vocab_size=40)
    expected = [math.log(reference.prob(tok, heldout[:t])) for t, tok in
                enumerate(heldout)]
    np.testing.assert_allclose(model.token_log_probs(heldout), expected, rtol=1e-12)
    for context in CONTEXTS:
        np.testing.assert_allclose(model.distribution(context),
                                   [reference.prob(x, context) for x in range(40)],
                                   rtol=1e-12)


def test_kn_discounts_follow_chen_goodman():
    model = KneserNeyLM(4, vocab_size=40).fit(MARKOV_TEXT)
    reference = ReferenceKN(MARKOV_TEXT, 4, vocab_size=40)
    for k in range(1, 5):
        np.testing.assert_allclose(model.raw_discounts[k - 1],
                                   reference.tables["raw", k][2], rtol=1e-12)
    for k in range(1, 4):
        np.testing.assert_allclose(model.continuation_discounts[k - 1],
                                   reference.tables["cont", k][2], rtol=1e-12)
    # The test data exercise both the estimate and the fallback.
    assert tuple(model.raw_discounts[0]) == FALLBACK
    assert tuple(model.continuation_discounts[0]) == FALLBACK
    assert all(tuple(d) != FALLBACK for d in model.raw_discounts[1:])
    assert all(tuple(d) != FALLBACK for d in model.continuation_discounts[1:])
    assert model.num_ngrams[0] == 38 and len(model.num_ngrams) == 4
    assert model.continuation_discounts.shape == (3, 3)


def test_kn_perplexity_by_order_matches_separate_models():
    train, heldout = MARKOV_TEXT[:1200], MARKOV_TEXT[1200:]
    by_order = KneserNeyLM(5, 40).fit(train).perplexity_by_order(heldout)
    assert len(by_order) == 5
    for k in range(1, 6):
        alone = KneserNeyLM(k, 40).fit(train)
        assert by_order[k - 1] == pytest.approx(alone.perplexity(heldout), rel=1e-12)
    assert by_order[0] > by_order[1]  # context helps on this text


def test_kn_bigram_by_hand():
    # 0 1 0 1 2 with m = 3: every count-of-counts table lacks n3, so the discounts
    # are the fallback (0.5, 1, 1.5).
    model = KneserNeyLM(2, vocab_size=3).fit([0, 1, 0, 1, 2])
    # Continuation counts: each id follows exactly one distinct id -> N1+(. x) = 1,
    # so P_cont(x) = ((1 - 0.5) + 3 * 0.5 / 3) / 3 = 1/3 for every x.
    np.testing.assert_allclose(model.distribution([2]), [1 / 3] * 3)  # unseen context
    # Context 1 is followed once by 0 and once by 2: gamma = 0.5 + 0.5.
    assert model.prob(2, context=[1]) == pytest.approx((0.5 + 1.0 / 3) / 2)
    assert model.prob(1, context=[1]) == pytest.approx((0 + 1.0 / 3) / 2)
    # Context 0 is followed twice by 1: D2 = 1, gamma = 1.
    assert model.prob(1, context=[0]) == pytest.approx((2 - 1 + 1 / 3) / 2)
    # An empty context is read by the unigram model, whose top level has raw counts
    # 2, 2, 1 (discounts 1, 1, 0.5; gamma = 2.5).
    np.testing.assert_allclose(model.distribution([]),
                               np.array([1 + 2.5 / 3, 1 + 2.5 / 3, 0.5 + 2.5 / 3]) / 5)
    # The first token of a stream has no history: unigram model; then bigrams.
    np.testing.assert_allclose(model.token_log_probs([0, 1, 2]),
                               np.log([(1 + 2.5 / 3) / 5, 2 / 3, (0.5 + 1 / 3) / 2]))


def test_kn_tiny_and_custom_fallback():
    model = KneserNeyLM(3, vocab_size=4, fallback_discounts=(1.0, 2.0, 3.0)).fit([2])
    assert model.num_ngrams == (1, 0, 0)
    for context in ([], [2], [2, 2], [0, 1]):
        assert model.distribution(context).sum() == pytest.approx(1.0)
    # Discounts equal to the counts: the unigram is all gamma, i.e. uniform.
    assert model.perplexity([0, 1, 2, 3]) == pytest.approx(4.0)
    np.testing.assert_allclose(model.raw_discounts, [(1.0, 2.0, 3.0)] * 3)


def test_kn_accepts_arrays_and_beats_additive_smoothing():
    train, heldout = np.array(MARKOV_TEXT[:1200], dtype=np.int32), MARKOV_TEXT[1200:]
    kn = KneserNeyLM(3, 40).fit(train)
    assert kn.perplexity(np.array(heldout, dtype=np.uint16)) == kn.perplexity(heldout)
    additive = NGramModel(3, 40, eps=1.0).fit(train)
    assert kn.perplexity(heldout) < additive.perplexity(heldout)
    assert "order=3" in repr(kn) and "not fitted" in repr(KneserNeyLM(2, 4))


def test_kneser_ney_baselines_matches_the_model():
    train, valid, test = MARKOV_TEXT[:1000], MARKOV_TEXT[1000:1250], MARKOV_TEXT[1250:]
    result = kneser_ney_baselines(train, {"valid": valid, "test": test}, 40,
                                  orders=(4, 2, 3))
    assert list(result) == ["valid", "test"]
    assert list(result["valid"]) == [2, 3, 4]
    for name, ids in (("valid", valid), ("test", test)):
        for k in (2, 3, 4):
            alone = KneserNeyLM(k, 40).fit(train).perplexity(ids)
            assert result[name][k] == pytest.approx(alone, rel=1e-12)


@pytest.mark.parametrize("call, error, message", [
    (lambda: KneserNeyLM(0, 5), ValueError, r"order must be an int >= 1, got 0"),
    (lambda: KneserNeyLM(2.0, 5), TypeError, r"order must be an int >= 1, got float"),
    (lambda: KneserNeyLM(True, 5), TypeError, r"order must be an int"),
    (lambda: KneserNeyLM(2, 0), ValueError, r"vocab_size must be an int >= 1, got 0"),
    (lambda: KneserNeyLM(2, "10"), TypeError, r"vocab_size must be an int >= 1, got str"),
    (lambda: KneserNeyLM(2, 5, fallback_discounts=(0.5, 1.0)), ValueError,
     r"fallback_discounts must be 3 numbers .*got 2 values"),
    (lambda: KneserNeyLM(2, 5, fallback_discounts=(0.0, 1.0, 1.5)), ValueError,
     r"fallback_discounts .*0 < D1 <= 1.*got \(0.0, 1.0, 1.5\)"),
    (lambda: KneserNeyLM(2, 5, fallback_discounts=(0.5, 2.5, 1.5)), ValueError,
     r"fallback_discounts"),
    (lambda: KneserNeyLM(2, 5, fallback_discounts="abc"), TypeError,
     r"fallback_discounts must be 3 numbers.*got str"),
    (lambda: KneserNeyLM(2, 5, fallback_discounts=(0.5, "1", 1.5)), TypeError,
     r"fallback_discounts"),
    (lambda: KneserNeyLM(2, 5).fit("0 1 2"), TypeError,
     r"ids must be a 1-D sequence of int token ids .*got a str"),
    (lambda: KneserNeyLM(2, 5).fit(b"\x00\x01"), TypeError, r"ids must be .*got a bytes"),
    (lambda: KneserNeyLM(2, 5).fit(["a", "b"]), TypeError, r"ids must be .*dtype <U1"),
    (lambda: KneserNeyLM(2, 5).fit([0.0, 1.0]), TypeError, r"ids must be .*dtype float"),
    (lambda: KneserNeyLM(2, 5).fit([True, False]), TypeError,
     r"ids must be .*dtype bool"),
    (lambda: KneserNeyLM(2, 5).fit([0, None]), TypeError, r"ids must be .*dtype object"),
    (lambda: KneserNeyLM(2, 5).fit(3), TypeError, r"ids must be .*got int"),
    (lambda: KneserNeyLM(2, 5).fit(None), TypeError, r"ids must be .*got NoneType"),
    (lambda: KneserNeyLM(2, 5).fit(iter([0, 1])), TypeError, r"ids must be"),
    (lambda: KneserNeyLM(2, 5).fit([[0, 1], [2]]), TypeError, r"ids must be"),
    (lambda: KneserNeyLM(2, 5).fit([[0, 1], [2, 3]]), ValueError,
     r"ids must be .*got shape \(2, 2\)"),
    (lambda: KneserNeyLM(2, 5).fit([]), ValueError,
     r"ids must hold at least one token id, got an empty list"),
    (lambda: KneserNeyLM(2, 5).fit([0, 5]), ValueError,
     r"ids must hold ids in \[0, 5\) \(vocab_size = 5\), got values from 0 to 5"),
    (lambda: KneserNeyLM(2, 5).fit([-1, 2]), ValueError,
     r"ids must hold ids in \[0, 5\)"),
    (lambda: KneserNeyLM(2, 2 ** 62).fit([0, 1]), ValueError, r"too large"),
    (lambda: KneserNeyLM(2, 5).perplexity([0, 1]), RuntimeError, r"fit"),
    (lambda: KneserNeyLM(2, 5).distribution([0]), RuntimeError, r"fit"),
    (lambda: KneserNeyLM(2, 5).fit([0, 1]).perplexity([]), ValueError,
     r"ids must hold at least one token id"),
    (lambda: KneserNeyLM(2, 5).fit([0, 1]).perplexity("01"), TypeError, r"got a str"),
    (lambda: KneserNeyLM(2, 5).fit([0, 1]).perplexity_by_order([9]), ValueError,
     r"ids must hold ids in \[0, 5\)"),
    (lambda: KneserNeyLM(2, 5).fit([0, 1]).token_log_probs([0.5]), TypeError,
     r"dtype float"),
    (lambda: KneserNeyLM(2, 5).fit([0, 1]).distribution("1"), TypeError,
     r"context must be .*got a str"),
    (lambda: KneserNeyLM(2, 5).fit([0, 1]).distribution([7]), ValueError,
     r"context must hold ids in \[0, 5\)"),
    (lambda: KneserNeyLM(2, 5).fit([0, 1]).prob(5), ValueError,
     r"token must be an int in \[0, 5\), got 5"),
    (lambda: KneserNeyLM(2, 5).fit([0, 1]).prob(-1), ValueError,
     r"token must be an int >= 0, got -1"),
    (lambda: KneserNeyLM(2, 5).fit([0, 1]).prob(1.0), TypeError,
     r"token must be an int >= 0, got float"),
    (lambda: kneser_ney_baselines([0, 1], {"valid": [0]}, 5, orders=[]), ValueError,
     r"orders must be a non-empty sequence of distinct ints >= 1, got \[\]"),
    (lambda: kneser_ney_baselines([0, 1], {"valid": [0]}, 5, orders=[2, 2]), ValueError,
     r"orders must be .*distinct.*got \[2, 2\]"),
    (lambda: kneser_ney_baselines([0, 1], {"valid": [0]}, 5, orders=[0, 2]), ValueError,
     r"orders\[i\] must be an int >= 1, got 0"),
    (lambda: kneser_ney_baselines([0, 1], {"valid": [0]}, 5, orders="23"), TypeError,
     r"orders must be a sequence .*got str"),
    (lambda: kneser_ney_baselines([0, 1], {"valid": [0]}, 5, orders=5), TypeError,
     r"orders must be a sequence .*got int"),
    (lambda: kneser_ney_baselines([0, 1], [[0]], 5), TypeError,
     r"eval_splits must be a dict of split name -> id sequence, got list"),
    (lambda: kneser_ney_baselines([0, 1], {}, 5), ValueError,
     r"eval_splits must hold at least one split"),
    (lambda: kneser_ney_baselines([0, 1], {1: [0]}, 5), TypeError,
     r"eval_splits keys must be split names \(str\), got int 1"),
    (lambda: kneser_ney_baselines([0, 1], {"valid": "0 1"}, 5), TypeError,
     r"eval_splits\['valid'\] must be .*got a str"),
    (lambda: kneser_ney_baselines([0, 1], {"valid": [0, 6]}, 5), ValueError,
     r"eval_splits\['valid'\] must hold ids in \[0, 5\)"),
    (lambda: kneser_ney_baselines("01", {"valid": [0]}, 5), TypeError, r"ids must be"),
    (lambda: kneser_ney_baselines([0, 1], {"valid": [0]}, -3), ValueError,
     r"vocab_size must be an int >= 1, got -3"),
])
def test_kn_bad_arguments_raise(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_token_log_probs_of_a_lower_order_are_that_models():
    ids = [0, 1, 2, 0, 1, 2, 1, 0, 2, 2, 1, 0]
    full = NGramModel(3, 3, [1.0, 0.5, 0.2]).fit(ids)
    bigram = NGramModel(2, 3, [1.0, 0.5]).fit(ids)
    assert np.allclose(full.token_log_probs(ids, order=2), bigram.token_log_probs(ids))
    with pytest.raises(ValueError, match="at most this model's 3"):
        full.token_log_probs(ids, order=4)
