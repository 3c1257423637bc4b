"""Estimators against independent truth: closed-form least squares, scikit-learn's
lbfgs/coordinate-descent solutions, and finite differences of the written-out losses."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import linear_model as sk
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from miniflow.ml import LinearRegression, LogisticRegression
from miniflow.ml.linear_model import log_loss_gradient, mse_gradient
from miniflow.ml.validation import NotFittedError


@pytest.fixture(scope="module")
def diabetes():
    X, y = load_diabetes(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), y


# Adam is TF's (epsilon outside the bias-corrected root): at lr 0.01 the intercept, whose
# gradient starts at 1e-16, is kicked and then circles the optimum at ~1e-4 (scaled
# units) for thousands of steps; at 0.02 it settles to 1e-9.
@pytest.mark.parametrize("optimizer,lr", [("adam", 0.02), ("momentum", 0.05)])
def test_linear_regression_matches_closed_form_ols(diabetes, optimizer, lr):
    X, y = diabetes
    A = np.column_stack([X, np.ones(len(y))])
    exact = np.linalg.lstsq(A, y, rcond=None)[0]  # closed-form least squares
    m = LinearRegression(
        epochs=3000,
        batch_size=len(y),
        learning_rate=lr,
        optimizer=optimizer,
        shuffle=False,
        solver="sgd",
        tol=None,
    ).fit(X, y)
    # Tolerance: 1e-3 absolute on coefficients of size ~1..40.
    np.testing.assert_allclose(m.coef_, exact[:-1], atol=1e-3)
    assert m.intercept_ == pytest.approx(exact[-1], abs=1e-6)
    np.testing.assert_allclose(m.predict(X), A @ exact, atol=1e-3)
    assert m.score(X, y) == pytest.approx(sk.LinearRegression().fit(X, y).score(X, y), abs=1e-6)


def test_l2_matches_ridge(diabetes):
    X, y = diabetes
    alpha, n = 50.0, len(y)
    ref = sk.Ridge(alpha=alpha).fit(X, y)
    m = LinearRegression(
        epochs=3000,
        batch_size=n,
        learning_rate=0.05,
        optimizer="momentum",
        l2=2 * alpha / n,
        shuffle=False,
        solver="sgd",
        tol=None,
    ).fit(X, y)
    np.testing.assert_allclose(m.coef_, ref.coef_, atol=1e-4)
    assert m.intercept_ == pytest.approx(ref.intercept_, abs=1e-6)


def test_l1_proximal_sgd_matches_lasso(diabetes):
    X, y = diabetes
    alpha = 1.0  # Lasso: (1/2n)|y-Xw|^2 + alpha|w|_1  ==  ours / 2 with l1 = 2 alpha
    ref = sk.Lasso(alpha=alpha, tol=1e-12, max_iter=100_000).fit(X, y)
    m = LinearRegression(
        epochs=6000,
        batch_size=len(y),
        learning_rate=0.1,
        optimizer="sgd",
        l1=2 * alpha,
        shuffle=False,
        solver="sgd",
        tol=None,
    ).fit(X, y)
    np.testing.assert_allclose(m.coef_, ref.coef_, atol=1e-3)
    # The same coefficients are exactly zero.
    np.testing.assert_array_equal(m.coef_ == 0, ref.coef_ == 0)
    assert (ref.coef_ == 0).any()


@pytest.mark.parametrize("optimizer,lr", [("adam", 0.05), ("adagrad", 1.0)])
def test_logistic_regression_matches_lbfgs(cancer, optimizer, lr):
    X, y = cancer
    n, C = len(y), 1.0
    ref = sk.LogisticRegression(C=C, tol=1e-10, max_iter=10_000).fit(X, y)
    m = LogisticRegression(
        epochs=3000,
        batch_size=n,
        learning_rate=lr,
        optimizer=optimizer,
        l2=1 / (C * n),
        shuffle=False,
        solver="sgd",
        tol=None,
    ).fit(X, y)
    # Tolerance: 1e-4 on coefficients (size ~0.1..1.5) and on probabilities.
    np.testing.assert_allclose(m.coef_, ref.coef_[0], atol=1e-4)
    assert m.intercept_ == pytest.approx(ref.intercept_[0], abs=1e-4)
    np.testing.assert_allclose(m.predict_proba(X), ref.predict_proba(X), atol=1e-4)
    np.testing.assert_array_equal(m.predict(X), ref.predict(X))


def test_float32_and_sparse_inputs_give_the_same_model(cancer):
    X, y = cancer
    kw = {"l2": 1e-3, "tol": 1e-10}  # lbfgs: the same optimum from every input type
    dense = LogisticRegression(**kw).fit(X, y)
    f32 = LogisticRegression(**kw).fit(X.astype(np.float32), y)
    csr = LogisticRegression(**kw).fit(sp.csr_matrix(X), y)
    np.testing.assert_allclose(f32.coef_, dense.coef_, atol=1e-4)
    np.testing.assert_allclose(csr.coef_, dense.coef_, atol=1e-6)
    np.testing.assert_allclose(
        csr.predict_proba(sp.csr_matrix(X)), dense.predict_proba(X), atol=1e-6
    )


def test_minibatch_sgd_batch_size_one_reaches_good_accuracy(cancer):
    X, y = cancer
    ref = sk.LogisticRegression(C=1.0).fit(X, y)
    m = LogisticRegression(
        epochs=20,
        batch_size=1,
        optimizer="sgd",
        learning_rate=0.01,
        lr_schedule="constant",
        random_state=0,
        solver="sgd",
    ).fit(X, y)
    assert m.score(X, y) >= ref.score(X, y) - 0.02


def test_class_weight_balanced_matches_sklearn():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    y = (X @ [1.0, -2.0, 0.5, 0.0] + rng.normal(size=300) > 1.5).astype(int)  # imbalanced
    n = len(y)
    ref = sk.LogisticRegression(C=1.0, class_weight="balanced", tol=1e-10, max_iter=10_000)
    ref.fit(X, y)
    kw = {
        "epochs": 3000,
        "batch_size": n,
        "optimizer": "adagrad",
        "learning_rate": 1.0,
        "l2": 1 / n,
        "shuffle": False,
        "solver": "sgd",
        "tol": None,
        "standardize": False,  # scikit-learn penalises the raw coefficients
    }
    m = LogisticRegression(class_weight="balanced", **kw).fit(X, y)
    np.testing.assert_allclose(m.coef_, ref.coef_[0], atol=1e-4)
    d = LogisticRegression(class_weight={0: 1.0, 1: 3.0}, **kw).fit(X, y)
    ref_d = sk.LogisticRegression(class_weight={0: 1.0, 1: 3.0}, tol=1e-10, max_iter=10_000)
    ref_d.fit(X, y)
    np.testing.assert_allclose(d.coef_, ref_d.coef_[0], atol=1e-4)


def test_string_labels_and_errors():
    X = np.array([[-2.0], [-1.0], [1.0], [2.0]])
    m = LogisticRegression(epochs=200, learning_rate=0.1).fit(X, ["no", "no", "yes", "yes"])
    assert m.predict(X).tolist() == ["no", "no", "yes", "yes"]
    with pytest.raises(ValueError, match="only one class"):
        LogisticRegression().fit(X, [2, 2, 2, 2])
    with pytest.raises(ValueError, match="features"):
        m.predict(np.ones((2, 3)))
    with pytest.raises(NotFittedError, match="not fitted"):
        LogisticRegression().predict(X)
    with pytest.raises(ValueError, match="unknown optimizer"):
        LogisticRegression(optimizer="nope", solver="sgd").fit(X, [0, 0, 1, 1])


def test_sklearn_clone_pipeline_and_cross_val_score():
    X, y = load_breast_cancer(return_X_y=True)
    est = LogisticRegression(epochs=30, learning_rate=0.05, random_state=0, solver="sgd")
    c = clone(est)
    assert c.get_params() == est.get_params() and c is not est
    c.set_params(epochs=5)
    assert c.epochs == 5 and est.epochs == 30
    with pytest.raises(ValueError, match="invalid parameter"):
        c.set_params(nope=1)
    pipe = make_pipeline(StandardScaler(), est)
    scores = cross_val_score(pipe, X, y, cv=3)
    assert scores.mean() > 0.95
    sgd = LinearRegression(solver="sgd")  # default Adam steps on standardised targets
    ols = make_pipeline(StandardScaler(), sgd)
    reg = cross_val_score(ols, *load_diabetes(return_X_y=True), cv=3)
    assert reg.mean() > 0.4  # R^2; sklearn's OLS gets ~0.49 on these folds
    assert "epochs=30" in repr(est)


def test_early_stopping_stops_and_keeps_best(cancer):
    X, y = cancer
    m = LogisticRegression(
        epochs=500,
        learning_rate=0.05,
        early_stopping=True,
        n_iter_no_change=3,
        tol=1e-3,
        random_state=0,
    ).fit(X, y)
    assert m.n_iter_ < 500
    assert m.score(X, y) > 0.95


def test_partial_fit_continues_training(diabetes):
    X, y = diabetes
    m = LinearRegression(batch_size=len(y), learning_rate=0.5, shuffle=False, solver="sgd")
    for _ in range(5):
        m.partial_fit(X, y)
    first = m.loss_curve_[-1]
    for _ in range(50):
        m.partial_fit(X, y)
    assert m.loss_curve_[-1] < first and m.n_iter_ == 55


def _numeric_grad(f, x, eps=1e-6):
    g = np.zeros_like(x)
    for i in range(len(x)):
        d = np.zeros_like(x)
        d[i] = eps
        g[i] = (f(x + d) - f(x - d)) / (2 * eps)
    return g


@pytest.mark.parametrize("grad_fn", [mse_gradient, log_loss_gradient])
def test_written_out_gradients_match_finite_differences(grad_fn):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(20, 3))
    if grad_fn is log_loss_gradient:
        y = (rng.random(20) > 0.5).astype(float)
    else:
        y = rng.normal(size=20)
    c = rng.random(20) + 0.5
    w, b = rng.normal(size=3), 0.3
    gw, gb, _ = grad_fn(X, y, w, b, c)
    np.testing.assert_allclose(gw, _numeric_grad(lambda v: grad_fn(X, y, v, b, c)[2], w), atol=1e-6)
    num_b = (grad_fn(X, y, w, b + 1e-6, c)[2] - grad_fn(X, y, w, b - 1e-6, c)[2]) / 2e-6
    assert gb == pytest.approx(num_b, abs=1e-6)
