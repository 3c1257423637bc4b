"""`IndexedSlices`: a sparse gradient — rows ``values`` at ``indices`` of a dense tensor
of shape ``dense_shape``. Gather's gradient is one, so optimizers update only those rows."""

from __future__ import annotations

from typing import NamedTuple


class IndexedSlices:
    """A sparse representation of a dense tensor's rows (TF1's `tf.IndexedSlices`)."""

    __slots__ = ("values", "indices", "dense_shape")

    def __init__(self, values, indices, dense_shape=None):
        self.values = values
        self.indices = indices
        self.dense_shape = dense_shape

    @property
    def dtype(self):
        return self.values.dtype

    @property
    def name(self):
        return self.values.name

    @property
    def op(self):
        return self.values.op

    @property
    def graph(self):
        return self.values.graph

    def __repr__(self):
        return (
            f"IndexedSlices(indices={self.indices!r}, values={self.values!r}, "
            f"dense_shape={self.dense_shape!r})"
        )


class IndexedSlicesValue(NamedTuple):
    """What `Session.run` returns for a fetched `IndexedSlices`."""

    values: object
    indices: object
    dense_shape: object
