"""`tf.data.Dataset` in graph mode.

A dataset is a Python description of an input pipeline. An iterator's ``MakeIterator``
op turns it into a generator of elements (lists of NumPy component values) when the
session runs it, with the values of any graph tensors it captured (e.g. placeholders fed
to `make_initializable_iterator`'s initializer). Functions given to `map` and `filter`
are traced once into a private graph and run per element by a private session.
"""

from __future__ import annotations

import itertools

import numpy as np

from miniflow import dtypes, errors
from miniflow.core.shapes import TensorShape
from miniflow.core.values import as_array
from miniflow.data import structure
from miniflow.data.iterator_ops import Iterator
from miniflow.data.structure import TensorSpec
from miniflow.graph.graph import Graph
from miniflow.graph.operation import Tensor
from miniflow.graph.session import Session
from miniflow.ops import array_ops
from miniflow.ops.random_ops import get_seed


class Dataset:
    """A sequence of elements, each a (nested) structure of tensors.

    Example:
        >>> ds = tf.data.Dataset.from_tensor_slices((features, labels))
        >>> ds = ds.shuffle(100, seed=1).batch(32).repeat(2)
        >>> x, y = ds.make_one_shot_iterator().get_next()
    """

    _template = None
    _specs: list = []

    # -- sources -------------------------------------------------------------------------
    @staticmethod
    def from_tensor_slices(tensors) -> Dataset:
        """The slices of ``tensors`` along their first dimension (all must match)."""
        return _Slices(tensors, sliced=True)

    @staticmethod
    def from_tensors(tensors) -> Dataset:
        """A single element, ``tensors``."""
        return _Slices(tensors, sliced=False)

    @staticmethod
    def range(*args) -> Dataset:
        """int64 values as Python's ``range(start, stop, step)``."""
        return _Range(*args)

    @staticmethod
    def from_generator(generator, output_types, output_shapes=None, args=None) -> Dataset:
        """Elements from calling ``generator(*args)`` each time iteration starts."""
        return _Generator(generator, output_types, output_shapes, args or ())

    @staticmethod
    def zip(datasets) -> Dataset:
        """Elements combined from a tuple or dict of datasets (stops at the shortest)."""
        return _Zip(datasets)

    # -- transformations ------------------------------------------------------------------
    def map(self, map_func, num_parallel_calls=None) -> Dataset:
        """``map_func`` applied to each element (tuples are passed as separate args)."""
        return _Map(self, map_func)

    def filter(self, predicate) -> Dataset:
        """The elements for which ``predicate`` returns True (a scalar bool tensor)."""
        return _Filter(self, predicate)

    def batch(self, batch_size, drop_remainder=False) -> Dataset:
        """Consecutive elements stacked into batches of ``batch_size``."""
        return _Batch(self, batch_size, drop_remainder, None, None)

    def padded_batch(self, batch_size, padded_shapes, padding_values=None,
                     drop_remainder=False) -> Dataset:
        """Batches whose components are padded to ``padded_shapes`` (None or -1: the
        longest in the batch) with ``padding_values`` (default 0 / empty string)."""
        return _Batch(self, batch_size, drop_remainder, padded_shapes, padding_values)

    def shuffle(self, buffer_size, seed=None, reshuffle_each_iteration=None) -> Dataset:
        """Elements in random order, drawn from a buffer of ``buffer_size`` (TF's
        algorithm: a uniform pick from the buffer, refilled from the input)."""
        return _Shuffle(self, buffer_size, seed, reshuffle_each_iteration is not False)

    def repeat(self, count=None) -> Dataset:
        """The dataset ``count`` times (None or -1: forever)."""
        return _Repeat(self, count)

    def take(self, count) -> Dataset:
        return _Slice(self, 0, count)

    def skip(self, count) -> Dataset:
        return _Slice(self, count, -1)

    def concatenate(self, dataset) -> Dataset:
        return _Concatenate(self, dataset)

    def prefetch(self, buffer_size) -> Dataset:
        """The same dataset (elements are produced on demand; nothing to overlap)."""
        return self

    def cache(self, filename="") -> Dataset:
        return self

    def apply(self, transformation_func) -> Dataset:
        return transformation_func(self)

    # -- iterators -----------------------------------------------------------------------
    def make_one_shot_iterator(self) -> Iterator:
        """An iterator that starts itself on first use (no initializer)."""
        for t in self._captured():
            if t.op.type == "Placeholder":
                raise ValueError(f"Cannot capture a placeholder ({t.name}) by value in a "
                                 "one-shot iterator; use make_initializable_iterator().")
        return Iterator(self._template, self._specs, self, one_shot=True)

    def make_initializable_iterator(self, shared_name=None) -> Iterator:
        """An iterator started (and restarted) by running its ``initializer``, which is
        where placeholders captured by the dataset are fed."""
        return Iterator(self._template, self._specs, self)

    # -- element structure ---------------------------------------------------------------
    @property
    def output_types(self):
        return structure.pack(self._template, [s.dtype for s in self._specs])

    @property
    def output_shapes(self):
        return structure.pack(self._template, [s.shape for s in self._specs])

    @property
    def element_spec(self):
        return structure.pack(self._template, list(self._specs))

    # -- implementation --------------------------------------------------------------------
    def _inputs(self) -> list:
        return []

    def _captured(self) -> list:
        """Graph tensors this pipeline reads (the inputs of its iterator ops)."""
        seen: dict = {}
        for d in self._inputs():
            for t in d._captured():
                seen.setdefault(t, None)
        return list(seen) + [t for t in self._own_captured() if t not in seen]

    def _own_captured(self) -> list:
        return []

    def _generate(self, captured_values):
        """A fresh generator of elements, given the captured tensors' values."""
        ctx = {"values": dict(zip(self._captured(), captured_values))}
        return self._iter(ctx)

    def _iter(self, ctx):
        raise NotImplementedError


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
                    raise ValueError("Unbatching a tensor is only supported for rank >= 1 "
                                     "(from_tensor_slices needs a leading dimension).")
                shape = TensorShape(None) if shape.ndims is None else TensorShape(
                    shape.as_list()[1:])
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
                None, None, f"Dimensions 0 of all components in from_tensor_slices must "
                f"match; got {sorted(lengths)}.")
        for i in range(lengths.pop()):
            yield [v[i] for v in values]


