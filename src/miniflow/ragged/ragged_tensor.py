"""`tf.RaggedTensor`: a tensor whose rows have different lengths, and its fetched value
`tf.ragged.RaggedTensorValue`.

A RaggedTensor is a Python object over ordinary tensors, as in TF: ``values`` (a tensor,
or a RaggedTensor for more ragged dimensions) and ``row_splits`` (int64 by default).
Every method builds ordinary ops on those components, so it works in graph and eager
mode alike, and gradients flow to ``flat_values`` through the gathers and segment sums.
`Session.run` fetches a RaggedTensor as a `RaggedTensorValue`; a ragged placeholder is
fed with one (see `ragged_session`).
"""

from __future__ import annotations

import numpy as np

from miniflow import dtypes
from miniflow.core.dispatch import executing_eagerly, is_tensor
from miniflow.core.shapes import TensorShape
from miniflow.ops import array_ops, check_ops, control_flow_ops, math_ops, ragged_array_ops as rp
from miniflow.ops.gather_scatter_ops import scatter_nd
from miniflow.ops.shape_rules import dims
from miniflow.ops.sparse_ops import SparseTensor
from miniflow.ragged.ragged_value import RaggedTensorValue

_SPLITS_DTYPES = (dtypes.int32, dtypes.int64)


def _static(t):
    v = array_ops.get_static_value(t)
    return None if v is None else np.asarray(v)


def _splits_tensor(x, name, dtype=None):
    t = array_ops.convert_to_tensor(x, dtype_hint=dtype or dtypes.int64, name=name)
    if t.dtype not in _SPLITS_DTYPES:
        raise ValueError(f"{name} must have dtype int32 or int64, got {t.dtype.name}")
    d = dims(t)
    if d is not None and len(d) != 1:
        raise ValueError(f"{name} must be a vector, got shape {TensorShape(d)}")
    return t


def _as_values(values, dtype=None):
    if isinstance(values, RaggedTensor):
        return values
    t = array_ops.convert_to_tensor(values, dtype=dtype, name="values")
    if dims(t) == ():
        raise ValueError("values must have rank at least 1, got a scalar")
    return t


def _nvals(values, dtype):
    if isinstance(values, RaggedTensor):
        return values.nrows(out_type=dtype)
    return array_ops.shape(values, out_type=dtype)[0]


