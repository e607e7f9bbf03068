"""Tests of utils.bag_of_ngrams: the NB log-count ratio and the NB-LR baseline."""
import numpy as np
import pytest

from utils.bag_of_ngrams import NBLogisticRegression, nb_log_count_ratio, select_C

POSITIVE = ["great", "wonderful", "superb", "loved", "brilliant", "moving"]
NEGATIVE = ["awful", "boring", "terrible", "hated", "dull", "waste"]
NEUTRAL = ["the", "film", "movie", "plot", "actors", "it", "was", "a", "and", "story"]


def _toy_corpus(n: int, seed: int):
    """Reviews whose label is given away by one sentiment word among neutral ones."""
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for i in range(n):
        label = i % 2
        words = list(rng.choice(NEUTRAL, size=8))
        words.insert(int(rng.integers(0, 9)),
                     str(rng.choice(POSITIVE if label else NEGATIVE)))
        texts.append(" ".join(words) + " .")
        labels.append(label)
    return texts, labels


def test_nb_log_count_ratio_matches_hand_computation():
    # features: a, b, c; two positive and two negative examples
    X = np.array([[1, 0, 1],
                  [1, 1, 0],
                  [0, 1, 1],
                  [0, 0, 1]])
    y = np.array([1, 1, 0, 0])
    # p = 1 + [2, 1, 1] = [3, 2, 2], |p|1 = 7; q = 1 + [0, 1, 2] = [1, 2, 3], |q|1 = 6
    expected = np.log([(3 / 7) / (1 / 6), (2 / 7) / (2 / 6), (2 / 7) / (3 / 6)])
    np.testing.assert_allclose(nb_log_count_ratio(X, y), expected)
    # the same on a sparse matrix, and with another alpha
    from scipy.sparse import csr_matrix
    np.testing.assert_allclose(nb_log_count_ratio(csr_matrix(X), y), expected)
    p, q = 0.5 + np.array([2, 1, 1]), 0.5 + np.array([0, 1, 2])
    np.testing.assert_allclose(nb_log_count_ratio(X, y, alpha=0.5),
                               np.log(p / p.sum()) - np.log(q / q.sum()))


def test_fitted_r_is_that_of_binarized_unigrams_and_bigrams():
    texts = ["good good film", "good plot", "bad film", "bad bad plot"]
    clf = NBLogisticRegression().fit(texts, [1, 1, 0, 0])
    names = clf.vectorizer_.get_feature_names_out().tolist()
    assert names == sorted(["good", "film", "plot", "bad", "good good", "good film",
                            "good plot", "bad film", "bad bad", "bad plot"])
    r = dict(zip(names, clf.r_))
    # binarized: "good" counts once in review 0, so p_good = 1 + 2, not 1 + 3
    # |p|1 = alpha * V + n-grams present in the positive reviews (4 + 3), and for q
    # those in the negative ones (3 + 4)
    p_total = q_total = 10 + 7
    assert r["good"] == pytest.approx(np.log((3 / p_total) / (1 / q_total)))
    assert r["film"] == pytest.approx(0.0)
    assert r["bad bad"] == pytest.approx(np.log((1 / p_total) / (2 / q_total)))


def test_separates_a_separable_corpus_and_generalizes():
    texts, labels = _toy_corpus(200, seed=0)
    test_texts, test_labels = _toy_corpus(100, seed=1)
    clf = NBLogisticRegression(C=1.0).fit(texts, labels)
    assert clf.score(texts, labels) == 1.0
    assert clf.score(test_texts, test_labels) == 1.0
    r = dict(zip(clf.vectorizer_.get_feature_names_out(), clf.r_))
    assert all(r[w] > 1 for w in POSITIVE) and all(r[w] < -1 for w in NEGATIVE)
    pred = clf.predict(["a wonderful film", "a dull film"])
    assert pred.tolist() == [1, 0]
    scores = clf.decision_function(["a wonderful film", "a dull film"])
    assert scores.shape == (2,) and scores[0] > 0 > scores[1]


def test_token_lists_give_the_same_model_as_texts():
    from utils.text import tokenize_review

    texts, labels = _toy_corpus(60, seed=2)
    a = NBLogisticRegression().fit(texts, labels)
    b = NBLogisticRegression().fit([tokenize_review(t) for t in texts], labels)
    np.testing.assert_array_equal(a.r_, b.r_)
    np.testing.assert_allclose(a.decision_function(texts), b.decision_function(texts))


def test_other_labels_and_determinism():
    texts, labels = _toy_corpus(80, seed=3)
    named = np.where(np.asarray(labels) == 1, 7, -3)
    clf = NBLogisticRegression().fit(texts, named)
    assert clf.classes_.tolist() == [-3, 7]
    assert set(clf.predict(texts).tolist()) == {-3, 7}
    again = NBLogisticRegression().fit(texts, named)
    np.testing.assert_array_equal(clf.model_.coef_, again.model_.coef_)


def test_min_df_and_ngram_range_shape_the_vocabulary():
    texts = ["good film", "good plot", "bad film", "bad plot twist"]
    labels = [1, 1, 0, 0]
    uni = NBLogisticRegression(ngram_range=(1, 1)).fit(texts, labels)
    assert len(uni.r_) == 5  # bad, film, good, plot, twist
    common = NBLogisticRegression(min_df=2).fit(texts, labels)
    assert common.vectorizer_.get_feature_names_out().tolist() == [
        "bad", "film", "good", "plot"]


