"""Queues (`tf.FIFOQueue`, `RandomShuffleQueue`, `PaddingFIFOQueue`, `PriorityQueue`).

A queue object builds ops; the queue itself (its elements, the threads blocked on it)
is state of the session that runs them, created on first use (see `queue_state`). Queue
ops carry the queue object in their ``queue`` attr as a variable's ops carry the variable,
and take the queue's handle (``queue_ref``, the creation op's output) as input 0, as in TF.
Dequeues block in the kernel, so each `Session.run` of a compiled plan blocks afresh.
"""

from __future__ import annotations

import numpy as np

from miniflow import dtypes as _dtypes, errors
from miniflow.core.dispatch import apply_op, current_frontend
from miniflow.core.registry import not_differentiable, register_op
from miniflow.core.shapes import TensorShape, as_shape
from miniflow.graph.session import run_deadline
from miniflow.ops import array_ops
from miniflow.ops.control_flow_ops import name_scope
from miniflow.ops.queue_state import (
    PaddingFIFOQueueState,
    PriorityQueueState,
    QueueState,
    RandomShuffleQueueState,
)
from miniflow.ops.random_ops import get_seed

_STATES = {
    "FIFOQueueV2": QueueState,
    "RandomShuffleQueueV2": RandomShuffleQueueState,
    "PaddingFIFOQueueV2": PaddingFIFOQueueState,
    "PriorityQueueV2": PriorityQueueState,
}


def _queue_state(**kw):
    # exportable=False: the queue object cannot travel in a meta graph (as an iterator).
    return dict(
        stateful=True,
        make_state=lambda attrs: attrs["queue"]._make_state(),
        state_key=lambda attrs: attrs["queue"],
        exportable=False,
        **kw,
    )


def _handle_infer(inputs, attrs):
    return [((), _dtypes.resource)]


for _type in _STATES:  # the handle's value is the queue state itself (readers use it)
    register_op(_type, infer=_handle_infer, **_queue_state())(lambda state: state)


def queue_from_handle(handle) -> QueueState:
    """The queue state behind a handle value (an eager handle holds it in a 0-d array)."""
    return handle[()] if isinstance(handle, np.ndarray) else handle


def _element_specs(attrs, batch):
    q = attrs["queue"]
    out = []
    for dt, shape in zip(q._dtypes, q._shapes):
        d = shape.as_tuple()
        if batch is not False and d is not None:
            d = (batch,) + d
        elif batch is not False:
            d = None
        out.append((d, dt))
    return out


def _as_component(value, dtype):
    if dtype == _dtypes.string:
        return np.array(value, dtype=object)
    return np.array(value, dtype=dtype.np)


def _check_shapes(state, components, many):
    shapes = state.shapes
    for i, c in enumerate(components):
        want = shapes[i] if shapes is not None else None
        got = c.shape[1:] if many else c.shape
        if want is not None and (
            len(want) != len(got) or any(w is not None and w != g for w, g in zip(want, got))
        ):
            lead = "[?," if many else "["
            exp = lead + ",".join("?" if w is None else str(w) for w in want) + "]"
            raise errors.InvalidArgumentError(
                None,
                None,
                f"Shape mismatch in tuple component {i}. Expected {exp}, got "
                f"[{','.join(str(d) for d in c.shape)}]",
            )


@register_op("QueueEnqueueV2", num_outputs=0, **_queue_state())
def _enqueue(state, handle, *components):
    comps = tuple(_as_component(c, dt) for c, dt in zip(components, state.dtypes))
    _check_shapes(state, comps, many=False)
    state.enqueue([comps], run_deadline())
    return ()


