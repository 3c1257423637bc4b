"""Iterator ops: ``MakeIterator`` (re)starts an iterator over a dataset in the session;
``IteratorGetNext`` yields the next element, raising `OutOfRangeError` at the end. The
iterator's position is session state, like a variable's value."""

from __future__ import annotations

from miniflow import errors
from miniflow.core.dispatch import apply_op, current_frontend
from miniflow.core.registry import not_differentiable, register_op
from miniflow.data import structure
from miniflow.data.structure import TensorSpec
from miniflow.ops import array_ops


class _IteratorState:
    __slots__ = ("elements",)

    def __init__(self):
        self.elements = None


def _iterator_state(**kw):
    # exportable=False: the dataset (Python functions) cannot travel in a meta graph, so
    # exports leave these ops, and what is computed from them, out.
    return dict(
        stateful=True,
        make_state=lambda attrs: _IteratorState(),
        state_key=lambda attrs: attrs["iterator"],
        exportable=False,
        **kw,
    )


@register_op("MakeIterator", num_outputs=0, **_iterator_state(writes=True))
def _make_iterator(state, *captured, iterator=None, dataset=None):
    state.elements = dataset._generate(captured)
    return ()


@register_op(
    "IteratorGetNext",
    num_outputs=lambda a: len(a["specs"]),
    infer=lambda i, a: [(s.shape.as_tuple(), s.dtype) for s in a["specs"]],
    **_iterator_state(),
)
def _get_next(state, *captured, iterator=None, specs=(), one_shot=False):
    if state.elements is None:
        if not one_shot:
            raise errors.FailedPreconditionError(
                None,
                None,
                "GetNext() failed because the iterator has not been initialized. "
                "Ensure that you have run the initializer operation for this iterator before "
                "getting the next element.",
            )
        state.elements = iterator._dataset._generate(captured)
    try:
        return tuple(next(state.elements))
    except StopIteration:
        state.elements = iter(())
        raise errors.OutOfRangeError(None, None, "End of sequence") from None


not_differentiable("MakeIterator", "IteratorGetNext")


class Iterator(structure.ElementStructure):
    """An iterator over a `Dataset` in graph mode (`tf.data.Iterator`).

    ``get_next()`` returns the element's tensors; each `Session.run` that evaluates them
    advances the iterator by one element.
    """

    def __init__(self, tmpl, specs, dataset=None, one_shot=False):
        self._template, self._specs = tmpl, list(specs)
        self._dataset, self._one_shot = dataset, one_shot
        self._initializer = None
        if dataset is not None and not one_shot:
            self._initializer = self.make_initializer(dataset)

    @staticmethod
    def from_structure(
        output_types, output_shapes=None, shared_name=None, output_classes=None
    ) -> Iterator:
        """An iterator not bound to a dataset; bind with `make_initializer` (e.g. to switch
        between training and validation data)."""
        from miniflow.core.shapes import TensorShape
        from miniflow.dtypes import as_dtype

        types = structure.flatten(output_types)
        shapes = (
            [None] * len(types)
            if output_shapes is None
            else structure.flatten(_shapes_as_leaves(output_shapes))
        )
        specs = [TensorSpec(as_dtype(t), TensorShape(s)) for t, s in zip(types, shapes)]
        return Iterator(structure.template(output_types), specs)

    @property
    def initializer(self):
        if self._initializer is None:
            raise ValueError(
                "This iterator has no initializer: a one-shot iterator starts "
                "itself, and `from_structure` iterators use make_initializer()."
            )
        return self._initializer

    def make_initializer(self, dataset, name=None):
        """An op that (re)starts this iterator over ``dataset``.

        Raises:
            TypeError: ``dataset``'s element structure or types differ from the iterator's.
        """
        if not structure.same_structure(self._template, dataset._template) or [
            s.dtype for s in self._specs
        ] != [s.dtype for s in dataset._specs]:
            raise TypeError(
                f"Expected output types {self.output_types} but got dataset with "
                f"output types {dataset.output_types}."
            )
        self._dataset = self._dataset or dataset
        return apply_op(
            "MakeIterator",
            *dataset._captured(),
            iterator=self,
            dataset=dataset,
            name=name or "MakeIterator",
        )

    def get_next(self, name=None):
        """The next element as (nested) tensors; `OutOfRangeError` when exhausted."""
        captured = self._dataset._captured() if self._one_shot else []
        flat = apply_op(
            "IteratorGetNext",
            *captured,
            iterator=self,
            specs=tuple(self._specs),
            one_shot=self._one_shot,
            name=name or "IteratorGetNext",
        )
        for t, spec in zip(flat, self._specs):
            t.set_shape(spec.shape)
        return structure.pack(self._template, flat)


class EagerIterator(structure.ElementStructure):
    """Iterates a dataset in eager mode (``iter(dataset)``, ``for x in dataset``,
    ``make_one_shot_iterator()``), yielding elements as eager tensors: ``next()`` raises
    `StopIteration` at the end, ``get_next()`` `OutOfRangeError` (as TF)."""

    def __init__(self, dataset):
        if not current_frontend().eager:
            raise RuntimeError(
                "__iter__() is only supported when eager execution is "
                "enabled; in graph mode use make_one_shot_iterator()."
                "get_next() and Session.run."
            )
        self._template, self._specs = dataset._template, dataset._specs
        self._dataset = dataset
        self._elements = dataset._generate([t.numpy() for t in dataset._captured()])

    def __iter__(self):
        return self

    def __next__(self):
        values = next(self._elements)
        return structure.pack(
            self._template,
            [array_ops.constant(v, dtype=s.dtype) for v, s in zip(values, self._specs)],
        )

    next = __next__

    def get_next(self, name=None):
        """The next element; `OutOfRangeError` when the dataset is exhausted."""
        try:
            return next(self)
        except StopIteration:
            raise errors.OutOfRangeError(None, None, "End of sequence") from None


def _shapes_as_leaves(shapes):
    """Shapes given as lists are leaves, not structure."""
    from miniflow.core.shapes import TensorShape

    if isinstance(shapes, dict):
        return {k: _shapes_as_leaves(v) for k, v in shapes.items()}
    if isinstance(shapes, tuple) and not all(isinstance(d, int | type(None)) for d in shapes):
        return tuple(_shapes_as_leaves(s) for s in shapes)
    return shapes if isinstance(shapes, TensorShape) else TensorShape(shapes)
