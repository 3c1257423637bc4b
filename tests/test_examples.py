"""The TF1-style examples run (as scripts and through `main()`) and their results match
values computed independently: closed-form least squares, scikit-learn and a NumPy Newton
solve of the same logistic-regression objective."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


def load(name):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_basic_operations():
    r = load("basic_operations").main(verbose=False)
    assert r["a+b"] == 5 and r["a*b"] == 6
    np.testing.assert_array_equal(r["matmul"], [[12.0]])
    x = np.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(r["row_sums"], x.sum(1))
    np.testing.assert_allclose(r["col_means"], x.mean(0))
    np.testing.assert_array_equal(r["x.T"], x.T)


def test_placeholders_and_feeds():
    r = load("placeholders_and_feeds").main(verbose=False)
    assert (r["add"], r["mul"], r["add_by_name"]) == (5, 6, 15)
    np.testing.assert_allclose(r["scores"], [[1.0], [5.0]])
    assert r["default"] == 14.0


def test_linear_regression_matches_closed_form_least_squares():
    example = load("linear_regression")
    r = example.main(verbose=False)
    x, y = example.TRAIN_X.astype(np.float64), example.TRAIN_Y.astype(np.float64)
    design = np.stack([x, np.ones_like(x)], axis=1)
    (w, b), *_ = np.linalg.lstsq(design, y, rcond=None)
    assert r["w"] == pytest.approx(w, abs=1e-3)
    assert r["b"] == pytest.approx(b, abs=5e-3)
    assert r["loss"] == pytest.approx(np.mean((w * x + b - y) ** 2), rel=1e-4)


def _newton_logistic(x, y, C):
    """Minimises mean(log-loss) + ||w||^2 / (2 C n) (bias unpenalised) by Newton's method."""
    n, d = x.shape
    a = np.hstack([x, np.ones((n, 1))])
    theta = np.zeros(d + 1)
    reg = np.full(d + 1, 1.0 / (C * n))
    reg[-1] = 0.0
    for _ in range(50):
        p = 1 / (1 + np.exp(-(a @ theta)))
        grad = a.T @ (p - y) / n + reg * theta
        hess = (a.T * (p * (1 - p))) @ a / n + np.diag(reg)
        theta -= np.linalg.solve(hess, grad)
    return theta[:-1], theta[-1]


def test_logistic_regression_matches_sklearn_and_newton():
    from sklearn.linear_model import LogisticRegression

    example = load("logistic_regression")
    C = 0.1
    r = example.main(C=C, verbose=False)
    x, y = (a.astype(np.float64) for a in example.load_data())
    w, b = _newton_logistic(x, y, C)
    np.testing.assert_allclose(r["weights"], w, atol=2e-3)
    assert r["bias"] == pytest.approx(b, abs=2e-3)
    ref = LogisticRegression(C=C, tol=1e-10, max_iter=10_000).fit(x, y)
    np.testing.assert_allclose(r["weights"], ref.coef_[0], atol=2e-3)
    assert r["bias"] == pytest.approx(ref.intercept_[0], abs=2e-3)
    assert r["accuracy"] == pytest.approx(ref.score(x, y), abs=1e-6)


@pytest.mark.parametrize(
    "name", ["basic_operations", "placeholders_and_feeds", "linear_regression"]
)
def test_examples_run_as_scripts(name):
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / f"{name}.py")],
        capture_output=True,
        text=True,
        timeout=120,
        env=_env(),
    )
    assert done.returncode == 0, done.stderr
    assert "=" in done.stdout


def test_demo_runs_the_classic_examples(capsys):
    from miniflow.cli import demo

    assert demo.main(["--quick"]) == 0
    out = capsys.readouterr().out
    for title in (
        "basic operations",
        "placeholders and feeds",
        "linear regression",
        "logistic regression",
    ):
        assert title in out
    assert "w=" in out and "accuracy" in out


def test_demo_through_the_cli_dispatcher():
    done = subprocess.run(
        [sys.executable, "-m", "miniflow.cli.main", "demo", "--quick"],
        capture_output=True,
        text=True,
        timeout=120,
        env=_env(),
    )
    assert done.returncode == 0, done.stderr
    assert "linear regression" in done.stdout


def _env():
    import os

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    return env
