"""Static lookup tables (`tf.lookup`): a key -> value map built from tensors or a text
file, read by one op.

The table's keys and values are ordinary tensors (usually constants) that feed the
lookup op, so one registration serves graph and eager mode and nothing lives outside the
graph. Intended difference from TF: a table needs no initialization run; its
initializer (and ``tf.tables_initializer()``) is a no-op kept for TF1 programs, and a key
that maps to two values is reported when the table is looked up.
"""

from __future__ import annotations

import numpy as np

from miniflow import dtypes, errors
from miniflow.core.dispatch import apply_op, current_frontend
from miniflow.core.registry import not_differentiable, register_op
from miniflow.graph.graph import get_default_graph
from miniflow.ops import array_ops as _arr, control_flow_ops as _cf, math_ops as _math, string_ops
from miniflow.ops.shape_rules import dims
from miniflow.ops.sparse_ops import SparseTensor

TABLE_INITIALIZERS = "table_initializer"  # TF's tf.GraphKeys.TABLE_INITIALIZERS


def _find_infer(inputs, attrs):
    return [(dims(inputs[2]), inputs[1].dtype)]


@register_op("StaticHashTableFind", infer=_find_infer)
def _find(keys, values, query, default_value):
    keys, values, query = np.ravel(keys), np.ravel(values), np.asarray(query)
    out = np.full(query.shape, default_value, dtype=values.dtype)
    if not keys.size:
        return out
    order = np.argsort(keys, kind="stable")
    sorted_keys, sorted_values = keys[order], values[order]
    same = sorted_keys[1:] == sorted_keys[:-1]
    clash = same & (sorted_values[1:] != sorted_values[:-1])
    if clash.any():
        k = int(np.argmax(clash))
        raise errors.FailedPreconditionError(
            None,
            None,
            f"HashTable has different value for same key. Key "
            f"{_text(sorted_keys[k])} has {_text(sorted_values[k])} and trying to "
            f"add value {_text(sorted_values[k + 1])}",
        )
    flat = query.reshape(-1)
    pos = np.searchsorted(sorted_keys, flat).clip(0, keys.size - 1)
    found = sorted_keys[pos] == flat
    out.reshape(-1)[found] = sorted_values[pos[found]]
    return out


not_differentiable("StaticHashTableFind")


def _text(x):
    return x.decode() if isinstance(x, bytes) else x


class KeyValueTensorInitializer:
    """A table's contents from a ``keys`` and a ``values`` tensor of the same length."""

    def __init__(self, keys, values, key_dtype=None, value_dtype=None, name=None):
        with _cf.name_scope(name, "key_value_init") as scope:
            self._keys = _arr.convert_to_tensor(keys, dtype=key_dtype, name="keys")
            self._values = _arr.convert_to_tensor(values, dtype=value_dtype, name="values")
            self._name = scope
        self.key_dtype, self.value_dtype = self._keys.dtype, self._values.dtype

    def initialize(self, table):
        """A no-op (tables need no initialization in miniflow), recorded as TF does in
        the ``TABLE_INITIALIZERS`` collection."""
        if current_frontend().eager:
            return None
        op = _cf.no_op(name="table_init")
        get_default_graph().add_to_collection(TABLE_INITIALIZERS, op)
        return op


class TextFileIndex:
    """Which part of a line is the key or the value: the whole line, or its number."""

    WHOLE_LINE = -2
    LINE_NUMBER = -1


class TextFileInitializer(KeyValueTensorInitializer):
    """A table's contents from a text file: per line, the key and the value are a column
    (split at ``delimiter``), the whole line, or the line number. The file is read when
    the initializer is built (TF reads it when the table is initialized)."""

    def __init__(
        self,
        filename,
        key_dtype,
        key_index,
        value_dtype,
        value_index,
        vocab_size=None,
        delimiter="\t",
        name=None,
        value_index_offset=0,
    ):
        key_dtype, value_dtype = dtypes.as_dtype(key_dtype), dtypes.as_dtype(value_dtype)
        with open(filename, encoding="utf-8") as f:
            lines = f.read().splitlines()
        if vocab_size is not None:
            if len(lines) < vocab_size:
                raise errors.InvalidArgumentError(
                    None,
                    None,
                    f"Invalid vocab_size in {filename}: expected {vocab_size} "
                    f"lines, got {len(lines)}",
                )
            lines = lines[:vocab_size]
        keys = [
            self._field(line, i, key_index, key_dtype, delimiter, 0, filename)
            for i, line in enumerate(lines)
        ]
        values = [
            self._field(line, i, value_index, value_dtype, delimiter, value_index_offset, filename)
            for i, line in enumerate(lines)
        ]
        super().__init__(
            np.array(keys, dtype=key_dtype.as_numpy_dtype),
            np.array(values, dtype=value_dtype.as_numpy_dtype),
            key_dtype,
            value_dtype,
            name=name or "text_file_init",
        )

    @staticmethod
    def _field(line, number, index, dtype, delimiter, offset, filename):
        if index == TextFileIndex.LINE_NUMBER:
            return number + offset
        text = (
            line
            if index == TextFileIndex.WHOLE_LINE
            else _column(line, index, delimiter, filename, number)
        )
        if dtype == dtypes.string:
            return text.encode()
        try:
            return dtype.as_numpy_dtype(text)
        except ValueError:
            raise errors.InvalidArgumentError(
                None,
                None,
                f"Field {text!r} in line {number} of {filename} is not a valid {dtype.name}",
            ) from None


