"""examples/sparse_logistic_regression.py learns: its test AUC is within a small margin
of scikit-learn's logistic regression on the same hashed features."""

import importlib.util
from pathlib import Path

import numpy as np
import scipy.sparse
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "sparse_logistic_regression.py"


def _load_example():
    spec = importlib.util.spec_from_file_location("sparse_logistic_regression", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _onehot(train_x, test_x):
    """One-hot CSR matrices of both sets over the buckets that occur (fewer columns than
    2**18, so scikit-learn fits quickly; the model is the same)."""
    _, cols = np.unique(np.concatenate([train_x.ravel(), test_x.ravel()]), return_inverse=True)
    width = cols.max() + 1
    out, offset = [], 0
    for x in (train_x, test_x):
        n, k = x.shape
        rows = np.repeat(np.arange(n), k)
        out.append(
            scipy.sparse.csr_matrix(
                (np.ones(n * k), (rows, cols[offset : offset + n * k])), shape=(n, width)
            )
        )
        offset += n * k
    return out


def test_sparse_logistic_regression_example_matches_sklearn_auc():
    ex = _load_example()
    train_x, train_y = ex.make_data(20_000, seed=0)
    test_x, test_y = ex.make_data(5_000, seed=1)
    predict = ex.train(train_x, train_y, epochs=2)
    probs = predict(test_x)
    assert probs.shape == (5_000,) and np.all((probs > 0) & (probs < 1))
    ours = roc_auc_score(test_y, probs)
    assert abs(ex.auc(test_y, probs) - ours) < 1e-9  # the example's own AUC is right
    train_oh, test_oh = _onehot(train_x, test_x)
    sk = LogisticRegression(C=1.0, max_iter=1000).fit(train_oh, train_y)
    theirs = roc_auc_score(test_y, sk.predict_proba(test_oh)[:, 1])
    assert theirs > 0.75, f"the data should be learnable (sklearn AUC {theirs:.3f})"
    assert ours > theirs - 0.02, f"miniflow AUC {ours:.4f} vs scikit-learn {theirs:.4f}"
