"""Element specs and values around datasets: `DatasetSpec`, `Optional` (with
`get_next_as_optional`), `NumpyIterator`, `with_options`, the TF1 ``get_output_*``
functions, the legacy ``*Structure`` names of `tf.data.experimental`, and datasets as
variant tensors (`to_variant` / `from_variant`)."""

from __future__ import annotations

import numpy as np

from miniflow import dtypes, errors
from miniflow.core.dispatch import apply_op, current_frontend
from miniflow.core.registry import not_differentiable, register_op
from miniflow.core.shapes import TensorShape
from miniflow.data import options as options_lib, structure
from miniflow.data.dataset_ops import Dataset
from miniflow.data.iterator_ops import EagerIterator, _iterator_state
from miniflow.data.registry import provides
from miniflow.data.transformations import _Unary
from miniflow.ops import array_ops
from miniflow.ops.type_spec import SparseTensorSpec, TensorArraySpec, TensorSpec, TypeSpec


class DatasetSpec(TypeSpec):
    """`tf.data.DatasetSpec(element_spec, dataset_shape=())`: the type of a dataset."""

    def __init__(self, element_spec, dataset_shape=()):
        self._element_spec = element_spec
        self._dataset_shape = TensorShape(dataset_shape)

    @property
    def element_spec(self):
        return self._element_spec

    @staticmethod
    def from_value(value):
        return DatasetSpec(value.element_spec)

    def _fields(self):
        return (repr(self._element_spec), tuple(self._dataset_shape.as_list() or ()))

    def __repr__(self):
        return f"DatasetSpec({self._element_spec!r}, {self._dataset_shape!r})"


class OptionalSpec(TypeSpec):
    """The type of an `Optional` holding values of ``element_spec``."""

    def __init__(self, element_spec):
        self._element_spec = element_spec

    @property
    def element_spec(self):
        return self._element_spec

    def _fields(self):
        return (repr(self._element_spec),)


def _public_spec(spec):
    if hasattr(spec, "element_spec"):  # a window component
        return DatasetSpec(TensorSpec(spec.element_spec.shape, spec.element_spec.dtype))
    return TensorSpec(spec.shape, spec.dtype)


@provides
def element_spec_of(dataset_or_iterator):
    """The (nested) `tf.TensorSpec`s (`tf.SparseTensorSpec`s, `tf.data.DatasetSpec`s) of
    an element."""
    return _sparse_specs(
        structure.pack(
            dataset_or_iterator._template, [_public_spec(s) for s in dataset_or_iterator._specs]
        )
    )


def _sparse_specs(packed):
    """Replaces the (indices, values, dense_shape) spec triples by `SparseTensorSpec`s;
    the dense shape is known only up to its rank (its dims are runtime values)."""
    if isinstance(packed, dict):
        return {k: _sparse_specs(v) for k, v in packed.items()}
    if structure.is_sparse(packed):
        rank = packed.dense_shape.shape.as_list() if packed.dense_shape.shape.ndims == 1 else [None]
        rank = rank[0]
        return SparseTensorSpec(
            TensorShape(None if rank is None else [None] * rank), packed.values.dtype
        )
    if isinstance(packed, tuple):
        items = [_sparse_specs(e) for e in packed]
        return type(packed)(*items) if hasattr(packed, "_fields") else tuple(items)
    return packed


def get_structure(dataset_or_iterator):
    """`tf.data.experimental.get_structure`: the element spec of a dataset or iterator."""
    if not hasattr(dataset_or_iterator, "_specs"):
        raise TypeError(
            f"Invalid `dataset_or_iterator`. `dataset_or_iterator` must be a "
            f"`tf.data.Dataset` or tf.data.Iterator object, but got "
            f"{type(dataset_or_iterator).__name__}."
        )
    return element_spec_of(dataset_or_iterator)


def get_output_types(dataset_or_iterator):
    """`tf.data.get_output_types`: the (nested) dtypes of an element."""
    return get_structure(dataset_or_iterator) and dataset_or_iterator.output_types


def get_output_shapes(dataset_or_iterator):
    """`tf.data.get_output_shapes`: the (nested) static shapes of an element."""
    return get_structure(dataset_or_iterator) and dataset_or_iterator.output_shapes