@register_op("QueueEnqueueManyV2", num_outputs=0, **_queue_state())
def _enqueue_many(state, handle, *components):
    comps = [_as_component(c, dt) for c, dt in zip(components, state.dtypes)]
    for c in comps:
        if c.ndim == 0:
            raise errors.InvalidArgumentError(
                None,
                None,
                "EnqueueMany requires each component to have at least one dimension (the batch)",
            )
    sizes = {c.shape[0] for c in comps}
    if len(sizes) > 1:
        raise errors.InvalidArgumentError(
            None,
            None,
            f"EnqueueMany requires the same dimension 0 in all components, got {sorted(sizes)}",
        )
    _check_shapes(state, comps, many=True)
    rows = [tuple(np.array(c[k], dtype=c.dtype) for c in comps) for k in range(comps[0].shape[0])]
    state.enqueue(rows, run_deadline())
    return ()


def _zeros(shape, dtype):
    if dtype == _dtypes.string:
        return np.full(shape, b"", dtype=object)
    return np.zeros(shape, dtype=dtype.np)


def _batch(state, taken):
    out = []
    for i, dt in enumerate(state.dtypes):
        parts = [e[i] for e in taken]
        if not parts:
            shape = state.shapes[i] if state.shapes is not None else None
            out.append(_zeros((0,) + tuple(d or 0 for d in shape), dt))
        elif isinstance(state, PaddingFIFOQueueState):
            top = tuple(max(p.shape[k] for p in parts) for k in range(parts[0].ndim))
            arr = _zeros((len(parts),) + top, dt)
            for k, p in enumerate(parts):
                arr[(k,) + tuple(slice(0, d) for d in p.shape)] = p
            out.append(arr)
        else:
            out.append(np.stack(parts))
    return tuple(out)


def _require_shapes(state):
    if state.shapes is None or (
        not isinstance(state, PaddingFIFOQueueState)
        and any(s is None or None in s for s in state.shapes)
    ):
        raise errors.InvalidArgumentError(
            None,
            None,
            f"{state.kind}'s DequeueMany and DequeueUpTo require the components "
            "to have specified shapes.",
        )


def _count_value(n):
    n = int(n)
    if n < 0:
        raise errors.InvalidArgumentError(None, None, f"Input 'n' must be >= 0, but is {n}")
    return n


def _dequeue_outputs(attrs):
    return len(attrs["queue"]._dtypes)


@register_op(
    "QueueDequeueV2",
    num_outputs=_dequeue_outputs,
    infer=lambda i, a: _element_specs(a, False),
    **_queue_state(),
)
def _dequeue(state, handle):
    return tuple(state.dequeue(1, deadline=run_deadline())[0])


@register_op(
    "QueueDequeueManyV2",
    num_outputs=_dequeue_outputs,
    infer=lambda i, a: _element_specs(a, a.get("_n")),
    **_queue_state(),
)
def _dequeue_many(state, handle, n):
    _require_shapes(state)
    n = _count_value(n)
    return _batch(state, state.dequeue(n, deadline=run_deadline()))


@register_op(
    "QueueDequeueUpToV2",
    num_outputs=_dequeue_outputs,
    infer=lambda i, a: _element_specs(a, None),
    **_queue_state(),
)
def _dequeue_up_to(state, handle, n):
    _require_shapes(state)
    n = _count_value(n)
    return _batch(state, state.dequeue(n, up_to=True, deadline=run_deadline()))


@register_op("QueueCloseV2", num_outputs=0, **_queue_state())
def _close(state, handle, cancel_pending_enqueues=False):
    state.close(cancel_pending_enqueues)
    return ()


@register_op("QueueSizeV2", infer=lambda i, a: [((), _dtypes.int32)], **_queue_state())
def _size(state, handle):
    with state.cond:
        return np.int32(state.size())


@register_op("QueueIsClosedV2", infer=lambda i, a: [((), _dtypes.bool)], **_queue_state())
def _is_closed(state, handle):
    return np.bool_(state.closed)


not_differentiable(
    *_STATES,
    "QueueEnqueueV2",
    "QueueEnqueueManyV2",
    "QueueDequeueV2",
    "QueueDequeueManyV2",
    "QueueDequeueUpToV2",
    "QueueCloseV2",
    "QueueSizeV2",
    "QueueIsClosedV2",
)


