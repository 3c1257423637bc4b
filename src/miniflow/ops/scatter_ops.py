"""Row and element updates of a variable, in place: `tf.scatter_update`, `scatter_add`,
`scatter_sub`, `scatter_mul`, `scatter_div`, `scatter_max`, `scatter_min`,
`scatter_nd_update`, `scatter_nd_add`, `scatter_nd_sub`.

Each op is stateful on its variable (it receives the variable's `Slot`) and a ``writes``
op, so it runs after the step's plain reads; its output is the updated value.
"""

from __future__ import annotations

import numpy as np

from miniflow import errors
from miniflow.core.dispatch import apply_op
from miniflow.core.registry import not_differentiable, register_op
from miniflow.ops import array_ops
from miniflow.ops.state_ops import Slot, _uninitialized

_STATE = dict(
    stateful=True,
    make_state=lambda a: Slot(),
    state_key=lambda a: a["var"],
    writes=True,
    infer=lambda i, a: [(a["var"].shape.as_tuple(), a["var"].dtype)],
)


def _target(slot, var):
    if slot.value is None:
        raise _uninitialized(var)
    return slot.value


def _check_rows(idx, n, var):
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        flat = idx.reshape(-1)
        k = int(np.flatnonzero((flat < 0) | (flat >= n))[0])
        raise errors.InvalidArgumentError(
            None, None, f"indices[{k}] = {int(flat[k])} is not in [0, {n}) (variable {var.op_name})"
        )


def _check_updates(value, idx, updates, var, nd=False):
    want = idx.shape[:-1] + value.shape[idx.shape[-1] :] if nd else idx.shape + value.shape[1:]
    if np.ndim(updates) and np.shape(updates) != want:
        raise errors.InvalidArgumentError(
            None,
            None,
            f"Shape of updates {list(np.shape(updates))} does not match "
            f"indices.shape + var.shape[...] = {list(want)} (variable {var.op_name})",
        )


def _scatter_kernel(combine):
    """A row scatter: ``combine(value, idx, updates)`` applies the updates in place."""

    def kernel(slot, indices, updates, var=None):
        value = _target(slot, var)
        idx = np.asarray(indices)
        _check_rows(idx, value.shape[0], var)
        _check_updates(value, idx, updates, var)
        combine(value, idx, np.asarray(updates, dtype=value.dtype))
        return value

    return kernel


def _assign_rows(value, idx, updates):
    value[idx] = updates


_SCATTERS = {
    "ScatterUpdate": _assign_rows,
    "ScatterAdd": np.add.at,
    "ScatterSub": np.subtract.at,
    "ScatterMul": np.multiply.at,
    "ScatterDiv": lambda v, i, u: (
        np.divide.at(v, i, u) if v.dtype.kind in "fc" else np.floor_divide.at(v, i, u)
    ),
    "ScatterMax": np.maximum.at,
    "ScatterMin": np.minimum.at,
}
for _type, _combine in _SCATTERS.items():
    register_op(_type, **_STATE)(_scatter_kernel(_combine))


def _scatter_nd_kernel(combine):
    def kernel(slot, indices, updates, var=None):
        value = _target(slot, var)
        idx = np.asarray(indices)
        if idx.ndim == 0 or idx.shape[-1] > value.ndim:
            raise errors.InvalidArgumentError(
                None,
                None,
                f"The inner dimension of indices ({idx.shape[-1:]}) must be at "
                f"most the rank of variable {var.op_name} ({value.ndim})",
            )
        for d in range(idx.shape[-1]):
            _check_rows(idx[..., d], value.shape[d], var)
        _check_updates(value, idx, updates, var, nd=True)
        where = tuple(np.moveaxis(idx, -1, 0))
        combine(value, where, np.asarray(updates, dtype=value.dtype))
        return value

    return kernel


register_op("ScatterNdUpdate", **_STATE)(_scatter_nd_kernel(_assign_rows))
register_op("ScatterNdAdd", **_STATE)(_scatter_nd_kernel(np.add.at))
register_op("ScatterNdSub", **_STATE)(_scatter_nd_kernel(np.subtract.at))
not_differentiable(*_SCATTERS, "ScatterNdUpdate", "ScatterNdAdd", "ScatterNdSub")


_RETURNS = """
    Returns:
        ``ref``'s value after the update.

    Raises:
        InvalidArgumentError: (at run time) an index is out of range or ``updates`` has
            the wrong shape.
"""


def _scatter_public(op_type, doc):
    """The public function ``tf.scatter_*(ref, indices, updates)`` of a scatter op."""

    def fn(ref, indices, updates, use_locking=None, name=None):
        updates = array_ops.convert_to_tensor(updates, dtype=ref.dtype)
        return apply_op(
            op_type, array_ops._as_index(indices), updates, var=ref, name=name or op_type
        )

    fn.__name__ = "".join("_" + c.lower() if c.isupper() else c for c in op_type)[1:]
    fn.__doc__ = doc
    return fn


def _scatter_fn(op_type, doc):
    return _scatter_public(
        op_type,
        doc
        + """

    Args:
        ref: the variable to update.
        indices: int32/int64 indices into ``ref``'s first dimension (any shape).
        updates: values of shape ``indices.shape + ref.shape[1:]`` (or a scalar).
        use_locking: ignored (updates are not concurrent).
        name: the op's name.
"""
        + _RETURNS,
    )


scatter_update = _scatter_fn(
    "ScatterUpdate",
    "Sets ``ref[indices] = updates`` in place (with repeated indices one of the updates wins).",
)
scatter_add = _scatter_fn(
    "ScatterAdd", "Adds ``updates`` to ``ref[indices]`` in place (repeated indices add up)."
)
scatter_sub = _scatter_fn(
    "ScatterSub", "Subtracts ``updates`` from ``ref[indices]`` in place (repeated indices add up)."
)
scatter_mul = _scatter_fn("ScatterMul", "Multiplies ``ref[indices]`` by ``updates`` in place.")
scatter_div = _scatter_fn("ScatterDiv", "Divides ``ref[indices]`` by ``updates`` in place.")
scatter_max = _scatter_fn("ScatterMax", "``ref[indices] = max(ref[indices], updates)`` in place.")
scatter_min = _scatter_fn("ScatterMin", "``ref[indices] = min(ref[indices], updates)`` in place.")


def _scatter_nd_fn(op_type, doc):
    return _scatter_public(
        op_type,
        doc
        + """

    ``indices`` has shape ``[..., K]``: each innermost vector indexes the first K
    dimensions of ``ref``; ``updates`` has shape ``indices.shape[:-1] + ref.shape[K:]``.
"""
        + _RETURNS
        + """
    Example::

        tf.scatter_nd_update(v, [[0, 1], [2, 2]], [10.0, 20.0])
    """,
    )


scatter_nd_update = _scatter_nd_fn(
    "ScatterNdUpdate", "Sets elements or slices of ``ref`` at ``indices`` to ``updates`` in place."
)
scatter_nd_add = _scatter_nd_fn(
    "ScatterNdAdd", "Adds ``updates`` to elements or slices of ``ref`` at ``indices`` in place."
)
scatter_nd_sub = _scatter_nd_fn(
    "ScatterNdSub",
    "Subtracts ``updates`` from elements or slices of ``ref`` at ``indices`` in place.",
)
