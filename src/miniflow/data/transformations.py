"""Dataset transformations. Functions given to `map`, `filter`, `flat_map` and
`interleave` are traced once into a private graph and run per element by a private
session (whose compiled plan is reused for every element)."""

from __future__ import annotations

import itertools
import os

import numpy as np

from miniflow import dtypes, errors
from miniflow.core.shapes import TensorShape
from miniflow.core.values import as_array
from miniflow.data import structure
from miniflow.data.dataset_ops import Dataset
from miniflow.data.registry import provides
from miniflow.data.sources import _int_arg, _int_value, _shape_leaves
from miniflow.data.structure import TensorSpec
from miniflow.eager.context import graph_mode
from miniflow.graph.graph import Graph
from miniflow.graph.operation import Tensor
from miniflow.graph.session import Session
from miniflow.ops import array_ops
from miniflow.ops.random_ops import get_seed


@provides
class _Zip(Dataset):
    def __init__(self, datasets):
        if not isinstance(datasets, tuple | dict):
            raise TypeError(
                f"Dataset.zip takes a tuple or dict of datasets, got {type(datasets).__name__}."
            )
        self._parts = datasets
        keys = sorted(datasets) if isinstance(datasets, dict) else range(len(datasets))
        self._order = [datasets[k] for k in keys]
        self._template = (
            {k: d._template for k, d in datasets.items()}
            if isinstance(datasets, dict)
            else tuple(d._template for d in datasets)
        )
        self._specs = [s for d in self._order for s in d._specs]

    def _inputs(self):
        return self._order

    def _iter(self, ctx):
        for elements in zip(*[d._iter(ctx) for d in self._order]):
            yield [v for e in elements for v in e]


class _Unary(Dataset):
    def __init__(self, input_dataset):
        self._input = input_dataset
        self._template, self._specs = input_dataset._template, input_dataset._specs

    def _inputs(self):
        return [self._input]


class _FunctionGraph(Graph):
    """The private graph of a dataset function. Tensors of other graphs that the function
    uses become placeholders here, fed per element with the values the outer tensors
    had when the iterator started."""

    def __init__(self):
        super().__init__()
        self.captures: dict = {}  # outer tensor -> placeholder

    def capture(self, tensor):
        ph = self.captures.get(tensor)
        if ph is None:
            with self.as_default():
                ph = array_ops.placeholder(tensor.dtype, tensor.shape, name="capture")
            self.captures[tensor] = ph
        return ph


class _ElementFunction:
    """A dataset function traced once into a private graph, run per element by a private
    session (whose compiled plan is reused for every element)."""

    def __init__(self, fn, tmpl, specs, what):
        self.graph = _FunctionGraph()
        with graph_mode(), self.graph.as_default():  # traced as a graph in eager mode too
            self.args = [
                array_ops.placeholder(s.dtype, s.shape, name=f"arg{i}") for i, s in enumerate(specs)
            ]
            # A window component (stateful.WindowSpec) is passed on as a dataset.
            element = structure.pack(
                tmpl, [s.wrap(a) if hasattr(s, "wrap") else a for s, a in zip(specs, self.args)]
            )
            out = fn(*element) if type(element) is tuple else fn(element)
            self._set_outputs(out, what)
        self._session = None

    def _set_outputs(self, out, what):
        out = structure.lists_to_tuples(out)
        self.template = structure.template(out)
        self.outputs = [array_ops.convert_to_tensor(t) for t in structure.flatten(out)]
        self.specs = [TensorSpec(t.dtype, t.shape) for t in self.outputs]

    @property
    def captured(self) -> list:
        """The outer tensors the function uses (inputs of the iterator ops)."""
        return list(self.graph.captures)

    def __call__(self, values, ctx):
        if self._session is None:
            self._session = Session(graph=self.graph)
        feed = dict(zip(self.args, values))
        for outer, ph in self.graph.captures.items():
            feed[ph] = ctx["values"][outer]
        return self._session.run(self.outputs, feed)