class RaggedTensor:
    """A ragged tensor: rows of different lengths over ``values``, partitioned by
    ``row_splits`` (row ``i`` is ``values[row_splits[i]:row_splits[i + 1]]``).

    Build one with the ``from_*`` class methods or `tf.ragged.constant`; never call the
    constructor directly (as in TF).

    Example::

        rt = tf.RaggedTensor.from_row_splits([3., 1., 4., 1.], [0, 2, 2, 4])
        tf.ragged.reduce_sum(rt, axis=1)  # TF also spells it tf.reduce_sum(rt, axis=1)
    """

    def __init__(self, values, row_splits, internal=False, uniform_row_length=None):
        if not internal:
            raise ValueError(
                "RaggedTensor constructor is private; please use one of the "
                "factory methods instead (e.g., RaggedTensor.from_row_splits())"
            )
        self._values = values
        self._row_splits = row_splits
        self._uniform = uniform_row_length
        if isinstance(values, RaggedTensor) and values.row_splits.dtype != row_splits.dtype:
            raise ValueError(
                "dtype mismatch between the row_splits of nested ragged "
                "dimensions; use RaggedTensor.with_row_splits_dtype"
            )

    # -- factories ------------------------------------------------------------------
    @classmethod
    def _partition(cls, values, splits, validate, what):
        """The ragged tensor of ``splits`` over ``values``; with ``validate``, the splits
        are checked at run time (InvalidArgumentError, as TF)."""
        if validate:
            nvals = _nvals(values, splits.dtype)
            msg = f"Arguments to {what} do not form a valid RaggedTensor"
            checks = [
                check_ops.assert_equal(
                    splits[:1], array_ops.zeros([1], splits.dtype), message=f"{msg}:zero"
                ),
                check_ops.assert_non_negative(splits[1:] - splits[:-1], message=f"{msg}:monotonic"),
                check_ops.assert_equal(splits[-1:], array_ops.reshape(nvals, [1]), message=msg),
            ]
            with control_flow_ops.control_dependencies([c for c in checks if c is not None]):
                splits = array_ops.identity(splits)
        return cls(values, splits, internal=True)

    @classmethod
    def from_row_splits(cls, values, row_splits, name=None, validate=True):
        """``from_row_splits(values, row_splits, name=None, validate=True)``: row ``i`` is
        ``values[row_splits[i]:row_splits[i + 1]]``."""
        with control_flow_ops.name_scope(name, "RaggedFromRowSplits"):
            values = _as_values(values)
            splits = _splits_tensor(row_splits, "row_splits", _splits_dtype(values))
            return cls._partition(values, splits, validate, "from_row_splits")

    @classmethod
    def from_row_lengths(cls, values, row_lengths, name=None, validate=True):
        """``from_row_lengths(values, row_lengths, name=None, validate=True)``."""
        with control_flow_ops.name_scope(name, "RaggedFromRowLengths"):
            values = _as_values(values)
            lengths = _splits_tensor(row_lengths, "row_lengths", _splits_dtype(values))
            if validate:
                check = check_ops.assert_non_negative(
                    lengths,
                    message="Arguments to from_row_lengths do not form a valid "
                    "RaggedTensor:negative",
                )
                with control_flow_ops.control_dependencies([check] if check else []):
                    lengths = array_ops.identity(lengths)
            splits = rp.splits_from_lengths(lengths, lengths.dtype)
            return cls._partition(values, splits, validate, "from_row_lengths")

    @classmethod
    def from_value_rowids(cls, values, value_rowids, nrows=None, name=None, validate=True):
        """``from_value_rowids(values, value_rowids, nrows=None, name=None,
        validate=True)``: value ``k`` belongs to row ``value_rowids[k]`` (sorted)."""
        with control_flow_ops.name_scope(name, "RaggedFromValueRowIds"):
            values = _as_values(values)
            ids = _splits_tensor(value_rowids, "value_rowids", _splits_dtype(values))
            if validate:
                check = check_ops.assert_non_negative(
                    ids[1:] - ids[:-1],
                    message="Arguments to from_value_rowids do not "
                    "form a valid RaggedTensor:monotonic",
                )
                with control_flow_ops.control_dependencies([check] if check else []):
                    ids = array_ops.identity(ids)
            splits = rp.segment_ids_to_row_splits(ids, nrows, out_type=ids.dtype)
            return cls._partition(values, splits, validate, "from_value_rowids")

    @classmethod
    def from_row_starts(cls, values, row_starts, name=None, validate=True):
        """``from_row_starts(values, row_starts, name=None, validate=True)``."""
        with control_flow_ops.name_scope(name, "RaggedFromRowStarts"):
            values = _as_values(values)
            starts = _splits_tensor(row_starts, "row_starts", _splits_dtype(values))
            nvals = array_ops.reshape(_nvals(values, starts.dtype), [1])
            splits = array_ops.concat([starts, nvals], 0)
            return cls._partition(values, splits, validate, "from_row_starts")

    @classmethod
    def from_row_limits(cls, values, row_limits, name=None, validate=True):
        """``from_row_limits(values, row_limits, name=None, validate=True)``."""
        with control_flow_ops.name_scope(name, "RaggedFromRowLimits"):
            values = _as_values(values)
            limits = _splits_tensor(row_limits, "row_limits", _splits_dtype(values))
            splits = array_ops.concat([array_ops.zeros([1], limits.dtype), limits], 0)
            return cls._partition(values, splits, validate, "from_row_limits")

    @classmethod
    def from_uniform_row_length(
        cls, values, uniform_row_length, nrows=None, validate=True, name=None
    ):
        """Rows of ``uniform_row_length`` values each (the dimension stays known)."""
        with control_flow_ops.name_scope(name, "RaggedFromUniformRowLength"):
            values = _as_values(values)
            dtype = _splits_dtype(values)
            length = array_ops.convert_to_tensor(uniform_row_length, dtype=dtype)
            nvals = _nvals(values, dtype)
            if nrows is None:
                nrows = math_ops.floordiv(nvals, math_ops.maximum(length, 1))
            if not isinstance(nrows, int):  # a Python int keeps the shape static
                nrows = array_ops.convert_to_tensor(nrows, dtype=dtype)
            splits = array_ops.range(nrows + 1, dtype=dtype) * length
            rt = cls._partition(values, splits, validate, "from_uniform_row_length")
            static = _static(length)
            rt._uniform = None if static is None else int(static)
            return rt

    @classmethod
    def from_nested_row_splits(cls, flat_values, nested_row_splits, name=None, validate=True):
        """Applies `from_row_splits` once per splits vector, innermost last."""
        if isinstance(nested_row_splits, np.ndarray) or is_tensor(nested_row_splits):
            raise TypeError("nested_row_splits must be a list of Tensors")
        with control_flow_ops.name_scope(name, "RaggedFromNestedRowSplits"):
            result = flat_values
            for splits in reversed(list(nested_row_splits)):
                result = cls.from_row_splits(result, splits, validate=validate)
            return result

    @classmethod
    def from_nested_row_lengths(cls, flat_values, nested_row_lengths, name=None, validate=True):
        """Applies `from_row_lengths` once per lengths vector, innermost last."""
        with control_flow_ops.name_scope(name, "RaggedFromNestedRowlengths"):
            result = flat_values
            for lengths in reversed(list(nested_row_lengths)):
                result = cls.from_row_lengths(result, lengths, validate=validate)
            return result

    @classmethod
    def from_nested_value_rowids(
        cls, flat_values, nested_value_rowids, nested_nrows=None, name=None, validate=True
    ):
        """Applies `from_value_rowids` once per ids vector, innermost last."""
        nested_nrows = (
            [None] * len(nested_value_rowids) if nested_nrows is None else list(nested_nrows)
        )
        with control_flow_ops.name_scope(name, "RaggedFromNestedValueRowIds"):
            result = flat_values
            for ids, n in reversed(list(zip(nested_value_rowids, nested_nrows))):
                result = cls.from_value_rowids(result, ids, n, validate=validate)
            return result

    @classmethod
    def from_tensor(
        cls,
        tensor,
        lengths=None,
        padding=None,
        ragged_rank=1,
        name=None,
        row_splits_dtype=dtypes.int64,
    ):
        """Rows of a dense ``tensor``, cut at ``lengths`` or where only ``padding`` is
        left (trailing padding is dropped). ``from_tensor(tensor, lengths=None,
        padding=None, ragged_rank=1, name=None, row_splits_dtype=tf.int64)``"""
        if lengths is not None and padding is not None:
            raise ValueError("Specify argument `lengths` or `padding`, but not both.")
        dtype = dtypes.as_dtype(row_splits_dtype)
        with control_flow_ops.name_scope(name, "RaggedFromTensor"):
            tensor = array_ops.convert_to_tensor(tensor)
            d = dims(tensor)
            if d is not None and len(d) < ragged_rank + 1:
                raise ValueError(f"tensor must have rank at least {ragged_rank + 1}, got shape {d}")
            if ragged_rank > 1:
                return cls._from_tensor_nested(tensor, d, lengths, padding, ragged_rank, dtype)
            if ragged_rank < 1:
                raise ValueError(f"ragged_rank must be at least 1, got {ragged_rank}")
            shape = array_ops.shape(tensor, out_type=dtype)
            uniform = lengths is None and padding is None and d is not None
            if padding is not None:
                pad = array_ops.convert_to_tensor(padding, dtype=tensor.dtype)
                not_pad = math_ops.not_equal(tensor, pad)
                for _ in range(len(d) - 2 if d is not None else 0):
                    not_pad = math_ops.reduce_any(not_pad, axis=-1)
                pos = math_ops.cast(array_ops.range(1, shape[1] + 1, dtype=dtype), dtype)
                lengths = math_ops.reduce_max(
                    array_ops.where(
                        not_pad,
                        array_ops.ones_like(not_pad, dtype) * pos,
                        array_ops.zeros_like(not_pad, dtype),
                    ),
                    axis=1,
                )
            elif lengths is None:
                lengths = array_ops.fill(shape[:1], shape[1])
            lengths = math_ops.cast(array_ops.convert_to_tensor(lengths), dtype)
            mask = _sequence_mask(lengths, shape[1])
            values = array_ops.boolean_mask(tensor, mask)
            rt = cls.from_row_lengths(values, lengths, validate=False)
            if uniform:
                rt._uniform = d[1]
            return rt

    @classmethod
    def _from_tensor_nested(cls, tensor, d, lengths, padding, ragged_rank, dtype):
        """`from_tensor` with ``ragged_rank`` > 1: the outer dimensions become uniform
        partitions over the rows of the innermost ragged dimension."""
        if lengths is not None:
            raise NotImplementedError(
                "miniflow's RaggedTensor.from_tensor takes lengths "
                "with ragged_rank=1 only; use padding"
            )
        if d is None:
            raise ValueError("from_tensor with ragged_rank > 1 needs a known rank")
        shape = array_ops.shape(tensor, out_type=dtype)
        inner = list(d[ragged_rank:])
        rows = array_ops.reshape(
            tensor,
            [-1] + inner
            if None not in inner
            else array_ops.concat([array_ops.constant([-1], dtype), shape[ragged_rank:]], 0),
        )
        result = cls.from_tensor(rows, padding=padding, row_splits_dtype=dtype)
        for j in reversed(range(1, ragged_rank)):
            outer = d[:j]
            nrows = int(np.prod(outer)) if None not in outer else None
            length = d[j] if d[j] is not None else shape[j]
            result = cls.from_uniform_row_length(result, length, nrows=nrows, validate=False)
        return result

    @classmethod
    def from_sparse(cls, st_input, name=None, row_splits_dtype=dtypes.int64):
        """The rows of a 2-D `tf.SparseTensor` (indices in row-major order)."""
        if not isinstance(st_input, SparseTensor):
            raise TypeError(f"st_input must be a SparseTensor, got {type(st_input).__name__}")
        d = dims(st_input.indices)
        if d is not None and d[1] is not None and d[1] != 2:
            raise ValueError("rank(st_input) must be 2")
        dtype = dtypes.as_dtype(row_splits_dtype)
        with control_flow_ops.name_scope(name, "RaggedFromSparse"):
            rows = math_ops.cast(st_input.indices[:, 0], dtype)
            return cls.from_value_rowids(
                st_input.values, rows, math_ops.cast(st_input.dense_shape[0], dtype), validate=False
            )

    # -- components -----------------------------------------------------------------
    values = property(lambda self: self._values, doc="The concatenated rows.")
    row_splits = property(lambda self: self._row_splits, doc="int [nrows + 1] row bounds.")

    @property
    def flat_values(self):
        """The innermost values (a dense tensor)."""
        rt = self
        while isinstance(rt, RaggedTensor):
            rt = rt._values
        return rt

    @property
    def nested_row_splits(self) -> tuple:
        """The row splits of every ragged dimension, outermost first."""
        out, rt = [], self
        while isinstance(rt, RaggedTensor):
            out.append(rt._row_splits)
            rt = rt._values
        return tuple(out)

    @property
    def ragged_rank(self) -> int:
        return len(self.nested_row_splits)

    dtype = property(lambda self: self.flat_values.dtype)
    row_splits_dtype = property(lambda self: self._row_splits.dtype)

    @property
    def shape(self) -> TensorShape:
        """Static shape: rows (if known), None for each ragged dimension, then the
        flat values' inner dimensions."""
        n = dims(self._row_splits)
        nrows = None if n is None or n[0] is None else n[0] - 1
        inner = self._values.shape
        head = TensorShape([nrows, self._uniform])
        return head.concatenate(inner[1:]) if inner.ndims is not None else TensorShape(None)

    def get_shape(self) -> TensorShape:
        return self.shape

    @property
    def graph(self):
        return self.flat_values.graph

    def nrows(self, out_type=None, name=None):
        """The number of rows (a scalar of the row splits' dtype)."""
        with control_flow_ops.name_scope(name, "RaggedNRows"):
            known = dims(self._row_splits)
            if known is not None and known[0] is not None:  # keeps static shapes known
                n = array_ops.constant(known[0] - 1, self.row_splits_dtype)
            else:
                n = array_ops.shape(self._row_splits, out_type=self.row_splits_dtype)[0] - 1
            return n if out_type is None else math_ops.cast(n, out_type)

    def row_starts(self, name=None):
        return array_ops.identity(self._row_splits[:-1], name=name or "RaggedRowStarts")

    def row_limits(self, name=None):
        return array_ops.identity(self._row_splits[1:], name=name or "RaggedRowLimits")

    def row_lengths(self, axis=1, name=None):
        """The length of each row (``axis`` 1), or a ragged tensor of the lengths of a
        deeper ragged dimension."""
        with control_flow_ops.name_scope(name, "RaggedRowLengths"):
            if axis == 1:
                return rp.row_lengths_from_splits(self._row_splits)
            if axis > 1 and isinstance(self._values, RaggedTensor):
                return self.with_values(self._values.row_lengths(axis - 1))
            raise ValueError(f"axis={axis} is not a ragged dimension of {self.shape}")

    def value_rowids(self, name=None):
        """The row of each value."""
        return rp.row_splits_to_segment_ids(self._row_splits, name=name or "RaggedValueRowIds")

    def nested_row_lengths(self, name=None) -> tuple:
        return tuple(rp.row_lengths_from_splits(s) for s in self.nested_row_splits)

    def nested_value_rowids(self, name=None) -> tuple:
        return tuple(rp.row_splits_to_segment_ids(s) for s in self.nested_row_splits)

    def bounding_shape(self, axis=None, name=None, out_type=None):
        """The smallest dense shape holding every row (int64 by default)."""
        out_type = self.row_splits_dtype if out_type is None else dtypes.as_dtype(out_type)
        with control_flow_ops.name_scope(name, "RaggedBoundingBox"):
            parts, rt = [array_ops.reshape(self.nrows(out_type), [1])], self
            while isinstance(rt, RaggedTensor):
                lengths = math_ops.cast(rt.row_lengths(), out_type)
                width = math_ops.reduce_max(
                    array_ops.concat([array_ops.zeros([1], out_type), lengths], 0)
                )
                parts.append(array_ops.reshape(width, [1]))
                rt = rt._values
            parts.append(array_ops.shape(rt, out_type=out_type)[1:])
            shape = array_ops.concat(parts, 0)
            return shape if axis is None else array_ops.gather(shape, axis)

    # -- derived tensors ------------------------------------------------------------
    def with_values(self, new_values):
        """The same row partition over ``new_values`` (same outer length)."""
        new_values = _as_values(new_values)
        return RaggedTensor(
            new_values, self._row_splits, internal=True, uniform_row_length=self._uniform
        )

    def with_flat_values(self, new_values):
        """The same nested row partitions over new flat values."""
        if isinstance(self._values, RaggedTensor):
            return self.with_values(self._values.with_flat_values(new_values))
        return self.with_values(new_values)

    def with_row_splits_dtype(self, dtype):
        dtype = dtypes.as_dtype(dtype)
        if dtype == self.row_splits_dtype:
            return self
        values = (
            self._values.with_row_splits_dtype(dtype)
            if isinstance(self._values, RaggedTensor)
            else self._values
        )
        return RaggedTensor(
            values,
            math_ops.cast(self._row_splits, dtype),
            internal=True,
            uniform_row_length=self._uniform,
        )

    def merge_dims(self, outer_axis, inner_axis):
        """Merges dimensions ``outer_axis..inner_axis`` into one (a dense tensor when
        every ragged dimension is merged into the outermost)."""
        rank = self.shape.ndims
        outer = outer_axis + rank if outer_axis < 0 else outer_axis
        inner = inner_axis + rank if inner_axis < 0 else inner_axis
        if not 0 <= outer <= inner < rank:
            raise ValueError(
                f"Expected outer_axis ({outer_axis}) to be less than or equal "
                f"to inner_axis ({inner_axis}) for rank {rank}"
            )
        if outer == inner:
            return self
        if outer == 0:
            return _merge_outer(self, inner)[0]
        if outer == 1:
            merged, remap = (
                _merge_outer(self._values, inner - 1) if inner > 1 else (self._values, None)
            )
            return RaggedTensor(merged, remap(self._row_splits), internal=True)
        if isinstance(self._values, RaggedTensor):
            return self.with_values(self._values.merge_dims(outer - 1, inner - 1))
        return self.with_values(_merge_dense(self._values, outer - 1, inner - 1))

    # -- conversions ----------------------------------------------------------------
    def to_tensor(self, default_value=None, name=None, shape=None):
        """A dense tensor padded with ``default_value`` (0 by default); ``shape``
        crops or pads to a given shape."""
        with control_flow_ops.name_scope(name, "RaggedToTensor"):
            values = (
                self._values.to_tensor(default_value)
                if isinstance(self._values, RaggedTensor)
                else self._values
            )
            inner = array_ops.shape(values, out_type=self.row_splits_dtype)[1:]
            width = math_ops.reduce_max(
                array_ops.concat(
                    [array_ops.zeros([1], self.row_splits_dtype), self.row_lengths()], 0
                )
            )
            nrows = self.nrows()
            if shape is not None:
                shape = TensorShape(shape).as_list()
                if shape[0] is not None:
                    nrows = array_ops.constant(shape[0], self.row_splits_dtype)
                if shape[1] is not None:
                    width = array_ops.constant(shape[1], self.row_splits_dtype)
            rowids = self.value_rowids()
            pos = array_ops.range(
                _nvals(values, rowids.dtype), dtype=rowids.dtype
            ) - array_ops.gather(self._row_splits, rowids)
            keep = math_ops.logical_and(math_ops.less(rowids, nrows), math_ops.less(pos, width))
            idx = array_ops.stack(
                [array_ops.boolean_mask(rowids, keep), array_ops.boolean_mask(pos, keep)], 1
            )
            kept = array_ops.boolean_mask(values, keep)
            dense_shape = array_ops.concat(
                [array_ops.reshape(nrows, [1]), array_ops.reshape(width, [1]), inner], 0
            )
            dense = scatter_nd(idx, kept, dense_shape)
            if default_value is None:
                out = dense
            else:
                filled = scatter_nd(idx, array_ops.ones_like(kept, dtype=dtypes.bool), dense_shape)
                default = array_ops.convert_to_tensor(default_value, dtype=values.dtype)
                out = array_ops.where(filled, dense, array_ops.zeros_like(dense) + default)
            if shape is not None and None not in shape:
                out = array_ops.reshape(out, shape)
            elif hasattr(out, "set_shape"):  # graph mode: what is known statically
                static = self.shape.as_list() if self.shape.ndims is not None else None
                if static is not None:
                    if shape is not None:
                        static = [a if a is not None else b for a, b in zip(shape, static)]
                    out.set_shape(static)
            return out

    def to_sparse(self, name=None):
        """A `tf.SparseTensor` with the same non-padding entries."""
        with control_flow_ops.name_scope(name, "RaggedToSparse"):
            dtype = dtypes.int64
            rowids = math_ops.cast(self.value_rowids(), dtype)
            if isinstance(self._values, RaggedTensor):
                inner = self._values.to_sparse()
                outer_rows = array_ops.gather(rowids, inner.indices[:, 0])
                starts = array_ops.gather(math_ops.cast(self._row_splits, dtype), outer_rows)
                idx = array_ops.concat(
                    [
                        array_ops.expand_dims(outer_rows, 1),
                        array_ops.expand_dims(inner.indices[:, 0] - starts, 1),
                        inner.indices[:, 1:],
                    ],
                    1,
                )
                return SparseTensor(idx, inner.values, self.bounding_shape(out_type=dtype))
            pos = array_ops.range(_nvals(self._values, dtype), dtype=dtype) - array_ops.gather(
                math_ops.cast(self._row_splits, dtype), rowids
            )
            values = self._values
            d = dims(values)
            if d is not None and len(d) > 1:
                st = _dense_to_sparse_rows(values)
                outer = array_ops.gather(rowids, st.indices[:, 0])
                inner_pos = array_ops.gather(pos, st.indices[:, 0])
                idx = array_ops.concat(
                    [array_ops.stack([outer, inner_pos], 1), st.indices[:, 1:]], 1
                )
                return SparseTensor(idx, st.values, self.bounding_shape(out_type=dtype))
            return SparseTensor(
                array_ops.stack([rowids, pos], 1), values, self.bounding_shape(out_type=dtype)
            )

    def to_list(self):
        """The value as nested Python lists (eager mode; in graph mode fetch it with
        `Session.run` and call `RaggedTensorValue.to_list`)."""
        if not executing_eagerly():
            raise ValueError(
                "RaggedTensor.to_list() is only supported in eager mode; in "
                "graph mode, fetch the tensor with Session.run and call "
                "to_list() on the RaggedTensorValue"
            )
        return self._eager_value().to_list()

    def numpy(self):
        """Eager mode: a NumPy object array of rows (each a NumPy array)."""
        return self._eager_value().numpy()

    def _eager_value(self):
        flat = self.flat_values
        if not hasattr(flat, "numpy"):
            raise ValueError("numpy() is only available in eager mode")
        return RaggedTensorValue.from_nested(
            flat.numpy(), [s.numpy() for s in self.nested_row_splits]
        )

    def eval(self, feed_dict=None, session=None):
        """The `RaggedTensorValue` of this tensor in ``session`` (default session)."""
        from miniflow.graph.session import _session_for

        return _session_for(self.graph, session).run(self, feed_dict)

    def consumers(self):
        return self.flat_values.consumers()

    def __repr__(self):
        if executing_eagerly() and hasattr(self.flat_values, "numpy"):
            return f"<tf.RaggedTensor {self.to_list()}>"
        return f"tf.RaggedTensor(values={self._values!r}, row_splits={self._row_splits!r})"

    def __iter__(self):
        """Eager mode: the rows (as TF); graph mode: a TypeError, as for a Tensor."""
        if not executing_eagerly():
            raise TypeError(
                "RaggedTensor objects are only iterable when eager execution "
                "is enabled. To iterate over rows, fetch the tensor with "
                "Session.run or use tf.map_fn over its rows."
            )
        return (self[i] for i in range(int(self.nrows().numpy())))

    def __tf_tensor__(self):
        raise TypeError(
            "A RaggedTensor was passed to a dense op: of miniflow's dense ops only "
            "tf.reduce_*, tf.gather, tf.concat and the unary element-wise ops dispatch on "
            "RaggedTensors as TF's do. Use the tf.ragged function of the same name "
            "(tf.ragged.reduce_sum, tf.ragged.concat, tf.ragged.gather, ...), "
            "tf.ragged.map_flat_values(op, rt) for element-wise ops, or rt.to_tensor() "
            "for a dense tensor"
        )

    def __bool__(self):
        raise TypeError("RaggedTensor may not be used as a boolean.")

    # Indexing, operators and reductions are installed by miniflow.ragged.ragged_ops.


