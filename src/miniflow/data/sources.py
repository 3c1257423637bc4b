"""Dataset sources: tensor slices, ranges, Python generators, text files."""

from __future__ import annotations

import numpy as np

from miniflow import dtypes, errors
from miniflow.core.dispatch import current_frontend
from miniflow.core.shapes import TensorShape
from miniflow.core.values import as_array
from miniflow.data import structure
from miniflow.data.dataset_ops import Dataset
from miniflow.data.registry import provides
from miniflow.data.structure import TensorSpec
from miniflow.graph.operation import Tensor
from miniflow.ops import array_ops


@provides
class _Slices(Dataset):
    def __init__(self, tensors, sliced):
        # Tuples and dicts are structure; a list is one tensor (as TF converts it).
        self._template = structure.template(tensors)
        self._parts = [_component(t) for t in structure.flatten(tensors)]
        self._sliced = sliced
        specs = []
        for p in self._parts:
            shape = p.shape if isinstance(p, Tensor) else TensorShape(p.shape)
            if sliced:
                if shape.ndims == 0:
                    raise ValueError(
                        "Unbatching a tensor is only supported for rank >= 1 "
                        "(from_tensor_slices needs a leading dimension)."
                    )
                shape = (
                    TensorShape(None) if shape.ndims is None else TensorShape(shape.as_list()[1:])
                )
            specs.append(TensorSpec(dtypes.as_dtype(p.dtype), shape))
        self._specs = specs

    def _own_captured(self):
        return [p for p in self._parts if isinstance(p, Tensor)]

    def _iter(self, ctx):
        values = [ctx["values"][p] if isinstance(p, Tensor) else p for p in self._parts]
        if not self._sliced:
            yield list(values)
            return
        lengths = {np.shape(v)[0] for v in values}
        if len(lengths) > 1:
            raise errors.InvalidArgumentError(
                None,
                None,
                f"Dimensions 0 of all components in from_tensor_slices must "
                f"match; got {sorted(lengths)}.",
            )
        for i in range(lengths.pop()):
            yield [v[i] for v in values]


def _eager_value(value):
    """The NumPy value of an eager tensor or variable (datasets built in eager mode hold
    values, not tensors), else None."""
    if current_frontend().eager and hasattr(value, "numpy"):
        return np.asarray(value.numpy())
    return None


def _component(value):
    eager = _eager_value(value)
    if eager is not None:
        return np.array(eager, copy=True)
    if isinstance(value, Tensor) or hasattr(value, "_as_graph_element"):
        return array_ops.convert_to_tensor(value)
    arr = as_array(value)
    return np.array(arr, copy=True) if arr.dtype != object else arr.copy()


def _int_arg(value):
    """An int, or a scalar graph tensor read when the iterator starts."""
    eager = _eager_value(value)
    if eager is not None:
        return int(eager)
    if isinstance(value, Tensor) or hasattr(value, "_as_graph_element"):
        return array_ops.convert_to_tensor(value)
    return int(value)


def _int_value(ctx, arg) -> int:
    return int(ctx["values"][arg]) if isinstance(arg, Tensor) else arg


@provides
class _Range(Dataset):
    def __init__(self, *args):
        self._args = [_int_arg(a) for a in args]
        range(*[1 if isinstance(a, Tensor) else a for a in self._args])  # checks arity
        self._template, self._specs = None, [TensorSpec(dtypes.int64, TensorShape([]))]

    def _own_captured(self):
        return [a for a in self._args if isinstance(a, Tensor)]

    def _iter(self, ctx):
        for i in range(*[_int_value(ctx, a) for a in self._args]):
            yield [np.int64(i)]


@provides
class _Generator(Dataset):
    def __init__(self, generator, output_types, output_shapes, args):
        self._gen, self._args = generator, tuple(args)
        self._template = structure.template(output_types)
        types = [dtypes.as_dtype(t) for t in structure.flatten(output_types)]
        shapes = (
            [TensorShape(None)] * len(types)
            if output_shapes is None
            else [TensorShape(s) for s in structure.flatten(_shape_leaves(output_shapes))]
        )
        self._specs = [TensorSpec(t, s) for t, s in zip(types, shapes)]

    def _iter(self, ctx):
        for element in self._gen(*self._args):
            flat = structure.flatten(
                structure.lists_to_tuples(element) if isinstance(element, tuple) else element
            )
            if len(flat) != len(self._specs):
                raise errors.InvalidArgumentError(
                    None,
                    None,
                    f"`generator` yielded an element with {len(flat)} components "
                    f"where the output_types have {len(self._specs)}.",
                )
            out = []
            for v, spec in zip(flat, self._specs):
                try:
                    arr = as_array(v, spec.dtype)
                except TypeError as e:
                    raise errors.InvalidArgumentError(
                        None,
                        None,
                        f"`generator` yielded an element that could not be "
                        f"converted to the expected type {spec.dtype.name}: {e}",
                    ) from None
                if not spec.shape.is_compatible_with(TensorShape(arr.shape)):
                    raise errors.InvalidArgumentError(
                        None,
                        None,
                        f"`generator` yielded an element of shape {arr.shape} "
                        f"where an element of shape {spec.shape} was expected.",
                    )
                out.append(arr)
            yield out


def _shape_leaves(shapes):
    if isinstance(shapes, dict):
        return {k: _shape_leaves(v) for k, v in shapes.items()}
    if (
        isinstance(shapes, tuple)
        and shapes
        and not all(isinstance(d, int | type(None)) for d in shapes)
    ):
        return tuple(_shape_leaves(s) for s in shapes)
    return TensorShape(shapes)
