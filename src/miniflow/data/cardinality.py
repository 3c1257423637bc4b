"""Dataset cardinality (TF's rules, computed without iterating), `assert_cardinality`,
and the ``DatasetCardinality`` / ``DatasetToSingleElement`` ops that bring a dataset's
size or its only element into the graph."""

from __future__ import annotations

import math

import numpy as np

from miniflow import dtypes, errors
from miniflow.core.dispatch import apply_op
from miniflow.core.registry import not_differentiable, register_op
from miniflow.data import readers, sources, stateful, transformations as tr
from miniflow.data.options import INFINITE_CARDINALITY as INF, UNKNOWN_CARDINALITY as UNKNOWN
from miniflow.data.registry import provides
from miniflow.data.sources import _int_value
from miniflow.graph.operation import Tensor

_UNKNOWN_TYPES = (
    tr._Filter,
    tr._FlatMap,
    tr._Unbatch,
    sources._Generator,
    readers._FileDataset,
    readers.SqlDataset,
)


def cardinality_of(ds, ctx) -> int:
    """The number of elements ``ds`` yields: INFINITE_CARDINALITY (-1) or
    UNKNOWN_CARDINALITY (-2) where that is all TF can tell without iterating."""
    own = getattr(ds, "_cardinality", None)
    if own is not None:
        return own(ctx)
    rule = _RULES.get(type(ds))
    if rule is None:
        for cls, r in _RULES.items():
            if isinstance(ds, cls):
                rule = r
                break
    if rule is None:
        if isinstance(ds, _UNKNOWN_TYPES):
            return UNKNOWN
        inputs = ds._inputs()  # a unary pass-through (options, caching, ...)
        return cardinality_of(inputs[0], ctx) if len(inputs) == 1 else UNKNOWN
    return rule(ds, ctx)


def _slices(ds, ctx):
    if not ds._sliced:
        return 1
    v = ds._parts[0]
    return int(np.shape(ctx["values"][v] if isinstance(v, Tensor) else v)[0])


def _range(ds, ctx):
    return len(range(*[_int_value(ctx, a) for a in ds._args]))


def _zip(ds, ctx):
    result = INF
    for d in ds._order:
        n = cardinality_of(d, ctx)
        if n == UNKNOWN:
            return UNKNOWN
        if n != INF and (result == INF or n < result):
            result = n
    return result


def _batch(ds, ctx):
    n = cardinality_of(ds._input, ctx)
    if n in (INF, UNKNOWN):
        return n
    return n // ds._size if ds._drop else math.ceil(n / ds._size)


def _repeat(ds, ctx):
    n, count = cardinality_of(ds._input, ctx), _int_value(ctx, ds._count)
    if count < 0:
        return 0 if n == 0 else (UNKNOWN if n == UNKNOWN else INF)
    if count == 0:
        return 0
    return n if n in (INF, UNKNOWN) else n * count


def _slice(ds, ctx):
    n = cardinality_of(ds._input, ctx)
    start, count = _int_value(ctx, ds._start), _int_value(ctx, ds._count)
    if start != 0:  # skip
        if n in (INF, UNKNOWN):
            return n
        return 0 if start < 0 else max(0, n - start)
    if n == UNKNOWN:
        return UNKNOWN
    if n == INF:
        return count
    return n if count < 0 else min(n, count)


def _concatenate(ds, ctx):
    a, b = (cardinality_of(d, ctx) for d in ds._parts)
    if INF in (a, b):
        return INF
    return UNKNOWN if UNKNOWN in (a, b) else a + b


def _shard(ds, ctx):
    n = cardinality_of(ds._input, ctx)
    num, index = _int_value(ctx, ds._num), _int_value(ctx, ds._index)
    if n in (INF, UNKNOWN):
        return n
    return n // num + (1 if index < n % num else 0)


def _window(ds, ctx):
    n = cardinality_of(ds._input, ctx)
    if n in (INF, UNKNOWN):
        return n
    if ds._drop:
        span = (ds._size - 1) * ds._stride + 1
        return 0 if n < span else (n - span) // ds._shift + 1
    return math.ceil(n / ds._shift)


