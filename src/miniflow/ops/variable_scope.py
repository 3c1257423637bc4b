"""`tf.variable_scope` and `tf.get_variable`: named variable sharing with TF1's reuse
rules and errors."""

from __future__ import annotations

import contextlib
import enum

import numpy as np

from miniflow import dtypes
from miniflow.core.dispatch import current_frontend
from miniflow.core.shapes import as_shape
from miniflow.graph.graph import GraphKeys, get_default_graph
from miniflow.ops import init_ops
from miniflow.ops.partitioned_variable import PartitionedVariable, SaveSliceInfo, piece_shapes
from miniflow.ops.variables import Variable


class _ReuseMode(enum.Enum):
    AUTO_REUSE = 1


AUTO_REUSE = _ReuseMode.AUTO_REUSE


class VariableScope:
    """The current variable scope: name prefix, reuse mode and defaults."""

    def __init__(
        self,
        reuse,
        name="",
        initializer=None,
        regularizer=None,
        dtype=None,
        original_name_scope="",
        partitioner=None,
    ):
        self.name = name
        self.reuse = reuse
        self.initializer = initializer
        self.regularizer = regularizer
        self.dtype = dtype
        self.original_name_scope = original_name_scope
        self.partitioner = partitioner

    def set_partitioner(self, partitioner):
        self.partitioner = partitioner

    def reuse_variables(self):
        self.reuse = True

    def set_initializer(self, initializer):
        self.initializer = initializer

    def set_regularizer(self, regularizer):
        self.regularizer = regularizer

    def get_variable(self, name, **kwargs):
        return get_variable(name, **kwargs)


def _store(graph):
    """Per-graph state: the variable store and the scope stack."""
    st = getattr(graph, "_variable_scope_state", None)
    if st is None:
        st = graph._variable_scope_state = {
            "vars": {},
            "scopes": [VariableScope(False)],
            "counts": {},
        }
    return st


def get_variable_scope() -> VariableScope:
    return _store(get_default_graph())["scopes"][-1]


@contextlib.contextmanager
def variable_scope(
    name_or_scope=None,
    default_name=None,
    values=None,
    initializer=None,
    regularizer=None,
    caching_device=None,
    partitioner=None,
    custom_getter=None,
    reuse=None,
    dtype=None,
    use_resource=None,
    constraint=None,
    auxiliary_name_scope=True,
):
    """Opens a variable scope (and a name scope of the same name).

    ``reuse=True`` requires variables to exist; ``tf.AUTO_REUSE`` creates them if absent;
    reuse is inherited by nested scopes. So is ``partitioner`` (as in TF, passing None
    keeps the enclosing one; ``scope.set_partitioner(None)`` clears it).
    """
    graph = get_default_graph()
    st = _store(graph)
    parent = st["scopes"][-1]
    if name_or_scope is None and default_name is None:
        raise TypeError("If default_name is None then name_or_scope is required")
    if isinstance(name_or_scope, VariableScope):
        full = name_or_scope.name
        name_scope_name = name_or_scope.original_name_scope
        base = name_or_scope
    else:
        if name_or_scope is None:  # unique default name among siblings
            leaf = _unique_leaf(st["counts"], parent.name, default_name)
        else:
            leaf = name_or_scope
        full = f"{parent.name}/{leaf}" if parent.name else leaf
        name_scope_name = None
        base = parent
    if reuse is None or reuse is False:
        reuse = parent.reuse if parent.reuse else (base.reuse if base is not parent else False)
    elif parent.reuse is True and reuse is not AUTO_REUSE:
        reuse = True
    scope = VariableScope(
        reuse,
        full,
        initializer or base.initializer,
        regularizer or base.regularizer,
        dtype or base.dtype,
        partitioner=partitioner if partitioner is not None else base.partitioner,
    )
    ns = (
        graph.name_scope(
            name_scope_name
            if name_scope_name
            else (name_or_scope if isinstance(name_or_scope, str) else default_name)
        )
        if auxiliary_name_scope
        else contextlib.nullcontext("")
    )
    counts = st["counts"]
    counts[full] = counts.get(full, 0) + 1
    saved = dict(counts) if isinstance(name_or_scope, VariableScope) else None
    with ns as ns_name:
        scope.original_name_scope = name_scope_name or ns_name
        st["scopes"].append(scope)
        try:
            yield scope
        finally:
            st["scopes"].pop()
            # As TF1: leaving a scope restarts the default-name counters below it, so
            # re-entering it by name (e.g. with reuse=True) names layers dense, dense_1, ...
            # again; re-entering a captured scope object restores the counters.
            if saved is not None:
                st["counts"] = saved
            else:
                counts = st["counts"]
                for k in [k for k in counts if k.startswith(full + "/")]:
                    counts[k] = 0


def _unique_leaf(counts, parent, prefix):
    """TF1's unique default scope name: ``prefix``, else the first free ``prefix_<i>``."""
    base = f"{parent}/{prefix}" if parent else prefix
    if counts.get(base, 0) == 0:
        return prefix
    i = 1
    while counts.get(f"{base}_{i}", 0) > 0:
        i += 1
    return f"{prefix}_{i}"


