"""`Batch`: the rows of a sparse binary-classification data set, as one CSR block.

Its own module so that the readers (``data.py``) and the binary cache (``cache.py``)
both build on it without importing each other.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

__all__ = ["Batch", "concat_batches"]


@dataclass
class Batch:
    """Rows of a sparse binary-classification data set in CSR form.

    Attributes:
        indptr: int64 (n_rows + 1,) row offsets into ``indices``.
        indices: int64 feature ids (already reduced to the model's dimension).
        values: float32 feature values, or None when every value is 1 (one-hot data).
        labels: float32 (n_rows,) in {0, 1} (libsvm -1/+1 and VW -1/1 become 0/1).
        keys, local: optional de-duplication of ``indices``: ``indices == keys[local]``
            with ``keys`` unique. The trainer fills them in; the cache stores them, so
            later epochs skip that work.
    """

    indptr: np.ndarray
    indices: np.ndarray
    values: np.ndarray | None
    labels: np.ndarray
    keys: np.ndarray | None = None
    local: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def nnz(self) -> int:
        return len(self.indices)

    def slice(self, start: int, stop: int) -> Batch:
        """Rows ``start:stop`` (views, no copy of the feature arrays)."""
        if start == 0 and stop == len(self):
            return self
        lo, hi = self.indptr[start], self.indptr[stop]
        return Batch(
            self.indptr[start : stop + 1] - lo,
            self.indices[lo:hi],
            None if self.values is None else self.values[lo:hi],
            self.labels[start:stop],
        )

    def row_ids(self) -> np.ndarray:
        """The row of every stored feature (length nnz)."""
        return np.repeat(np.arange(len(self), dtype=np.int64), np.diff(self.indptr))

    def split(self, rows: int) -> Iterator[Batch]:
        """Consecutive slices of at most ``rows`` rows."""
        for start in range(0, len(self), rows):
            yield self.slice(start, min(start + rows, len(self)))

    def to_csr(self, n_features: int):
        """A ``scipy.sparse.csr_matrix`` of shape (n_rows, n_features)."""
        import scipy.sparse as sp

        values = np.ones(self.nnz, np.float32) if self.values is None else self.values
        return sp.csr_matrix((values, self.indices, self.indptr), shape=(len(self), n_features))

    @classmethod
    def from_csr(cls, X, labels) -> Batch:
        """Wraps a SciPy CSR matrix (and labels) without densifying anything."""
        import scipy.sparse as sp

        X = sp.csr_matrix(X)
        return cls(
            X.indptr.astype(np.int64),
            X.indices.astype(np.int64),
            X.data.astype(np.float32),
            np.asarray(labels, np.float32),
        )


def concat_batches(batches: list[Batch]) -> Batch:
    """Stacks batches row-wise."""
    if len(batches) == 1:
        return batches[0]
    offsets = np.cumsum([0] + [b.nnz for b in batches])
    shifted = [b.indptr[1:] + off for b, off in zip(batches, offsets[:-1], strict=True)]
    indptr = np.concatenate([batches[0].indptr[:1], *shifted])
    values = None
    if any(b.values is not None for b in batches):
        values = np.concatenate(
            [np.ones(b.nnz, np.float32) if b.values is None else b.values for b in batches]
        )
    return Batch(
        indptr,
        np.concatenate([b.indices for b in batches]),
        values,
        np.concatenate([b.labels for b in batches]),
    )
