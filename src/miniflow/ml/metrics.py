"""Binary-classification metrics: ROC AUC, log loss, accuracy, precision/recall, calibration.

All take ``y_true`` in {0, 1} (any two labels where the larger is positive for
AUC/log loss; ``pos_label`` for the thresholded ones) and scores/probabilities as
1-D arrays. They are exact (no binning) and match scikit-learn's definitions.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "roc_auc",
    "log_loss",
    "accuracy",
    "precision_recall",
    "calibration",
    "calibration_curve",
    "summary",
]


def _binary(y_true) -> np.ndarray:
    y = np.asarray(y_true).ravel()
    labels = np.unique(y)
    if len(labels) > 2:
        raise ValueError(f"expected binary labels, got {len(labels)} distinct values")
    positive = labels[-1] if len(labels) == 2 else 1
    return (y == positive).astype(np.float64)


def roc_auc(y_true, y_score, sample_weight=None) -> float:
    """Area under the ROC curve, exact and tie-aware.

    Equals P(score of a random positive > score of a random negative) + 1/2 P(tie):
    rows are sorted by score, and each group of tied scores contributes its positives
    times the negatives ranked below it plus half of its own positive x negative pairs.

    Raises:
        ValueError: only one class is present (AUC is undefined).
    """
    y = _binary(y_true)
    s = np.asarray(y_score, np.float64).ravel()
    w = np.ones_like(y) if sample_weight is None else np.asarray(sample_weight, np.float64)
    order = np.argsort(s, kind="mergesort")
    s, y, w = s[order], y[order], w[order]
    # Group boundaries of equal scores.
    starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
    pos = np.add.reduceat(w * y, starts)
    neg = np.add.reduceat(w * (1.0 - y), starts)
    n_pos, n_neg = pos.sum(), neg.sum()
    if n_pos == 0 or n_neg == 0:
        raise ValueError("roc_auc: only one class present in y_true; AUC is undefined")
    neg_below = np.cumsum(neg) - neg
    return float((np.dot(pos, neg_below) + 0.5 * np.dot(pos, neg)) / (n_pos * n_neg))


def log_loss(y_true, y_prob, eps: float = 1e-15, sample_weight=None) -> float:
    """Mean negative log-likelihood -[y log p + (1-y) log(1-p)], p clipped to [eps, 1-eps]."""
    y = _binary(y_true)
    p = np.clip(np.asarray(y_prob, np.float64).ravel(), eps, 1 - eps)
    return float(np.average(-(y * np.log(p) + (1 - y) * np.log1p(-p)), weights=sample_weight))


def accuracy(y_true, y_pred) -> float:
    """Fraction of exact matches between labels and predicted labels."""
    return float(np.mean(np.asarray(y_true).ravel() == np.asarray(y_pred).ravel()))


def precision_recall(y_true, y_pred, pos_label=1) -> tuple[float, float]:
    """(precision, recall) of ``pos_label``; 0.0 where the denominator is 0 (as sklearn)."""
    t = np.asarray(y_true).ravel() == pos_label
    p = np.asarray(y_pred).ravel() == pos_label
    tp = float(np.sum(t & p))
    precision = tp / p.sum() if p.sum() else 0.0
    recall = tp / t.sum() if t.sum() else 0.0
    return precision, recall


def calibration(y_true, y_prob) -> dict:
    """Overall calibration: mean predicted probability vs observed positive rate."""
    y = _binary(y_true)
    p = np.asarray(y_prob, np.float64).ravel()
    mean_p, rate = float(p.mean()), float(y.mean())
    return {
        "mean_prediction": mean_p,
        "observed_rate": rate,
        "ratio": mean_p / rate if rate else float("inf"),
    }


def calibration_curve(y_true, y_prob, n_bins: int = 10, strategy: str = "uniform"):
    """Per-bin (observed rate, mean prediction), empty bins dropped (as sklearn's).

    Args:
        strategy: ``uniform`` (equal-width bins on [0, 1]) or ``quantile``.

    Returns:
        (prob_true, prob_pred) arrays.
    """
    y = _binary(y_true)
    p = np.asarray(y_prob, np.float64).ravel()
    if strategy == "quantile":
        edges = np.percentile(p, np.linspace(0, 100, n_bins + 1))
    elif strategy == "uniform":
        edges = np.linspace(0.0, 1.0, n_bins + 1)
    else:
        raise ValueError(f"strategy must be 'uniform' or 'quantile', got {strategy!r}")
    ids = np.searchsorted(edges[1:-1], p)
    count = np.bincount(ids, minlength=n_bins)
    hit = count > 0
    prob_true = np.bincount(ids, weights=y, minlength=n_bins)[hit] / count[hit]
    prob_pred = np.bincount(ids, weights=p, minlength=n_bins)[hit] / count[hit]
    return prob_true, prob_pred


def summary(y_true, y_prob, threshold: float = 0.5) -> dict:
    """All metrics at once, as a JSON-serialisable dict (used by the CLI)."""
    y = _binary(y_true)
    pred = (np.asarray(y_prob) >= threshold).astype(np.float64)
    precision, recall = precision_recall(y, pred)
    out = {
        "rows": int(len(y)),
        "log_loss": log_loss(y, y_prob),
        "accuracy": accuracy(y, pred),
        "precision": precision,
        "recall": recall,
        **calibration(y, y_prob),
    }
    out["auc"] = roc_auc(y, y_prob) if 0 < y.sum() < len(y) else float("nan")
    return out
