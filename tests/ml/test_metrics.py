"""Metrics against scikit-learn and hand-computed values."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from sklearn import metrics as skm
from sklearn.calibration import calibration_curve as sk_calibration_curve

from miniflow.ml import metrics


def test_auc_by_hand_with_ties():
    # pairs (pos, neg): (0.8 > 0.3) 1, (0.8 > 0.5) 1, (0.5 = 0.5) 1/2, (0.5 > 0.3) 1 -> 3.5/4
    assert metrics.roc_auc([1, 0, 1, 0], [0.8, 0.3, 0.5, 0.5]) == 0.875


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 5)), min_size=2, max_size=60))
def test_auc_matches_sklearn_with_many_ties(rows):
    y = np.array([r[0] for r in rows], int)
    s = np.array([r[1] for r in rows], float) / 5  # few distinct scores: many ties
    if y.min() == y.max():
        with pytest.raises(ValueError, match="one class"):
            metrics.roc_auc(y, s)
        return
    assert metrics.roc_auc(y, s) == pytest.approx(skm.roc_auc_score(y, s), abs=1e-12)


def test_auc_weighted_and_label_forms():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 500)
    s = rng.random(500).round(2)
    w = rng.random(500)
    assert metrics.roc_auc(y, s, w) == pytest.approx(skm.roc_auc_score(y, s, sample_weight=w))
    assert metrics.roc_auc(2 * y - 1, s) == pytest.approx(skm.roc_auc_score(y, s))


def test_log_loss_accuracy_precision_recall_match_sklearn():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 1000)
    p = np.clip(rng.random(1000), 0, 1)
    p[:3] = [0.0, 1.0, 0.5]
    assert metrics.log_loss(y, p) == pytest.approx(skm.log_loss(y, np.clip(p, 1e-15, 1 - 1e-15)))
    pred = (p > 0.5).astype(int)
    assert metrics.accuracy(y, pred) == pytest.approx(skm.accuracy_score(y, pred))
    prec, rec = metrics.precision_recall(y, pred)
    assert prec == pytest.approx(skm.precision_score(y, pred))
    assert rec == pytest.approx(skm.recall_score(y, pred))
    assert metrics.precision_recall([1, 0], [0, 0]) == (0.0, 0.0)


@pytest.mark.parametrize("strategy", ["uniform", "quantile"])
def test_calibration_curve_matches_sklearn(strategy):
    rng = np.random.default_rng(2)
    p = rng.random(2000) ** 2
    y = (rng.random(2000) < p).astype(int)
    ours = metrics.calibration_curve(y, p, n_bins=8, strategy=strategy)
    ref = sk_calibration_curve(y, p, n_bins=8, strategy=strategy)
    np.testing.assert_allclose(ours[0], ref[0])
    np.testing.assert_allclose(ours[1], ref[1])


def test_calibration_summary_by_hand():
    c = metrics.calibration([1, 0, 0, 0], [0.5, 0.25, 0.25, 0.0])
    assert c == {"mean_prediction": 0.25, "observed_rate": 0.25, "ratio": 1.0}
    s = metrics.summary([1, 0, 0, 0], [0.9, 0.2, 0.6, 0.1])
    assert s["auc"] == 1.0 and s["accuracy"] == 0.75 and s["precision"] == 0.5 and s["rows"] == 4