def get_variable(
    name,
    shape=None,
    dtype=None,
    initializer=None,
    regularizer=None,
    trainable=None,
    collections=None,
    caching_device=None,
    partitioner=None,
    validate_shape=True,
    use_resource=None,
    custom_getter=None,
    constraint=None,
    synchronization=None,
    aggregation=None,
):
    """Gets an existing variable ``scope/name`` or creates it, following the scope's reuse.

    Raises:
        ValueError: the variable exists and reuse is off, or does not exist and reuse is
            on, or the requested shape/dtype differs from the existing variable's.
    """
    scope = get_variable_scope()
    full = f"{scope.name}/{name}" if scope.name else name
    store = _store(get_default_graph())["vars"] if not current_frontend().eager else _EAGER
    dtype = dtypes.as_dtype(dtype or scope.dtype or dtypes.float32)
    found = store.get(full)
    if found is not None:
        if scope.reuse is False or scope.reuse is None:
            raise ValueError(
                f"Variable {full} already exists, disallowed. Did you mean to set "
                "reuse=True or reuse=tf.AUTO_REUSE in VarScope?"
            )
        if shape is not None and not as_shape(shape).is_compatible_with(found.shape):
            raise ValueError(
                f"Trying to share variable {full}, but specified shape "
                f"{as_shape(shape)} and found shape {found.shape}."
            )
        if found.dtype != dtype:
            raise ValueError(
                f"Trying to share variable {full}, but specified dtype "
                f"{dtype.name} and found dtype {found.dtype.name}."
            )
        return found
    if scope.reuse is True:
        raise ValueError(
            f"Variable {full} does not exist, or was not created with "
            "tf.get_variable(). Did you mean to set reuse=tf.AUTO_REUSE in "
            "VarScope?"
        )
    if partitioner is None:
        partitioner = scope.partitioner
    if partitioner is _NO_PARTITIONER:
        partitioner = None
    if partitioner is not None:
        if shape is None and initializer is not None and not callable(initializer):
            shape = getattr(initializer, "shape", None)
            shape = np.shape(initializer) if shape is None else shape
        if shape is None or not as_shape(shape).is_fully_defined():
            raise ValueError(
                "Shape of a new partitioned variable must be fully defined, but instead "
                f"was {'<unknown>' if shape is None else as_shape(shape)}."
            )
        if as_shape(shape).ndims > 0:  # as TF: a scalar is never partitioned
            slicing = list(partitioner(shape=as_shape(shape), dtype=dtype))
            pieces = _partitioned(
                name, shape, dtype, slicing, initializer, regularizer, trainable, collections
            )
            store[full] = pieces
            return pieces
    if initializer is None:  # not `or`: the initializer may be a tensor
        initializer = scope.initializer
    if initializer is None:
        initializer = (
            init_ops.glorot_uniform_initializer()
            if dtype.is_floating
            else init_ops.zeros_initializer()
        )
    if callable(initializer) and not isinstance(initializer, type):
        if shape is None:
            raise ValueError(
                f"Shape of a new variable ({full}) must be fully defined, but instead was None."
            )
        shape_list = as_shape(shape).as_list()

        def init_value():
            return initializer(shape_list, dtype=dtype)
    elif isinstance(initializer, type):
        inst = initializer(dtype=dtype)

        def init_value():
            return inst(as_shape(shape).as_list(), dtype=dtype)
    else:
        init_value = initializer  # a tensor or value; shape comes from it
    graph = get_default_graph()
    ctx = graph.name_scope(None) if not current_frontend().eager else contextlib.nullcontext()
    with ctx:
        var = Variable(
            init_value,
            trainable=trainable is not False,
            collections=collections,
            validate_shape=validate_shape,
            name=full,
            dtype=dtype,
            constraint=constraint,
        )
    store[full] = var
    regularizer = regularizer or scope.regularizer
    if regularizer is not None and not current_frontend().eager:
        with graph.name_scope(f"{full}/Regularizer"):
            loss = regularizer(var.value())
        if loss is not None:
            graph.add_to_collection(GraphKeys.REGULARIZATION_LOSSES, loss)
    return var


def _partitioned(name, shape, dtype, slicing, initializer, regularizer, trainable, collections):
    full_shape = as_shape(shape).as_list()
    axis, pieces, offsets = piece_shapes(full_shape, slicing)
    whole = None
    if initializer is not None and not callable(initializer):
        # A value or a tensor: each piece gets its slice.
        whole = initializer if hasattr(initializer, "graph") else np.asarray(initializer)
    scope_name = get_variable_scope().name
    full = f"{scope_name}/{name}" if scope_name else name
    parts = []
    with variable_scope(name):
        for i, (piece, start) in enumerate(zip(pieces, offsets, strict=True)):
            init = initializer
            if whole is not None:
                index = [slice(None)] * len(full_shape)
                index[axis] = slice(start, start + piece[axis])
                init = whole[tuple(index)]
            part = get_variable(
                f"part_{i}",
                piece if whole is None else None,
                dtype=dtype,
                initializer=init,
                regularizer=regularizer,
                trainable=trainable,
                collections=collections,
                partitioner=_NO_PARTITIONER,
            )
            offset = [start if d == axis else 0 for d in range(len(full_shape))]
            part._save_slice_info = SaveSliceInfo(full, full_shape, offset, piece)
            parts.append(part)
    return PartitionedVariable(full, full_shape, dtype, parts, slicing)


_EAGER: dict = {}


def _NO_PARTITIONER(shape, dtype):  # noqa: N802 (a piece is never cut again)
    return None
