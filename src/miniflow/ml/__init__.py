"""miniflow.ml: linear models from their derived gradients, and sparse LR at scale.

Needs only NumPy and SciPy (plus tqdm for progress bars and mmh3 for VW hashing);
it does not use the graph library.

* Estimators (scikit-learn conventions): :class:`LinearRegression`,
  :class:`LogisticRegression`.
* Per-coordinate optimizers over (keys, grads): :mod:`miniflow.ml.optimizers`
  (``Coordinate*``; not the ``tf.train`` optimizers, but the same update rules).
* Sparse click-data LR: :class:`SparseLRTrainer`, :class:`SparseLinearModel`,
  :func:`load_model`; readers in :mod:`miniflow.ml.data`, the binary cache in
  :mod:`miniflow.ml.cache`, :class:`DataSource`.
* Factorization machines (FM, FFM): :class:`FMTrainer`, :class:`FMModel`,
  :func:`load_fm_model`, the estimator :class:`FMClassifier`; libffm input in
  :mod:`miniflow.ml.fm_data`.
* Metrics: :mod:`miniflow.ml.metrics`. Synthetic data: :mod:`miniflow.ml.datagen`.
"""

from miniflow.ml import metrics
from miniflow.ml.cache import read_cache, write_cache
from miniflow.ml.data import Batch, parse_libsvm, parse_vw, read_file, read_libsvm, read_vw
from miniflow.ml.datagen import CTRGroundTruth, write_ctr
from miniflow.ml.fm import FMTrainer
from miniflow.ml.fm_estimator import FMClassifier
from miniflow.ml.fm_model import FMModel, load_fm_model
from miniflow.ml.linear_model import LinearRegression, LogisticRegression
from miniflow.ml.optimizers import (
    CoordinateAdagrad,
    CoordinateAdam,
    CoordinateFTRL,
    CoordinateMomentum,
    CoordinateOptimizer,
    CoordinateSGD,
    DenseStore,
    HashStore,
    make_optimizer,
)
from miniflow.ml.source import DataSource
from miniflow.ml.sparse_lr import SparseLinearModel, SparseLRTrainer, load_model
from miniflow.ml.validation import NotFittedError

__all__ = [
    "LinearRegression",
    "LogisticRegression",
    "NotFittedError",
    "CoordinateOptimizer",
    "CoordinateSGD",
    "CoordinateMomentum",
    "CoordinateAdagrad",
    "CoordinateAdam",
    "CoordinateFTRL",
    "make_optimizer",
    "DenseStore",
    "HashStore",
    "SparseLRTrainer",
    "SparseLinearModel",
    "load_model",
    "FMTrainer",
    "FMModel",
    "FMClassifier",
    "load_fm_model",
    "Batch",
    "DataSource",
    "parse_libsvm",
    "parse_vw",
    "read_libsvm",
    "read_vw",
    "read_file",
    "read_cache",
    "write_cache",
    "CTRGroundTruth",
    "write_ctr",
    "metrics",
]
