"""Data, initial values, hyperparameters and FLOP counts of W5-W8 (issue 22), shared by
every framework's implementation so that all start from the same numbers."""

from __future__ import annotations

import numpy as np

BATCH = {"W5": 128, "W6": 128, "W6s": 128, "W7": 256, "W8": 128}
LR = {"W5": 1e-3, "W6": 1e-3, "W6s": 1e-3, "W7": 1e-3, "W8": 2e-4}
STEPS = {"W5": 6, "W6": 20, "W6s": 20, "W7": 60, "W8": 100}
DESCRIPTION = {
    "W5": "CNN 28x28x1: conv5x5x32+pool, conv5x5x64+pool, dense 1024, 10; batch 128, Adam",
    "W6": "LSTM 128 units, 28 steps x 28 features, dynamic_rnn; batch 128, Adam",
    "W6s": "as W6 with static_rnn",
    "W7": "dense autoencoder 784-256-128-256-784, batch 256, RMSProp (TF1 defaults)",
    "W8": "GAN: G 100-128-784, D 784-128-1, batch 128, two Adam, two sess.run per step",
}
UNITS, TIME, FEAT = 128, 28, 28
Z_DIM, G_HIDDEN, D_HIDDEN = 100, 128, 128
B1, B2, EPS = 0.9, 0.999, 1e-8  # Adam (TF1 defaults)
RMS_DECAY, RMS_EPS = 0.9, 1e-10  # RMSProp (TF1 defaults; accumulator starts at 1)


def _he(rng, shape, fan_in):
    return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(np.float32)


def images(n=1024):
    """MNIST-shaped images in [0, 1] whose label is a fixed linear function of the pixels."""
    rng = np.random.default_rng(10)
    x = rng.uniform(0, 1, (n, 28, 28, 1)).astype(np.float32)
    proj = rng.standard_normal((784, 10)).astype(np.float32)
    y = np.argmax((x.reshape(n, -1) - 0.5) @ proj, 1).astype(np.int64)
    return x, y


def batches(workload, x, y, steps):
    batch = BATCH[workload]
    rng = np.random.default_rng(2)
    idx = rng.integers(0, len(x) - batch, steps)
    return [(x[i : i + batch], y[i : i + batch]) for i in idx]


def cnn_init():
    rng = np.random.default_rng(11)
    return [
        _he(rng, (5, 5, 1, 32), 25),
        np.full(32, 0.1, np.float32),
        _he(rng, (5, 5, 32, 64), 800),
        np.full(64, 0.1, np.float32),
        _he(rng, (3136, 1024), 3136),
        np.zeros(1024, np.float32),
        _he(rng, (1024, 10), 1024) / np.float32(2),
        np.zeros(10, np.float32),
    ]


def cnn_flops(batch):
    conv1 = 2 * batch * 28 * 28 * 25 * 32
    conv2 = 2 * batch * 14 * 14 * 800 * 64
    dense = 2 * batch * (3136 * 1024 + 1024 * 10)
    return 3 * (conv1 + conv2 + dense) - 2 * conv1  # conv1 has no input gradient


def sequences(n=1024):
    """Sequences (rows of an image, as the MNIST RNN tutorial) and their labels."""
    x, y = images(n)
    return x.reshape(n, TIME, FEAT), y


def lstm_init():
    """BasicLSTMCell layout: kernel [FEAT + UNITS, 4 UNITS] for gates i, j, f, o."""
    rng = np.random.default_rng(12)
    lim = np.sqrt(6.0 / (FEAT + UNITS + 4 * UNITS))
    kernel = rng.uniform(-lim, lim, (FEAT + UNITS, 4 * UNITS)).astype(np.float32)
    return [
        kernel,
        np.zeros(4 * UNITS, np.float32),
        _he(rng, (UNITS, 10), UNITS),
        np.zeros(10, np.float32),
    ]


def lstm_flops(batch):
    cell = 2 * batch * (FEAT + UNITS) * 4 * UNITS
    return 3 * TIME * cell + 3 * 2 * batch * UNITS * 10


AE_SIZES = (784, 256, 128, 256, 784)


def ae_data(n=2048):
    """Points near a 32-dimensional manifold, squashed into (0, 1)."""
    rng = np.random.default_rng(13)
    z = rng.standard_normal((n, 32)).astype(np.float32)
    basis = rng.standard_normal((32, 784)).astype(np.float32) / np.float32(4)
    return (1 / (1 + np.exp(-(z @ basis)))).astype(np.float32)


def ae_init():
    rng = np.random.default_rng(14)
    out = []
    for a, b in zip(AE_SIZES[:-1], AE_SIZES[1:]):
        out += [_he(rng, (a, b), a), np.zeros(b, np.float32)]
    return out


def ae_batches(x, steps):
    rng = np.random.default_rng(2)
    idx = rng.integers(0, len(x) - BATCH["W7"], steps)
    return [x[i : i + BATCH["W7"]] for i in idx]


def ae_flops(batch):
    return 3 * 2 * batch * sum(a * b for a, b in zip(AE_SIZES[:-1], AE_SIZES[1:]))


def gan_init():
    """Generator (2 layers) then discriminator (2 layers): w, b each."""
    rng = np.random.default_rng(15)
    return [
        _he(rng, (Z_DIM, G_HIDDEN), Z_DIM),
        np.zeros(G_HIDDEN, np.float32),
        _he(rng, (G_HIDDEN, 784), G_HIDDEN) / np.float32(4),
        np.zeros(784, np.float32),
        _he(rng, (784, D_HIDDEN), 784),
        np.zeros(D_HIDDEN, np.float32),
        _he(rng, (D_HIDDEN, 1), D_HIDDEN) / np.float32(4),
        np.zeros(1, np.float32),
    ]


def gan_batches(steps):
    """(real images, noise for the D step, noise for the G step) per step."""
    x = ae_data()
    rng = np.random.default_rng(16)
    batch = BATCH["W8"]
    idx = rng.integers(0, len(x) - batch, steps)
    return [
        (
            x[i : i + batch],
            rng.uniform(-1, 1, (batch, Z_DIM)).astype(np.float32),
            rng.uniform(-1, 1, (batch, Z_DIM)).astype(np.float32),
        )
        for i in idx
    ]


def gan_flops(batch):
    g = Z_DIM * G_HIDDEN + G_HIDDEN * 784
    d = 784 * D_HIDDEN + D_HIDDEN
    # D step: G forward, D forward twice and backward twice; G step: all forward + backward
    return 2 * batch * (g + 2 * d * 3) + 2 * batch * 3 * (g + d)
