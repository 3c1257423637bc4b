"""`Operation` and `Tensor`: a graph node and a symbolic handle to one of its outputs.

Python operators (``+``, ``*``, ``[]``, ...) are installed on `Tensor` by the ops layer,
so this module does not import any op definition.
"""

from __future__ import annotations

import sys

from miniflow import dtypes
from miniflow.core.shapes import TensorShape
from miniflow.graph.default_session import _session_for


class Operation:
    """A node of a `Graph`: an op type applied to input tensors, with attributes."""

    __slots__ = (
        "graph",
        "name",
        "type",
        "inputs",
        "outputs",
        "control_inputs",
        "attrs",
        "opdef",
        "grad_type",
        "traceback",
        "_id",
        "_consumers",
        "_device",
    )

    def __init__(self, graph, name, opdef, inputs, attrs, control_inputs, out_specs):
        self.graph = graph
        self.name = name
        self.type = opdef.type
        self.opdef = opdef
        self.inputs = tuple(inputs)
        self.attrs = attrs
        self.control_inputs = tuple(control_inputs)
        self.grad_type = opdef.type
        self.traceback = _creation_site()
        self._id = graph._next_id()
        self._consumers = []
        self._device = ""
        self.outputs = tuple(
            Tensor(self, i, dt, TensorShape(dims)) for i, (dims, dt) in enumerate(out_specs)
        )
        for t in self.inputs:
            t.op._consumers.append(self)
        if getattr(graph, "_device_functions", None):  # inside tf.device scopes
            graph._place(self)

    @property
    def node_def(self):
        return {"name": self.name, "op": self.type, "input": [t.name for t in self.inputs]}

    @property
    def device(self) -> str:
        """Where the op was placed (``tf.device`` scopes); ``""`` when unplaced."""
        return self._device

    def _set_device(self, device) -> None:
        self._device = str(device or "")

    def values(self):
        return self.outputs

    def gradient_scope(self):
        """Where this op's gradient ops are built: under the same tf.cond branch guard, so
        they run only when the op itself ran."""
        return self.graph.guard_scope(self.attrs.get("_guard", ()))

    def get_attr(self, name):
        try:
            return self.attrs[name]
        except KeyError:
            raise ValueError(f"Operation '{self.name}' has no attr named '{name}'.") from None

    def run(self, feed_dict=None, session=None):
        """Runs this operation in ``session`` (default: the default session)."""
        _session_for(self.graph, session).run(self, feed_dict)

    def __repr__(self):
        return f"<tf.Operation '{self.name}' type={self.type}>"


class Tensor:
    """A symbolic handle to output ``value_index`` of ``op``; evaluated by `Session.run`.

    Tensors hash and compare by identity, as in TF1; use `tf.equal` for element-wise
    comparison.
    """

    __slots__ = ("op", "value_index", "dtype", "_shape", "__weakref__")
    __array_priority__ = 100  # numpy defers to our reflected operators

    def __init__(self, op, value_index, dtype, shape):
        self.op = op
        self.value_index = value_index
        self.dtype = dtype
        self._shape = shape

    @property
    def name(self) -> str:
        return f"{self.op.name}:{self.value_index}"

    @property
    def graph(self):
        return self.op.graph

    @property
    def shape(self) -> TensorShape:
        return self._shape

    def get_shape(self) -> TensorShape:
        return self._shape

    def set_shape(self, shape) -> None:
        """Refines the static shape (merging with what is already known)."""
        self._shape = self._shape.merge_with(shape)

    @property
    def device(self) -> str:
        return self.op._device

    def consumers(self):
        return [op for op in self.op._consumers if self in op.inputs]

    def eval(self, feed_dict=None, session=None):
        """The value of this tensor in ``session`` (default: the default session)."""
        return _session_for(self.graph, session).run(self, feed_dict)

    def __bool__(self):
        raise TypeError(
            "Using a `tf.Tensor` as a Python `bool` is not allowed. Use "
            "`if t is not None:` instead of `if t:` to test if a tensor is "
            "defined, and use TensorFlow ops such as tf.cond to execute "
            "subgraphs conditioned on the value of a tensor."
        )

    def __iter__(self):
        raise TypeError(
            "Tensor objects are only iterable when eager execution is enabled. "
            "To iterate over this tensor use tf.map_fn or tf.unstack."
        )

    def __len__(self):
        raise TypeError(
            f"len is not well defined for symbolic Tensors ({self.name}). "
            "Use tf.shape or tensor.shape instead."
        )

    def __repr__(self):
        dt = self.dtype.name if isinstance(self.dtype, dtypes.DType) else self.dtype
        return f"<tf.Tensor '{self.name}' shape={self._shape} dtype={dt}>"

    __hash__ = object.__hash__


_PACKAGE_DIR = __file__.rsplit("/graph/", 1)[0]


def _creation_site() -> str:
    """``file:line`` of the first caller outside miniflow (cheap: no full traceback)."""
    f = sys._getframe(2)
    while f is not None and f.f_code.co_filename.startswith(_PACKAGE_DIR):
        f = f.f_back
    return f"{f.f_code.co_filename}:{f.f_lineno}" if f is not None else "<unknown>"
