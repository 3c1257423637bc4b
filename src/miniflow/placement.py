"""TF1's placement scopes, ``tf.device``, ``tf.colocate_with`` and ``tf.container``.

miniflow has one device, the CPU, so every op runs there whatever the scope says, as TF
does with soft placement when the requested device is missing. The scopes are accepted
and ignored (``op.device`` stays ``""``).
"""

from __future__ import annotations

import contextlib


def device(device_name_or_function):
    """A scope for ops placed on a device (a name like ``"/cpu:0"``, or a function of the
    op): accepted, and ignored, since every op runs on the CPU."""
    if not (
        device_name_or_function is None
        or callable(device_name_or_function)
        or isinstance(device_name_or_function, str)
    ):
        raise TypeError(
            "tf.device expects a device name (a string), a function or None, "
            f"got {device_name_or_function!r}"
        )
    return contextlib.nullcontext()


def colocate_with(op, ignore_existing=False):
    """A scope for ops placed with ``op``: accepted, and ignored (one device)."""
    return contextlib.nullcontext()


def container(container_name):
    """A scope for stateful ops' resource container: accepted, and ignored (each session
    holds its own state); yields ``container_name``."""
    return contextlib.nullcontext(container_name)
