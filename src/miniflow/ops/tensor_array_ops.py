"""`tf.TensorArray`, as a value: the elements live in one dense tensor, the *flow*, of
shape ``[size] + element_shape``, and every write returns a new TensorArray over a new
flow (TF1's TensorArray also threads a flow tensor through its ops; here the flow holds
the data). Reads and writes are gathers and ``TensorScatterUpdate``s, so TensorArrays are
differentiable in both modes and pass through ``tf.while_loop`` as their flow tensor.

While the element shape is unknown and nothing is written, the flow has shape ``[size]``
(all a scalar-element array needs); the first write of a non-scalar value reallocates it
with `TensorArrayFit`, as does a write past the end of a ``dynamic_size`` array.

Intended differences from TF: all elements share one shape (``concat``/``split`` need
equal lengths), reading an element never written gives zeros, and ``clear_after_read``
does not clear (reading twice is allowed).
"""

from __future__ import annotations

import numpy as np

from miniflow import dtypes, errors
from miniflow.core.dispatch import apply_op, current_frontend
from miniflow.core.registry import register_gradient, register_op
from miniflow.core.shapes import TensorShape
from miniflow.ops import array_ops as _arr, math_ops as _math
from miniflow.ops.gather_scatter_ops import tensor_scatter_nd_update


def _fit_infer(inputs, attrs):
    ref = inputs[1].shape
    return [(None if ref.ndims is None else ref.as_tuple(), inputs[0].dtype)]


@register_op("TensorArrayFit", infer=_fit_infer)
def _fit(x, ref):
    """``x`` copied into zeros of ``ref``'s shape: the leading rows that both have, when
    their element shapes agree (else all zeros). Linear in x; its transpose is itself."""
    x = np.asarray(x)
    out = np.zeros(np.shape(ref), dtype=x.dtype)
    if x.ndim == out.ndim and x.ndim and x.shape[1:] == out.shape[1:]:
        k = min(x.shape[0], out.shape[0])
        out[:k] = x[:k]
    return out


@register_gradient("TensorArrayFit")
def _fit_grad(op, grad):
    return [apply_op("TensorArrayFit", grad, op.inputs[0]), None]


def _zero(dtype):
    return _arr.constant(b"" if dtype == dtypes.string else 0, dtype)


def _static_int(t):
    value = _arr.get_static_value(t)
    return None if value is None else int(np.max(value)) if np.size(value) else -1