def _as_type_list(dtypes):
    if isinstance(dtypes, list | tuple):
        return [_dtypes.as_dtype(d) for d in dtypes]
    return [_dtypes.as_dtype(dtypes)]


def _as_shape_list(shapes, dtypes, unknown_dim_allowed=False, unknown_rank_allowed=False):
    if shapes is None:
        return None
    if isinstance(shapes, TensorShape):
        shapes = [shapes]
    if not isinstance(shapes, tuple | list):
        raise TypeError(
            "Shapes must be a TensorShape or a list or tuple of TensorShapes, "
            f"got {type(shapes).__name__} instead."
        )
    if all(s is None or isinstance(s, int) for s in shapes):  # one shape, as dims
        if unknown_dim_allowed and any(s is None for s in shapes):
            raise ValueError("When providing partial shapes, a list of shapes must be provided.")
        shapes = [shapes]
    shapes = [as_shape(s) for s in shapes]
    if not unknown_dim_allowed and any(not s.is_fully_defined() for s in shapes):
        raise ValueError(f"All shapes must be fully defined: {shapes}")
    if not unknown_rank_allowed and any(s.ndims is None for s in shapes):
        raise ValueError(f"All shapes must have a defined rank: {shapes}")
    return shapes


class QueueBase:
    """Base class for queues (`tf.QueueBase`): enqueue/dequeue ops on a bounded queue of
    tuples of tensors, shared by the threads of a session."""

    _op_type = "FIFOQueueV2"

    def __init__(
        self,
        dtypes,
        shapes,
        names,
        queue_ref=None,
        *,
        capacity=None,
        name=None,
        min_after_dequeue=0,
        seed=None,
    ):
        self._dtypes = list(dtypes)
        if shapes is not None:
            if len(shapes) != len(self._dtypes):
                raise ValueError(
                    "Queue shapes must have the same length as dtypes, received "
                    f"len(shapes)={len(shapes)}, len(dtypes)={len(self._dtypes)}"
                )
            self._shapes = [as_shape(s) for s in shapes]
        else:
            self._shapes = [TensorShape(None) for _ in self._dtypes]
        self._given_shapes = shapes is not None
        if names is not None:
            names = list(names) if isinstance(names, list | tuple) else [names]
            if len(names) != len(self._dtypes):
                raise ValueError(
                    "List of names must have the same length as the list of "
                    f"dtypes, received len(names)={len(names)},"
                    f"len(dtypes)={len(self._dtypes)}"
                )
        self._names = names
        self._capacity = capacity
        self._min_after_dequeue = min_after_dequeue
        self._seed = seed
        self._eager = current_frontend().eager
        if self._eager:
            self._name = name or _DEFAULT_NAMES[self._op_type]
            self._slot = self._make_state()  # the eager executor's state for our ops
        self._queue_ref = apply_op(self._op_type, queue=self, name=None if self._eager else name)
        if not self._eager:  # ops are named after the last part, as in TF
            self._name = self._queue_ref.op.name.split("/")[-1]

    def _make_state(self):
        shapes = tuple(s.as_tuple() for s in self._shapes) if self._given_shapes else None
        return _STATES[self._op_type](
            self.name,
            self._capacity,
            tuple(self._dtypes),
            shapes,
            self._min_after_dequeue,
            self._seed,
        )

    # -- properties -----------------------------------------------------------------
    @property
    def queue_ref(self):
        return self._queue_ref

    @property
    def name(self) -> str:
        return self._name if self._eager else self._queue_ref.op.name

    @property
    def dtypes(self) -> list:
        return self._dtypes

    @property
    def shapes(self) -> list:
        return self._shapes

    @property
    def names(self):
        return self._names

    # -- ops ------------------------------------------------------------------------
    def _components(self, vals, many):
        if isinstance(vals, dict):
            if self._names is None:
                raise ValueError("Queue must have names to enqueue a dictionary")
            if sorted(self._names, key=str) != sorted(vals, key=str):
                raise ValueError(
                    "Keys in dictionary to enqueue do not match names of Queue.  "
                    f"Dictionary: {sorted(vals)},Queue: {sorted(self._names)}"
                )
            vals = [vals[k] for k in self._names]
        else:
            if self._names is not None:
                raise ValueError("You must enqueue a dictionary in a Queue with names")
            if not isinstance(vals, list | tuple):
                vals = [vals]
        if len(vals) != len(self._dtypes):
            raise ValueError(
                f"Expected {len(self._dtypes)} components to enqueue in queue "
                f"'{self._name}', got {len(vals)}"
            )
        tensors = [
            array_ops.convert_to_tensor(v, dtype=dt, name=f"component_{i}")
            for i, (v, dt) in enumerate(zip(vals, self._dtypes))
        ]
        batch = None
        for t, shape in zip(tensors, self._shapes):
            got = t.shape
            if many and got.ndims is not None:
                if got.ndims == 0:
                    raise ValueError(
                        "Shape must be at least rank 1 but is rank 0 "
                        f"(enqueue_many on queue '{self._name}')"
                    )
                first = got.as_list()[0]
                if first is not None and batch is not None and first != batch:
                    raise ValueError(f"Dimensions {batch} and {first} are not compatible")
                batch = first if first is not None else batch
                got = TensorShape(got.as_list()[1:])
            if many and got.ndims is None:
                continue
            got.assert_is_compatible_with(shape)
        return tensors

    def enqueue(self, vals, name=None):
        """Enqueues one element; the op blocks while the queue is full."""
        with name_scope(name, f"{self._name}_enqueue") as scope:
            tensors = self._components(vals, many=False)
            return apply_op(
                "QueueEnqueueV2", self._queue_ref, *tensors, queue=self, name=scope or None
            )

    def enqueue_many(self, vals, name=None):
        """Enqueues the elements sliced along dimension 0 of each component."""
        with name_scope(name, f"{self._name}_EnqueueMany") as scope:
            tensors = self._components(vals, many=True)
            return apply_op(
                "QueueEnqueueManyV2", self._queue_ref, *tensors, queue=self, name=scope or None
            )

    def _pack(self, outputs):
        outputs = list(outputs) if isinstance(outputs, list | tuple) else [outputs]
        if self._names is not None:
            return dict(zip(self._names, outputs))
        return outputs[0] if len(outputs) == 1 else outputs

    def _op_name(self, name, default):
        return None if self._eager else (name or f"{self._name}_{default}")

    def dequeue(self, name=None):
        """Dequeues one element; the op blocks while the queue is empty."""
        return self._pack(
            apply_op(
                "QueueDequeueV2", self._queue_ref, queue=self, name=self._op_name(name, "Dequeue")
            )
        )

    def _count(self, n, name):
        value = n if isinstance(n, int | np.integer) else None
        if value is not None and value < 0:
            raise ValueError(f"Input 'n' must be >= 0, but is {value} for '{name}'")
        return array_ops.convert_to_tensor(n, dtype=_dtypes.int32), value

    def dequeue_many(self, n, name=None):
        """Dequeues ``n`` elements concatenated along a new dimension 0."""
        name = self._op_name(name, "DequeueMany")
        n, value = self._count(n, name)
        return self._pack(
            apply_op("QueueDequeueManyV2", self._queue_ref, n, queue=self, _n=value, name=name)
        )

    def dequeue_up_to(self, n, name=None):
        """Like `dequeue_many`, but returns fewer than ``n`` once the queue is closed."""
        name = self._op_name(name, "DequeueUpTo")
        n, _ = self._count(n, name)
        return self._pack(apply_op("QueueDequeueUpToV2", self._queue_ref, n, queue=self, name=name))

    def close(self, cancel_pending_enqueues=False, name=None):
        """Closes the queue: later enqueues fail; dequeues drain it, then fail with
        `OutOfRangeError`. With ``cancel_pending_enqueues`` blocked enqueues are cancelled."""
        return apply_op(
            "QueueCloseV2",
            self._queue_ref,
            queue=self,
            cancel_pending_enqueues=bool(cancel_pending_enqueues),
            name=self._op_name(name, "Close"),
        )

    def is_closed(self, name=None):
        return apply_op(
            "QueueIsClosedV2", self._queue_ref, queue=self, name=self._op_name(name, "Is_Closed")
        )

    def size(self, name=None):
        """The number of elements in the queue (int32)."""
        return apply_op(
            "QueueSizeV2", self._queue_ref, queue=self, name=self._op_name(name, "Size")
        )