class _DatasetFunction(_ElementFunction):
    """A function from an element to a `Dataset` (for `flat_map` and `interleave`): the
    inner dataset is built once over placeholders, and started per element with the
    values its captured tensors take for that element."""

    def _set_outputs(self, dataset, what):
        if not isinstance(dataset, Dataset):
            raise TypeError(
                f"`map_func` of {what} must return a `Dataset` object, got "
                f"{type(dataset).__name__}."
            )
        self.dataset = dataset
        self.outputs = dataset._captured()

    def start(self, values, ctx):
        return self.dataset._generate(self(values, ctx) if self.outputs else [])


@provides
class _FlatMap(_Unary):
    def __init__(self, input_dataset, fn):
        super().__init__(input_dataset)
        self._fn = _DatasetFunction(fn, self._template, self._specs, "flat_map")
        self._template, self._specs = self._fn.dataset._template, self._fn.dataset._specs

    def _own_captured(self):
        return self._fn.captured

    def _iter(self, ctx):
        for element in self._input._iter(ctx):
            yield from self._fn.start(element, ctx)


@provides
class _Interleave(_FlatMap):
    """TF's deterministic interleave: a cycle of ``cycle_length`` inner datasets, taking
    ``block_length`` elements from each in turn; an exhausted slot is refilled from the
    next input element when the cycle reaches it."""

    def __init__(self, input_dataset, fn, cycle_length, block_length):
        super().__init__(input_dataset, fn)
        self._cycle = int(cycle_length) if cycle_length not in (None, -1) else (os.cpu_count() or 1)
        self._block = int(block_length)
        if self._cycle <= 0 or self._block <= 0:
            raise errors.InvalidArgumentError(
                None, None, "cycle_length and block_length must be positive."
            )

    def _iter(self, ctx):
        inputs = self._input._iter(ctx)
        slots: list = [None] * self._cycle
        exhausted, index = False, 0
        while True:
            if slots[index] is None and not exhausted:
                element = next(inputs, None)
                if element is None:
                    exhausted = True
                else:
                    slots[index] = self._fn.start(element, ctx)
            if slots[index] is None:
                if exhausted and all(s is None for s in slots):
                    return
                index = (index + 1) % self._cycle
                continue
            block = list(itertools.islice(slots[index], self._block))
            yield from block
            if len(block) < self._block:
                slots[index] = None
            index = (index + 1) % self._cycle


@provides
class _Unbatch(_Unary):
    def __init__(self, input_dataset):
        super().__init__(input_dataset)
        if structure.sparse_positions(self._template):
            raise TypeError("unbatch does not support SparseTensor components in miniflow.")
        for spec in self._specs:
            if spec.shape.ndims == 0:
                raise ValueError("Cannot unbatch an input with scalar components.")
        self._specs = [
            TensorSpec(
                s.dtype,
                TensorShape(None) if s.shape.ndims is None else TensorShape(s.shape.as_list()[1:]),
            )
            for s in self._specs
        ]

    def _iter(self, ctx):
        for element in self._input._iter(ctx):
            sizes = {np.shape(v)[0] for v in element}
            if len(sizes) != 1:
                raise errors.InvalidArgumentError(
                    None,
                    None,
                    f"Input element components to unbatch have different sizes {sorted(sizes)}.",
                )
            for i in range(sizes.pop()):
                yield [v[i] for v in element]


@provides
class _Map(_Unary):
    def __init__(self, input_dataset, fn):
        super().__init__(input_dataset)
        self._fn = _ElementFunction(fn, input_dataset._template, input_dataset._specs, "map")
        self._template, self._specs = self._fn.template, self._fn.specs

    def _own_captured(self):
        return self._fn.captured

    def _iter(self, ctx):
        for element in self._input._iter(ctx):
            yield self._fn(element, ctx)


@provides
class _Filter(_Unary):
    def __init__(self, input_dataset, predicate):
        super().__init__(input_dataset)
        self._fn = _ElementFunction(predicate, self._template, self._specs, "filter")
        if (
            len(self._fn.specs) != 1
            or self._fn.specs[0].dtype != dtypes.bool
            or self._fn.specs[0].shape.ndims not in (0, None)
        ):
            raise ValueError(
                "`predicate` return type must be convertible to a scalar boolean "
                f"tensor. Was {self._fn.specs}."
            )

    def _own_captured(self):
        return self._fn.captured

    def _iter(self, ctx):
        for element in self._input._iter(ctx):
            if bool(self._fn(element, ctx)[0]):
                yield element


