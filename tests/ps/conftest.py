"""Shared data for the parameter-server tests: generated click data and the reference.

The reference is the single-process ``SparseLRTrainer`` on the same data with the same
global batch size: sharded runs are judged against its holdout AUC.
"""

import numpy as np
import pytest

from miniflow.ml import metrics
from miniflow.ml.data import concat_batches, read_libsvm
from miniflow.ml.datagen import write_ctr
from miniflow.ml.sparse_lr import SparseLRTrainer

DIMS = 20
BATCH = 512


class CTRData:
    def __init__(self, directory):
        self.dir = directory
        self.train_path = directory / "train.svm"
        self.test_path = directory / "test.svm"
        self.test = concat_batches(list(read_libsvm(self.test_path, DIMS)))

    def train(self):
        return read_libsvm(self.train_path, DIMS)

    dims_log2 = DIMS
    batch_size = BATCH
    rows = 40_000

    def auc(self, model) -> float:
        """The holdout AUC by scikit-learn (an independent implementation)."""
        from sklearn.metrics import roc_auc_score

        return float(roc_auc_score(self.test.labels, model.predict_proba(self.test)))


@pytest.fixture(scope="session")
def ctr(tmp_path_factory):
    d = tmp_path_factory.mktemp("ps-ctr")
    write_ctr(d / "train.svm", CTRData.rows, DIMS, seed=1, fields=12, max_vocab=5_000)
    write_ctr(d / "test.svm", 10_000, DIMS, seed=2, fields=12, max_vocab=5_000)
    return CTRData(d)


class Reference:
    """The single-process trainer (FTRL, global batch 512) on the same data."""

    def __init__(self, ctr):
        self.trainer = SparseLRTrainer(DIMS, "ftrl", batch_size=BATCH)
        self.trainer.fit(ctr.train, epochs=1, progress=False)
        self.auc = metrics.roc_auc(ctr.test.labels, self.trainer.predict_proba(ctr.test))

    def max_weight_diff(self, model) -> float:
        """Largest |w_ps - w_single| over the single-process model's non-zero weights."""
        keys, w = self.trainer.nonzero_weights()
        return float(np.abs(model.lookup(keys) - w).max())


@pytest.fixture(scope="session")
def reference(ctr):
    ref = Reference(ctr)
    assert ref.auc > 0.7  # the data is learnable, or no comparison below means anything
    return ref