def get_output_classes(dataset_or_iterator):
    """`tf.data.get_output_classes`: the (nested) classes (`tf.Tensor`) of an element."""
    return get_structure(dataset_or_iterator) and dataset_or_iterator.output_classes


def TensorStructure(dtype, shape):  # noqa: N802 (TF's name)
    """The legacy name of ``tf.TensorSpec(shape, dtype)``."""
    return TensorSpec(shape, dtype)


def SparseTensorStructure(dtype, shape):  # noqa: N802 (TF's name)
    """The legacy name of ``tf.SparseTensorSpec(shape, dtype)``."""
    return SparseTensorSpec(shape, dtype)


@provides
class _WithOptions(_Unary):
    def __init__(self, input_dataset, options):
        if not isinstance(options, options_lib.Options):
            raise TypeError(f"`options` must be a tf.data.Options, got {type(options).__name__}.")
        super().__init__(input_dataset)
        self._options = options

    def _iter(self, ctx):
        return self._input._iter(ctx)


@provides
def options_of(dataset) -> options_lib.Options:
    found = []

    def walk(d):
        for i in d._inputs():
            walk(i)
        if isinstance(d, _WithOptions):
            found.append(d._options)

    walk(dataset)
    return options_lib.merge_options(options_lib.Options(), *found)


@provides
class NumpyIterator:
    """`tf.data.NumpyIterator`: the elements of a dataset as NumPy values (eager mode)."""

    def __init__(self, dataset):
        if not current_frontend().eager:
            raise RuntimeError(
                "`tf.data.Dataset.as_numpy_iterator()` is only supported in eager mode."
            )
        self._iterator = EagerIterator(dataset)

    def __iter__(self):
        return self

    def __next__(self):
        element = next(self._iterator)
        flat = [t.numpy() for t in structure.flatten(element)]
        return structure.pack(structure.template(element), flat)

    next = __next__


# -- Optional ---------------------------------------------------------------------------


@register_op(
    "IteratorGetNextAsOptional",
    num_outputs=lambda a: 1 + len(a["specs"]),
    infer=lambda i, a: [((), dtypes.bool)] + [(s.shape.as_tuple(), s.dtype) for s in a["specs"]],
    **_iterator_state(),
)
def _get_next_as_optional(state, *captured, iterator=None, specs=(), one_shot=False):
    if state.elements is None:
        if not one_shot:
            raise errors.FailedPreconditionError(
                None, None, "GetNext() failed because the iterator has not been initialized."
            )
        state.elements = iterator._dataset._generate(captured)
    element = next(state.elements, None)
    if element is None:
        state.elements = iter(())
        return (np.bool_(False),) + tuple(_empty(s) for s in specs)
    return (np.bool_(True),) + tuple(element)


def _empty(spec):
    shape = tuple(d or 0 for d in (spec.shape.as_list() or []))
    return np.zeros(shape, dtype=object if spec.dtype == dtypes.string else spec.dtype.np)


@register_op(
    "OptionalGetValue",
    num_outputs=lambda a: a["n"],
    infer=lambda i, a: [(s, d) for s, d in zip(a["shapes"], a["types"])],
)
def _optional_get_value(has_value, *components, n=0, shapes=(), types=()):
    if not bool(has_value):
        raise errors.InvalidArgumentError(None, None, "The optional does not have a value.")
    return tuple(components)


not_differentiable("IteratorGetNextAsOptional", "OptionalGetValue")


