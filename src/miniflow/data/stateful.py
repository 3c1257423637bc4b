"""Transformations that carry state from one element to the next: `shard`, `scan`,
`take_while`, `unique`, `window` and `ignore_errors`."""

from __future__ import annotations

import collections
import itertools

import numpy as np

from miniflow import dtypes, errors
from miniflow.core.shapes import TensorShape
from miniflow.data import structure
from miniflow.data.registry import provides
from miniflow.data.sources import _component, _int_arg, _int_value
from miniflow.data.structure import TensorSpec
from miniflow.data.transformations import _ElementFunction, _Filter, _Map, _Unary
from miniflow.graph.operation import Tensor


@provides
class _Shard(_Unary):
    def __init__(self, input_dataset, num_shards, index):
        super().__init__(input_dataset)
        self._num, self._index = _int_arg(num_shards), _int_arg(index)

    def _own_captured(self):
        return [a for a in (self._num, self._index) if isinstance(a, Tensor)]

    def _iter(self, ctx):
        num, index = _int_value(ctx, self._num), _int_value(ctx, self._index)
        if num <= 0:
            raise errors.InvalidArgumentError(
                None,
                None,
                f"Number of shards must be greater than zero (currently num_shards = {num}).",
            )
        if not 0 <= index < num:
            raise errors.InvalidArgumentError(
                None, None, f"Index must be between 0 and {num - 1} (currently index = {index})."
            )
        yield from itertools.islice(self._input._iter(ctx), index, None, num)


def _relaxed(a: TensorShape, b: TensorShape) -> TensorShape:
    if a.ndims is None or b.ndims is None or a.ndims != b.ndims:
        return TensorShape(None)
    return TensorShape([x if x == y else None for x, y in zip(a.as_list(), b.as_list())])


class StatefulFunction:
    """``fn(state, element) -> (new_state, ...)`` traced once; the state's shapes are
    relaxed (and the function traced again) until the new state fits them, as TF does.
    Used by `scan`, `reduce` and `group_by_reducer`."""

    def __init__(self, fn, state_tmpl, state_specs, elem_tmpl, elem_specs, what, has_output=True):
        self.state_tmpl, self.state_specs = state_tmpl, list(state_specs)
        self._n = len(self.state_specs)
        tmpl = (self.state_tmpl, elem_tmpl)
        for _ in range(8):
            self.fn = _ElementFunction(fn, tmpl, self.state_specs + list(elem_specs), what)
            out = self.fn.template
            if has_output:
                if not isinstance(out, tuple) or len(out) != 2:
                    raise TypeError(
                        f"The {what} function must return a pair (new_state, output_element)."
                    )
                new_tmpl = out[0]
            else:
                new_tmpl = out
            new_specs = self.fn.specs[: self._n]
            if not structure.same_structure(new_tmpl, self.state_tmpl) or [
                s.dtype for s in new_specs
            ] != [s.dtype for s in self.state_specs]:
                raise TypeError(
                    f"The element types for the new state must match the initial "
                    f"state. Expected {[s.dtype for s in self.state_specs]}; got "
                    f"{[s.dtype for s in new_specs]}."
                )
            relaxed = [
                TensorSpec(a.dtype, _relaxed(a.shape, b.shape))
                for a, b in zip(self.state_specs, new_specs)
            ]
            if relaxed == self.state_specs:
                break
            self.state_specs = relaxed
        self.output_tmpl = out[1] if has_output else None
        self.output_specs = self.fn.specs[self._n :]

    def __call__(self, state, element, ctx):
        out = self.fn(list(state) + list(element), ctx)
        return out[: self._n], out[self._n :]


class InitialState:
    """A (nested) initial state: constants, or graph tensors read when iteration starts."""

    def __init__(self, initial_state):
        self.template = structure.template(initial_state)
        self.values = [_component(s) for s in structure.flatten(initial_state)]
        self.specs = [
            TensorSpec(
                v.dtype if isinstance(v, Tensor) else dtypes.as_dtype(v.dtype), TensorShape(v.shape)
            )
            for v in self.values
        ]

    def captured(self) -> list:
        return [v for v in self.values if isinstance(v, Tensor)]

    def start(self, ctx) -> list:
        return [ctx["values"][v] if isinstance(v, Tensor) else v for v in self.values]


