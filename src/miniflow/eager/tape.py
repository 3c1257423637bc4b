"""`GradientTape`: records eagerly run ops and differentiates them with the shared
reverse sweep (`core.autodiff.backward`) — the same gradient rules as `tf.gradients`.

Only ops with at least one input that a recording tape watches (or that derives from a
watched tensor) are recorded, so code that no tape watches pays one list check per op.
A variable enters the tape through its handle: a read is recorded as ``Identity`` from
the handle, a gather takes the handle as its params input.
"""

from __future__ import annotations

from miniflow.core import autodiff
from miniflow.core.dispatch import apply_op
from miniflow.core.indexed_slices import IndexedSlices
from miniflow.core.nest import flatten as _flatten, pack as _pack
from miniflow.eager import gradient_plans, tensor as _tensor
from miniflow.eager.tensor import EagerTensor, VariableHandle

# Tapes currently recording, innermost last. The executor checks it before recording.
ACTIVE: list = []
EXECUTOR = None  # the eager front end; it sets this when it is created (it imports us)
TRACE = None  # a gradient_plans.Trace while a backward pass is being logged
_CONTAINERS = (list, tuple, dict)


class _Node:
    """One recorded op: the interface gradient rules see (like a graph Operation)."""

    __slots__ = ("type", "grad_type", "inputs", "outputs", "attrs")

    def __init__(self, opdef, inputs, outputs, attrs):
        self.type = self.grad_type = opdef.type
        self.inputs = inputs
        self.outputs = outputs
        self.attrs = attrs

    @property
    def name(self):
        return self.type

    def get_attr(self, name):
        try:
            return self.attrs[name]
        except KeyError:
            raise ValueError(f"Operation '{self.type}' has no attr named '{name}'.") from None


def record(opdef, inputs, outputs, attrs, executor):
    """Records an op on every active tape that watches one of its inputs."""
    if TRACE is not None:
        TRACE.log(opdef, inputs, outputs, attrs)
    for tape in ACTIVE:
        produced, watched = tape._producer, tape._watched
        for t in inputs:
            if t in produced or t in watched:
                break
            if type(t) is VariableHandle and tape._watch_accessed and t.variable.trainable:
                tape._watch_handle(t)
                break
        else:
            continue
        nodes = tape._nodes
        k = len(nodes)
        if len(outputs) == 1:
            produced[outputs[0]] = k
        else:
            for j, o in enumerate(outputs):
                produced[o] = (k, j)
        nodes.append((opdef, inputs if type(inputs) is tuple else tuple(inputs), outputs, attrs))


def record_read(variable, value):
    """A variable read is not a node: the tape remembers the value as the variable's, and
    the variable's gradient sums the gradients of its reads (and of gathers from it)."""
    if TRACE is not None:
        TRACE.clean = False  # reads are state: a plan must not replay one
    handle = EXECUTOR.variable_handle(variable)
    for tape in ACTIVE:
        watched = tape._watched
        if handle not in watched:
            if not (tape._watch_accessed and variable.trainable):
                continue
            watched[handle] = True
            tape._variables.append(variable)
        watched[value] = True
        reads = tape._reads.get(handle)
        if reads is None:
            tape._reads[handle] = [value]
        else:
            reads.append(value)