def test_select_C_scores_every_candidate_on_validation():
    texts, labels = _toy_corpus(120, seed=4)
    valid_texts, valid_labels = _toy_corpus(40, seed=5)
    best, scores = select_C(texts, labels, valid_texts, valid_labels,
                            Cs=[3.0, 0.01, 1.0])
    assert sorted(scores) == [0.01, 1.0, 3.0]
    assert all(0 <= s <= 1 for s in scores.values())
    assert scores[best] == max(scores.values())
    # ties go to the smallest C
    assert best == min(C for C, s in scores.items() if s == scores[best])
    assert select_C(texts, labels, valid_texts, valid_labels, Cs=[3.0, 0.01, 1.0],
                    min_df=1) == (best, scores)


def test_not_fitted():
    with pytest.raises(RuntimeError, match="not fitted"):
        NBLogisticRegression().predict(["good"])


@pytest.mark.parametrize("kwargs, error, match", [
    ({"C": 0}, ValueError, "C must be a finite number > 0, got 0"),
    ({"C": float("inf")}, ValueError, "C must be"),
    ({"C": "1"}, TypeError, "C must be a positive number, got str"),
    ({"C": True}, TypeError, "C must be"),
    ({"ngram_range": (2, 1)}, ValueError, r"1 <= min_n <= max_n, got \(2, 1\)"),
    ({"ngram_range": (0, 2)}, ValueError, "ngram_range"),
    ({"ngram_range": 2}, TypeError, "ngram_range must be a pair"),
    ({"ngram_range": (1.0, 2)}, TypeError, "ngram_range"),
    ({"min_df": 0}, ValueError, "min_df must be at least 1, got 0"),
    ({"min_df": 0.5}, TypeError, "min_df must be an int, got float"),
    ({"alpha": -1}, ValueError, "alpha must be a finite number > 0, got -1"),
    ({"max_iter": 0}, ValueError, "max_iter"),
])
def test_constructor_checks_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        NBLogisticRegression(**kwargs)


def test_fit_and_predict_check_arguments():
    clf = NBLogisticRegression()
    with pytest.raises(TypeError, match="single str"):
        clf.fit("a great film", [1])
    with pytest.raises(TypeError, match="texts"):
        clf.fit(iter(["a", "b"]), [0, 1])
    with pytest.raises(ValueError, match="at least one review"):
        clf.fit([], [])
    with pytest.raises(TypeError, match=r"texts mixes .* texts\[1\] is of type int"):
        clf.fit(["good", 3], [1, 0])
    with pytest.raises(TypeError, match=r"texts\[1\] must hold str tokens only"):
        clf.fit([["good"], ["bad", 2]], [1, 0])
    with pytest.raises(TypeError, match=r"texts\[0\] must be a str"):
        clf.fit([3, 4], [1, 0])
    with pytest.raises(ValueError, match="2 labels for 3 reviews"):
        clf.fit(["good", "bad", "ok"], [1, 0])
    with pytest.raises(TypeError, match="integer labels"):
        clf.fit(["good", "bad"], [1.0, 0.0])
    with pytest.raises(TypeError, match="labels must be a sequence"):
        clf.fit(["good", "bad"], "10")
    with pytest.raises(ValueError, match="exactly two classes, got 1"):
        clf.fit(["good", "bad"], [1, 1])
    with pytest.raises(ValueError, match="exactly two classes, got 3"):
        clf.fit(["good", "bad", "ok"], [0, 1, 2])
    clf.fit(["good film", "bad film"], [1, 0])
    with pytest.raises(TypeError, match="single str"):
        clf.predict("good film")
    with pytest.raises(TypeError, match="single str"):
        clf.score("good film", [1])


def test_nb_log_count_ratio_and_select_C_check_arguments():
    X = np.eye(2)
    with pytest.raises(ValueError, match="both labels"):
        nb_log_count_ratio(X, [1, 1])
    with pytest.raises(ValueError, match=r"0/1 labels, got values \[1, 2\]"):
        nb_log_count_ratio(X, [1, 2])
    with pytest.raises(TypeError, match="X must be a 2-D"):
        nb_log_count_ratio([[1, 0], [0, 1]], [0, 1])
    with pytest.raises(ValueError, match="alpha"):
        nb_log_count_ratio(X, [0, 1], alpha=0)
    texts, labels = ["good", "bad"], [1, 0]
    with pytest.raises(ValueError, match="Cs must hold at least one"):
        select_C(texts, labels, texts, labels, Cs=[])
    with pytest.raises(ValueError, match="each C in Cs must be a finite number > 0"):
        select_C(texts, labels, texts, labels, Cs=[1.0, -1.0])
    with pytest.raises(TypeError, match="Cs must be a sequence"):
        select_C(texts, labels, texts, labels, Cs=1.0)
    with pytest.raises(TypeError, match="valid_texts must be a list"):
        select_C(texts, labels, "good", labels)
    with pytest.raises(ValueError, match="valid_labels must hold one label per review"):
        select_C(texts, labels, texts, [1])
    with pytest.raises(TypeError, match="pass candidates as Cs"):
        select_C(texts, labels, texts, labels, C=1.0)