_DEFAULT_NAMES = {
    "FIFOQueueV2": "fifo_queue",
    "RandomShuffleQueueV2": "random_shuffle_queue",
    "PaddingFIFOQueueV2": "padding_fifo_queue",
    "PriorityQueueV2": "priority_queue",
}


class FIFOQueue(QueueBase):
    """A queue that dequeues elements in first-in first-out order.

    FIFOQueue(capacity, dtypes, shapes=None, names=None, shared_name=None,
    name="fifo_queue")
    """

    _op_type = "FIFOQueueV2"

    def __init__(
        self, capacity, dtypes, shapes=None, names=None, shared_name=None, name="fifo_queue"
    ):
        types = _as_type_list(dtypes)
        super().__init__(types, _as_shape_list(shapes, types), names, capacity=capacity, name=name)


class PaddingFIFOQueue(QueueBase):
    """A FIFOQueue whose `dequeue_many` pads each component to the largest shape in the
    batch (shapes may have unknown dimensions, given as None).

    PaddingFIFOQueue(capacity, dtypes, shapes, names=None, shared_name=None,
    name="padding_fifo_queue")
    """

    _op_type = "PaddingFIFOQueueV2"

    def __init__(
        self, capacity, dtypes, shapes, names=None, shared_name=None, name="padding_fifo_queue"
    ):
        types = _as_type_list(dtypes)
        shape_list = _as_shape_list(shapes, types, unknown_dim_allowed=True)
        if len(shape_list) != len(types):
            raise ValueError(
                "Shapes must be provided for all components, but received "
                f"{len(types)} dtypes and {len(shape_list)} shapes."
            )
        super().__init__(types, shape_list, names, capacity=capacity, name=name)