class GradientTape:
    """Records operations for automatic differentiation (TF's `tf.GradientTape`).

    Args:
        persistent: allow several calls to `gradient` (default: one).
        watch_accessed_variables: watch trainable variables as they are read.

    Example::

        x = tf.constant(3.0)
        with tf.GradientTape() as g:
            g.watch(x)
            y = x * x
        g.gradient(y, x)  # 6.0
    """

    def __init__(self, persistent=False, watch_accessed_variables=True):
        self._persistent = persistent
        self._watch_accessed = watch_accessed_variables
        # Keyed by the tensors themselves (they hash by identity), which keeps them alive.
        self._watched: dict = {}  # watched tensor -> True
        # tensor -> index in _nodes of the op that made it ((index, output) if several)
        self._producer: dict = {}
        self._nodes: list = []  # recorded ops, in order: (opdef, inputs, outputs, attrs)
        self._node_cache: list = []  # _Nodes for _nodes[:len(_node_cache)], made on demand
        self._reads: dict = {}  # variable handle -> the values read from it
        self._variables: list = []
        self._recording = False
        self._used = False

    def __enter__(self):
        self._push()
        return self

    def __exit__(self, *exc):
        if self._recording:
            self._pop()

    def _push(self):
        if self._recording:
            raise ValueError("Tape is already recording.")
        ACTIVE.append(self)
        self._recording = True

    def _pop(self):
        ACTIVE.remove(self)
        self._recording = False

    def stop_recording(self):
        """A context in which ops are not recorded on this tape."""
        return _StopRecording(self)

    def reset(self):
        """Clears everything recorded so far (the tape stays active)."""
        self._watched.clear()
        self._producer.clear()
        self._nodes.clear()
        self._node_cache.clear()
        self._reads.clear()
        self._variables.clear()

    def watch(self, tensor):
        """Ensures ``tensor`` (a tensor, variable, or nested structure of them) is traced."""
        for t in _flatten(tensor):
            if hasattr(t, "_slot") and hasattr(t, "assign"):
                self._watch_handle(_handle(t))
            elif isinstance(t, EagerTensor):
                self._watched[t] = True
            else:
                raise ValueError(
                    f"Passed in object of type {type(t).__name__}, not tf.Tensor or tf.Variable"
                )

    def _watch_handle(self, handle):
        if handle not in self._watched:
            self._watched[handle] = True
            self._variables.append(handle.variable)

    def watched_variables(self):
        """The variables this tape watches, in the order they were first watched."""
        return list(self._variables)

    def gradient(self, target, sources, output_gradients=None, unconnected_gradients="none"):
        """d(sum of ``target``)/d(each source), in the nested structure of ``sources``.

        Returns tensors (`IndexedSlices` for a variable read through a gather), None
        where a source does not affect the target (zeros if
        ``unconnected_gradients="zero"``).

        Raises:
            RuntimeError: a non-persistent tape was already used.
        """
        if self._used and not self._persistent:
            raise RuntimeError(
                "GradientTape.gradient can only be called once on non-persistent tapes."
            )
        if unconnected_gradients not in ("none", "zero"):
            raise ValueError(f"Unknown value for unconnected_gradients: {unconnected_gradients!r}")
        self._used = True
        flat = sources if type(sources) is list or type(sources) is tuple else None
        xs, groups = self._sources(flat) if flat is not None else (None, None)
        if xs is None:  # nested structures
            flat = _flatten(sources)
            xs, groups = self._sources(flat)
        ys = [target] if type(target) is EagerTensor else [_as_tensor(y) for y in _flatten(target)]
        paused = self._recording
        if paused:
            self._pop()
        try:
            if output_gradients is None and not ACTIVE and gradient_plans.PLANS.enabled:
                # nothing records the sweep: a plan may stand in for it
                grads = self._planned(ys, xs, groups, unconnected_gradients)
            else:
                seeds = (
                    None
                    if output_gradients is None
                    else [None if g is None else _as_tensor(g) for g in _flatten(output_gradients)]
                )
                grads = _sweep(ys, seeds, xs, groups, unconnected_gradients, self._node_of)
        finally:
            if paused:
                self._push()
        return type(sources)(grads) if flat is sources else _pack(sources, iter(grads))

    def _sources(self, flat):
        """(xs, group sizes): a variable stands for its handle and all its reads.
        (None, None) if ``flat`` holds a container (then it must be flattened first)."""
        xs, groups = [], []
        reads = self._reads
        for s in flat:
            kind = type(s)
            if kind is EagerTensor or isinstance(s, EagerTensor):
                xs.append(s)
                groups.append(1)
            elif getattr(s, "_eager", False):  # an eager variable
                h = EXECUTOR.variable_handle(s)
                xs.append(h)
                read = reads.get(h)
                if read:
                    xs.extend(read)
                groups.append(1 + len(read) if read else 1)
            elif kind in _CONTAINERS:
                return None, None
            else:
                raise ValueError(
                    f"Passed in object of type {type(s).__name__}, not tf.Tensor or tf.Variable"
                )
        return xs, groups

    def _node_of(self, t):
        """The `_Node` that made ``t`` on this tape (None for leaves), as the sweep asks."""
        i = self._producer.get(t)
        if i is None:
            return None
        if type(i) is tuple:  # (op index, output index)
            i = i[0]
        cache = self._node_cache
        while len(cache) < len(self._nodes):
            cache.append(_Node(*self._nodes[len(cache)]))
        return cache[i]

    def _planned(self, ys, xs, groups, unconnected):
        """The sweep's result, from a gradient plan when one fits (see gradient_plans)."""
        global TRACE
        plans = gradient_plans.PLANS
        found = plans.find(self._nodes, ys, xs, groups, unconnected)
        if found is not None:
            try:
                return found[0](self._nodes, ys, xs)
            except Exception:  # the sweep below raises it with the op's name
                plans.forget(found[1])
                return _sweep(ys, None, xs, groups, unconnected, self._node_of)
        if plans.in_debt(self._nodes):
            return _sweep(ys, None, xs, groups, unconnected, self._node_of)
        try:
            key = gradient_plans.signature(
                self._nodes, self._producer, ys, xs, (tuple(groups), unconnected)
            )
        except gradient_plans.Uncacheable:
            return _sweep(ys, None, xs, groups, unconnected, self._node_of)
        if not plans.wants_trace(key):
            return _sweep(ys, None, xs, groups, unconnected, self._node_of)
        trace = TRACE = gradient_plans.Trace()
        ACTIVE.append(_TRACER)  # the executor reports ops while a tape is active
        _tensor.VALUE_READ_HOOK = trace.taint
        try:
            grads = _sweep(ys, None, xs, groups, unconnected, self._node_of)
        finally:
            TRACE = _tensor.VALUE_READ_HOOK = None
            ACTIVE.remove(_TRACER)
        plans.offer(key, trace, (self._nodes, self._producer, ys, xs, groups, unconnected), grads)
        return grads

    def jacobian(self, target, sources, unconnected_gradients="none"):
        """d target[i] / d source for every element i (one sweep per element)."""
        y = _as_tensor(target)
        n = y._value.size
        rows = []
        for i in range(n):
            with self.stop_recording():
                seed = apply_op(
                    "Reshape",
                    apply_op("OneHot", i, depth=n, on_value=1, off_value=0, axis=-1, dtype=y.dtype),
                    list(y.shape.as_list()),
                )
            rows.append(_reverse(self, y, sources, seed, unconnected_gradients))
        out = []
        for col, s in zip(zip(*[_flatten(r) for r in rows]), _flatten(sources)):
            if all(g is None for g in col):  # the source does not affect the target
                out.append(None)
                continue
            g = apply_op(
                "Pack",
                *[apply_op("ZerosLike", s) if g is None else autodiff.densify(g) for g in col],
                axis=0,
            )
            out.append(apply_op("Reshape", g, list(y.shape.as_list()) + list(s.shape.as_list())))
        return _pack(sources, iter(out))


