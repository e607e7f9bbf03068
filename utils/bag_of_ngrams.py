"""A bag-of-n-grams baseline for sentiment: Naive Bayes features + logistic regression.

The baseline of Wang & Manning (2012), *Baselines and Bigrams*, in its logistic
regression form (NB-LR, a close cousin of their NBSVM)::

    review ──tokenize_review──▶ tokens ──unigrams + bigrams, present or not──▶ x ∈ {0,1}^V
           x ⊙ r ──LogisticRegression──▶ label

where ``r`` is the Naive Bayes log-count ratio of every n-gram, learned on the training
reviews (``nb_log_count_ratio``): an n-gram seen mostly in positive reviews gets a
large positive weight before the classifier sees it, one seen mostly in negative
reviews a large negative one. With C chosen on a validation split, it reaches about
0.91 test accuracy on the full IMDB data, a strong bar for the neural models.

The module uses NumPy and scikit-learn only, and imports scikit-learn when first used,
so that ``import utils`` stays quick.
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Sequence

import numpy as np

from .checks import check_int
from .classify_data import _check_labels
from .text import tokenize_review

DEFAULT_CS = (0.1, 0.3, 1.0, 3.0, 10.0)  # the C values ``select_C`` tries by default


# ---------------------------------------------------------------------------------------
# Argument checks
# ---------------------------------------------------------------------------------------

def _check_positive_number(value, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a positive number, got "
                        f"{type(value).__name__} {value!r}")
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


def _check_ngram_range(ngram_range) -> tuple[int, int]:
    if not isinstance(ngram_range, (tuple, list)) or len(ngram_range) != 2:
        raise TypeError("ngram_range must be a pair (min_n, max_n) of ints, got "
                        f"{type(ngram_range).__name__} {ngram_range!r}")
    low, high = ngram_range
    for n in (low, high):
        if isinstance(n, bool) or not isinstance(n, numbers.Integral):
            raise TypeError("ngram_range must be a pair (min_n, max_n) of ints, got "
                            f"{ngram_range!r}")
    if not 1 <= low <= high:
        raise ValueError("ngram_range must satisfy 1 <= min_n <= max_n, got "
                         f"{tuple(ngram_range)!r}")
    return int(low), int(high)


def _as_token_lists(texts, name: str = "texts") -> list:
    """Reviews as token lists: strings go through ``tokenize_review``, token lists as they are.

    ``texts`` must be a non-empty list (or tuple, or 1-D array) whose items are all
    strings (raw reviews) or all lists/tuples of strings (tokenized reviews).
    """
    if isinstance(texts, (str, bytes)):
        raise TypeError(f"{name} must be a list of reviews (strings or token lists), got "
                        f"a single {type(texts).__name__}; wrap one review in a list")
    if isinstance(texts, np.ndarray):
        if texts.ndim != 1:
            raise ValueError(f"{name} must be 1-D (one item per review), got an array "
                             f"of shape {texts.shape}")
        texts = texts.tolist()
    if not isinstance(texts, Sequence):
        raise TypeError(f"{name} must be a list of reviews (strings or token lists), got "
                        f"{type(texts).__name__}")
    if len(texts) == 0:
        raise ValueError(f"{name} must hold at least one review, got an empty "
                         f"{type(texts).__name__}")
    if isinstance(texts[0], str):
        for i, text in enumerate(texts):
            if not isinstance(text, str):
                raise TypeError(f"{name} mixes raw reviews and other items: {name}[0] is "
                                f"a str but {name}[{i}] is of type {type(text).__name__}")
        return [tokenize_review(text) for text in texts]
    for i, tokens in enumerate(texts):
        if not isinstance(tokens, (list, tuple)):
            raise TypeError(f"{name}[{i}] must be a str (a review) or a list of str "
                            f"tokens, got {type(tokens).__name__}")
        for token in tokens:
            if not isinstance(token, str):
                raise TypeError(f"{name}[{i}] must hold str tokens only, got a "
                                f"{type(token).__name__} ({token!r})")
    return list(texts)


def _as_labels(labels, num_texts: int, name: str = "labels") -> np.ndarray:
    array = _check_labels(labels, name)
    if len(array) != num_texts:
        raise ValueError(f"{name} must hold one label per review: got {len(array)} "
                         f"labels for {num_texts} reviews")
    return array.astype(np.int64)


# ---------------------------------------------------------------------------------------
# The Naive Bayes log-count ratio
# ---------------------------------------------------------------------------------------

def nb_log_count_ratio(X, y, alpha: float = 1.0) -> np.ndarray:
    """The Naive Bayes log-count ratio ``r`` of every feature (Wang & Manning 2012).

    With ``p = alpha + Σ_{i: y_i = 1} x_i`` and ``q = alpha + Σ_{i: y_i = 0} x_i``
    (feature counts in the positive and in the negative examples, smoothed),

        ``r = log((p / ‖p‖₁) / (q / ‖q‖₁))``.

    ``r_j > 0``: feature ``j`` is relatively more frequent in positive examples.

    Args:
        X: ``(n, V)`` feature matrix (NumPy array or SciPy sparse matrix), binarized
            for NBSVM (0/1: does the review hold the n-gram?).
        y: ``(n,)`` labels, 0 (negative) or 1 (positive); both must occur.
        alpha: the smoothing count added to every feature, > 0.

    Returns:
        ``r`` of shape ``(V,)``, float64.
    """
    alpha = _check_positive_number(alpha, "alpha")
    if not hasattr(X, "shape") or len(X.shape) != 2:
        raise TypeError("X must be a 2-D array or sparse matrix of shape (n, V), got "
                        f"{type(X).__name__}")
    y = _as_labels(y, X.shape[0], "y")
    if not np.isin(y, (0, 1)).all():
        raise ValueError(f"y must hold 0/1 labels, got values {np.unique(y).tolist()}")
    if y.min() == y.max():
        raise ValueError(f"y must hold both labels 0 and 1, got only {int(y[0])}")
    p = alpha + np.asarray(X[y == 1].sum(axis=0), dtype=np.float64).ravel()
    q = alpha + np.asarray(X[y == 0].sum(axis=0), dtype=np.float64).ravel()
    return np.log(p / p.sum()) - np.log(q / q.sum())


def _identity(x):
    return x


def _scale_columns(X, r: np.ndarray):
    """``X ⊙ r`` (every row times ``r``) for a CSR matrix, without densifying it."""
    X = X.tocsr(copy=True)
    X.data = X.data * r[X.indices]
    return X


# ---------------------------------------------------------------------------------------
# The classifier
# ---------------------------------------------------------------------------------------

class NBLogisticRegression:
    """NB-LR: binarized n-gram features scaled by the NB log-count ratio, then logistic regression.

    Args:
        C: inverse L2 strength of the logistic regression (scikit-learn's ``C``);
            larger means less regularization. 1.0 does well on IMDB; pick it on a
            validation split with ``select_C``.
        ngram_range: ``(min_n, max_n)``: the n-grams used as features; ``(1, 2)``,
            unigrams and bigrams, as in *Baselines and Bigrams*.
        min_df: keep an n-gram only if at least this many training reviews hold it
            (1: keep all; 2 or more shrinks the vocabulary, and memory, a lot).
        alpha: the Naive Bayes smoothing count (1 in the paper).
        max_iter: iteration limit of the solver.

    The solver is scikit-learn's ``liblinear`` (dual coordinate descent, well suited
    to far more features than examples) with a fixed ``random_state``, so that the
    same data gives the same model.

    Inputs (``texts``) are lists of raw reviews (``str``, tokenized with
    ``tokenize_review``) or of already tokenized reviews (lists of ``str``); labels
    are two distinct integers (IMDB: 0 negative, 1 positive).

    Attributes after ``fit``:
        classes_: the two labels, sorted; ``classes_[1]`` counts as positive for ``r``.
        r_: ``(V,)`` NB log-count ratio of every n-gram.
        vectorizer_: the fitted ``CountVectorizer`` (``get_feature_names_out()``).
        model_: the fitted ``LogisticRegression``.

    Example:
        >>> clf = NBLogisticRegression(C=1.0).fit(train_texts, train_labels)
        >>> clf.score(test_texts, test_labels)
    """

    def __init__(self, C: float = 1.0, ngram_range: tuple[int, int] = (1, 2),
                 min_df: int = 1, alpha: float = 1.0, max_iter: int = 1000):
        self.C = _check_positive_number(C, "C")
        self.ngram_range = _check_ngram_range(ngram_range)
        self.min_df = check_int("min_df", min_df, minimum=1)
        self.alpha = _check_positive_number(alpha, "alpha")
        self.max_iter = check_int("max_iter", max_iter, minimum=1)

    def __repr__(self) -> str:
        return (f"NBLogisticRegression(C={self.C}, ngram_range={self.ngram_range}, "
                f"min_df={self.min_df}, alpha={self.alpha}, max_iter={self.max_iter})")

    # -- the pieces, shared with select_C ----------------------------------------------

    def _fit_features(self, tokens: list, labels: np.ndarray):
        """Fit the vectorizer and ``r`` on training reviews; return their scaled features."""
        from sklearn.feature_extraction.text import CountVectorizer

        classes = np.unique(labels)
        if len(classes) != 2:
            raise ValueError("labels must hold exactly two classes, got "
                             f"{len(classes)}: {classes.tolist()[:10]}")
        self.classes_ = classes
        self.vectorizer_ = CountVectorizer(
            tokenizer=_identity, preprocessor=_identity, lowercase=False,
            token_pattern=None, ngram_range=self.ngram_range, min_df=self.min_df,
            binary=True, dtype=np.float64)
        X = self.vectorizer_.fit_transform(tokens)              # (n, V), 0/1
        self.r_ = nb_log_count_ratio(X, (labels == classes[1]).astype(np.int64),
                                     self.alpha)                  # (V,)
        return _scale_columns(X, self.r_)

    def _features(self, texts, name: str = "texts"):
        self._check_fitted()
        X = self.vectorizer_.transform(_as_token_lists(texts, name))
        return _scale_columns(X, self.r_)                         # (n, V)

    def _fit_model(self, X, y01: np.ndarray, C: float):
        from sklearn.linear_model import LogisticRegression

        model = LogisticRegression(C=C, solver="liblinear", dual=True,
                                   max_iter=self.max_iter, random_state=0)
        return model.fit(X, y01)

    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise RuntimeError("this NBLogisticRegression is not fitted yet; call fit "
                               "first")

    # -- the public interface ----------------------------------------------------------

    def fit(self, texts, labels) -> NBLogisticRegression:
        """Learn the vocabulary, ``r`` and the logistic regression; returns ``self``.

        Args:
            texts: the training reviews (strings or token lists).
            labels: one label per review, exactly two distinct values.
        """
        tokens = _as_token_lists(texts, "texts")
        labels = _as_labels(labels, len(tokens))
        X = self._fit_features(tokens, labels)
        self.model_ = self._fit_model(X, (labels == self.classes_[1]).astype(np.int64),
                                      self.C)
        return self

    def decision_function(self, texts) -> np.ndarray:
        """``(n,)`` scores: positive favours ``classes_[1]``."""
        X = self._features(texts)                                 # (n, V)
        return self.model_.decision_function(X)

    def predict(self, texts) -> np.ndarray:
        """``(n,)`` predicted labels (values of ``classes_``)."""
        scores = self.decision_function(texts)                   # (n,)
        return self.classes_[(scores > 0).astype(np.int64)]

    def score(self, texts, labels) -> float:
        """Accuracy: the share of reviews whose predicted label is ``labels``."""
        tokens = _as_token_lists(texts, "texts")
        labels = _as_labels(labels, len(tokens))
        return float(np.mean(self.predict(tokens) == labels))


def select_C(train_texts, train_labels, valid_texts, valid_labels,
             Cs: Sequence[float] = DEFAULT_CS, **params) -> tuple[float, dict[float, float]]:
    """Choose ``C`` of ``NBLogisticRegression`` by accuracy on a validation split.

    The vocabulary and ``r`` are learned once on the training part; only the logistic
    regression is refit for every ``C``. Carve the validation split out of the training
    data (``utils.classify_data.train_valid_split``), never use the test split, and afterwards refit
    on all the training data with the chosen ``C``.

    Args:
        train_texts, train_labels: the reviews to fit on.
        valid_texts, valid_labels: the held-out reviews that score each ``C``.
        Cs: the candidate values, each > 0.
        **params: the other constructor arguments of ``NBLogisticRegression``
            (``ngram_range``, ``min_df``, ``alpha``, ``max_iter``).

    Returns:
        ``(best_C, scores)``: ``scores[C]`` is the validation accuracy of every
        candidate; ties go to the smallest ``C`` (the strongest regularization).
    """
    if isinstance(Cs, (str, bytes)) or not isinstance(Cs, (Sequence, np.ndarray)):
        raise TypeError(f"Cs must be a sequence of positive numbers, got "
                        f"{type(Cs).__name__}")
    if len(Cs) == 0:
        raise ValueError("Cs must hold at least one value, got an empty sequence")
    Cs = sorted({_check_positive_number(C, "each C in Cs") for C in Cs})
    if "C" in params:
        raise TypeError("select_C chooses C itself; pass candidates as Cs, not C")
    clf = NBLogisticRegression(**params)
    train_tokens = _as_token_lists(train_texts, "train_texts")
    train_labels = _as_labels(train_labels, len(train_tokens), "train_labels")
    valid_tokens = _as_token_lists(valid_texts, "valid_texts")
    valid_labels = _as_labels(valid_labels, len(valid_tokens), "valid_labels")
    X = clf._fit_features(train_tokens, train_labels)
    y01 = (train_labels == clf.classes_[1]).astype(np.int64)
    X_valid = _scale_columns(clf.vectorizer_.transform(valid_tokens), clf.r_)
    scores = {}
    for C in Cs:
        model = clf._fit_model(X, y01, C)
        pred = clf.classes_[model.predict(X_valid)]
        scores[C] = float(np.mean(pred == valid_labels))
    best = max(Cs, key=lambda C: (scores[C], -C))
    return best, scores
