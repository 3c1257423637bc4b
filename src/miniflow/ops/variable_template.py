"""TF1 helpers built on variable scopes: `tf.make_template` (a function whose variables
are created on its first call and shared by every later call), `tf.get_local_variable`,
`tf.no_regularizer`, and the old scope spellings `tf.op_scope` and
`tf.variable_op_scope`."""

from __future__ import annotations

import functools

from miniflow.graph.graph import GraphKeys, get_default_graph
from miniflow.ops import variable_scope as _vs
from miniflow.ops.control_flow_ops import name_scope


class Template:
    """A function wrapped by `make_template`: its first call creates variables in a
    fresh variable scope, later calls reuse them."""

    def __init__(self, name, func, create_scope_now=False, unique_name=None, custom_getter=None):
        self._name = name
        self._func = func
        self._unique_name = unique_name
        self._custom_getter = custom_getter
        self._variable_scope = None
        self._variables_created = False
        if create_scope_now:
            with _vs.variable_scope(unique_name, default_name=name) as scope:
                self._variable_scope = scope

    @property
    def name(self):
        return self._name

    @property
    def func(self):
        return self._func

    @property
    def variable_scope(self):
        return self._variable_scope

    @property
    def variable_scope_name(self):
        return None if self._variable_scope is None else self._variable_scope.name + "/"

    def _collection(self, key):
        if self._variable_scope is None:
            return []
        prefix = self.variable_scope_name
        return [v for v in get_default_graph().get_collection(key) if v.name.startswith(prefix)]

    @property
    def variables(self):
        return self._collection(GraphKeys.GLOBAL_VARIABLES)

    global_variables = variables

    @property
    def trainable_variables(self):
        return self._collection(GraphKeys.TRAINABLE_VARIABLES)

    @property
    def local_variables(self):
        return self._collection(GraphKeys.LOCAL_VARIABLES)

    def __call__(self, *args, **kwargs):
        if self._variable_scope is None:
            scope = _vs.variable_scope(self._unique_name, default_name=self._name)
        else:
            scope = _vs.variable_scope(
                self._variable_scope, reuse=True if self._variables_created else None
            )
        with scope as vs:
            self._variable_scope = vs
            result = self._func(*args, **kwargs)
        self._variables_created = True
        return result


def make_template(
    name_, func_, create_scope_now_=False, unique_name_=None, custom_getter_=None, **kwargs
):
    """``func_`` (with ``kwargs`` bound) as a `Template`: variables made with
    ``tf.get_variable`` on the first call are shared by every later call."""
    if kwargs:
        func_ = functools.partial(func_, **kwargs)
    return Template(
        name_,
        func_,
        create_scope_now=create_scope_now_,
        unique_name=unique_name_,
        custom_getter=custom_getter_,
    )


def get_local_variable(
    name,
    shape=None,
    dtype=None,
    initializer=None,
    regularizer=None,
    trainable=False,
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
    """`tf.get_variable` for a local variable (in ``LOCAL_VARIABLES``, not trainable)."""
    collections = list(collections or []) + [GraphKeys.LOCAL_VARIABLES]
    return _vs.get_variable(
        name,
        shape=shape,
        dtype=dtype,
        initializer=initializer,
        regularizer=regularizer,
        trainable=False,
        collections=collections,
        validate_shape=validate_shape,
        constraint=constraint,
    )


def no_regularizer(_):
    """The regularizer that adds no loss (it returns None)."""
    return None


def op_scope(values, name, default_name=None):
    """TF1's old spelling of ``tf.name_scope(name, default_name, values)``."""
    return name_scope(name, default_name, values)


def variable_op_scope(
    values,
    name_or_scope,
    default_name=None,
    initializer=None,
    regularizer=None,
    caching_device=None,
    partitioner=None,
    custom_getter=None,
    reuse=None,
    dtype=None,
    use_resource=None,
    constraint=None,
):
    """TF1's old spelling of ``tf.variable_scope(name_or_scope, default_name, values)``."""
    return _vs.variable_scope(
        name_or_scope,
        default_name=default_name,
        values=values,
        initializer=initializer,
        regularizer=regularizer,
        reuse=reuse,
        dtype=dtype,
    )
