"""`tf.Variable`: state that persists across `Session.run` calls (or eager steps).

One class serves both modes: it creates and reads its value only through `apply_op`,
so the active front end decides whether that builds graph ops or runs them now.
"""

from __future__ import annotations

import numpy as np

from miniflow import dtypes
from miniflow.core.dispatch import apply_op, current_frontend
from miniflow.core.shapes import TensorShape
from miniflow.graph.graph import GraphKeys, get_default_graph
from miniflow.ops import array_ops
from miniflow.ops.state_ops import Slot

_CREATORS: list = []  # tf.variable_creator_scope's creators, innermost last


class _CreatorHook(type):
    """Routes ``Variable(...)`` through the creators of `variable_creator_scope`."""

    def __call__(cls, *args, **kwargs):
        if not _CREATORS:
            return super().__call__(*args, **kwargs)
        import inspect  # noqa: PLC0415  only when a creator scope is active

        bound = inspect.signature(cls.__init__).bind(None, *args, **kwargs)
        bound.apply_defaults()
        bound.arguments.pop("self")

        def chain(i):
            if i < 0:
                return lambda **kw: type.__call__(cls, **kw)
            return lambda **kw: _CREATORS[i](chain(i - 1), **kw)

        return chain(len(_CREATORS) - 1)(**bound.arguments)


def variable_creator_scope(variable_creator):
    """variable_creator_scope(variable_creator): inside, each variable is made by
    ``variable_creator(next_creator, **kwargs)`` (kwargs: Variable's arguments)."""
    import contextlib  # noqa: PLC0415

    @contextlib.contextmanager
    def scope():
        _CREATORS.append(variable_creator)
        try:
            yield
        finally:
            _CREATORS.remove(variable_creator)

    return scope()


