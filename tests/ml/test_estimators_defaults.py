"""miniflow.ml estimators with their defaults, against scikit-learn on its bundled data
sets, scikit-learn's own estimator checks, and closed-form / scikit-learn optima."""

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import datasets, linear_model as sk
from sklearn.exceptions import NotFittedError as SkNotFittedError
from sklearn.model_selection import KFold, StratifiedKFold, cross_val_score, train_test_split
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import check_estimator

from miniflow.ml import LinearRegression, LogisticRegression
from miniflow.ml.validation import NotFittedError

# scikit-learn 1.9.1's LogisticRegression() 5-fold CV accuracy on digits (the folds below);
# computed once (it takes minutes of lbfgs on the unscaled pixels).
SKLEARN_DIGITS_CV = 0.9649

CASES = [
    ("diabetes", LinearRegression, sk.LinearRegression),
    ("linnerud", LinearRegression, sk.LinearRegression),  # three targets
    ("breast_cancer", LogisticRegression, sk.LogisticRegression),
    ("iris", LogisticRegression, sk.LogisticRegression),  # multinomial
    ("wine", LogisticRegression, sk.LogisticRegression),
    ("digits", LogisticRegression, sk.LogisticRegression),
]


@pytest.mark.parametrize("name,ours,ref", CASES, ids=[c[0] for c in CASES])
def test_defaults_within_one_percent_of_sklearn(name, ours, ref):
    X, y = getattr(datasets, f"load_{name}")(return_X_y=True)
    if ours is LinearRegression:
        cv = KFold(5, shuffle=True, random_state=0)
    else:
        cv = StratifiedKFold(5, shuffle=True, random_state=0)
    score = cross_val_score(ours(), X, y, cv=cv).mean()
    if name == "digits":
        expected = SKLEARN_DIGITS_CV
    else:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # sklearn's lbfgs hits max_iter on raw features
            expected = cross_val_score(ref(), X, y, cv=cv).mean()
    assert score >= expected - 0.01 * abs(expected), (score, expected)


@pytest.mark.parametrize("est", [LinearRegression(), LogisticRegression()], ids=repr)
def test_sklearn_check_estimator_passes(est):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(est, on_fail=None)
    failed = [
        (r["check_name"], str(r["exception"])[:200]) for r in results if r["status"] == "failed"
    ]
    assert not failed
    assert len(results) > 50


def test_raw_diabetes_matches_sklearn_ols_exactly():
    # The example: SGD with Adam scored R^2 = -4.03 where sklearn scores 0.36.
    X, y = datasets.load_diabetes(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=0)
    ref = sk.LinearRegression().fit(Xtr, ytr)
    m = LinearRegression().fit(Xtr, ytr)
    np.testing.assert_allclose(m.coef_, ref.coef_, rtol=1e-8)
    assert m.intercept_ == pytest.approx(ref.intercept_, rel=1e-10)
    assert m.score(Xte, yte) == pytest.approx(ref.score(Xte, yte), abs=1e-10)


def test_sgd_defaults_converge_on_raw_targets_and_stop_on_tol():
    X, y = datasets.load_diabetes(return_X_y=True)  # target ~150, features ~0.05
    exact = sk.LinearRegression().fit(X, y).score(X, y)
    m = LinearRegression(solver="sgd", random_state=0).fit(X, y)
    assert m.score(X, y) > exact - 0.01
    assert m.n_iter_ < m.epochs  # stopped on tol, not after 100 epochs
    assert len(m.loss_curve_) == m.n_iter_


