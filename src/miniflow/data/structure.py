"""Nested element structures of `tf.data`: tuples (and namedtuples) and dicts of
components, flattened in a fixed order (dict keys sorted, as TF's ``nest`` does)."""

from __future__ import annotations

from dataclasses import dataclass

from miniflow.core.shapes import TensorShape
from miniflow.dtypes import DType


@dataclass(frozen=True)
class TensorSpec:
    """The dtype and static shape of one component of a dataset element."""

    dtype: DType
    shape: TensorShape


def flatten(s) -> list:
    if isinstance(s, dict):
        return [x for k in sorted(s) for x in flatten(s[k])]
    if isinstance(s, tuple):
        return [x for e in s for x in flatten(e)]
    return [s]


def template(s):
    """``s`` with every leaf replaced by None (what `pack` refills)."""
    if isinstance(s, dict):
        return {k: template(v) for k, v in s.items()}
    if isinstance(s, tuple):
        items = [template(e) for e in s]
        return type(s)(*items) if hasattr(s, "_fields") else tuple(items)
    return None


def pack(tmpl, flat):
    """The structure of ``tmpl`` with its leaves taken, in order, from ``flat``."""
    it = iter(flat)

    def build(t):
        if isinstance(t, dict):
            built = {k: build(t[k]) for k in sorted(t)}
            return {k: built[k] for k in t}
        if isinstance(t, tuple):
            items = [build(e) for e in t]
            return type(t)(*items) if hasattr(t, "_fields") else tuple(items)
        return next(it)

    return build(tmpl)


def lists_to_tuples(s):
    """Function results: lists are structure (as tuples), like TF's dataset functions."""
    if isinstance(s, dict):
        return {k: lists_to_tuples(v) for k, v in s.items()}
    if isinstance(s, list | tuple) and not hasattr(s, "_fields"):
        return tuple(lists_to_tuples(e) for e in s)
    return s


def same_structure(a, b) -> bool:
    return template(a) == template(b)


class ElementStructure:
    """TF1's ``output_types``/``output_shapes``/``output_classes`` of a dataset or an
    iterator, from its ``_template`` (the nesting) and ``_specs`` (one per leaf)."""

    @property
    def output_types(self):
        return pack(self._template, [s.dtype for s in self._specs])

    @property
    def output_shapes(self):
        return pack(self._template, [s.shape for s in self._specs])

    @property
    def output_classes(self):
        from miniflow.graph.operation import Tensor

        return pack(self._template, [Tensor] * len(self._specs))