def _splits_dtype(values):
    return values.row_splits_dtype if isinstance(values, RaggedTensor) else dtypes.int64


def _sequence_mask(lengths, width):
    pos = array_ops.range(width, dtype=lengths.dtype)
    return math_ops.less(array_ops.expand_dims(pos, 0), array_ops.expand_dims(lengths, 1))


def _merge_outer(x, k):
    """``(merged, remap)``: dims ``0..k`` of ``x`` merged into one, and the function
    taking a row index of ``x`` to the matching row index of the result."""
    if isinstance(x, RaggedTensor):
        if k == 1:
            merged, inner = x._values, (lambda idx: idx)
        else:
            merged, inner = _merge_outer(x._values, k - 1)
        splits = x._row_splits
        return merged, lambda idx: inner(array_ops.gather(splits, idx))
    shape = array_ops.shape(x, out_type=dtypes.int64)
    merged = array_ops.reshape(x, array_ops.concat([[-1], shape[k + 1 :]], 0))
    block = math_ops.reduce_prod(shape[1 : k + 1])
    return merged, lambda idx: idx * math_ops.cast(block, idx.dtype)


def _merge_dense(values, outer, inner):
    """Dims ``outer..inner`` (both >= 1) of a dense tensor merged."""
    shape = array_ops.shape(values)
    new = array_ops.concat([shape[:outer], [-1], shape[inner + 1 :]], 0)
    return array_ops.reshape(values, new)


def _dense_to_sparse_rows(values):
    idx = array_ops.where(array_ops.ones_like(values, dtype=dtypes.bool))
    return SparseTensor(
        idx, array_ops.reshape(values, [-1]), array_ops.shape(values, out_type=dtypes.int64)
    )
