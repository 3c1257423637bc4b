"""`FMClassifier`: a factorization machine with scikit-learn's estimator conventions.

Column j of X is feature id j (FFM: packed with its field, see
:mod:`miniflow.ml.fm_data`), so dense arrays and SciPy sparse matrices train the same
:class:`~miniflow.ml.fm.FMTrainer` as click files, for ``epochs`` shuffled passes of
``batch_size`` rows.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from miniflow.ml.base import Params
from miniflow.ml.batch import Batch
from miniflow.ml.fm import FMTrainer
from miniflow.ml.fm_math import field_bits_for
from miniflow.ml.validation import check_fitted, check_X, class_labels

__all__ = ["FMClassifier"]


def _seed(random_state) -> int:
    """An int seed from None, an int or a ``np.random.RandomState``/``Generator``."""
    if random_state is None:
        return int(np.random.default_rng().integers(2**31))
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(2**31))
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(2**31))
    return int(random_state)


class FMClassifier(Params):
    """Binary classifier ``p = sigmoid(b + w.x + sum_{i<j} <v_i, v_j> x_i x_j)``.

    Args:
        model: ``"fm"`` or ``"ffm"`` (field-aware; needs ``fields``).
        factors: length k of the factor vectors.
        fields: for ``"ffm"``, the field of each column (length n_features, ints >= 0).
        optimizer: ``ftrl`` (default), ``adagrad`` or ``sgd``.
        alpha, beta: FTRL parameters; ``learning_rate`` for adagrad/sgd.
        l1, l2: regularisation of the linear weights; ``factor_l2`` of the factors.
        init_std: std of the random initial factors.
        epochs: passes over the data; ``batch_size`` rows per update.
        shuffle: reshuffle the rows every epoch.
        random_state: seeds the initial factors and the shuffling.

    Example:
        >>> import numpy as np
        >>> X = np.array([[1, 0], [0, 1], [1, 1], [0, 0]] * 50, float)
        >>> y = (X[:, 0] != X[:, 1]).astype(int)  # XOR: needs the x0*x1 interaction
        >>> FMClassifier(random_state=0).fit(X, y).score(X, y)
        1.0
    """

    _estimator_type = "classifier"

    def __init__(
        self,
        model: str = "fm",
        factors: int = 8,
        fields=None,
        optimizer: str = "ftrl",
        alpha: float = 0.2,
        beta: float = 1.0,
        learning_rate: float = 0.1,
        l1: float = 0.0,
        l2: float = 0.0,
        factor_l2: float = 1e-4,
        init_std: float = 0.1,
        epochs: int = 20,
        batch_size: int = 32,
        shuffle: bool = True,
        random_state=None,
    ):
        self.model = model
        self.factors = factors
        self.fields = fields
        self.optimizer = optimizer
        self.alpha = alpha
        self.beta = beta
        self.learning_rate = learning_rate
        self.l1 = l1
        self.l2 = l2
        self.factor_l2 = factor_l2
        self.init_std = init_std
        self.epochs = epochs
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.random_state = random_state

    # -- layout of columns as feature ids ------------------------------------------------
    def _layout(self, n_features: int) -> tuple[int, np.ndarray, int]:
        """(dims_log2, id of each column, number of fields)."""
        low = max(1, (n_features - 1).bit_length())
        if self.model != "ffm":
            return low, np.arange(n_features, dtype=np.int64), 0
        if self.fields is None:
            raise ValueError("FMClassifier(model='ffm') needs fields=[field of each column]")
        fields = np.asarray(self.fields)
        if fields.shape != (n_features,) or fields.dtype.kind not in "iu" or fields.min() < 0:
            raise ValueError(
                f"fields must hold one non-negative int per column ({n_features}); got "
                f"shape {fields.shape}, dtype {fields.dtype}"
            )
        n_fields = int(fields.max()) + 1
        bits = field_bits_for(n_fields)
        return low + bits, (fields.astype(np.int64) << low) | np.arange(n_features), n_fields

    def _batch(self, X, labels=None) -> Batch:
        X = sp.csr_matrix(X)
        X.sum_duplicates()
        y = np.zeros(X.shape[0], np.float32) if labels is None else labels
        return Batch(
            X.indptr.astype(np.int64),
            self.column_ids_[X.indices],
            X.data.astype(np.float32),
            np.asarray(y, np.float32),
        )

    # -- scikit-learn API ----------------------------------------------------------------
    def fit(self, X, y):
        """Trains from scratch on X (dense or SciPy sparse) and binary labels y."""
        X = check_X(X, self)
        y = class_labels(X, y, self)
        classes = np.unique(y)
        if len(classes) < 2:
            raise ValueError(
                f"{type(self).__name__} needs samples of at least 2 classes in the data, "
                f"but the data contains only one class (1 class: {classes.tolist()})"
            )
        if len(classes) > 2:
            raise ValueError(
                f"Only binary classification is supported: {type(self).__name__} needs 2 "
                f"classes in y, got {len(classes)}: {classes.tolist()[:10]}"
            )
        if int(self.epochs) < 1 or int(self.batch_size) < 1:
            raise ValueError(
                f"epochs and batch_size must be >= 1; got {self.epochs}, {self.batch_size}"
            )
        seed = _seed(self.random_state)
        dims, self.column_ids_, n_fields = self._layout(X.shape[1])
        trainer = FMTrainer(
            dims, self.optimizer, model=self.model, factors=self.factors,
            fields=n_fields or None, alpha=self.alpha, beta=self.beta, lr=self.learning_rate,
            l1=self.l1, l2=self.l2, factor_l2=self.factor_l2, init_std=self.init_std,
            seed=seed, batch_size=int(self.batch_size), dtype=np.float64,
        )  # fmt: skip
        self.classes_ = classes
        self.n_features_in_ = X.shape[1]
        X = sp.csr_matrix(X)
        target = (y == classes[1]).astype(np.float32)
        rng = np.random.default_rng(seed)
        n, size = X.shape[0], int(self.batch_size)
        data = self._batch(X, target)
        for _ in range(int(self.epochs)):
            if self.shuffle:  # one permuted copy per epoch; minibatches are views of it
                order = rng.permutation(n)
                data = self._batch(X[order], target[order])
            for mb in data.split(size):
                trainer.step(mb)
        self.trainer_ = trainer
        return self

    def decision_function(self, X) -> np.ndarray:
        """Margins (n,): > 0 means ``classes_[1]``."""
        check_fitted(self, "trainer_")
        X = check_X(X, self, self.n_features_in_)
        return self.trainer_.decision_function(self._batch(X))

    def predict_proba(self, X) -> np.ndarray:
        """(n, 2) probabilities, columns ordered as ``classes_``."""
        z = self.decision_function(X)
        p = 0.5 * (1.0 + np.tanh(0.5 * z))  # sigmoid without overflow warnings
        return np.stack([1.0 - p, p], axis=1)

    def predict_log_proba(self, X) -> np.ndarray:
        """Log of :meth:`predict_proba` (computed from the margins, no log(0))."""
        z = self.decision_function(X)
        return np.stack([-np.logaddexp(0.0, z), -np.logaddexp(0.0, -z)], axis=1)

    def predict(self, X) -> np.ndarray:
        """Class labels: ``classes_[1]`` where the margin is > 0."""
        positive = self.decision_function(X) > 0  # checks fitted before classes_ is read
        return self.classes_[positive.astype(np.int64)]

    def score(self, X, y) -> float:
        """Mean accuracy."""
        return float(np.mean(self.predict(X) == np.asarray(y)))