def _component(value):
    if isinstance(value, Tensor) or hasattr(value, "_as_graph_element"):
        return array_ops.convert_to_tensor(value)
    arr = as_array(value)
    return np.array(arr, copy=True) if arr.dtype != object else arr.copy()


class _Range(Dataset):
    def __init__(self, *args):
        self._range = range(*[int(a) for a in args])
        self._template, self._specs = None, [TensorSpec(dtypes.int64, TensorShape([]))]

    def _iter(self, ctx):
        for i in self._range:
            yield [np.int64(i)]


class _Generator(Dataset):
    def __init__(self, generator, output_types, output_shapes, args):
        self._gen, self._args = generator, tuple(args)
        self._template = structure.template(output_types)
        types = [dtypes.as_dtype(t) for t in structure.flatten(output_types)]
        shapes = [TensorShape(None)] * len(types) if output_shapes is None else [
            TensorShape(s) for s in structure.flatten(_shape_leaves(output_shapes))]
        self._specs = [TensorSpec(t, s) for t, s in zip(types, shapes)]

    def _iter(self, ctx):
        for element in self._gen(*self._args):
            flat = structure.flatten(structure.lists_to_tuples(element)
                                     if isinstance(element, tuple) else element)
            if len(flat) != len(self._specs):
                raise errors.InvalidArgumentError(
                    None, None, f"`generator` yielded an element with {len(flat)} components "
                    f"where the output_types have {len(self._specs)}.")
            out = []
            for v, spec in zip(flat, self._specs):
                try:
                    arr = as_array(v, spec.dtype)
                except TypeError as e:
                    raise errors.InvalidArgumentError(
                        None, None, f"`generator` yielded an element that could not be "
                        f"converted to the expected type {spec.dtype.name}: {e}") from None
                if not spec.shape.is_compatible_with(TensorShape(arr.shape)):
                    raise errors.InvalidArgumentError(
                        None, None, f"`generator` yielded an element of shape {arr.shape} "
                        f"where an element of shape {spec.shape} was expected.")
                out.append(arr)
            yield out


def _shape_leaves(shapes):
    if isinstance(shapes, dict):
        return {k: _shape_leaves(v) for k, v in shapes.items()}
    if isinstance(shapes, tuple) and shapes and not all(
            isinstance(d, int | type(None)) for d in shapes):
        return tuple(_shape_leaves(s) for s in shapes)
    return TensorShape(shapes)


