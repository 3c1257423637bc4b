"""Nested structures (lists, tuples, namedtuples, dicts) flattened to leaves and back, in
one canonical order (dict keys sorted), as `tf.nest` does."""

from __future__ import annotations


def flatten(x) -> list:
    """The leaves of ``x`` in order (dicts by sorted key)."""
    if isinstance(x, dict):
        return [leaf for k in sorted(x) for leaf in flatten(x[k])]
    if isinstance(x, list | tuple):
        return [leaf for v in x for leaf in flatten(v)]
    return [x]


def pack(structure, leaves):
    """``structure`` rebuilt with its leaves taken in order from the iterator ``leaves``."""
    if isinstance(structure, dict):
        return type(structure)((k, pack(structure[k], leaves)) for k in sorted(structure))
    if isinstance(structure, list | tuple):
        vals = [pack(v, leaves) for v in structure]
        return type(structure)(*vals) if hasattr(structure, "_fields") else type(structure)(vals)
    return next(leaves)