@provides
class _Batch(_Unary):
    def __init__(self, input_dataset, batch_size, drop_remainder, padded_shapes, padding_values):
        super().__init__(input_dataset)
        self._size, self._drop = int(batch_size), bool(drop_remainder)
        if self._size <= 0:
            raise errors.InvalidArgumentError(None, None, "Batch size must be greater than zero.")
        self._padded = None
        if padded_shapes is not None:
            self._padded = [
                TensorShape(
                    [None if d == -1 else d for d in s] if isinstance(s, list | tuple) else s
                )
                for s in structure.flatten(_shape_leaves(padded_shapes))
            ]
            pads = (
                [None] * len(self._specs)
                if padding_values is None
                else structure.flatten(padding_values)
            )
            self._pad_values = [
                ("" if s.dtype == dtypes.string else 0) if p is None else _constant_value(p)
                for p, s in zip(pads, self._specs)
            ]
        lead = self._size if self._drop else None
        inner = self._padded or [s.shape for s in self._specs]
        self._sparse = structure.sparse_positions(self._template)
        if self._sparse and self._padded is not None:
            raise TypeError("padded_batch does not support SparseTensor components.")
        self._specs = [
            TensorSpec(s.dtype, TensorShape([lead]).concatenate(shape))
            for s, shape in zip(self._specs, inner)
        ]
        for k in self._sparse:  # batched SparseTensors gain a leading dimension
            self._specs[k : k + 3] = structure.batched_sparse_specs(input_dataset._specs[k : k + 3])

    def _iter(self, ctx):
        it = self._input._iter(ctx)
        while True:
            rows = list(itertools.islice(it, self._size))
            if not rows or (self._drop and len(rows) < self._size):
                return
            out, k = [], 0
            while k < len(self._specs):
                if k in self._sparse:
                    out.extend(structure.batch_sparse([r[k : k + 3] for r in rows]))
                    k += 3
                else:
                    out.append(self._combine([r[k] for r in rows], k))
                    k += 1
            yield out

    def _combine(self, values, k):
        shapes = [np.shape(v) for v in values]
        if self._padded is None:
            for i, s in enumerate(shapes):
                if s != shapes[0]:
                    raise errors.InvalidArgumentError(
                        None,
                        None,
                        f"Cannot batch tensors with different shapes in component "
                        f"{k}. First element had shape {list(shapes[0])} and element {i} had "
                        f"shape {list(s)}.",
                    )
            if self._specs[k].dtype == dtypes.string:  # keep TF strings as object arrays
                return np.array(values, dtype=object)
            return np.stack(values)
        return self._pad(values, shapes, k)

    def _pad(self, values, shapes, k):
        target = self._padded[k].as_tuple()
        if target is None or any(len(s) != len(target) for s in shapes):
            raise errors.InvalidArgumentError(
                None,
                None,
                f"padded_shapes[{k}] {target} does not match the rank of the elements {shapes}.",
            )
        dims = tuple(max(s[d] for s in shapes) if t is None else t for d, t in enumerate(target))
        for s in shapes:
            if any(a > b for a, b in zip(s, dims)):
                raise errors.InvalidArgumentError(
                    None,
                    None,
                    f"Attempted to pad to a smaller size than the input element "
                    f"(component {k}: element shape {list(s)}, padded shape {list(dims)}).",
                )
        dt = self._specs[k].dtype
        fill = as_array(self._pad_values[k], dt)
        out = np.full((len(values),) + dims, fill, dtype=dt.np)
        for i, v in enumerate(values):
            out[(i,) + tuple(slice(0, n) for n in np.shape(v))] = v
        return out