def _sweep(ys, seeds, xs, groups, unconnected, producer):
    """Gradients of ys (seeded with ones where ``seeds`` is None) for each group of xs."""
    if seeds is None:
        seeds = [None] * len(ys)
    seeds = [apply_op("OnesLike", y) if g is None else g for y, g in zip(ys, seeds)]
    flat = autodiff.backward(ys, seeds, xs, producer=producer)
    grads, start = [], 0
    for n in groups:
        parts = [g for g in flat[start : start + n] if g is not None]
        grads.append(
            None if not parts else parts[0] if len(parts) == 1 else autodiff.add_gradients(parts)
        )
        if grads[-1] is None and unconnected == "zero":
            grads[-1] = apply_op("ZerosLike", xs[start])
        start += n
    return grads


def _reverse(tape, y, sources, seed, unconnected):
    persistent, tape._persistent = tape._persistent, True
    try:
        return tape.gradient(y, sources, output_gradients=seed, unconnected_gradients=unconnected)
    finally:
        tape._persistent = persistent


class _StopRecording:
    def __init__(self, tape):
        self._tape = tape
        self._was = False

    def __enter__(self):
        self._was = self._tape._recording
        if self._was:
            self._tape._pop()

    def __exit__(self, *exc):
        if self._was:
            self._tape._push()


def _handle(variable):
    return EXECUTOR.variable_handle(variable)


def _as_tensor(x):
    if isinstance(x, EagerTensor):
        return x
    if isinstance(x, IndexedSlices):
        return autodiff.densify(x)
    return EXECUTOR.convert_to_tensor(x)


_TRACER = GradientTape(watch_accessed_variables=False)  # stands in ACTIVE while tracing
