"""Grouping transformations: `group_by_window`, `bucket_by_sequence_length` and
`group_by_reducer` (with `Reducer`). Elements are buffered per key; a group is emitted
when it is full, and the rest at the end of the input in ascending key order (TF keeps
its groups in a sorted map)."""

from __future__ import annotations

import numpy as np

from miniflow import dtypes, errors
from miniflow.core.shapes import TensorShape
from miniflow.core.values import as_array
from miniflow.data import structure
from miniflow.data.registry import provides
from miniflow.data.sources import _int_arg, _int_value
from miniflow.data.stateful import StatefulFunction, stack
from miniflow.data.structure import TensorSpec
from miniflow.data.transformations import (
    _constant_value,
    _DatasetFunction,
    _ElementFunction,
    _Unary,
)
from miniflow.graph.operation import Tensor

_KEY = TensorSpec(dtypes.int64, TensorShape([]))


def _key_function(fn, tmpl, specs, what):
    f = _ElementFunction(fn, tmpl, specs, what)
    if (
        len(f.specs) != 1
        or f.specs[0].dtype != dtypes.int64
        or f.specs[0].shape.ndims not in (0, None)
    ):
        raise ValueError(
            f"`{what}` must return a single tf.int64 scalar tensor, got "
            f"{[(s.dtype.name, str(s.shape)) for s in f.specs]}."
        )
    return f


def _stacked_specs(specs):
    return [TensorSpec(s.dtype, TensorShape([None]).concatenate(s.shape)) for s in specs]


class _GroupByWindow(_Unary):
    def __init__(self, input_dataset, key_func, reduce_func, window_size, window_size_func):
        super().__init__(input_dataset)
        if (window_size is None) == (window_size_func is None):
            raise ValueError(
                "Either the `window_size` argument or the `window_size_func` "
                "argument must be specified (not both)."
            )
        tmpl, specs = self._template, self._specs
        self._key = _key_function(key_func, tmpl, specs, "key_func")
        if window_size_func is None:
            self._size_fn, self._size = None, _int_arg(window_size)
        else:
            self._size = None
            self._size_fn = _key_function(window_size_func, None, [_KEY], "window_size_func")

        from miniflow.data.dataset_ops import Dataset

        def reduce_with_window(key, *stacked):
            return reduce_func(key, Dataset.from_tensor_slices(structure.pack(tmpl, stacked)))

        self._reduce = _DatasetFunction(
            reduce_with_window,
            (None,) + tuple([None] * len(specs)),
            [_KEY] + _stacked_specs(specs),
            "group_by_window",
        )
        self._template = self._reduce.dataset._template
        self._specs = self._reduce.dataset._specs

    def _own_captured(self):
        fns = [self._key, self._reduce] + ([self._size_fn] if self._size_fn else [])
        own = [self._size] if isinstance(self._size, Tensor) else []
        return [t for f in fns for t in f.captured] + own

    def _window_size(self, key, ctx):
        size = (
            _int_value(ctx, self._size)
            if self._size_fn is None
            else int(self._size_fn([key], ctx)[0])
        )
        if size <= 0:
            raise errors.InvalidArgumentError(
                None, None, f"Window size must be greater than zero, but got {size}."
            )
        return size

    def _flush(self, key, rows, ctx):
        stacked = [stack([r[k] for r in rows], s.dtype) for k, s in enumerate(self._input._specs)]
        yield from self._reduce.start([np.int64(key)] + stacked, ctx)

    def _iter(self, ctx):
        groups: dict = {}
        for element in self._input._iter(ctx):
            key = int(self._key(element, ctx)[0])
            rows = groups.setdefault(key, [])
            rows.append(element)
            if len(rows) == self._window_size(key, ctx):
                del groups[key]
                yield from self._flush(key, rows, ctx)
        for key in sorted(groups):
            yield from self._flush(key, groups[key], ctx)


