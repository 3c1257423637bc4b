"""Linear and logistic regression from their derived gradients (miniflow.ml).

Run: python examples/ml_linear_models.py
"""

import numpy as np

from miniflow.ml import LinearRegression, LogisticRegression, metrics


def main() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(500, 5))
    true_w, true_b = np.array([1.5, -2.0, 0.0, 0.7, 3.0]), 0.5

    y = X @ true_w + true_b + 0.1 * rng.normal(size=500)
    exact = np.linalg.lstsq(np.column_stack([X, np.ones(500)]), y, rcond=None)[0]
    lin = LinearRegression(epochs=200, learning_rate=0.05, batch_size=32, random_state=0).fit(X, y)
    print("least squares :", np.round(exact, 3))
    print(
        "miniflow (SGD):",
        np.round(np.r_[lin.coef_, lin.intercept_], 3),
        f"R^2 {lin.score(X, y):.4f}",
    )

    labels = (rng.random(500) < 1 / (1 + np.exp(-(X @ true_w + true_b)))).astype(int)
    clf = LogisticRegression(
        epochs=100, optimizer="ftrl", learning_rate=0.5, l1=1e-3, random_state=0
    ).fit(X, labels)
    p = clf.predict_proba(X)[:, 1]
    print(
        f"logistic: accuracy {clf.score(X, labels):.3f}, AUC {metrics.roc_auc(labels, p):.3f}, "
        f"coef {np.round(clf.coef_, 2)}"
    )


if __name__ == "__main__":
    main()