@provides
class _Scan(_Unary):
    def __init__(self, input_dataset, initial_state, scan_func, has_output=True):
        super().__init__(input_dataset)
        self._init = InitialState(initial_state)
        self._fn = StatefulFunction(
            scan_func,
            self._init.template,
            self._init.specs,
            self._template,
            self._specs,
            "scan" if has_output else "reduce",
            has_output,
        )
        self._final = not has_output
        if self._final:  # reduce: one element, the final state
            self._template, self._specs = self._init.template, self._fn.state_specs
        else:
            self._template, self._specs = self._fn.output_tmpl, self._fn.output_specs

    def _own_captured(self):
        return self._init.captured() + self._fn.fn.captured

    def _iter(self, ctx):
        state = self._init.start(ctx)
        if self._final:
            for element in self._input._iter(ctx):
                state, _ = self._fn(state, element, ctx)
            yield state
            return
        for element in self._input._iter(ctx):
            state, out = self._fn(state, element, ctx)
            yield out


@provides
class _TakeWhile(_Filter):
    """The elements before the first for which ``predicate`` is False."""

    def _iter(self, ctx):
        for element in self._input._iter(ctx):
            if not bool(self._fn(element, ctx)[0]):
                return
            yield element


@provides
class _Unique(_Unary):
    def __init__(self, input_dataset):
        super().__init__(input_dataset)
        if len(self._specs) != 1 or self._specs[0].dtype not in (
            dtypes.int32,
            dtypes.int64,
            dtypes.string,
        ):
            raise TypeError(
                "Dataset.unique() only supports datasets with a single component "
                "of type tf.int32, tf.int64 or tf.string, got "
                f"{[s.dtype.name for s in self._specs]}."
            )

    def _iter(self, ctx):
        seen = set()
        for element in self._input._iter(ctx):
            v = np.asarray(element[0])
            key = (v.shape, tuple(v.ravel().tolist()))
            if key not in seen:
                seen.add(key)
                yield element


class WindowSpec:
    """A component of a `window` element: a dataset of the input component's values.
    It travels as the window's values stacked along a new first dimension (``shape``),
    and a function receiving it gets ``Dataset.from_tensor_slices`` of them."""

    def __init__(self, spec: TensorSpec):
        self.element_spec = spec
        self.dtype = spec.dtype
        self.shape = TensorShape([None]).concatenate(spec.shape)

    def wrap(self, stacked):
        from miniflow.data.dataset_ops import Dataset

        return Dataset.from_tensor_slices(stacked)

    def __repr__(self):
        return f"DatasetSpec({self.element_spec}, TensorShape([]))"


def stack(values, dtype):
    if dtype == dtypes.string:
        out = np.empty((len(values),) + np.shape(values[0]) if values else (0,), dtype=object)
        for i, v in enumerate(values):
            out[i] = v
        return out
    return np.stack(values) if values else np.zeros((0,), dtype=dtype.np)


@provides
class _Window(_Unary):
    def __init__(self, input_dataset, size, shift, stride, drop_remainder):
        super().__init__(input_dataset)
        self._size = int(size)
        self._shift = self._size if shift is None else int(shift)
        self._stride, self._drop = int(stride), bool(drop_remainder)
        for name, v in (("size", self._size), ("shift", self._shift), ("stride", self._stride)):
            if v <= 0:
                raise errors.InvalidArgumentError(
                    None, None, f"Window {name} must be greater than zero, but got {v}."
                )
        self._specs = [WindowSpec(s) for s in self._specs]

    def _iter(self, ctx):
        it = self._input._iter(ctx)
        span = (self._size - 1) * self._stride + 1
        buffer: collections.deque = collections.deque()
        ended = False
        while True:
            while not ended and len(buffer) < span:
                element = next(it, None)
                if element is None:
                    ended = True
                else:
                    buffer.append(element)
            window = list(itertools.islice(buffer, 0, span, self._stride))
            if not window or (self._drop and len(window) < self._size):
                return
            yield [stack([w[k] for w in window], s.dtype) for k, s in enumerate(self._specs)]
            for _ in range(self._shift):  # drop (or skip past) the next window's start
                if buffer:
                    buffer.popleft()
                elif ended or next(it, None) is None:
                    return


@provides
class _IgnoreErrors(_Unary):
    """Drops the elements whose ``map``/``filter`` functions raise. A Python generator
    cannot go on after it raises, so the element-wise transformations directly above the
    nearest other dataset are applied here, each element on its own; an error in that
    dataset itself ends the sequence."""

    def __init__(self, input_dataset, log_warning=False):
        super().__init__(input_dataset)
        self._chain, base = [], input_dataset
        while isinstance(base, _Map | _Filter) and not isinstance(base, _TakeWhile):
            self._chain.append(base)
            base = base._input
        self._chain.reverse()
        self._base = base

    def _iter(self, ctx):
        it = self._base._iter(ctx)
        while True:
            try:
                element = next(it)
            except StopIteration:
                return
            except errors.OpError:
                return
            try:
                for d in self._chain:
                    if isinstance(d, _Filter):
                        if not bool(d._fn(element, ctx)[0]):
                            break
                    else:
                        element = d._fn(element, ctx)
                else:
                    yield element
            except errors.OpError:
                continue
