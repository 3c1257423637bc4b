"""Mutable lookup tables (`tf.lookup.experimental.MutableHashTable`, `DenseHashTable`):
a key -> value map that ops insert into, remove from, look up, count and export.

The table's contents are state of the session that runs its ops (each session has its
own table, as each has its own variables), created empty on first use; in eager mode the
table object holds them. Table ops carry the table in their ``table`` attr as variable
ops carry the variable; the insert and remove ops write it, so a session runs them after
the lookups of the same step. Tables cannot be exported in a meta graph.
"""

from __future__ import annotations

import numpy as np

from miniflow import dtypes, errors
from miniflow.core.dispatch import apply_op, current_frontend
from miniflow.core.registry import not_differentiable, register_op
from miniflow.ops import array_ops
from miniflow.ops.shape_rules import dims
from miniflow.ops.state_ops import Slot


def _table_state(**kw):
    return dict(
        stateful=True,
        make_state=lambda attrs: Slot(attrs["table"].name),
        state_key=lambda attrs: attrs["table"],
        exportable=False,
        **kw,
    )


def _key(k):
    return k if isinstance(k, bytes) else (k.encode() if isinstance(k, str) else k.item())


def _check_key(table, flat):
    for bad, what in ((table._empty_key, "empty_key"), (table._deleted_key, "deleted_key")):
        if bad is not None and any(_key(k) == bad for k in flat):
            raise errors.InvalidArgumentError(
                None, None, f"Using the {what} as a table key is not allowed"
            )


def _find_infer(inputs, attrs):
    t = attrs["table"]
    keys = dims(inputs[0])
    return [(None if keys is None else tuple(keys) + t._value_shape, t._value_dtype)]


@register_op("MutableHashTableFind", infer=_find_infer, **_table_state())
def _find(slot, keys, default, table=None):
    entries = slot.value or {}
    keys = np.asarray(keys)
    flat = keys.reshape(-1)
    _check_key(table, flat)
    default = np.asarray(default, dtype=table._value_dtype.np)
    out = np.empty((flat.size,) + table._value_shape, dtype=table._value_dtype.np)
    for i, k in enumerate(flat):
        out[i] = entries.get(_key(k), default)
    return out.reshape(keys.shape + table._value_shape)


@register_op("MutableHashTableInsert", num_outputs=0, writes=True, **_table_state())
def _insert(slot, keys, values, table=None):
    flat = np.asarray(keys).reshape(-1)
    values = np.asarray(values, dtype=table._value_dtype.np)
    want = np.asarray(keys).shape + table._value_shape
    if values.shape != want:
        raise errors.InvalidArgumentError(
            None, None, f"Expected shape {list(want)} for value, got {list(values.shape)}"
        )
    _check_key(table, flat)
    entries = dict(slot.value or {})  # a new dict: a read in flight keeps the old one
    rows = values.reshape((flat.size,) + table._value_shape)
    for k, v in zip(flat, rows):
        entries[_key(k)] = v.copy()
    slot.value = entries
    return ()


@register_op("MutableHashTableRemove", num_outputs=0, writes=True, **_table_state())
def _remove(slot, keys, table=None):
    flat = np.asarray(keys).reshape(-1)
    _check_key(table, flat)
    entries = dict(slot.value or {})
    for k in flat:
        entries.pop(_key(k), None)
    slot.value = entries
    return ()


@register_op("MutableHashTableSize", infer=lambda i, a: [((), dtypes.int64)], **_table_state())
def _size(slot, table=None):
    return np.int64(len(slot.value or {}))


def _export_infer(inputs, attrs):
    t = attrs["table"]
    return [((None,), t._key_dtype), ((None,) + t._value_shape, t._value_dtype)]


@register_op("MutableHashTableExport", infer=_export_infer, num_outputs=2, **_table_state())
def _export(slot, table=None):
    entries = slot.value or {}
    keys = list(entries)
    if table._key_dtype == dtypes.string:
        k = np.array(keys, dtype=object).reshape(-1)
    else:
        k = np.array(keys, dtype=table._key_dtype.np).reshape(-1)
    v = np.array([entries[x] for x in keys], dtype=table._value_dtype.np).reshape(
        (len(keys),) + table._value_shape
    )
    return k, v


