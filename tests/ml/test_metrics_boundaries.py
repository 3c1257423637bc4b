"""Metrics at their boundaries, against scikit-learn: `calibration_curve` with
predictions exactly on bin edges (and at 0 and 1), `log_loss` with sample weights."""

from __future__ import annotations

import numpy as np
import pytest
import sklearn.metrics as skm
from sklearn.calibration import calibration_curve as sk_calibration_curve

from miniflow.ml import metrics


def _edge_case(n_bins):
    """Every uniform bin edge (as NumPy computes it), 0, 1, and points just beside edges."""
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    p = np.concatenate([edges, np.nextafter(edges[1:-1], 0), np.nextafter(edges[1:-1], 1)])
    y = (np.arange(len(p)) % 3 == 0).astype(int)
    return y, p


@pytest.mark.parametrize("strategy", ["uniform", "quantile"])
@pytest.mark.parametrize("n_bins", [1, 2, 4, 5, 10])
def test_calibration_curve_on_bin_edges_matches_sklearn(n_bins, strategy):
    y, p = _edge_case(n_bins)
    want = sk_calibration_curve(y, p, n_bins=n_bins, strategy=strategy)
    got = metrics.calibration_curve(y, p, n_bins=n_bins, strategy=strategy)
    for g, w in zip(got, want, strict=True):
        assert g.shape == w.shape
        np.testing.assert_allclose(g, w, rtol=0, atol=1e-12)


def test_a_prediction_on_an_inner_edge_belongs_to_the_lower_bin():
    # by hand: bins [0, .5] and (.5, 1]; 0.5 goes with 0.0, 1.0 is in the last bin
    prob_true, prob_pred = metrics.calibration_curve([1, 0, 0], [0.0, 0.5, 1.0], n_bins=2)
    np.testing.assert_allclose(prob_true, [0.5, 0.0])
    np.testing.assert_allclose(prob_pred, [0.25, 1.0])


def test_calibration_curve_rejects_an_unknown_strategy():
    with pytest.raises(ValueError, match="strategy must be 'uniform' or 'quantile'"):
        metrics.calibration_curve([0, 1], [0.1, 0.9], strategy="kmeans")


@pytest.mark.parametrize("seed", range(3))
def test_log_loss_weights_each_row_as_sklearn(seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 50)
    p = rng.uniform(0.01, 0.99, 50)
    w = rng.uniform(0, 5, 50)
    w[:5] = 0.0  # zero-weight rows do not count
    got = metrics.log_loss(y, p, sample_weight=w)
    assert got == pytest.approx(skm.log_loss(y, p, sample_weight=w), rel=1e-12)
    assert got != pytest.approx(metrics.log_loss(y, p), rel=1e-6)  # the weights matter
    # by hand: weight 2 on a row counts as that row twice
    twice = metrics.log_loss(np.r_[y, y[:1]], np.r_[p, p[:1]])
    w2 = np.ones(50)
    w2[0] = 2.0
    assert metrics.log_loss(y, p, sample_weight=w2) == pytest.approx(twice, rel=1e-12)


def test_log_loss_clips_certain_wrong_predictions_as_sklearn_with_eps():
    y, p = [1, 0, 1], [0.0, 1.0, 0.5]
    want = skm.log_loss(y, np.clip(p, 1e-15, 1 - 1e-15), sample_weight=[1, 2, 3])
    assert metrics.log_loss(y, p, sample_weight=[1, 2, 3]) == pytest.approx(want, rel=1e-12)


def test_empty_bins_are_dropped_and_the_default_is_ten_uniform_bins():
    p = np.array([0.01, 0.02, 0.05, 0.55, 0.56, 0.99])  # bins 2-5 and 7-9 stay empty
    y = np.array([0, 1, 0, 1, 1, 1])
    got = metrics.calibration_curve(y, p)
    want = sk_calibration_curve(y, p, n_bins=10)  # sklearn's own default is 5
    assert got[0].shape == want[0].shape == (3,)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=0, atol=1e-12)


@pytest.mark.parametrize(
    "y, positive",
    [([0, 0, 0], None), ([1, 1, 1], 1), ([-1, -1], None), ([-1, 1, -1], 1), ([3, 7, 7], 7)],
)
def test_labels_the_larger_is_positive_and_a_single_zero_class_is_negative(y, positive):
    p = np.array([0.2, 0.7, 0.4])[: len(y)]
    truth = np.array(y) == positive if positive is not None else np.zeros(len(y), bool)
    want = skm.log_loss(truth.astype(int), p, labels=[0, 1])
    assert metrics.log_loss(y, p) == pytest.approx(want, rel=1e-12)


def test_more_than_two_labels_are_refused():
    with pytest.raises(ValueError, match="expected binary labels, got 3 distinct values"):
        metrics.log_loss([0, 1, 2], [0.1, 0.2, 0.3])


def test_precision_and_recall_with_empty_denominators_are_zero_as_sklearn():
    for y, pred in (([0, 0], [1, 0]), ([1, 0], [0, 0]), ([0, 0], [0, 0])):
        want = (
            skm.precision_score(y, pred, zero_division=0),
            skm.recall_score(y, pred, zero_division=0),
        )
        assert metrics.precision_recall(y, pred) == want


def test_summary_against_sklearn_and_undefined_auc_for_one_class():
    rng = np.random.default_rng(5)
    y = rng.integers(0, 2, 200)
    p = rng.uniform(0.01, 0.99, 200)
    s = metrics.summary(y, p, threshold=0.6)
    pred = (p >= 0.6).astype(int)
    assert s["rows"] == 200
    assert s["log_loss"] == pytest.approx(skm.log_loss(y, p), rel=1e-12)
    assert s["accuracy"] == pytest.approx(skm.accuracy_score(y, pred))
    assert s["precision"] == pytest.approx(skm.precision_score(y, pred))
    assert s["recall"] == pytest.approx(skm.recall_score(y, pred))
    assert s["auc"] == pytest.approx(skm.roc_auc_score(y, p), abs=1e-12)
    assert s["mean_prediction"] == pytest.approx(p.mean())
    assert s["observed_rate"] == pytest.approx(y.mean())
    for one_class in (np.zeros(200, int), np.ones(200, int)):
        assert np.isnan(metrics.summary(one_class, p)["auc"])
    two_rows = metrics.summary([0, 1], [0.3, 0.6])
    assert two_rows["auc"] == 1.0 and two_rows["accuracy"] == 1.0
    at_threshold = metrics.summary([1, 0], [0.5, 0.2])  # p == threshold predicts positive
    assert at_threshold["accuracy"] == 1.0 and at_threshold["recall"] == 1.0