def _same(ds, ctx):
    return cardinality_of(ds._input, ctx)


def _unknown(ds, ctx):
    return UNKNOWN


_RULES = {
    sources._Slices: _slices,
    sources._Range: _range,
    tr._Zip: _zip,
    tr._Batch: _batch,
    tr._Repeat: _repeat,
    tr._Slice: _slice,
    tr._Concatenate: _concatenate,
    stateful._Shard: _shard,
    stateful._Window: _window,
    stateful._TakeWhile: _unknown,
    stateful._Unique: _unknown,
    stateful._IgnoreErrors: _unknown,
    tr._Map: _same,
    tr._Shuffle: _same,
}


def _run_context(dataset, captured):
    return {"values": dict(zip(dataset._captured(), captured))}


@register_op("DatasetCardinality", infer=lambda i, a: [((), dtypes.int64)])
def _dataset_cardinality(*captured, dataset=None):
    return np.int64(cardinality_of(dataset, _run_context(dataset, captured)))


@register_op(
    "DatasetToSingleElement",
    num_outputs=lambda a: len(a["specs"]),
    infer=lambda i, a: [(s.shape.as_tuple(), s.dtype) for s in a["specs"]],
)
def _dataset_to_single_element(*captured, dataset=None, specs=()):
    elements = dataset._generate(captured)
    first = next(elements, None)
    if first is None:
        raise errors.InvalidArgumentError(None, None, "Dataset was empty.")
    if next(elements, None) is not None:
        raise errors.InvalidArgumentError(None, None, "Dataset had more than one element.")
    return tuple(first)


not_differentiable("DatasetCardinality", "DatasetToSingleElement")


@provides
def cardinality(dataset):
    """The number of elements of ``dataset`` as a scalar int64 tensor, or
    `INFINITE_CARDINALITY` / `UNKNOWN_CARDINALITY`."""
    return apply_op(
        "DatasetCardinality", *dataset._captured(), dataset=dataset, name="DatasetCardinality"
    )


@provides
def single_element(dataset, name=None):
    """The only element of ``dataset`` as (nested) tensors; `InvalidArgumentError` when
    it has none or more than one."""
    from miniflow.data import structure

    flat = apply_op(
        "DatasetToSingleElement",
        *dataset._captured(),
        dataset=dataset,
        specs=tuple(dataset._specs),
        name=name or "DatasetToSingleElement",
    )
    for t, spec in zip(flat, dataset._specs):
        if hasattr(t, "set_shape"):
            t.set_shape(spec.shape)
    return structure.pack(dataset._template, list(flat))


class _AssertCardinality(tr._Unary):
    def __init__(self, input_dataset, expected):
        super().__init__(input_dataset)
        self._expected = sources._int_arg(expected)

    def _own_captured(self):
        return [self._expected] if isinstance(self._expected, Tensor) else []

    def _cardinality(self, ctx):
        return _int_value(ctx, self._expected)

    def _iter(self, ctx):
        expected, count = _int_value(ctx, self._expected), 0
        for element in self._input._iter(ctx):
            count += 1
            if expected != INF and count > expected:
                raise errors.FailedPreconditionError(
                    None,
                    None,
                    f"Input dataset was expected to contain {_elements(expected)} "
                    f"but contained at least {_elements(count)}.",
                )
            yield element
        if expected == INF or count < expected:
            raise errors.FailedPreconditionError(
                None,
                None,
                f"Input dataset was expected to contain "
                f"{'an infinite number of elements' if expected == INF else _elements(expected)}"
                f" but contained only {_elements(count)}.",
            )


def _elements(n):
    return f"{n} element{'s' if n != 1 else ''}"


def assert_cardinality(expected_cardinality):
    """A transformation for `Dataset.apply`: the same elements, with a known cardinality
    that is checked while iterating (`FailedPreconditionError` when wrong)."""
    return lambda dataset: _AssertCardinality(dataset, expected_cardinality)