class TextLineDataset(Dataset):
    """The lines of text files, without line endings, as scalar strings.

    Args:
        filenames: a file name, a list of them, or a string tensor (fed at iterator
            initialization).
    """

    def __init__(self, filenames, compression_type=None, buffer_size=None):
        if compression_type:
            raise errors.UnimplementedError(None, None, "TextLineDataset: compressed files "
                                                        "are not supported")
        self._files = array_ops.convert_to_tensor(filenames) \
            if isinstance(filenames, Tensor) else as_array(filenames, dtypes.string)
        self._template, self._specs = None, [TensorSpec(dtypes.string, TensorShape([]))]

    def _own_captured(self):
        return [self._files] if isinstance(self._files, Tensor) else []

    def _iter(self, ctx):
        files = ctx["values"][self._files] if isinstance(self._files, Tensor) else self._files
        for name in np.asarray(files, dtype=object).ravel():
            path = name.decode() if isinstance(name, bytes) else str(name)
            try:
                fh = open(path, "rb")
            except FileNotFoundError:
                raise errors.NotFoundError(None, None, f"{path}; No such file or "
                                                       "directory") from None
            with fh:
                for line in fh:
                    yield [line.rstrip(b"\n").rstrip(b"\r")]


class _Zip(Dataset):
    def __init__(self, datasets):
        if not isinstance(datasets, tuple | dict):
            raise TypeError("Dataset.zip takes a tuple or dict of datasets, got "
                            f"{type(datasets).__name__}.")
        self._parts = datasets
        keys = sorted(datasets) if isinstance(datasets, dict) else range(len(datasets))
        self._order = [datasets[k] for k in keys]
        self._template = ({k: d._template for k, d in datasets.items()}
                          if isinstance(datasets, dict) else
                          tuple(d._template for d in datasets))
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


class _ElementFunction:
    """A dataset function traced once into a private graph, run per element by a private
    session (whose compiled plan is reused for every element)."""

    def __init__(self, fn, tmpl, specs, what):
        self.graph = Graph()
        with self.graph.as_default():
            self.args = [array_ops.placeholder(s.dtype, s.shape, name=f"arg{i}")
                         for i, s in enumerate(specs)]
            element = structure.pack(tmpl, self.args)
            try:
                out = fn(*element) if type(element) is tuple else fn(element)
            except ValueError as e:
                if "same graph" not in str(e):
                    raise
                raise ValueError(f"{e} A tf.data {what} function is traced into its own "
                                 "graph: create the tensors it uses inside the function, or "
                                 "use Python/NumPy values.") from None
            out = structure.lists_to_tuples(out)
            self.template = structure.template(out)
            self.outputs = [array_ops.convert_to_tensor(t) for t in structure.flatten(out)]
        self.specs = [TensorSpec(t.dtype, t.shape) for t in self.outputs]
        self._session = None

    def __call__(self, values):
        if self._session is None:
            self._session = Session(graph=self.graph)
        return self._session.run(self.outputs, dict(zip(self.args, values)))


class _Map(_Unary):
    def __init__(self, input_dataset, fn):
        super().__init__(input_dataset)
        self._fn = _ElementFunction(fn, input_dataset._template, input_dataset._specs, "map")
        self._template, self._specs = self._fn.template, self._fn.specs

    def _iter(self, ctx):
        for element in self._input._iter(ctx):
            yield self._fn(element)


class _Filter(_Unary):
    def __init__(self, input_dataset, predicate):
        super().__init__(input_dataset)
        self._fn = _ElementFunction(predicate, self._template, self._specs, "filter")
        if len(self._fn.specs) != 1 or self._fn.specs[0].dtype != dtypes.bool or \
                self._fn.specs[0].shape.ndims not in (0, None):
            raise ValueError("`predicate` return type must be convertible to a scalar boolean "
                             f"tensor. Was {self._fn.specs}.")

    def _iter(self, ctx):
        for element in self._input._iter(ctx):
            if bool(self._fn(element)[0]):
                yield element


