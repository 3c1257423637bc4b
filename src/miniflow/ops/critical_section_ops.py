"""`tf.CriticalSection`: runs a function's ops under a lock, so that steps running in
several threads never interleave them (eager: the call holds the lock)."""

from __future__ import annotations

import threading

from miniflow import dtypes
from miniflow.core.dispatch import apply_op, current_frontend
from miniflow.core.nest import flatten, pack
from miniflow.core.registry import not_differentiable, register_op
from miniflow.graph.graph import get_default_graph
from miniflow.ops import array_ops, control_flow_ops


class _Mutex:
    """The lock of one critical section in one session. Re-entrant for the thread that
    holds it, so a step that failed inside the section (and so never released it) does
    not deadlock the next step of the same thread."""

    def __init__(self):
        self._lock = threading.Lock()
        self._owner = None

    def acquire(self):
        me = threading.get_ident()
        if self._owner != me:
            self._lock.acquire()
            self._owner = me
        return True

    def release(self):
        if self._owner == threading.get_ident():
            self._owner = None
            self._lock.release()


_STATE = dict(
    stateful=True,
    make_state=lambda attrs: _Mutex(),
    state_key=lambda attrs: attrs["section"],
    exportable=False,
)


@register_op("CriticalSectionAcquire", infer=lambda i, a: [((), dtypes.bool)], **_STATE)
def _acquire(mutex, section=None):
    return mutex.acquire()


def _release_infer(inputs, attrs):
    return [(t.shape.as_tuple(), t.dtype) for t in inputs]


@register_op(
    "CriticalSectionRelease", infer=_release_infer, num_outputs=lambda attrs: attrs["n"], **_STATE
)
def _release(mutex, *values, section=None, n=0):
    mutex.release()
    return tuple(values)


not_differentiable("CriticalSectionAcquire", "CriticalSectionRelease")


class CriticalSection:
    """CriticalSection(name=None, shared_name=None): ``execute(fn)`` runs fn's ops while
    holding this section's lock."""

    def __init__(self, name=None, shared_name=None, critical_section_def=None, import_scope=None):
        if critical_section_def is not None:
            raise ValueError(
                "critical_section_def is not supported: miniflow does not "
                "serialize critical sections"
            )
        self._name = name or "CriticalSection"
        self._shared_name = shared_name
        self._eager_lock = threading.RLock()

    @property
    def name(self):
        return self._name

    def execute(self, fn, exclusive_resource_access=True, name=None):
        """The (nested) tensors ``fn()`` returns, computed inside the section."""
        del exclusive_resource_access  # miniflow keeps no per-resource section registry
        if current_frontend().eager:
            with self._eager_lock:
                return fn()
        graph = get_default_graph()
        with control_flow_ops.name_scope(name, "critical_section_execute"):
            lock = apply_op("CriticalSectionAcquire", section=self, name="Acquire")
            lock = lock.op if hasattr(lock, "op") else lock
            before = len(graph.get_operations())
            with control_flow_ops.control_dependencies([lock]):
                out = fn()
            inside = graph.get_operations()[before:]
            leaves = [
                array_ops.convert_to_tensor(t)
                if t is not None and not hasattr(t, "control_inputs")
                else t
                for t in flatten(out)
            ]
            tensors = [t for t in leaves if t is not None and not hasattr(t, "control_inputs")]
            with control_flow_ops.control_dependencies(inside + [lock]):
                released = apply_op(
                    "CriticalSectionRelease", *tensors, section=self, n=len(tensors), name="Release"
                )
            released = list(released) if isinstance(released, tuple) else [released]
            if not tensors:  # fn returned ops only: the release op stands for them
                return control_flow_ops.group(
                    *[t for t in leaves if t is not None], *(r.op for r in released[:1])
                )
            it = iter(released)
            return pack(
                out,
                iter(
                    [
                        next(it) if t is not None and not hasattr(t, "control_inputs") else t
                        for t in leaves
                    ]
                ),
            )
