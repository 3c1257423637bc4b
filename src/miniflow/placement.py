"""TF1's placement scopes, ``tf.device``, ``tf.colocate_with`` and ``tf.container``.

In graph mode the scopes set ``op.device`` as TF does (nested strings merge, the inner
one winning field by field; functions such as ``tf.train.replica_device_setter`` are
called with the op). In one process every op still runs on the CPU; a session whose
target is a ``tf.train.Server`` runs the state of ``/job:ps`` variables on the ps tasks.
In eager mode the scopes are accepted and ignored.
"""

from __future__ import annotations

import contextlib

from miniflow.core.dispatch import current_frontend
from miniflow.graph.graph import get_default_graph
from miniflow.ops.device_spec import DeviceSpec


def merge_device(spec: str):
    """The device function of a device string: fields the op already has (from inner
    scopes) win, the others come from ``spec``."""
    parsed = DeviceSpec.from_string(spec)

    def place(op):
        return parsed.make_merged_spec(DeviceSpec.from_string(op.device)).to_string()

    return place


def device(device_name_or_function):
    """A scope for ops placed on a device (a name like ``"/job:ps/task:0"``, or a
    function of the op returning one, or None to ignore the enclosing scopes).

    Raises:
        TypeError: not a string, function or None.
        ValueError: the string is not a device name.
    """
    if not (
        device_name_or_function is None
        or callable(device_name_or_function)
        or isinstance(device_name_or_function, str)
    ):
        raise TypeError(
            "tf.device expects a device name (a string), a function or None, "
            f"got {device_name_or_function!r}"
        )
    fn = device_name_or_function
    if isinstance(fn, str):
        fn = merge_device(fn)  # parses now: a bad name fails at the scope
    if current_frontend().eager:
        return contextlib.nullcontext()
    return get_default_graph().device(fn)


def colocate_with(op, ignore_existing=False):
    """A scope for ops placed on ``op``'s device (graph mode; ignored when eager)."""
    if current_frontend().eager or op is None:
        return contextlib.nullcontext()
    return get_default_graph().colocate_with(op, ignore_existing)


def container(container_name):
    """A scope for stateful ops' resource container: accepted, and ignored (each session
    holds its own state); yields ``container_name``."""
    return contextlib.nullcontext(container_name)