def test_multioutput_linnerud_matches_sklearn():
    X, Y = datasets.load_linnerud(return_X_y=True)
    ref = sk.LinearRegression().fit(X, Y)
    m = LinearRegression().fit(X, Y)
    assert m.coef_.shape == (3, 3) and m.intercept_.shape == (3,)
    np.testing.assert_allclose(m.coef_, ref.coef_, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(m.predict(X), ref.predict(X), rtol=1e-8)
    lb = LinearRegression(solver="lbfgs", tol=1e-12).fit(X, Y)
    np.testing.assert_allclose(lb.predict(X), ref.predict(X), rtol=1e-5)


def _unscale(scaler, coef, intercept):
    """sklearn's coefficients on standardised X, in the original units."""
    raw = coef / scaler.scale_
    return raw, intercept - raw @ scaler.mean_


@pytest.mark.parametrize("name", ["breast_cancer", "iris"])
def test_lbfgs_equals_sklearn_on_standardised_features(name):
    # With standardize=True the penalty acts on the standardised coefficients: the same
    # optimum as scikit-learn's on StandardScaler output, reported in raw units.
    X, y = getattr(datasets, f"load_{name}")(return_X_y=True)
    scaler = StandardScaler().fit(X)
    ref = sk.LogisticRegression(tol=1e-10, max_iter=10_000).fit(scaler.transform(X), y)
    m = LogisticRegression(tol=1e-10).fit(X, y)
    coef, intercept = _unscale(scaler, ref.coef_, ref.intercept_)
    if name == "breast_cancer":
        coef, intercept = coef[0], intercept[0]
    np.testing.assert_allclose(m.coef_, coef, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(m.intercept_, intercept, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(
        m.predict_proba(X), ref.predict_proba(scaler.transform(X)), atol=1e-6
    )


def test_ridge_and_sparse_lbfgs_match_sklearn():
    X, y = datasets.load_diabetes(return_X_y=True)
    Xs = StandardScaler().fit_transform(X)
    alpha, n = 10.0, len(y)
    ref = sk.Ridge(alpha=alpha).fit(Xs, y)
    m = LinearRegression(l2=2 * alpha / n).fit(Xs, y)
    np.testing.assert_allclose(m.coef_, ref.coef_, rtol=1e-8)
    rng = np.random.default_rng(0)
    S = sp.random(300, 40, density=0.1, random_state=1, format="csr")
    t = S @ rng.normal(size=40) + 3.0
    exact = sk.LinearRegression().fit(S.toarray(), t)
    lb = LinearRegression(solver="lbfgs", tol=1e-12).fit(S, t)
    np.testing.assert_allclose(lb.coef_, exact.coef_, atol=1e-5)
    assert lb.intercept_ == pytest.approx(exact.intercept_, abs=1e-5)


def test_integer_sample_weights_equal_repeated_rows():
    X, y = datasets.load_iris(return_X_y=True)
    w = np.random.default_rng(0).integers(0, 3, len(y))
    weighted = LogisticRegression(tol=1e-10).fit(X, y, sample_weight=w)
    repeated = LogisticRegression(tol=1e-10).fit(np.repeat(X, w, 0), np.repeat(y, w))
    np.testing.assert_allclose(weighted.predict_proba(X), repeated.predict_proba(X), atol=1e-6)


def test_multiclass_partial_fit_streams_softmax_sgd():
    X, y = datasets.load_iris(return_X_y=True)
    m = LogisticRegression(random_state=0, learning_rate=0.05)
    for _ in range(30):
        for part in np.array_split(np.random.default_rng(1).permutation(len(y)), 5):
            m.partial_fit(X[part], y[part], classes=[0, 1, 2])
    assert m.coef_.shape == (3, 4)
    assert m.score(X, y) >= sk.LogisticRegression(max_iter=1000).fit(X, y).score(X, y) - 0.03


def test_failure_modes_name_the_problem():
    X, y = np.ones((4, 2)), np.array([0, 1, 0, 1])
    with pytest.raises(NotFittedError) as e:
        LogisticRegression().predict(X)
    assert isinstance(e.value, SkNotFittedError)  # sklearn is loaded here
    with pytest.raises(ValueError, match="lstsq"):
        LogisticRegression(solver="lstsq").fit(X, y)
    with pytest.raises(ValueError, match="l1 > 0 needs solver='sgd'"):
        LinearRegression(solver="lbfgs", l1=0.1).fit(X, y)
    with pytest.raises(ValueError, match="unknown solver"):
        LinearRegression(solver="newton").fit(X, y)
    with pytest.raises(ValueError, match="NaN or infinity"):
        LinearRegression().fit(np.array([[1.0], [np.nan]]), [1.0, 2.0])
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        LogisticRegression().fit(X, [0.5, 1.5, 0.2, 0.1])
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        LinearRegression().fit(X, [1.0, 2.0])
    with pytest.raises(ValueError, match="sums to zero"):
        LinearRegression().fit(X, y, sample_weight=np.zeros(4))
    with pytest.raises(ValueError, match="Reshape your data"):
        LinearRegression().fit(np.ones(4), y)
    fitted = LinearRegression().fit(X, y)
    with pytest.raises(ValueError, match="X has 3 features, but LinearRegression is expecting 2"):
        fitted.predict(np.ones((1, 3)))
    assert not hasattr(fitted, "decision_function")  # a regressor (sklearn convention)


def _csr(path, dims_log2):
    from miniflow.ml import read_file
    from miniflow.ml.batch import concat_batches

    b = concat_batches(list(read_file(path, dims_log2)))
    return b, b.to_csr(1 << dims_log2), b.labels


def test_sparse_lr_default_batches_suit_small_data(tmp_path):
    # `make demo`'s data: 20k generated rows over 2^12 hashed ids. Fixed 4096-row batches
    # make 5 updates per epoch; the default grows the batch with the rows seen.
    from miniflow.ml import SparseLRTrainer, write_ctr
    from miniflow.ml.metrics import roc_auc

    write_ctr(tmp_path / "train.svm", 20_000, 12, seed=1)
    write_ctr(tmp_path / "test.svm", 2_000, 12, seed=2)
    train, Xtr, ytr = _csr(tmp_path / "train.svm", 12)
    test, Xte, yte = _csr(tmp_path / "test.svm", 12)
    auto = SparseLRTrainer(12)
    auto.partial_fit([train])
    fixed = SparseLRTrainer(12, batch_size=4096)
    fixed.partial_fit([train])
    best = sk.LogisticRegression(C=0.03, max_iter=1000).fit(Xtr, ytr)  # C tuned on these rows
    best_auc = roc_auc(yte, best.predict_proba(Xte)[:, 1])
    auto_auc = roc_auc(yte, auto.predict_proba(test))
    assert auto_auc > roc_auc(yte, fixed.predict_proba(test)) + 0.02
    assert auto_auc > best_auc - 0.02
    with pytest.raises(ValueError, match="positive int or 'auto'"):
        SparseLRTrainer(12, batch_size=0)
