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