for _t in (
    "MutableHashTableFind",
    "MutableHashTableInsert",
    "MutableHashTableRemove",
    "MutableHashTableSize",
    "MutableHashTableExport",
):
    not_differentiable(_t)


class MutableHashTable:
    """A mutable key -> value table; values may be vectors (``default_value``'s shape).

    ``tf.lookup.experimental.MutableHashTable(key_dtype, value_dtype, default_value,
    name="MutableHashTable", checkpoint=True)``: ``insert(keys, values)``,
    ``remove(keys)``, ``lookup(keys, dynamic_default_values=None)``, ``size()``,
    ``export()`` -> (keys, values).
    """

    _empty_key = _deleted_key = None
    _kind = "MutableHashTable"

    def __init__(
        self, key_dtype, value_dtype, default_value, name="MutableHashTable", checkpoint=True
    ):
        self._key_dtype = dtypes.as_dtype(key_dtype)
        self._value_dtype = dtypes.as_dtype(value_dtype)
        self._default = array_ops.convert_to_tensor(default_value, dtype=self._value_dtype)
        self._value_shape = tuple(self._default.shape.as_list())
        self._name = name
        if current_frontend().eager:
            self._slot = Slot(name)  # the eager executor keeps a table's contents here

    name = property(lambda self: self._name)
    key_dtype = property(lambda self: self._key_dtype)
    value_dtype = property(lambda self: self._value_dtype)
    default_value = property(lambda self: self._default)

    def _keys(self, keys):
        given = getattr(keys, "dtype", None)
        if given is None or isinstance(given, np.dtype):
            keys = array_ops.convert_to_tensor(keys, dtype=self._key_dtype)
        if keys.dtype != self._key_dtype:
            raise TypeError(
                f"Signature mismatch. Keys must be dtype {self._key_dtype}, got {keys.dtype}."
            )
        return keys

    def lookup(self, keys, dynamic_default_values=None, name=None):
        """The values of ``keys`` (the default where a key is missing)."""
        default = (
            self._default
            if dynamic_default_values is None
            else array_ops.convert_to_tensor(dynamic_default_values, dtype=self._value_dtype)
        )
        return apply_op(
            "MutableHashTableFind",
            self._keys(keys),
            default,
            table=self,
            name=name or f"{self._name}_lookup_table_find",
        )

    def insert(self, keys, values, name=None):
        """Sets ``keys`` to ``values`` (an op in graph mode)."""
        values = array_ops.convert_to_tensor(values, dtype=self._value_dtype)
        return apply_op(
            "MutableHashTableInsert",
            self._keys(keys),
            values,
            table=self,
            name=name or f"{self._name}_lookup_table_insert",
        )

    def remove(self, keys, name=None):
        """Deletes ``keys`` (missing ones are ignored)."""
        return apply_op(
            "MutableHashTableRemove",
            self._keys(keys),
            table=self,
            name=name or f"{self._name}_lookup_table_remove",
        )

    def size(self, name=None):
        return apply_op("MutableHashTableSize", table=self, name=name or f"{self._name}_Size")

    def export(self, name=None):
        """(keys, values) of every entry, in no particular order."""
        return apply_op(
            "MutableHashTableExport",
            table=self,
            name=name or f"{self._name}_lookup_table_export_values",
        )


class DenseHashTable(MutableHashTable):
    """`MutableHashTable` with TF's reserved ``empty_key`` and ``deleted_key`` (using them
    as keys is an InvalidArgumentError); the bucket count is not modelled.

    ``tf.lookup.experimental.DenseHashTable(key_dtype, value_dtype, default_value,
    empty_key, deleted_key, initial_num_buckets=None, name="MutableDenseHashTable",
    checkpoint=True)``

    Raises:
        ValueError: ``empty_key`` equals ``deleted_key``.
    """

    def __init__(
        self,
        key_dtype,
        value_dtype,
        default_value,
        empty_key,
        deleted_key,
        initial_num_buckets=None,
        name="MutableDenseHashTable",
        checkpoint=True,
    ):
        super().__init__(key_dtype, value_dtype, default_value, name, checkpoint)
        self._empty_key, self._deleted_key = (
            _key(np.asarray(empty_key)),
            _key(np.asarray(deleted_key)),
        )
        if self._empty_key == self._deleted_key:
            raise ValueError("empty_key and deleted_key cannot be the same")
