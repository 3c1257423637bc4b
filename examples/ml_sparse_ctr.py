"""Sparse logistic regression on generated click data, end to end (miniflow.ml).

Generates train/test files from a known ground-truth model, trains FTRL-Proximal for two
epochs (the second from the binary cache), saves the model sparsely, loads it back and
compares its test AUC with the ground truth's.

Run: python examples/ml_sparse_ctr.py
"""

import os
import tempfile

import numpy as np

from miniflow.ml import DataSource, SparseLRTrainer, load_model, metrics, read_libsvm, write_ctr
from miniflow.ml.data import concat_batches


def main() -> None:
    d = tempfile.mkdtemp(prefix="miniflow-ctr-")
    dims = 20
    write_ctr(os.path.join(d, "train.svm"), 100_000, dims, seed=1)
    truth = write_ctr(os.path.join(d, "test.svm"), 20_000, dims, seed=2)

    train = DataSource(os.path.join(d, "train.svm"), dims, cache=os.path.join(d, "train.cache"))
    trainer = SparseLRTrainer(dims, "ftrl", alpha=0.2, beta=1.0, l1=0.5)
    trainer.fit(train, epochs=2, progress=False, log=print)

    trainer.to_model().save(os.path.join(d, "model"))
    model = load_model(os.path.join(d, "model"))
    test = concat_batches(list(read_libsvm(os.path.join(d, "test.svm"), dims)))
    auc = metrics.roc_auc(test.labels, model.predict_proba(test))
    print(
        f"model: {model.nnz} non-zero weights of 2^{dims}; test AUC {auc:.4f}, "
        f"ground truth {truth['ground_truth_auc']:.4f}"
    )
    assert np.isfinite(auc)


if __name__ == "__main__":
    main()
