"""`tf.ragged.RaggedTensorValue`: the NumPy value of a RaggedTensor, as `Session.run`
returns it and a ragged placeholder is fed with it."""

from __future__ import annotations

import numpy as np


class RaggedTensorValue:
    """The value of a fetched RaggedTensor: ``values`` (a NumPy array or another
    RaggedTensorValue) partitioned by the NumPy ``row_splits``."""

    def __init__(self, values, row_splits):
        row_splits = np.asarray(row_splits)
        if row_splits.dtype not in (np.int32, np.int64):
            raise TypeError(f"row_splits must be int32 or int64, got {row_splits.dtype}")
        if not isinstance(values, RaggedTensorValue):
            values = np.asarray(values)
        self._values, self._row_splits = values, row_splits

    @classmethod
    def from_nested(cls, flat_values, nested_row_splits):
        result = flat_values
        for splits in reversed(list(nested_row_splits)):
            result = cls(result, splits)
        return result

    values = property(lambda self: self._values)
    row_splits = property(lambda self: self._row_splits)

    @property
    def flat_values(self):
        v = self._values
        while isinstance(v, RaggedTensorValue):
            v = v._values
        return v

    @property
    def nested_row_splits(self) -> tuple:
        out, v = [self._row_splits], self._values
        while isinstance(v, RaggedTensorValue):
            out.append(v._row_splits)
            v = v._values
        return tuple(out)

    ragged_rank = property(lambda self: len(self.nested_row_splits))
    dtype = property(lambda self: self.flat_values.dtype)

    @property
    def shape(self) -> tuple:
        return (
            (self._row_splits.shape[0] - 1,)
            + (None,) * self.ragged_rank
            + self.flat_values.shape[1:]
        )

    def to_list(self) -> list:
        """Nested Python lists (bytes for strings, as TF)."""
        v = (
            self._values.to_list()
            if isinstance(self._values, RaggedTensorValue)
            else self._values.tolist()
        )
        s = self._row_splits.tolist()
        return [v[s[i] : s[i + 1]] for i in range(len(s) - 1)]

    def numpy(self):
        """An object array of rows; each row a NumPy array (or object array)."""
        v = self._values.numpy() if isinstance(self._values, RaggedTensorValue) else self._values
        s = self._row_splits
        out = np.empty(len(s) - 1, dtype=object)
        for i in range(len(s) - 1):
            out[i] = v[s[i] : s[i + 1]]
        return out

    def __repr__(self):
        return f"<tf.RaggedTensorValue {self.to_list()}>"
