"""scikit-learn's bundled 8x8 digits, split once (fixed seed) for the examples."""

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split


def load(seed=0):
    """(x_train, x_test, y_train, y_test): pixels scaled to [0, 1], int64 labels."""
    digits = load_digits()
    x = (digits.data / 16.0).astype(np.float32)
    y = digits.target.astype(np.int64)
    return train_test_split(x, y, test_size=0.25, random_state=seed, stratify=y)


def batches(n, batch_size, rng):
    """Index arrays of one shuffled epoch."""
    order = rng.permutation(n)
    return [order[i : i + batch_size] for i in range(0, n, batch_size)]
