"""`Graph`: ops, unique names, name scopes, collections, control dependencies, and the
default-graph stack."""

from __future__ import annotations

import contextlib
import re
import threading

from miniflow.errors import NotFoundError


class GraphKeys:
    """Standard collection names (TF1's `tf.GraphKeys`)."""

    GLOBAL_VARIABLES = "variables"
    LOCAL_VARIABLES = "local_variables"
    TRAINABLE_VARIABLES = "trainable_variables"
    MODEL_VARIABLES = "model_variables"
    MOVING_AVERAGE_VARIABLES = "moving_average_variables"
    SUMMARIES = "summaries"
    UPDATE_OPS = "update_ops"
    LOSSES = "losses"
    REGULARIZATION_LOSSES = "regularization_losses"
    GLOBAL_STEP = "global_step"
    INIT_OP = "init_op"
    LOCAL_INIT_OP = "local_init_op"
    TRAIN_OP = "train_op"
    SAVERS = "savers"
    QUEUE_RUNNERS = "queue_runners"
    METRIC_VARIABLES = "metric_variables"
    ACTIVATIONS = "activations"
    WEIGHTS = "weights"
    BIASES = "biases"


_VALID_NAME = re.compile(r"^[A-Za-z0-9.][A-Za-z0-9_.\-/>]*$")


