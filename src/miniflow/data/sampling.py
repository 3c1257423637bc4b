"""Random, directed and other sources: `sample_from_datasets`, `choose_from_datasets`,
`rejection_resample`, `Dataset.random`, `Counter` and `from_list`. Random choices use NumPy's
generator seeded from the graph and op seeds: deterministic for a given seed, but not
TF's sequence."""

from __future__ import annotations

import itertools

import numpy as np

from miniflow import dtypes, errors
from miniflow.core.shapes import TensorShape
from miniflow.data import structure
from miniflow.data.dataset_ops import Dataset
from miniflow.data.registry import provides
from miniflow.data.sources import _component
from miniflow.data.structure import TensorSpec
from miniflow.data.transformations import _ElementFunction, _most_specific_compatible
from miniflow.graph.operation import Tensor
from miniflow.ops.random_ops import get_seed

_INT64 = TensorSpec(dtypes.int64, TensorShape([]))


def _rng(seed, ctx, owner, reshuffle=True):
    """A NumPy generator from (graph seed, op seed); with ``reshuffle`` one stream runs
    on across epochs of the same iterator."""
    s1, s2 = seed
    fresh = (
        np.random.default_rng()
        if s1 is None
        else np.random.default_rng([int(s1) & 0xFFFFFFFF, int(s2) & 0xFFFFFFFF])
    )
    return ctx.setdefault(("rng", id(owner)), fresh) if reshuffle else fresh


def _common_structure(datasets):
    first = datasets[0]
    for d in datasets[1:]:
        if not structure.same_structure(first._template, d._template) or [
            s.dtype for s in first._specs
        ] != [s.dtype for s in d._specs]:
            raise TypeError(
                f"Incompatible dataset elements: {first.output_types} vs. {d.output_types}."
            )
    specs = list(first._specs)
    for d in datasets[1:]:
        specs = [
            TensorSpec(a.dtype, _most_specific_compatible(a.shape, b.shape))
            for a, b in zip(specs, d._specs)
        ]
    return first._template, specs


class _DirectedInterleave(Dataset):
    """The next element of ``datasets[i]`` for each index ``i`` the selector yields; an
    exhausted input is skipped (or ends everything with ``stop_on_empty_dataset``)."""

    def __init__(self, datasets, stop_on_empty_dataset):
        self._datasets = list(datasets)
        if not self._datasets:
            raise ValueError("Invalid `datasets`. `datasets` should not be empty.")
        self._stop = bool(stop_on_empty_dataset)
        self._template, self._specs = _common_structure(self._datasets)

    def _selector(self, ctx, live):
        raise NotImplementedError

    def _iter(self, ctx):
        inputs = [d._iter(ctx) for d in self._datasets]
        live = [True] * len(inputs)
        for i in self._selector(ctx, live):
            if not 0 <= i < len(inputs):
                raise errors.InvalidArgumentError(
                    None, None, f"Selector index out of range: {i} not in [0, {len(inputs)})."
                )
            if not live[i]:
                continue
            element = next(inputs[i], None)
            if element is None:
                live[i] = False
                if self._stop or not any(live):
                    return
                continue
            yield element


class _Choose(_DirectedInterleave):
    def __init__(self, datasets, choice_dataset, stop_on_empty_dataset):
        super().__init__(datasets, stop_on_empty_dataset)
        spec = choice_dataset._specs
        if len(spec) != 1 or spec[0].dtype != dtypes.int64 or spec[0].shape.ndims not in (0, None):
            raise TypeError(
                f"Invalid `choice_dataset`. Elements of `choice_dataset` must be "
                f"scalar of `tf.int64` dtype, got {choice_dataset.output_types}."
            )
        self._choice = choice_dataset

    def _inputs(self):
        return self._datasets + [self._choice]

    def _selector(self, ctx, live):
        for element in self._choice._iter(ctx):
            yield int(element[0])


class _Sample(_DirectedInterleave):
    def __init__(self, datasets, weights, seed, stop_on_empty_dataset):
        super().__init__(datasets, stop_on_empty_dataset)
        n = len(self._datasets)
        self._weights_ds = weights if isinstance(weights, Dataset) else None
        self._weights = (
            None if weights is None or self._weights_ds is not None else _component(weights)
        )
        if (
            self._weights is not None
            and not isinstance(self._weights, Tensor)
            and np.shape(self._weights) != (n,)
        ):
            raise ValueError(
                f"Invalid `weights`. The shape of `weights` should be "
                f"compatible with `[len(datasets)]` but is {np.shape(weights)}."
            )
        self._seed = get_seed(seed)

    def _inputs(self):
        return self._datasets + ([self._weights_ds] if self._weights_ds else [])

    def _own_captured(self):
        return [self._weights] if isinstance(self._weights, Tensor) else []

    def _selector(self, ctx, live):
        rng, n = _rng(self._seed, ctx, self), len(self._datasets)
        if self._weights_ds is not None:
            rows = (np.asarray(e[0], np.float64) for e in self._weights_ds._iter(ctx))
        else:
            w = (
                np.ones(n)
                if self._weights is None
                else np.asarray(
                    ctx["values"][self._weights]
                    if isinstance(self._weights, Tensor)
                    else self._weights,
                    np.float64,
                )
            )
            rows = itertools.repeat(w)
        for w in rows:
            w = np.where(live, w, 0.0)  # exhausted inputs are no longer chosen
            if w.sum() <= 0:
                return
            yield int(rng.choice(n, p=w / w.sum()))