def _column(line, index, delimiter, filename, number):
    cols = line.split(delimiter)
    if index >= len(cols):
        raise errors.InvalidArgumentError(
            None,
            None,
            f"Invalid number of columns in {filename} line {number} ({line!r}): "
            f"expected more than {index}, got {len(cols)}",
        )
    return cols[index]


class StaticHashTable:
    """An immutable key -> value table; ``lookup`` gives ``default_value`` for a key it
    does not hold."""

    def __init__(self, initializer, default_value, name=None, experimental_is_anonymous=False):
        self._initializer = initializer
        self._name = name or "hash_table"
        self._default_value = _arr.convert_to_tensor(default_value, dtype=initializer.value_dtype)
        self._init_op = initializer.initialize(self)

    name = property(lambda self: self._name)
    key_dtype = property(lambda self: self._initializer.key_dtype)
    value_dtype = property(lambda self: self._initializer.value_dtype)
    default_value = property(lambda self: self._default_value)
    initializer = property(lambda self: self._init_op)

    def size(self, name=None):
        """The number of entries (int64)."""
        return _arr.size(self._initializer._keys, out_type=dtypes.int64, name=name)

    def export(self, name=None):
        """The (keys, values) tensors of the table."""
        return self._initializer._keys, self._initializer._values

    def lookup(self, keys, name=None):
        """The values of ``keys`` (a Tensor or SparseTensor of the key dtype)."""
        if isinstance(keys, SparseTensor):
            return SparseTensor(keys.indices, self.lookup(keys.values, name), keys.dense_shape)
        keys = _arr.convert_to_tensor(keys, dtype=None)
        if keys.dtype != self.key_dtype:
            raise TypeError(
                f"Dtype of argument `keys` must be {self.key_dtype!r}, received: {keys.dtype!r}"
            )
        with _cf.name_scope(name, f"{self._name}_Lookup"):
            return apply_op(
                "StaticHashTableFind",
                self._initializer._keys,
                self._initializer._values,
                keys,
                self._default_value,
            )


class StaticVocabularyTable:
    """Keys -> int64 ids from a vocabulary; an unknown key goes to one of
    ``num_oov_buckets`` extra ids after the vocabulary, by its string's Fingerprint64."""

    def __init__(
        self,
        initializer,
        num_oov_buckets,
        lookup_key_dtype=None,
        name=None,
        experimental_is_anonymous=False,
    ):
        if num_oov_buckets <= 0:
            raise ValueError("`num_oov_buckets` must be > 0; use StaticHashTable.")
        if initializer.value_dtype != dtypes.int64:
            raise TypeError(
                f"Invalid `value_dtype`, expected {dtypes.int64!r} but got "
                f"{initializer.value_dtype!r}."
            )
        self._name = name or "hash_table"
        self._num_oov_buckets = num_oov_buckets
        self._table = StaticHashTable(initializer, _arr.constant(-1, dtypes.int64), name=self._name)

    name = property(lambda self: self._name)
    key_dtype = property(lambda self: self._table.key_dtype)
    value_dtype = property(lambda self: dtypes.int64)
    initializer = property(lambda self: self._table.initializer)

    def size(self, name=None):
        return _math.add(self._table.size(), self._num_oov_buckets, name=name)

    def lookup(self, keys, name=None):
        if isinstance(keys, SparseTensor):
            return SparseTensor(keys.indices, self.lookup(keys.values, name), keys.dense_shape)
        with _cf.name_scope(name, f"{self._name}_Lookup"):
            keys = _arr.convert_to_tensor(keys)
            ids = self._table.lookup(keys)
            text = keys if keys.dtype == dtypes.string else string_ops.as_string(keys)
            buckets = _math.add(
                _arr.cast(
                    string_ops.to_hash_bucket_fast(text, self._num_oov_buckets), dtypes.int64
                ),
                self._table.size(),
            )
            return _arr.where(_math.equal(ids, -1), buckets, ids)


def tables_initializer(name="init_all_tables"):
    """One op that runs every table initializer of the default graph."""
    if current_frontend().eager:
        return None
    inits = get_default_graph().get_collection(TABLE_INITIALIZERS)
    return _cf.group(*inits, name=name) if inits else _cf.no_op(name=name)


initialize_all_tables = tables_initializer