@provides
class _Shuffle(_Unary):
    def __init__(self, input_dataset, buffer_size, seed, reshuffle):
        super().__init__(input_dataset)
        self._buffer = int(buffer_size)
        if self._buffer <= 0:
            raise errors.InvalidArgumentError(None, None, "buffer_size must be greater than zero.")
        self._seed = get_seed(seed)
        self._reshuffle = reshuffle

    def _rng(self, ctx):
        seed, seed2 = self._seed
        fresh = (
            np.random.default_rng()
            if seed is None
            else np.random.default_rng([int(seed) & 0xFFFFFFFF, int(seed2) & 0xFFFFFFFF])
        )
        if not self._reshuffle:
            return fresh
        return ctx.setdefault(("shuffle", id(self)), fresh)  # one stream across epochs

    def _iter(self, ctx):
        rng = self._rng(ctx)
        buffer = []
        for element in self._input._iter(ctx):
            buffer.append(element)
            if len(buffer) == self._buffer:
                i = int(rng.integers(len(buffer)))
                buffer[i], buffer[-1] = buffer[-1], buffer[i]
                yield buffer.pop()
        while buffer:
            i = int(rng.integers(len(buffer)))
            buffer[i], buffer[-1] = buffer[-1], buffer[i]
            yield buffer.pop()


@provides
class _Repeat(_Unary):
    def __init__(self, input_dataset, count):
        super().__init__(input_dataset)
        self._count = _int_arg(-1 if count is None else count)

    def _own_captured(self):
        return [self._count] if isinstance(self._count, Tensor) else []

    def _iter(self, ctx):
        count, epoch = _int_value(ctx, self._count), 0
        while count < 0 or epoch < count:
            produced = False
            for element in self._input._iter(ctx):
                produced = True
                yield element
            if not produced:  # an empty input repeated forever is still empty
                return
            epoch += 1


@provides
class _Cache(_Unary):
    """`Dataset.cache()`: the elements of the first complete pass, kept in memory and
    replayed by later passes of the same iterator (e.g. under ``repeat``), so the input
    pipeline (file reading, parsing, ``map``) runs once. A pass stopped early is not kept,
    as in TF."""

    def _iter(self, ctx):
        key = ("cache", id(self))
        kept = ctx.get(key)
        if kept is not None:
            yield from kept
            return
        seen = []
        for element in self._input._iter(ctx):
            seen.append(element)
            yield element
        ctx[key] = seen


@provides
class _Slice(_Unary):
    def __init__(self, input_dataset, start, count):
        super().__init__(input_dataset)
        self._start, self._count = _int_arg(start), _int_arg(count)

    def _own_captured(self):
        return [a for a in (self._start, self._count) if isinstance(a, Tensor)]

    def _iter(self, ctx):
        start, count = _int_value(ctx, self._start), _int_value(ctx, self._count)
        if start < 0:  # skip(-1) skips everything, as TF's
            return
        stop = None if count < 0 else max(start, 0) + count
        yield from itertools.islice(self._input._iter(ctx), max(start, 0), stop)


@provides
class _Concatenate(Dataset):
    def __init__(self, first, second):
        if not structure.same_structure(first._template, second._template) or [
            s.dtype for s in first._specs
        ] != [s.dtype for s in second._specs]:
            raise TypeError(
                f"Two datasets to concatenate have different types "
                f"{first.output_types} and {second.output_types}"
            )
        self._parts = [first, second]
        self._template = first._template
        self._specs = [
            TensorSpec(a.dtype, _most_specific_compatible(a.shape, b.shape))
            for a, b in zip(first._specs, second._specs)
        ]

    def _inputs(self):
        return self._parts

    def _iter(self, ctx):
        for d in self._parts:
            yield from d._iter(ctx)


def _constant_value(value):
    """A padding value given as a constant tensor (graph or eager) as its NumPy value."""
    if isinstance(value, Tensor):
        if value.op.type != "Const":
            raise TypeError(f"padding_values must be constants, got the tensor {value.name}.")
        return value.op.attrs["value"]
    return value.numpy() if hasattr(value, "numpy") else value


def _most_specific_compatible(a: TensorShape, b: TensorShape) -> TensorShape:
    if a.ndims is None or b.ndims is None or a.ndims != b.ndims:
        return TensorShape(None)
    return TensorShape([x if x == y else None for x, y in zip(a.as_list(), b.as_list())])