class _BucketBySequenceLength(_Unary):
    """TF's bucketing: bucket i holds the lengths in [boundaries[i-1], boundaries[i]);
    a bucket is padded and emitted when it holds its batch size."""

    def __init__(
        self,
        input_dataset,
        element_length_func,
        bucket_boundaries,
        bucket_batch_sizes,
        padded_shapes,
        padding_values,
        pad_to_bucket_boundary,
        no_padding,
        drop_remainder,
    ):
        super().__init__(input_dataset)
        self._bounds = [int(b) for b in bucket_boundaries]
        self._sizes = [int(b) for b in bucket_batch_sizes]
        if len(self._sizes) != len(self._bounds) + 1:
            raise ValueError("len(bucket_batch_sizes) must equal len(bucket_boundaries) + 1")
        if any(b <= a for a, b in zip(self._bounds, self._bounds[1:])):
            raise ValueError("bucket_boundaries must be sorted in strictly increasing order")
        self._length = _ElementFunction(
            element_length_func, self._template, self._specs, "element_length_func"
        )
        if [s.dtype for s in self._length.specs] != [dtypes.int32]:
            raise TypeError(
                f"`element_length_func` must return one int32 scalar (it is "
                f"compared with the int32 bucket boundaries), got "
                f"{[s.dtype.name for s in self._length.specs]}."
            )
        self._to_boundary, self._no_padding = bool(pad_to_bucket_boundary), bool(no_padding)
        self._drop = bool(drop_remainder)
        from miniflow.data.transformations import _shape_leaves

        shapes = (
            [s.shape for s in self._specs]
            if padded_shapes is None
            else [TensorShape(s) for s in structure.flatten(_shape_leaves(padded_shapes))]
        )
        self._shapes = shapes
        pads = (
            [None] * len(self._specs)
            if padding_values is None
            else structure.flatten(padding_values)
        )
        self._pads = [
            as_array(
                ("" if s.dtype == dtypes.string else 0) if p is None else _constant_value(p),
                s.dtype,
            )
            for p, s in zip(pads, self._specs)
        ]
        inner = [s.shape for s in self._specs] if self._no_padding else shapes
        self._specs = [
            TensorSpec(s.dtype, TensorShape([None]).concatenate(sh))
            for s, sh in zip(self._specs, inner)
        ]

    def _own_captured(self):
        return self._length.captured

    def _bucket(self, element, ctx):
        length = int(np.asarray(self._length(element, ctx)[0]))
        return sum(1 for b in self._bounds if length >= b)

    def _batch(self, bucket, rows):
        out = []
        for k, (spec, shape) in enumerate(zip(self._input._specs, self._shapes)):
            values = [r[k] for r in rows]
            if self._no_padding:
                out.append(stack(values, spec.dtype))
                continue
            if self._to_boundary and bucket == len(self._bounds):
                raise errors.InvalidArgumentError(
                    None,
                    None,
                    "When pad_to_bucket_boundary=True, elements must have length "
                    "< max(bucket_boundaries).",
                )
            dims = []
            for d, t in enumerate(shape.as_list()):
                if t is None:
                    t = (
                        self._bounds[bucket] - 1
                        if self._to_boundary
                        else max(np.shape(v)[d] for v in values)
                    )
                dims.append(t)
            padded = np.full(
                (len(values),) + tuple(dims),
                self._pads[k],
                dtype=object if spec.dtype == dtypes.string else spec.dtype.np,
            )
            for i, v in enumerate(values):
                if any(a > b for a, b in zip(np.shape(v), dims)):
                    raise errors.InvalidArgumentError(
                        None,
                        None,
                        f"Attempted to pad to a smaller size than the input "
                        f"element (shape {list(np.shape(v))}, padded shape {dims}).",
                    )
                padded[(i,) + tuple(slice(0, n) for n in np.shape(v))] = v
            out.append(padded)
        return out

    def _iter(self, ctx):
        buckets: dict = {}
        for element in self._input._iter(ctx):
            bucket = self._bucket(element, ctx)
            rows = buckets.setdefault(bucket, [])
            rows.append(element)
            if len(rows) == self._sizes[bucket]:
                del buckets[bucket]
                yield self._batch(bucket, rows)
        if not self._drop:
            for bucket in sorted(buckets):
                yield self._batch(bucket, buckets[bucket])


class Reducer:
    """`tf.data.experimental.Reducer(init_func, reduce_func, finalize_func)`: the state
    of one key starts as ``init_func(key)``, is updated by ``reduce_func(state,
    element)`` and is turned into the output by ``finalize_func(state)``."""

    def __init__(self, init_func, reduce_func, finalize_func):
        self.init_func, self.reduce_func = init_func, reduce_func
        self.finalize_func = finalize_func


class _GroupByReducer(_Unary):
    def __init__(self, input_dataset, key_func, reducer):
        super().__init__(input_dataset)
        self._key = _key_function(key_func, self._template, self._specs, "key_func")
        self._init = _ElementFunction(reducer.init_func, None, [_KEY], "init_func")
        self._reduce = StatefulFunction(
            reducer.reduce_func,
            self._init.template,
            self._init.specs,
            self._template,
            self._specs,
            "reduce_func",
            has_output=False,
        )
        state_tmpl, state_specs = self._init.template, self._reduce.state_specs
        self._finalize = _ElementFunction(
            reducer.finalize_func,
            state_tmpl if isinstance(state_tmpl, tuple) else (state_tmpl,),
            state_specs,
            "finalize_func",
        )
        self._template, self._specs = self._finalize.template, self._finalize.specs

    def _own_captured(self):
        fns = [self._key, self._init, self._reduce.fn, self._finalize]
        return [t for f in fns for t in f.captured]

    def _iter(self, ctx):
        states: dict = {}
        for element in self._input._iter(ctx):
            key = int(self._key(element, ctx)[0])
            state = states[key] if key in states else self._init([np.int64(key)], ctx)
            states[key], _ = self._reduce(state, element, ctx)
        for key in sorted(states):
            yield self._finalize(states[key], ctx)


@provides
def group_by_window(key_func, reduce_func, window_size=None, window_size_func=None):
    """A transformation for `Dataset.apply`: see `Dataset.group_by_window`."""
    return lambda dataset: _GroupByWindow(
        dataset, key_func, reduce_func, window_size, window_size_func
    )


@provides
def bucket_by_sequence_length(
    element_length_func,
    bucket_boundaries,
    bucket_batch_sizes,
    padded_shapes=None,
    padding_values=None,
    pad_to_bucket_boundary=False,
    no_padding=False,
    drop_remainder=False,
):
    """A transformation for `Dataset.apply`: see `Dataset.bucket_by_sequence_length`."""
    return lambda dataset: _BucketBySequenceLength(
        dataset,
        element_length_func,
        bucket_boundaries,
        bucket_batch_sizes,
        padded_shapes,
        padding_values,
        pad_to_bucket_boundary,
        no_padding,
        drop_remainder,
    )


def group_by_reducer(key_func, reducer):
    """A transformation for `Dataset.apply`: one output per key, ``reducer``'s
    finalized state, emitted at the end of the input in ascending key order."""
    return lambda dataset: _GroupByReducer(dataset, key_func, reducer)