class Variable(metaclass=_CreatorHook):
    """A TF1 variable: a named, shaped, typed value that ops can read and assign.

    Args:
        initial_value: a tensor, value or zero-argument callable returning one.
        trainable: add to ``TRAINABLE_VARIABLES`` (optimizers' default var_list).
        collections: graph collections (default ``[GLOBAL_VARIABLES]``).
        name: the variable's op name (made unique, as TF does).
        dtype: cast the initial value to this dtype.
    """

    __array_priority__ = 100

    def __init__(
        self,
        initial_value=None,
        trainable=True,
        collections=None,
        validate_shape=True,
        caching_device=None,
        name=None,
        variable_def=None,
        dtype=None,
        expected_shape=None,
        import_scope=None,
        constraint=None,
        use_resource=None,
        synchronization=None,
        aggregation=None,
        shape=None,
    ):
        if initial_value is None:
            raise ValueError("initial_value must be specified.")
        self.trainable = bool(trainable)
        self.constraint = constraint
        self._eager = current_frontend().eager
        if self._eager:
            self._init_eager(initial_value, name, dtype, shape)
            return
        graph = get_default_graph()
        self.graph = graph
        with graph.init_scope(), graph.name_scope(name or "Variable") as scope:
            with graph.name_scope("Initializer" if callable(initial_value) else "initial_value"):
                init = initial_value() if callable(initial_value) else initial_value
                init = array_ops.convert_to_tensor(init, dtype=None)
                if dtype is not None and init.dtype != dtypes.as_dtype(dtype):
                    init = array_ops.cast(init, dtype)
            self._initial_value = init
            self.dtype = init.dtype
            self._shape = (
                TensorShape(shape)
                if shape is not None
                else (init.shape if validate_shape else TensorShape(None))
            )
            self._read = apply_op(
                "VariableV2", var=self, shape=self._shape.as_tuple(), dtype=self.dtype, name=scope
            )
            self.op = self._read.op
            self.initializer = apply_op(
                "Assign", init, var=self, validate_shape=bool(validate_shape), name="Assign"
            ).op
        for key in collections if collections is not None else [GraphKeys.GLOBAL_VARIABLES]:
            graph.add_to_collection(key, self)
        if self.trainable and GraphKeys.TRAINABLE_VARIABLES not in (collections or []):
            graph.add_to_collection(GraphKeys.TRAINABLE_VARIABLES, self)

    @classmethod
    def _from_serialized(cls, graph, dtype, shape, trainable):
        """A graph variable whose ops `import_meta_graph` is about to rebuild (they refer
        to it); `_attach_ops` completes it once they exist."""
        v = cls.__new__(cls)
        v.trainable, v.constraint, v._eager, v.graph = bool(trainable), None, False, graph
        v.dtype, v._shape = dtype, TensorShape(shape)
        v._read = v.op = v.initializer = v._initial_value = None
        return v

    def _attach_ops(self, read, initializer, initial_value):
        self._read, self.op = read, read.op
        self.initializer, self._initial_value = initializer, initial_value

    def _init_eager(self, initial_value, name, dtype, shape):
        init = initial_value() if callable(initial_value) else initial_value
        value = np.asarray(getattr(init, "numpy", lambda: init)())
        dt = (
            dtypes.as_dtype(dtype)
            if dtype is not None
            else dtypes.from_value(init)
            if not hasattr(init, "dtype")
            else dtypes.as_dtype(init.dtype)
        )
        self.dtype = dt
        self._slot = Slot()
        self._slot.value = np.array(value, dtype=dt.np, copy=True)
        self._shape = TensorShape(shape if shape is not None else self._slot.value.shape)
        self._name = name or "Variable"
        self.graph = None
        self.op = None
        self.initializer = None
        self._initial_value = None

    # -- identity -------------------------------------------------------------------
    @property
    def op_name(self) -> str:
        return self._name if self._eager else self.op.name

    @property
    def name(self) -> str:
        return f"{self.op_name}:0"

    @property
    def shape(self) -> TensorShape:
        return self._shape

    def get_shape(self) -> TensorShape:
        return self._shape

    @property
    def initial_value(self):
        return self._initial_value

    @property
    def device(self) -> str:
        return "" if self._eager or self.op is None else self.op.device

    def __repr__(self):
        if self._eager:
            return (
                f"<tf.Variable '{self.name}' shape={self._shape} dtype={self.dtype.name}, "
                f"numpy={self._slot.value!r}>"
            )
        return f"<tf.Variable '{self.name}' shape={self._shape} dtype={self.dtype.name}_ref>"

    __hash__ = object.__hash__

    # -- reading --------------------------------------------------------------------
    def value(self):
        """The variable's current value as a tensor."""
        if self._eager:
            return current_frontend().read_variable(self)
        return self._read

    def read_value(self):
        return array_ops.identity(self.value(), name="read")

    __tf_tensor__ = value

    def _as_graph_element(self):
        return self._read

    def _gather(self, indices, name=None):
        # Eager: gather rows straight from the live buffer (through the front end's handle)
        # instead of reading — and later copying — the whole table.
        params = current_frontend().variable_handle(self) if self._eager else self.value()
        return apply_op("GatherV2", params, array_ops._as_index(indices), axis=0, name=name)

    def initialized_value(self):
        """The value if initialized, else the initial value (to initialize others)."""
        if self._eager:
            return self.value()
        return apply_op("InitializedValue", self._initial_value, var=self)

    def eval(self, session=None):
        return self._read.eval(session=session)

    def numpy(self):
        if not self._eager:
            raise NotImplementedError("numpy() is only available in eager mode; use eval()")
        return self._slot.value.copy()

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.numpy(), dtype=dtype)

    # Eager variables convert like their value; graph ones as TF1's RefVariable: int() and
    # float() raise TypeError, bool() is True. Neither has __index__ (as in TF).
    def __bool__(self):
        return bool(self.value()) if self._eager else True

    def __int__(self):
        if not self._eager:
            raise TypeError(
                f"int() argument must be a string, a bytes-like object or a "
                f"real number, not '{type(self).__name__}'"
            )
        return int(self.value())

    def __float__(self):
        if not self._eager:
            raise TypeError(
                f"float() argument must be a string or a real number, not '{type(self).__name__}'"
            )
        return float(self.value())

    # -- writing --------------------------------------------------------------------
    def assign(self, value, use_locking=None, name=None, read_value=True, validate_shape=True):
        """Sets the value; returns the new value."""
        value = array_ops.convert_to_tensor(value, dtype=self.dtype)
        return apply_op(
            "Assign", value, var=self, validate_shape=validate_shape, name=name or "Assign"
        )

    def assign_add(self, delta, use_locking=None, name=None, read_value=True):
        """Adds ``delta`` in place; returns the new value."""
        if getattr(delta, "dtype", None) is not self.dtype:  # tensors of our dtype pass
            delta = array_ops.convert_to_tensor(delta, dtype=self.dtype)
        return apply_op("AssignAdd", delta, var=self, name=name or "AssignAdd")

    def assign_sub(self, delta, use_locking=None, name=None, read_value=True):
        """Subtracts ``delta`` in place; returns the new value."""
        if getattr(delta, "dtype", None) is not self.dtype:
            delta = array_ops.convert_to_tensor(delta, dtype=self.dtype)
        return apply_op("AssignSub", delta, var=self, name=name or "AssignSub")

    def load(self, value, session=None):
        """Writes ``value`` into the variable in ``session`` (graph mode)."""
        from miniflow.graph.session import _session_for

        session = _session_for(self.graph, session)
        slot = session._state_for(self.op)
        arr = np.array(value, dtype=self.dtype.np, copy=True)
        want = self._shape.as_tuple()
        if want is not None and None not in want and arr.shape != want:
            raise ValueError(
                f"Cannot load value of shape {arr.shape} into variable "
                f"{self.op_name} of shape {self._shape}"
            )
        slot.value = arr

    def _slot_in(self, session):
        """The `Slot` holding this variable's value in ``session`` (checkpoints use it)."""
        return self._slot if self._eager else session._state_for(self.op)


def global_variables(scope=None):
    """Variables in ``GLOBAL_VARIABLES`` (filtered by a name regex ``scope``)."""
    return get_default_graph().get_collection(GraphKeys.GLOBAL_VARIABLES, scope)


all_variables = global_variables


def trainable_variables(scope=None):
    return get_default_graph().get_collection(GraphKeys.TRAINABLE_VARIABLES, scope)


def local_variables(scope=None):
    return get_default_graph().get_collection(GraphKeys.LOCAL_VARIABLES, scope)


def model_variables(scope=None):
    return get_default_graph().get_collection(GraphKeys.MODEL_VARIABLES, scope)


def variables_initializer(var_list, name="init"):
    """One op that runs the initializers of ``var_list``."""
    from miniflow.ops.control_flow_ops import group

    if current_frontend().eager:
        return None
    return group(*[v.initializer for v in var_list], name=name)


def global_variables_initializer():
    return variables_initializer(global_variables())


initialize_all_variables = global_variables_initializer


def local_variables_initializer():
    return variables_initializer(local_variables())