@provides
def sample_from_datasets(datasets, weights=None, seed=None, stop_on_empty_dataset=False):
    """Elements drawn at random from ``datasets``, input ``i`` with probability
    ``weights[i]`` (uniform by default; a dataset of weight vectors varies them)."""
    return _Sample(datasets, weights, seed, stop_on_empty_dataset)


@provides
def choose_from_datasets(datasets, choice_dataset, stop_on_empty_dataset=False):
    """The next element of ``datasets[i]`` for each int64 ``i`` of ``choice_dataset``."""
    return _Choose(datasets, choice_dataset, stop_on_empty_dataset)


@provides
class RandomDataset(Dataset):
    """Uniform int64 values in [0, 2**32) (as TF's), forever."""

    def __init__(self, seed=None, rerandomize_each_iteration=None):
        self._seed = get_seed(seed)
        self._reshuffle = bool(rerandomize_each_iteration)
        self._template, self._specs = None, [_INT64]

    def _cardinality(self, ctx):
        return -1

    def _iter(self, ctx):
        rng = _rng(self._seed, ctx, self, self._reshuffle)
        while True:
            yield [rng.integers(0, 1 << 32, dtype=np.int64)]


class _Counter(Dataset):
    def __init__(self, start, step, dtype):
        self._dtype = dtypes.as_dtype(dtype)
        self._start, self._step = start, step
        self._template = None
        self._specs = [TensorSpec(self._dtype, TensorShape([]))]

    def _cardinality(self, ctx):
        return -1

    def _iter(self, ctx):
        for v in itertools.count(self._start, self._step):
            yield [np.asarray(v, dtype=self._dtype.np)[()]]


@provides
def counter(start=0, step=1, dtype=dtypes.int64):
    """``start``, ``start + step``, ... forever (`tf.data.experimental.Counter`)."""
    return _Counter(start, step, dtype)


class _RejectionResample(Dataset):
    """(class, element) pairs, each element kept with probability
    ``target[c] / initial[c]`` scaled so the most under-represented class is always kept;
    ``initial_dist`` defaults to the class frequencies seen so far (as TF estimates
    them)."""

    def __init__(self, input_dataset, class_func, target_dist, initial_dist, seed):
        self._input = input_dataset
        self._class = _ElementFunction(
            class_func, input_dataset._template, input_dataset._specs, "class_func"
        )
        if len(self._class.specs) != 1 or not self._class.specs[0].dtype.is_integer:
            raise ValueError("`class_func` must return a single integer scalar tensor.")
        self._target = np.asarray(_eager(target_dist), np.float64)
        self._initial = (
            None if initial_dist is None else np.asarray(_eager(initial_dist), np.float64)
        )
        self._seed = get_seed(seed)
        self._template = (None, input_dataset._template)
        self._specs = [TensorSpec(self._class.specs[0].dtype, TensorShape([]))] + list(
            input_dataset._specs
        )

    def _inputs(self):
        return [self._input]

    def _own_captured(self):
        return self._class.captured

    def _iter(self, ctx):
        rng = _rng(self._seed, ctx, self)
        counts = np.zeros(len(self._target))
        for element in self._input._iter(ctx):
            c = self._class(element, ctx)[0]
            counts[int(c)] += 1
            initial = counts / counts.sum() if self._initial is None else self._initial
            with np.errstate(divide="ignore", invalid="ignore"):
                ratio = np.where(initial > 0, self._target / initial, 0.0)
            accept = ratio[int(c)] / ratio.max()
            if rng.uniform() < accept:
                yield [np.asarray(c)] + list(element)


def _eager(value):
    value = getattr(value, "numpy", lambda: value)()
    if isinstance(value, Tensor):
        raise TypeError(
            "rejection_resample takes constant distributions (lists or arrays), "
            f"got the graph tensor {value.name}."
        )
    return value


@provides
def rejection_resample(class_func, target_dist, initial_dist=None, seed=None):
    """A transformation for `Dataset.apply`: resamples to ``target_dist`` by rejection,
    yielding ``(class, element)`` pairs."""
    return lambda dataset: _RejectionResample(dataset, class_func, target_dist, initial_dist, seed)


class _FromList(Dataset):
    """The elements of a Python list, each a structure like the first."""

    def __init__(self, elements):
        if not elements:
            raise ValueError("Invalid `elements`. `elements` should not be empty.")
        self._template = structure.template(structure.lists_to_tuples(elements[0]))
        self._rows = []
        for e in elements:
            e = structure.lists_to_tuples(e)
            if not structure.same_structure(structure.template(e), self._template):
                raise ValueError("Invalid `elements`. All elements should have the same structure.")
            self._rows.append([_component(v) for v in structure.flatten(e)])
        specs = None
        for row in self._rows:
            row_specs = [TensorSpec(dtypes.as_dtype(v.dtype), TensorShape(v.shape)) for v in row]
            if specs is not None and [s.dtype for s in specs] != [s.dtype for s in row_specs]:
                raise TypeError("Invalid `elements`. All elements should have the same types.")
            specs = (
                row_specs
                if specs is None
                else [
                    TensorSpec(a.dtype, _most_specific_compatible(a.shape, b.shape))
                    for a, b in zip(specs, row_specs)
                ]
            )
        self._specs = specs

    def _own_captured(self):
        return [v for row in self._rows for v in row if isinstance(v, Tensor)]

    def _cardinality(self, ctx):
        return len(self._rows)

    def _iter(self, ctx):
        for row in self._rows:
            yield [ctx["values"][v] if isinstance(v, Tensor) else v for v in row]


def from_list(elements, name=None):
    """`tf.data.experimental.from_list`: a dataset of the given elements, in order."""
    return _FromList(list(elements))
