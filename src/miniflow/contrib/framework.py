"""`tf.contrib.framework`: variable helpers (model variables, filtered variable lists,
restoring from checkpoints) and ``arg_scope``, as in TF 1.15."""

from __future__ import annotations

import contextlib
import functools

from miniflow.graph.graph import GraphKeys, get_default_graph
from miniflow.ops.variable_scope import get_variable
from miniflow.train.checkpoint import (
    list_variables as list_variables,  # noqa: F401
    load_variable as load_variable,
)
from miniflow.train.saver import Saver
from miniflow.train.training_util import (
    create_global_step as create_global_step,
    get_global_step as get_global_step,
    get_or_create_global_step as get_or_create_global_step,
)

# -- arg_scope ---------------------------------------------------------------------------

_ARG_STACK: list = [{}]


def _key(op):
    return getattr(op, "_key_op", str(op))


@contextlib.contextmanager
def arg_scope(list_ops_or_scope, **kwargs):
    """Default keyword arguments for the listed functions (decorated with
    `add_arg_scope`) inside the block; inner scopes override outer ones. Given a scope
    dict (what an ``arg_scope`` yields), re-enters it.

    Raises:
        TypeError: a listed function was not decorated with `add_arg_scope`.
    """
    if isinstance(list_ops_or_scope, dict):
        if kwargs:
            raise ValueError(
                "When attempting to re-use a scope by suppling a dictionary, kwargs must be empty."
            )
        scope = list_ops_or_scope
    else:
        scope = {k: dict(v) for k, v in _ARG_STACK[-1].items()}
        for op in list_ops_or_scope:
            key = _key(op)
            if not has_arg_scope(op):
                raise ValueError(f"{key} is not decorated with @add_arg_scope")
            scope[key] = {**scope.get(key, {}), **kwargs}
    _ARG_STACK.append(scope)
    try:
        yield scope
    finally:
        _ARG_STACK.pop()


_DECORATED: set = set()


def add_arg_scope(func):
    """Makes ``func`` take its defaults from the enclosing `arg_scope` (explicit keyword
    arguments still win)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        defaults = _ARG_STACK[-1].get(_key(func), {})
        return func(*args, **{**defaults, **kwargs})

    wrapper._key_op = _key(func)
    _DECORATED.add(wrapper._key_op)
    return wrapper


def has_arg_scope(func) -> bool:
    return _key(func) in _DECORATED


def current_arg_scope():
    return _ARG_STACK[-1]


def arg_scoped_arguments(func):
    import inspect

    return list(inspect.signature(func).parameters)


# -- variables ---------------------------------------------------------------------------


def variable(
    name,
    shape=None,
    dtype=None,
    initializer=None,
    regularizer=None,
    trainable=True,
    collections=None,
    caching_device=None,
    device=None,
    partitioner=None,
    custom_getter=None,
    use_resource=None,
    synchronization=None,
    aggregation=None,
):
    """`tf.get_variable` in ``collections`` (default: global variables)."""
    collections = list(collections or [GraphKeys.GLOBAL_VARIABLES])
    if trainable and GraphKeys.TRAINABLE_VARIABLES not in collections:
        collections.append(GraphKeys.TRAINABLE_VARIABLES)
    return get_variable(
        name,
        shape=shape,
        dtype=dtype,
        initializer=initializer,
        regularizer=regularizer,
        trainable=trainable,
        collections=collections,
    )


def model_variable(
    name,
    shape=None,
    dtype=None,
    initializer=None,
    regularizer=None,
    trainable=True,
    collections=None,
    caching_device=None,
    device=None,
    partitioner=None,
    custom_getter=None,
    use_resource=None,
    synchronization=None,
    aggregation=None,
):
    """A `variable` also in ``MODEL_VARIABLES``."""
    collections = list(collections or []) + [GraphKeys.GLOBAL_VARIABLES, GraphKeys.MODEL_VARIABLES]
    return variable(name, shape, dtype, initializer, regularizer, trainable, collections)


def local_variable(initial_value, validate_shape=True, name=None, use_resource=None):
    """A non-trainable variable in ``LOCAL_VARIABLES``."""
    from miniflow.ops.variables import Variable

    return Variable(
        initial_value,
        trainable=False,
        collections=[GraphKeys.LOCAL_VARIABLES],
        validate_shape=validate_shape,
        name=name,
    )


def get_variables(scope=None, suffix=None, collection=GraphKeys.GLOBAL_VARIABLES):
    """The variables of ``collection`` under ``scope`` (a name prefix or a
    `VariableScope`) whose names end with ``suffix``."""
    if scope is not None and hasattr(scope, "name") and not isinstance(scope, str):
        scope = scope.name
    found = get_default_graph().get_collection(collection, scope)
    if suffix is not None:
        found = [v for v in found if _op_name(v).endswith(suffix)]
    return found


def get_model_variables(scope=None, suffix=None):
    return get_variables(scope, suffix, GraphKeys.MODEL_VARIABLES)


def get_local_variables(scope=None, suffix=None):
    return get_variables(scope, suffix, GraphKeys.LOCAL_VARIABLES)


def get_trainable_variables(scope=None, suffix=None):
    return get_variables(scope, suffix, GraphKeys.TRAINABLE_VARIABLES)


def get_variables_by_name(given_name, scope=None):
    """The variables whose short name (after the last scope) is ``given_name``."""
    return [v for v in get_variables(scope) if _op_name(v).split("/")[-1] == given_name]


def get_variables_by_suffix(suffix, scope=None):
    return get_variables(scope, suffix)


def get_unique_variable(var_op_name):
    """The one variable named ``var_op_name``.

    Raises:
        ValueError: none or several have that name.
    """
    found = [v for v in get_variables() if _op_name(v) == var_op_name]
    if not found:
        raise ValueError(f"Couldn't find variable {var_op_name}")
    if len(found) > 1:
        raise ValueError(f"Variable {var_op_name} does not uniquely identify a variable")
    return found[0]


def get_variable_full_name(var):
    return _op_name(var)


def get_variables_to_restore(include=None, exclude=None):
    """The global (and model) variables under any of the ``include`` scopes, minus those
    under an ``exclude`` scope."""
    variables = get_variables() + [v for v in get_model_variables() if v not in get_variables()]
    if include is not None:
        variables = [v for v in variables if any(_op_name(v).startswith(s) for s in include)]
    if exclude is not None:
        variables = [v for v in variables if not any(_op_name(v).startswith(s) for s in exclude)]
    return variables


def assign_from_checkpoint_fn(
    model_path, var_list, ignore_missing_vars=False, reshape_variables=False
):
    """A function ``fn(session)`` restoring ``var_list`` (a list, or a dict checkpoint
    name -> variable) from ``model_path``; with ``ignore_missing_vars`` the variables the
    checkpoint lacks are skipped (None when none is left)."""
    if ignore_missing_vars:
        names = {n for n, _ in list_variables(model_path)}
        if isinstance(var_list, dict):
            var_list = {k: v for k, v in var_list.items() if k in names}
        else:
            var_list = [v for v in var_list if _op_name(v) in names]
        if not var_list:
            return None
    saver = Saver(var_list, reshape=reshape_variables)
    return lambda session: saver.restore(session, model_path)


def assign_from_values_fn(var_names_to_values):
    """A function ``fn(session)`` loading the given values into the named variables."""
    from miniflow.ops import state_ops

    assigns = [state_ops.assign(get_unique_variable(n), v) for n, v in var_names_to_values.items()]
    return lambda session: session.run(assigns)


def _op_name(v):
    return v.name.split(":")[0]
