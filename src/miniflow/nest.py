"""`tf.nest`: nested structures (lists, tuples, namedtuples, dicts) as TF treats them.

Dicts flatten in sorted key order and are rebuilt in their own key order; strings are
leaves. ``expand_composites`` is accepted for compatibility: miniflow's composite
tensors (SparseTensor, IndexedSlices) are always leaves here.
"""

from __future__ import annotations

from collections.abc import Mapping


def is_nested(seq) -> bool:
    """True for a list, tuple (namedtuple) or dict; False for a leaf (strings too)."""
    return isinstance(seq, list | tuple | Mapping)


def flatten(structure, expand_composites=False) -> list:
    """The leaves of ``structure`` in order; a leaf gives ``[leaf]`` (``None`` too)."""
    if not is_nested(structure):
        return [structure]
    return [leaf for child in _children(structure) for leaf in flatten(child)]


def _children(x) -> list:
    if isinstance(x, Mapping):
        return [x[k] for k in sorted(x)]
    return list(x)


def _rebuild(structure, children: list):
    if isinstance(structure, Mapping):
        by_key = dict(zip(sorted(structure), children))
        return type(structure)((k, by_key[k]) for k in structure)
    if hasattr(structure, "_fields"):
        return type(structure)(*children)
    return type(structure)(children)


def pack_sequence_as(structure, flat_sequence, expand_composites=False):
    """``structure`` with its leaves replaced, in order, by ``flat_sequence``."""
    flat_sequence = list(flat_sequence)
    n_leaves = len(flatten(structure))
    if n_leaves != len(flat_sequence):
        raise ValueError(
            f"Could not pack sequence. Structure had {n_leaves} atoms, but "
            f"flat_sequence had {len(flat_sequence)} items.  Structure: "
            f"{structure}, flat_sequence: {flat_sequence}."
        )
    leaves = iter(flat_sequence)

    def build(s):
        if not is_nested(s):
            return next(leaves)
        return _rebuild(s, [build(c) for c in _children(s)])

    return build(structure)


def _mismatch(nest1, nest2, detail: str) -> str:
    return (
        "The two structures don't have the same nested structure.\n\n"
        f"First structure: type={type(nest1).__name__} str={nest1}\n\n"
        f"Second structure: type={type(nest2).__name__} str={nest2}\n\n"
        f"More specifically: {detail}"
    )


def assert_same_structure(nest1, nest2, check_types=True, expand_composites=False):
    """Raises ValueError if the nestings differ, TypeError if (with ``check_types``) the
    sequence types differ (a list against a tuple)."""

    def walk(a, b):
        if is_nested(a) != is_nested(b):
            raise ValueError(_mismatch(nest1, nest2, f"{a!r} and {b!r} differ in nesting."))
        if not is_nested(a):
            return
        if (
            check_types
            and type(a) is not type(b)
            and not (isinstance(a, Mapping) and isinstance(b, Mapping))
        ):
            raise TypeError(
                _mismatch(
                    nest1,
                    nest2,
                    f"{type(a).__name__} and {type(b).__name__} are different sequence types.",
                )
            )
        if isinstance(a, Mapping) and sorted(a) != sorted(b):
            raise ValueError(_mismatch(nest1, nest2, f"keys {sorted(a)} and {sorted(b)} differ."))
        ca, cb = _children(a), _children(b)
        if len(ca) != len(cb):
            raise ValueError(_mismatch(nest1, nest2, f"lengths {len(ca)} and {len(cb)} differ."))
        for x, y in zip(ca, cb):
            walk(x, y)

    walk(nest1, nest2)


def map_structure(func, *structure, **kwargs):
    """``func`` applied to the corresponding leaves of ``structure``s of the same shape;
    keyword arguments ``check_types`` (default True) and ``expand_composites``."""
    if not structure:
        raise ValueError("Must provide at least one structure")
    check_types = kwargs.pop("check_types", True)
    kwargs.pop("expand_composites", None)
    if kwargs:
        raise ValueError(
            f"Only valid keyword arguments are `check_types` and "
            f"`expand_composites`, not: {', '.join(kwargs)}"
        )
    for other in structure[1:]:
        assert_same_structure(structure[0], other, check_types=check_types)
    leaves = zip(*(flatten(s) for s in structure))
    return pack_sequence_as(structure[0], [func(*xs) for xs in leaves])