class RandomShuffleQueue(QueueBase):
    """A queue that dequeues elements in random order, keeping at least
    ``min_after_dequeue`` elements until it is closed.

    RandomShuffleQueue(capacity, min_after_dequeue, dtypes, shapes=None, names=None,
    seed=None, shared_name=None, name="random_shuffle_queue")
    """

    _op_type = "RandomShuffleQueueV2"

    def __init__(
        self,
        capacity,
        min_after_dequeue,
        dtypes,
        shapes=None,
        names=None,
        seed=None,
        shared_name=None,
        name="random_shuffle_queue",
    ):
        types = _as_type_list(dtypes)
        seed1, seed2 = get_seed(seed)  # graph-level and op seed, as TF derives them
        rng_seed = None if seed1 is None else [int(seed1) & 0xFFFFFFFF, int(seed2) & 0xFFFFFFFF]
        super().__init__(
            types,
            _as_shape_list(shapes, types),
            names,
            capacity=capacity,
            name=name,
            min_after_dequeue=int(min_after_dequeue),
            seed=rng_seed,
        )


class PriorityQueue(QueueBase):
    """A queue that dequeues the element with the smallest int64 priority first; each
    element is ``(priority, *components)``.

    PriorityQueue(capacity, types, shapes=None, names=None, shared_name=None,
    name="priority_queue")
    """

    _op_type = "PriorityQueueV2"

    def __init__(
        self, capacity, types, shapes=None, names=None, shared_name=None, name="priority_queue"
    ):
        types = _as_type_list(types)
        if shapes is None:
            raise TypeError(
                "Expected list for 'shapes' argument to 'priority_queue_v2' Op, not None."
            )
        shape_list = _as_shape_list(shapes, types)
        super().__init__(
            [_dtypes.int64] + types,
            [TensorShape([])] + shape_list,
            names,
            capacity=capacity,
            name=name,
        )
