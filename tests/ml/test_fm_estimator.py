"""`FMClassifier`: scikit-learn conventions, interactions a linear model cannot learn."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.exceptions import NotFittedError as SkNotFittedError
from sklearn.linear_model import LogisticRegression as SkLogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.utils.estimator_checks import check_estimator

from miniflow.ml import FMClassifier, NotFittedError


def test_sklearn_check_estimator_passes():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(FMClassifier(), on_fail=None)
    failed = [
        (r["check_name"], str(r["exception"])[:200]) for r in results if r["status"] == "failed"
    ]
    assert not failed
    assert len(results) > 50


def _pairs_data(n, seed):
    """Two one-hot fields whose label depends only on their combination (XOR-like)."""
    rng = np.random.default_rng(seed)
    a, b = rng.integers(0, 10, n), rng.integers(0, 10, n)
    logit = np.where((a + b) % 2 == 0, 2.0, -2.0)
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    rows = np.repeat(np.arange(n), 2)
    cols = np.stack([a, 10 + b], axis=1).ravel()
    return sp.csr_matrix((np.ones(2 * n), (rows, cols)), shape=(n, 20)), y


@pytest.mark.parametrize("model", ["fm", "ffm"])
def test_learns_a_pairwise_effect_that_logistic_regression_cannot(model):
    X, y = _pairs_data(4000, 0)
    Xt, yt = _pairs_data(2000, 1)
    fields = [0] * 10 + [1] * 10 if model == "ffm" else None
    clf = FMClassifier(model=model, fields=fields, factors=4, random_state=0).fit(X, y)
    auc_fm = roc_auc_score(yt, clf.predict_proba(Xt)[:, 1])
    auc_lr = roc_auc_score(yt, SkLogisticRegression().fit(X, y).decision_function(Xt))
    # the truth (logit +-2) reaches AUC 0.88; no linear model gets above chance
    assert auc_lr < 0.56
    assert auc_fm > 0.85, auc_fm


def test_dense_and_sparse_input_give_the_same_model():
    X, y = _pairs_data(500, 2)
    a = FMClassifier(random_state=1, epochs=5).fit(X, y)
    b = FMClassifier(random_state=1, epochs=5).fit(X.toarray(), y)
    np.testing.assert_allclose(a.decision_function(X), b.decision_function(X.toarray()))


def test_string_labels_probabilities_and_clone():
    X, y = _pairs_data(800, 3)
    labels = np.array(["no", "yes"])[y]
    clf = FMClassifier(random_state=0).fit(X, labels)
    assert clf.classes_.tolist() == ["no", "yes"]
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X)), proba, rtol=1e-9)
    assert set(clf.predict(X)) <= {"no", "yes"}
    assert clf.score(X, labels) > 0.7
    assert clone(clf).get_params() == clf.get_params()
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(again.predict_proba(X), proba)


def test_errors():
    X, y = _pairs_data(50, 4)
    with pytest.raises(NotFittedError):
        FMClassifier().predict(X)
    with pytest.raises(SkNotFittedError):  # also scikit-learn's class when it is loaded
        FMClassifier().predict_proba(X)
    with pytest.raises(ValueError, match="Only binary classification"):
        FMClassifier().fit(X, np.arange(50) % 3)
    with pytest.raises(ValueError, match="needs fields="):
        FMClassifier(model="ffm").fit(X, y)
    with pytest.raises(ValueError, match="one non-negative int per column"):
        FMClassifier(model="ffm", fields=[0, 1]).fit(X, y)
    clf = FMClassifier(epochs=1).fit(X, y)
    with pytest.raises(ValueError, match="expecting 20 features"):
        clf.predict(np.ones((2, 3)))
    with pytest.raises(ValueError, match="NaN or infinity"):
        FMClassifier().fit(np.full((4, 2), np.nan), [0, 1, 0, 1])