class Optional:
    """`tf.data.experimental.Optional`: a value that may be absent (``has_value()`` is a
    bool tensor; ``get_value()`` raises `InvalidArgumentError` when it is absent)."""

    def __init__(self, has_value, template, components, specs):
        self._has_value, self._template = has_value, template
        self._components, self._specs = list(components), list(specs)

    @staticmethod
    def from_value(value):
        flat = [array_ops.convert_to_tensor(v) for v in structure.flatten(value)]
        specs = [TensorSpec(t.shape, t.dtype) for t in flat]
        return Optional(array_ops.constant(True), structure.template(value), flat, specs)

    @staticmethod
    def empty(element_spec):
        flat = structure.flatten(element_spec)
        comps = [array_ops.constant(_empty(s), dtype=s.dtype) for s in flat]
        return Optional(array_ops.constant(False), structure.template(element_spec), comps, flat)

    @property
    def element_spec(self):
        return structure.pack(self._template, self._specs)

    def has_value(self, name=None):
        return self._has_value

    def get_value(self, name=None):
        out = apply_op(
            "OptionalGetValue",
            self._has_value,
            *self._components,
            n=len(self._components),
            shapes=tuple(s.shape.as_tuple() for s in self._specs),
            types=tuple(s.dtype for s in self._specs),
            name=name or "OptionalGetValue",
        )
        return structure.pack(self._template, list(out))


def get_next_as_optional(iterator):
    """The iterator's next element as an `Optional` (empty at the end, no error)."""
    specs = [TensorSpec(s.shape, s.dtype) for s in iterator._specs]
    if isinstance(iterator, EagerIterator):
        try:
            element = next(iterator)
        except StopIteration:
            return Optional.empty(structure.pack(iterator._template, specs))
        return Optional.from_value(element)
    captured = iterator._dataset._captured() if iterator._one_shot else []
    flat = apply_op(
        "IteratorGetNextAsOptional",
        *captured,
        iterator=iterator,
        specs=tuple(iterator._specs),
        one_shot=iterator._one_shot,
        name="IteratorGetNextAsOptional",
    )
    for t, spec in zip(flat[1:], iterator._specs):
        t.set_shape(spec.shape)
    return Optional(flat[0], iterator._template, flat[1:], specs)


def TensorArrayStructure(dtype, element_shape, dynamic_size, infer_shape):  # noqa: N802
    """The legacy name of a `TensorArraySpec`."""
    return TensorArraySpec(element_shape, dtype, dynamic_size, infer_shape)


# -- datasets as variant tensors ---------------------------------------------------------


class _DatasetVariant:
    """The value of a dataset's variant tensor: the dataset and the values its captured
    tensors had when the variant was computed."""

    __slots__ = ("dataset", "captured")

    def __init__(self, dataset, captured):
        self.dataset, self.captured = dataset, captured


@register_op("DatasetToVariant", infer=lambda i, a: [((), dtypes.variant)])
def _dataset_to_variant(*captured, dataset=None):
    out = np.empty((), dtype=object)
    out[()] = _DatasetVariant(dataset, list(captured))
    return out


not_differentiable("DatasetToVariant")


def to_variant(dataset):
    """`tf.data.experimental.to_variant`: a scalar variant tensor holding ``dataset``."""
    return apply_op(
        "DatasetToVariant", *dataset._captured(), dataset=dataset, name="DatasetToVariant"
    )


class _FromVariant(Dataset):
    def __init__(self, variant, element_spec):
        self._variant = array_ops.convert_to_tensor(variant)
        if hasattr(self._variant, "numpy"):  # eager: the value itself says what it is
            ok = isinstance(np.asarray(self._variant.numpy(), dtype=object)[()], _DatasetVariant)
        else:
            ok = self._variant.dtype == dtypes.variant
        if not ok:
            raise TypeError(
                f"from_variant expects a variant tensor, got {self._variant.dtype.name}."
            )
        flat = structure.flatten(element_spec)
        self._template = structure.template(element_spec)
        self._specs = [
            structure.TensorSpec(dtypes.as_dtype(s.dtype), TensorShape(s.shape)) for s in flat
        ]

    def _own_captured(self):
        return [self._variant] if not hasattr(self._variant, "numpy") else []

    def _iter(self, ctx):
        value = (
            self._variant.numpy()
            if hasattr(self._variant, "numpy")
            else ctx["values"][self._variant]
        )
        value = np.asarray(value, dtype=object)[()]
        yield from value.dataset._generate(value.captured)


def from_variant(variant, structure):  # noqa: A002 (TF's name shadows the module)
    """`tf.data.experimental.from_variant`: the dataset a variant tensor holds, with
    elements of the given ``structure`` (nested `tf.TensorSpec`s)."""
    return _FromVariant(variant, structure)