class TensorArray:
    """A list of same-shaped tensors with dynamic size (TF1's `tf.TensorArray`).

    ``TensorArray(dtype, size=None, dynamic_size=None, clear_after_read=None,
    tensor_array_name=None, handle=None, flow=None, infer_shape=True,
    element_shape=None, colocate_with_first_write_call=True, name=None)``. Every
    write/scatter/unstack/split returns a new TensorArray; use the returned one.
    """

    def __init__(
        self,
        dtype,
        size=None,
        dynamic_size=None,
        clear_after_read=None,
        tensor_array_name=None,
        handle=None,
        flow=None,
        infer_shape=True,
        element_shape=None,
        colocate_with_first_write_call=True,
        name=None,
    ):
        self._dtype = dtypes.as_dtype(dtype)
        self._dynamic_size = bool(dynamic_size)
        self._infer_shape = infer_shape
        self._element_shape = (
            TensorShape(element_shape) if element_shape is not None else TensorShape(None)
        )
        self._name = name or tensor_array_name or "TensorArray"
        flow = flow if flow is not None else handle
        if flow is not None:
            self._flow = _arr.convert_to_tensor(flow, dtype=self._dtype)
            return
        if size is None:
            raise ValueError("Size must be provided if handle is not provided")
        self._flow = _arr.fill(self._initial_dims(size), _zero(self._dtype), name=self._name)

    def _initial_dims(self, size):
        elem = self._element_shape
        size = (
            size
            if isinstance(size, int | np.integer)
            else _arr.reshape(_arr.cast(size, dtypes.int32), [1])
        )
        rest = elem.as_list() if elem.is_fully_defined() else []
        if isinstance(size, int | np.integer):
            return [int(size)] + rest
        return _arr.concat([size, _arr.constant(rest, dtypes.int32)], 0)

    def _with(self, flow, element_shape=None):
        out = TensorArray.__new__(TensorArray)
        out.__dict__.update(self.__dict__)
        out._flow = flow
        if element_shape is not None:
            out._element_shape = element_shape
        return out

    # -- properties ------------------------------------------------------------------
    @property
    def flow(self):
        """The tensor holding the elements (shape ``[size] + element_shape``)."""
        return self._flow

    handle = flow

    @property
    def dtype(self):
        return self._dtype

    @property
    def dynamic_size(self):
        return self._dynamic_size

    @property
    def element_shape(self):
        """The static shape of the elements (what writes so far have shown)."""
        return self._element_shape

    def identity(self):
        return self._with(_arr.identity(self._flow))

    def size(self, name=None):
        """The number of elements, an int32 scalar."""
        return _arr.shape(self._flow, out_type=dtypes.int32, name=name)[0]

    def close(self, name=None):
        from miniflow.ops.control_flow_ops import no_op

        return None if current_frontend().eager else no_op(name=name)

    # -- reading ---------------------------------------------------------------------
    def read(self, index, name=None):
        """The element at ``index``."""
        out = _arr.gather(self._flow, _arr.cast(index, dtypes.int32), name=name)
        return self._shaped(out, self._element_shape)

    def gather(self, indices, name=None):
        """The elements at ``indices``, stacked."""
        out = _arr.gather(self._flow, _arr.cast(indices, dtypes.int32), name=name)
        return self._shaped(out, TensorShape([None]).concatenate(self._element_shape))

    def stack(self, name=None):
        """All elements stacked along a new first dimension."""
        out = _arr.identity(self._flow, name=name)
        return self._shaped(out, TensorShape([None]).concatenate(self._element_shape))

    def concat(self, name=None):
        """All elements concatenated along their first dimension."""
        elem = self._element_shape
        if elem.ndims == 0:
            raise ValueError(
                "Concat saw a scalar shape: TensorArray elements must be at least vectors to concat"
            )
        flow = self._flow
        rest = _arr.shape(flow, out_type=dtypes.int32)[2:]
        return _arr.reshape(flow, _arr.concat([[-1], rest], 0), name=name)

    @staticmethod
    def _shaped(t, shape):
        if not current_frontend().eager and t.shape.is_compatible_with(shape):
            t.set_shape(t.shape.merge_with(shape))
        return t

    # -- writing ---------------------------------------------------------------------
    def write(self, index, value, name=None):
        """A TensorArray with ``value`` at ``index``."""
        value = _arr.convert_to_tensor(value, dtype=self._dtype)
        index = _arr.cast(index, dtypes.int32)
        elem = self._merged_shape(value.shape)
        flow = self._fit(index, value.shape, _arr.shape(value, out_type=dtypes.int32))
        flow = tensor_scatter_nd_update(
            flow, _arr.reshape(index, [1, 1]), _arr.expand_dims(value, 0), name=name
        )
        return self._with(flow, elem)

    def scatter(self, indices, value, name=None):
        """A TensorArray with ``value[i]`` at ``indices[i]``."""
        value = _arr.convert_to_tensor(value, dtype=self._dtype)
        indices = _arr.cast(indices, dtypes.int32)
        elem = self._merged_shape(value.shape[1:] if value.shape.ndims else TensorShape(None))
        flow = self._fit(
            _math.reduce_max(indices),
            value.shape[1:] if value.shape.ndims else TensorShape(None),
            _arr.shape(value, out_type=dtypes.int32)[1:],
        )
        flow = tensor_scatter_nd_update(flow, _arr.reshape(indices, [-1, 1]), value, name=name)
        return self._with(flow, elem)

    def unstack(self, value, name=None):
        """A TensorArray whose elements are ``value``'s rows."""
        value = _arr.convert_to_tensor(value, dtype=self._dtype)
        n = _arr.shape(value, out_type=dtypes.int32)[0]
        return self.scatter(_arr.range(n), value, name=name)

    def split(self, value, lengths, name=None):
        """A TensorArray whose elements are consecutive pieces of ``value`` (equal
        ``lengths`` only, see the module docstring)."""
        value = _arr.convert_to_tensor(value, dtype=self._dtype)
        lengths = _arr.get_static_value(_arr.convert_to_tensor(lengths))
        if lengths is None or len(set(np.ravel(lengths).tolist())) > 1:
            raise errors.UnimplementedError(
                None,
                None,
                "TensorArray.split in miniflow needs equal, statically known "
                f"lengths (got {lengths}): all elements of a TensorArray share one shape",
            )
        n, length = len(lengths), int(np.ravel(lengths)[0]) if len(lengths) else 0
        rest = _arr.shape(value, out_type=dtypes.int32)[1:]
        pieces = _arr.reshape(value, _arr.concat([[n, length], rest], 0))
        return self.unstack(pieces, name=name)

    def _merged_shape(self, shape):
        if not self._infer_shape:
            return self._element_shape
        if not self._element_shape.is_compatible_with(shape):
            raise ValueError(f"Inconsistent shapes: saw {shape} but expected {self._element_shape}")
        return self._element_shape.merge_with(shape)

    def _fit(self, last, elem_static, elem_dims):
        """The flow reshaped (if needed) to hold elements of shape ``elem_dims`` up to
        index ``last`` (``dynamic_size``: growing; otherwise a write past the end fails
        in the scatter)."""
        flow = self._flow
        fs = flow.shape
        if (
            fs.is_fully_defined()
            and elem_static.is_fully_defined()
            and fs.as_tuple()[1:] == elem_static.as_tuple()
        ):
            last_v = _static_int(last)
            if not self._dynamic_size or (last_v is not None and last_v < fs.as_tuple()[0]):
                return flow
        if fs.ndims and fs.as_tuple()[0] is not None and not self._dynamic_size:
            rows = [fs.as_tuple()[0]]
        else:
            rows = _arr.shape(flow, out_type=dtypes.int32)[:1]
        if self._dynamic_size:
            rows = _math.maximum(rows, _arr.reshape(last + 1, [1]))
        if elem_static.is_fully_defined():
            elem_dims = elem_static.as_list()
        dims = (
            rows + elem_dims
            if isinstance(rows, list) and isinstance(elem_dims, list)
            else _arr.concat([rows, elem_dims], 0)
        )
        target = _arr.fill(dims, _zero(self._dtype))
        return apply_op("TensorArrayFit", flow, target)

    def __repr__(self):
        return f"<tf.TensorArray dtype={self._dtype.name} element_shape={self._element_shape}>"


def unwrap_loop_vars(loop_vars, cond, body):
    """`tf.while_loop` support: TensorArrays among ``loop_vars`` travel as their flow
    tensors. Returns (loop_vars, cond, body, restore) where cond and body see
    TensorArrays again and ``restore(result)`` rebuilds them from the final flows."""
    from miniflow.core.nest import flatten, pack

    leaves = flatten(loop_vars)
    arrays = [v if isinstance(v, TensorArray) else None for v in leaves]
    if not any(arrays):
        return loop_vars, cond, body, lambda result: result

    def to_flows(structure):
        return pack(
            structure,
            iter([v.flow if isinstance(v, TensorArray) else v for v in flatten(structure)]),
        )

    def to_arrays(structure):
        return pack(
            structure,
            iter([v if ta is None else ta._with(v) for v, ta in zip(flatten(structure), arrays)]),
        )

    def wrapped_cond(*args):
        return cond(*to_arrays(list(args)))

    def wrapped_body(*args):
        out = body(*to_arrays(list(args)))
        return to_flows(out)

    return to_flows(loop_vars), wrapped_cond, wrapped_body, to_arrays
