"""The digits MLP and CNN examples train to >= 95% test accuracy in both modes."""

import pytest

from examples import mnist_cnn, mnist_mlp


@pytest.mark.parametrize("mode", ["graph", "eager"])
def test_mlp_reaches_95_percent(mode):
    assert mnist_mlp.train(mode) >= 0.95


@pytest.mark.parametrize("mode", ["graph", "eager"])
def test_cnn_reaches_95_percent(mode):
    assert mnist_cnn.train(mode) >= 0.95
