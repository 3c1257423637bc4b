"""The graph front end: `apply_op` in graph mode adds an `Operation` to the default graph,
converting Python/NumPy inputs to constants and inferring output dtypes and shapes."""

from __future__ import annotations

import numpy as np

from miniflow import dtypes
from miniflow.core import dispatch
from miniflow.core.indexed_slices import IndexedSlices
from miniflow.core.registry import lookup_op
from miniflow.core.values import as_array
from miniflow.graph.graph import get_default_graph
from miniflow.graph.operation import Operation, Tensor


class GraphFrontEnd:
    """Builds graph nodes; registered as the default front end when miniflow loads."""

    eager = False

    @staticmethod
    def is_tensor(value) -> bool:
        return isinstance(value, Tensor)

    def apply(self, opdef, inputs, attrs, name):
        graph = get_default_graph()
        tensors = self._convert_inputs(graph, opdef, inputs, name)
        controls = graph._current_control_deps()
        if graph._guard:  # inside a tf.cond branch: the op runs only if the branch is taken
            tensors = [_enter(graph, t) for t in tensors]
            attrs = dict(attrs, _guard=graph._guard)
            controls = controls + [graph.get_tensor_by_name(p).op for p, _ in graph._guard]
        if name and name.endswith("/"):  # an exact name, as returned by name_scope
            op_name = name[:-1]
        else:
            op_name = graph.unique_name(name or opdef.type)
        specs = _infer(opdef, tensors, attrs, op_name)
        op = Operation(graph, op_name, opdef, tensors, attrs, controls, specs)
        graph._add_op(op)
        if opdef.num_outputs == 0:
            return op
        return op.outputs[0] if opdef.num_outputs == 1 else op.outputs

    def read_variable(self, variable):
        """A VariableV2 op reading an eager ``variable`` into this graph."""
        return self.apply(
            lookup_op("VariableV2"),
            (),
            {"var": variable, "shape": variable.shape.as_tuple(), "dtype": variable.dtype},
            None,
        )

    def _convert_inputs(self, graph, opdef, inputs, name):
        want = None
        if opdef.same_dtype:
            for x in inputs:
                t = _as_tensor_or_none(x)
                if t is not None:
                    want = t.dtype
                    break
        out = []
        for i, x in enumerate(inputs):
            # literals take the common dtype; tensors keep theirs (a mismatch is a TypeError)
            literal = opdef.same_dtype and _as_tensor_or_none(x) is None
            t = convert_to_tensor(x, dtype=want if literal else None, graph=graph)
            if want is not None and t.dtype != want:
                raise TypeError(
                    f"Input {i} of '{opdef.type}' Op (name: {name or opdef.type}) "
                    f"has type {t.dtype.name} that does not match type "
                    f"{want.name} of argument 0."
                )
            out.append(t)
        return out


def _enter(graph, t):
    """``t`` as seen inside the current branch: a tensor from an enclosing scope enters
    through one CondEnter op per branch level, whose gradient turns 'branch not taken'
    into zeros for the level outside (TF's Switch)."""
    guard, own = graph._guard, t.op.attrs.get("_guard", ())
    if len(own) >= len(guard) or guard[: len(own)] != own:
        return t
    level = guard[: len(own) + 1]
    entered = graph._enters.get((t, level))
    if entered is None:
        op = Operation(
            graph,
            graph.unique_name("CondEnter"),
            lookup_op("CondEnter"),
            [t],
            {"_guard": level},
            [graph.get_tensor_by_name(p).op for p, _ in level],
            [(t.shape.as_tuple(), t.dtype)],
        )
        graph._add_op(op)
        entered = graph._enters[(t, level)] = op.outputs[0]
    return _enter(graph, entered)


def _as_tensor_or_none(x):
    if isinstance(x, Tensor):
        return x
    hook = getattr(x, "__tf_tensor__", None)
    return hook() if hook is not None else None


def convert_to_tensor(value, dtype=None, name=None, graph=None, preferred_dtype=None):
    """A `Tensor` for ``value``: tensors pass through, variables are read, anything else
    becomes a ``Const`` op.

    Raises:
        ValueError: a tensor of another graph or the wrong dtype was given.
    """
    graph = graph or get_default_graph()
    if isinstance(value, IndexedSlices):
        from miniflow.core.autodiff import densify

        value = densify(value)
    t = _as_tensor_or_none(value)
    if t is not None:
        if t.graph is not graph and getattr(graph, "capture", None) is not None:
            t = graph.capture(t)  # a function graph (tf.data) turns it into an input
        if t.graph is not graph:
            raise ValueError(
                f"Tensor {t.name} must be from the same graph as the op being "
                "created; use `with g.as_default():` to build in one graph."
            )
        if dtype is not None and t.dtype != dtypes.as_dtype(dtype):
            raise ValueError(
                f"Tensor conversion requested dtype {dtypes.as_dtype(dtype).name} "
                f"for Tensor with dtype {t.dtype.name}: {t!r}"
            )
        return t
    if isinstance(value, list | tuple) and any(_as_tensor_or_none(v) is not None for v in value):
        return dispatch.apply_op("Pack", *value, axis=0, name=name)
    if hasattr(value, "numpy") and not isinstance(value, np.ndarray):
        value = value.numpy()
    arr = as_array(value, dtype, preferred_dtype)
    with graph.as_default():
        return dispatch.current_frontend().apply(
            lookup_op("Const"),
            (),
            {"value": arr, "dtype": dtypes.as_dtype(arr.dtype)},
            name or "Const",
        )


def _infer(opdef, tensors, attrs, op_name):
    if opdef.infer is None:
        dt = tensors[0].dtype if tensors else dtypes.float32
        return [(None, dt)] * opdef.outputs_for(attrs)
    try:
        return opdef.infer(tensors, attrs)
    except ValueError as e:
        shapes = ", ".join(_fmt(t.shape) for t in tensors)
        raise ValueError(
            f"{e} for '{op_name}' (op: '{opdef.type}') with input shapes: {shapes}."
        ) from None


def _fmt(shape) -> str:
    dims = shape.as_tuple()
    if dims is None:
        return "<unknown>"
    return "[" + ",".join("?" if d is None else str(d) for d in dims) + "]"


GraphFrontEnd.convert_to_tensor = staticmethod(convert_to_tensor)
FRONTEND = GraphFrontEnd()
dispatch.push_frontend(FRONTEND)