class Graph:
    """A TensorFlow computation: a set of `Operation`s and the `Tensor`s between them."""

    def __init__(self):
        self._ops: list = []
        self._by_name: dict = {}
        self._names_in_use: dict[str, int] = {}
        self._collections: dict[str, list] = {}
        self._scope = ""
        self._control_deps: list[list] = []
        self._grad_override: dict[str, str] = {}
        self._guard: tuple = ()  # ((pred tensor name, branch), ...) of enclosing tf.conds
        self._enters: dict = {}
        self._ids = 0
        self._finalized = False
        self.seed = None
        self._lock = threading.RLock()
        self._device_functions: list = []  # tf.device scopes, innermost last

    # -- building -------------------------------------------------------------------
    def _next_id(self) -> int:
        self._ids += 1
        return self._ids

    def _add_op(self, op) -> None:
        if self._finalized:
            raise RuntimeError("Graph is finalized and cannot be modified.")
        self._ops.append(op)
        self._by_name[op.name] = op
        override = self._grad_override.get(op.type)
        if override is not None:
            op.grad_type = override

    @contextlib.contextmanager
    def device(self, device_function):
        """Ops created inside are placed by ``device_function(op) -> device string``
        (inner scopes first, each outer one sees ``op.device`` so far); ``None`` makes
        ops inside ignore every enclosing scope. ``tf.device`` turns strings into such
        functions."""
        if not (device_function is None or callable(device_function)):
            raise TypeError(f"Graph.device expects a function or None, got {device_function!r}")
        self._device_functions.append(device_function)
        try:
            yield
        finally:
            self._device_functions.pop()

    @contextlib.contextmanager
    def colocate_with(self, op, ignore_existing=False):
        """Ops created inside are placed on ``op``'s device, whatever the enclosing
        device scopes say (TF's colocation; optimizer slots use it). As in TF the
        enclosing scopes still see each op first, so a ``replica_device_setter`` counts
        a colocated variable in its round robin."""
        target = getattr(op, "op", op)  # a Variable or Tensor: its op
        enclosing = list(self._device_functions)

        def colocated(new_op):
            self._place(new_op, enclosing)
            return target.device

        with self.device(None), self.device(colocated):
            yield

    def _place(self, op, device_functions=None) -> None:
        """Runs the device scopes (these, or the open ones), innermost first, on ``op``."""
        scopes = self._device_functions if device_functions is None else device_functions
        for fn in reversed(scopes):
            if fn is None:
                break
            op._set_device(fn(op))

    def unique_name(self, name: str, mark_as_used: bool = True) -> str:
        """``scope/name``, with ``_1``, ``_2``... appended when already taken."""
        if self._scope:
            name = f"{self._scope}/{name}"
        key = name.lower()
        count = self._names_in_use.get(key, 0)
        if mark_as_used:
            self._names_in_use[key] = count + 1
        if count > 0:
            base = name
            while True:
                name = f"{base}_{count}"
                if name.lower() not in self._names_in_use:
                    break
                count += 1
            if mark_as_used:
                self._names_in_use[name.lower()] = 1
        return name

    @contextlib.contextmanager
    def name_scope(self, name):
        """Pushes a name scope; a name ending in '/' re-enters that exact scope."""
        old = self._scope
        try:
            if name is None or name == "":
                self._scope = ""
            elif name.endswith("/"):
                self._scope = name[:-1]
            else:
                if not _VALID_NAME.match(name):
                    raise ValueError(f"'{name}' is not a valid scope name")
                self._scope = self.unique_name(name)
            yield (self._scope + "/") if self._scope else ""
        finally:
            self._scope = old

    def get_name_scope(self) -> str:
        return self._scope

    @contextlib.contextmanager
    def control_dependencies(self, control_inputs):
        """Ops created inside run only after ``control_inputs`` (None clears them)."""
        if control_inputs is None:
            saved, self._control_deps = self._control_deps, []
            try:
                yield
            finally:
                self._control_deps = saved
            return
        ops = []
        for c in control_inputs:
            c = getattr(c, "_as_graph_op", lambda c=c: c)()
            ops.append(c if hasattr(c, "outputs") and hasattr(c, "type") else c.op)
        self._control_deps.append(ops)
        try:
            yield
        finally:
            self._control_deps.pop()

    @contextlib.contextmanager
    def init_scope(self):
        """TF's ``ops.init_scope()`` for this graph: ops created inside have no control
        dependencies and no tf.cond guard (variables and their initializers are built
        there, so initializing them never needs what the surrounding code depends on)."""
        saved = self._control_deps, self._guard
        self._control_deps, self._guard = [], ()
        try:
            yield
        finally:
            self._control_deps, self._guard = saved

    def _current_control_deps(self) -> list:
        return [op for deps in self._control_deps for op in deps]

    @contextlib.contextmanager
    def cond_branch(self, pred, branch: bool):
        """Ops created inside run only when ``pred`` equals ``branch`` (a tf.cond branch)."""
        with self.guard_scope(self._guard + ((pred.name, bool(branch)),)):
            yield

    @contextlib.contextmanager
    def guard_scope(self, guard: tuple):
        """Sets the branch guard of new ops (gradient ops reuse their op's guard)."""
        saved, self._guard = self._guard, tuple(guard)
        try:
            yield
        finally:
            self._guard = saved

    @contextlib.contextmanager
    def gradient_override_map(self, op_type_map: dict):
        """Ops of the given types created inside use the mapped gradient functions."""
        saved = dict(self._grad_override)
        self._grad_override.update(op_type_map)
        try:
            yield
        finally:
            self._grad_override = saved

    @contextlib.contextmanager
    def as_default(self):
        """Makes this graph the default graph inside the ``with`` block."""
        _graph_stack.append(self)
        try:
            yield self
        finally:
            remove_innermost(_graph_stack, self)

    def finalize(self) -> None:
        self._finalized = True

    @property
    def finalized(self) -> bool:
        return self._finalized

    # -- lookup ---------------------------------------------------------------------
    def get_operations(self) -> list:
        return list(self._ops)

    def get_operation_by_name(self, name: str):
        if not isinstance(name, str):
            raise TypeError(f"Operation names are strings (or similar), not {type(name)}.")
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"The name '{name}' refers to an Operation not in the graph.") from None

    def get_tensor_by_name(self, name: str):
        if not isinstance(name, str):
            raise TypeError(f"Tensor names are strings (or similar), not {type(name)}.")
        op_name, sep, index = name.rpartition(":")
        if not sep or not index.isdigit():
            raise ValueError(
                f"The name '{name}' looks a like an Operation name, not a Tensor. "
                'Tensor names must be of the form "<op_name>:<output_index>".'
            )
        op = self._by_name.get(op_name)
        if op is None:
            raise KeyError(
                f"The name '{name}' refers to a Tensor which does not exist. "
                f"The operation, '{op_name}', does not exist in the graph."
            )
        i = int(index)
        if i >= len(op.outputs):
            raise KeyError(
                f"The name '{name}' refers to a Tensor which does not exist. The "
                f"operation, '{op_name}', exists but only has {len(op.outputs)} "
                "outputs."
            )
        return op.outputs[i]

    def as_graph_element(self, obj, allow_tensor=True, allow_operation=True):
        """Resolves a name, tensor-like or op to an element of this graph."""
        if isinstance(obj, str):
            if ":" in obj and allow_tensor:
                try:
                    return self.get_tensor_by_name(obj)
                except KeyError as e:
                    raise NotFoundError(None, None, str(e.args[0])) from None
            if allow_operation:
                try:
                    return self.get_operation_by_name(obj)
                except KeyError as e:
                    raise NotFoundError(None, None, str(e.args[0])) from None
        conv = getattr(obj, "_as_graph_element", None)
        if conv is not None:
            obj = conv()
        if getattr(obj, "graph", None) is not self:
            raise ValueError(f"{obj!r} is not an element of this graph.")
        return obj

    # -- collections ----------------------------------------------------------------
    def add_to_collection(self, name, value) -> None:
        self._collections.setdefault(name, []).append(value)

    def add_to_collections(self, names, value) -> None:
        for n in [names] if isinstance(names, str) else names:
            self.add_to_collection(n, value)

    def get_collection(self, name, scope=None) -> list:
        items = list(self._collections.get(name, []))
        if scope is None:
            return items
        pat = re.compile(scope)
        return [i for i in items if pat.match(getattr(i, "name", "") or "")]

    def get_collection_ref(self, name) -> list:
        return self._collections.setdefault(name, [])

    def clear_collection(self, name) -> None:
        self._collections.pop(name, None)

    def get_all_collection_keys(self) -> list:
        return list(self._collections)

    @property
    def version(self) -> int:
        return self._ids

    # Set by `miniflow.train.tf_graph_export` (a higher layer) when miniflow is imported.
    _graph_def_exporter = None

    def as_graph_def(self, from_version=None, add_shapes=False):
        """TensorFlow's ``GraphDef`` proto of this graph (``graph_pb2.GraphDef``, which
        `tf.train.write_graph` writes and TensorFlow imports; needs the ``tf-formats``
        extra). miniflow's JSON form is ``tf.GraphDef.from_graph(graph)``."""
        if Graph._graph_def_exporter is None:
            raise RuntimeError("Graph.as_graph_def needs `import miniflow` first")
        return Graph._graph_def_exporter(self)


_default_graph = Graph()
_graph_stack: list[Graph] = []


def remove_innermost(stack: list, item) -> None:
    """Removes the last occurrence of ``item``: the same graph (or session) may be made
    default again inside its own block, and leaving the inner block must not pop the
    outer entry."""
    for i in range(len(stack) - 1, -1, -1):
        if stack[i] is item:
            del stack[i]
            return


def get_default_graph() -> Graph:
    """The innermost graph made default with ``as_default``, else the global graph."""
    return _graph_stack[-1] if _graph_stack else _default_graph


def reset_default_graph() -> None:
    """Clears the global default graph (not allowed inside a ``with g.as_default()``)."""
    global _default_graph
    if _graph_stack:
        raise AssertionError(
            "Do not use tf.reset_default_graph() to clear nested graphs. If "
            "you need a cleared graph, exit the nesting and create a new "
            "graph."
        )
    _default_graph = Graph()