class _Batch(_Unary):
    def __init__(self, input_dataset, batch_size, drop_remainder, padded_shapes, padding_values):
        super().__init__(input_dataset)
        self._size, self._drop = int(batch_size), bool(drop_remainder)
        if self._size <= 0:
            raise errors.InvalidArgumentError(None, None, "Batch size must be greater than zero.")
        self._padded = None
        if padded_shapes is not None:
            self._padded = [TensorShape([None if d == -1 else d for d in s]
                                        if isinstance(s, list | tuple) else s)
                            for s in structure.flatten(_shape_leaves(padded_shapes))]
            pads = [None] * len(self._specs) if padding_values is None else \
                structure.flatten(padding_values)
            self._pad_values = [("" if s.dtype == dtypes.string else 0) if p is None else p
                                for p, s in zip(pads, self._specs)]
        lead = self._size if self._drop else None
        inner = self._padded or [s.shape for s in self._specs]
        self._specs = [TensorSpec(s.dtype, TensorShape([lead]).concatenate(shape))
                       for s, shape in zip(self._specs, inner)]

    def _iter(self, ctx):
        it = self._input._iter(ctx)
        while True:
            rows = list(itertools.islice(it, self._size))
            if not rows or (self._drop and len(rows) < self._size):
                return
            yield [self._combine([r[k] for r in rows], k) for k in range(len(self._specs))]

    def _combine(self, values, k):
        shapes = [np.shape(v) for v in values]
        if self._padded is None:
            for i, s in enumerate(shapes):
                if s != shapes[0]:
                    raise errors.InvalidArgumentError(
                        None, None, f"Cannot batch tensors with different shapes in component "
                        f"{k}. First element had shape {list(shapes[0])} and element {i} had "
                        f"shape {list(s)}.")
            return np.stack(values)
        return self._pad(values, shapes, k)

    def _pad(self, values, shapes, k):
        target = self._padded[k].as_tuple()
        if target is None or any(len(s) != len(target) for s in shapes):
            raise errors.InvalidArgumentError(None, None, f"padded_shapes[{k}] {target} does "
                                              f"not match the rank of the elements {shapes}.")
        dims = tuple(max(s[d] for s in shapes) if t is None else t
                     for d, t in enumerate(target))
        for s in shapes:
            if any(a > b for a, b in zip(s, dims)):
                raise errors.InvalidArgumentError(
                    None, None, f"Attempted to pad to a smaller size than the input element "
                    f"(component {k}: element shape {list(s)}, padded shape {list(dims)}).")
        dt = self._specs[k].dtype
        fill = as_array(self._pad_values[k], dt)
        out = np.full((len(values),) + dims, fill, dtype=dt.np)
        for i, v in enumerate(values):
            out[(i,) + tuple(slice(0, n) for n in np.shape(v))] = v
        return out


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
        fresh = (np.random.default_rng() if seed is None else
                 np.random.default_rng([int(seed) & 0xFFFFFFFF, int(seed2) & 0xFFFFFFFF]))
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


class _Repeat(_Unary):
    def __init__(self, input_dataset, count):
        super().__init__(input_dataset)
        self._count = -1 if count is None else int(count)

    def _iter(self, ctx):
        epoch = 0
        while self._count < 0 or epoch < self._count:
            produced = False
            for element in self._input._iter(ctx):
                produced = True
                yield element
            if not produced:  # an empty input repeated forever is still empty
                return
            epoch += 1


class _Slice(_Unary):
    def __init__(self, input_dataset, start, count):
        super().__init__(input_dataset)
        self._start, self._count = int(start), int(count)

    def _iter(self, ctx):
        stop = None if self._count < 0 else self._start + self._count
        yield from itertools.islice(self._input._iter(ctx), max(self._start, 0), stop)


class _Concatenate(Dataset):
    def __init__(self, first, second):
        if not structure.same_structure(first._template, second._template) or \
                [s.dtype for s in first._specs] != [s.dtype for s in second._specs]:
            raise TypeError(f"Two datasets to concatenate have different types "
                            f"{first.output_types} and {second.output_types}")
        self._parts = [first, second]
        self._template = first._template
        self._specs = [TensorSpec(a.dtype, _most_specific_compatible(a.shape, b.shape))
                       for a, b in zip(first._specs, second._specs)]

    def _inputs(self):
        return self._parts

    def _iter(self, ctx):
        for d in self._parts:
            yield from d._iter(ctx)


def _most_specific_compatible(a: TensorShape, b: TensorShape) -> TensorShape:
    if a.ndims is None or b.ndims is None or a.ndims != b.ndims:
        return TensorShape(None)
    return TensorShape([x if x == y else None for x, y in zip(a.as_list(), b.as_list())])


def make_one_shot_iterator(dataset) -> Iterator:
    """`tf.data.make_one_shot_iterator` (the TF 1.15 function form)."""
    return dataset.make_one_shot_iterator()


def make_initializable_iterator(dataset, shared_name=None) -> Iterator:
    """`tf.data.make_initializable_iterator` (the TF 1.15 function form)."""
    return dataset.make_initializable_iterator(shared_name)
