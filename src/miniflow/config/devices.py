"""The device model behind ``tf.config``: one CPU, and TF's runtime switches as state.

miniflow runs every op on the CPU with NumPy, so the device lists hold exactly one CPU
(named as TF names it), GPU queries answer empty lists, and the switches that tune TF's
runtime (soft placement, thread pools, grappler options, device policy) are remembered
and reported back but change nothing.
"""

from __future__ import annotations

from typing import NamedTuple

from miniflow.core import blas_threads


class PhysicalDevice(NamedTuple):
    """A device the process can see (``tf.config.list_physical_devices``)."""

    name: str
    device_type: str


class LogicalDevice(NamedTuple):
    """A device ops can be placed on (``tf.config.list_logical_devices``)."""

    name: str
    device_type: str


class LogicalDeviceConfiguration(NamedTuple):
    """How to split a physical device into logical ones (accepted, never applied)."""

    memory_limit: int | None = None
    experimental_priority: int | None = None
    experimental_device_ordinal: int | None = None


CPU = PhysicalDevice("/physical_device:CPU:0", "CPU")
LOGICAL_CPU = LogicalDevice("/device:CPU:0", "CPU")
DEVICE_POLICIES = (None, "silent", "silent_for_int32", "warn", "explicit")

_state = {
    "soft_device_placement": True,
    "functions_run_eagerly": False,
    "inter_op_threads": 0,
    "intra_op_threads": 0,
    "device_policy": "silent",
    "synchronous_execution": True,
    "optimizer_options": {"disable_model_pruning": False, "disable_meta_optimizer": False},
}


def list_physical_devices(device_type=None):
    """``[PhysicalDevice('/physical_device:CPU:0', 'CPU')]`` for None or ``"CPU"``."""
    return [CPU] if device_type in (None, "CPU") else []


def list_logical_devices(device_type=None):
    return [LOGICAL_CPU] if device_type in (None, "CPU") else []


def get_visible_devices(device_type=None):
    return list_physical_devices(device_type)


def set_visible_devices(devices, device_type=None):
    """Accepts the CPU (a no-op); any other device is unknown, and the CPU cannot be
    hidden because miniflow has nothing else to run on."""
    devices = [devices] if isinstance(devices, PhysicalDevice) else list(devices)
    for d in devices:
        if d != CPU:
            raise ValueError(f"Unrecognized device: {d!r}")
    if device_type in (None, "CPU") and CPU not in devices:
        raise ValueError("miniflow runs every op on the CPU: it cannot be hidden")


def get_logical_device_configuration(device):
    """None: no physical device is split into logical ones."""
    if device != CPU:
        raise ValueError(f"Unrecognized device: {device!r}")
    return None


def get_soft_device_placement():
    return _state["soft_device_placement"]


def set_soft_device_placement(enabled):
    _state["soft_device_placement"] = bool(enabled)


def functions_run_eagerly():
    return _state["functions_run_eagerly"]


def run_functions_eagerly(run_eagerly):
    _state["functions_run_eagerly"] = bool(run_eagerly)


def get_inter_op_parallelism_threads():
    return _state["inter_op_threads"]


def set_inter_op_parallelism_threads(num_threads):
    _state["inter_op_threads"] = int(num_threads)


def get_intra_op_parallelism_threads():
    return _state["intra_op_threads"]


def set_intra_op_parallelism_threads(num_threads):
    """Sets NumPy's BLAS thread count now (0: the default, see `core.blas_threads`)."""
    blas_threads.set_threads(num_threads)
    _state["intra_op_threads"] = int(num_threads)


def get_jit():
    """``""``: the XLA JIT is off (it does not exist in miniflow)."""
    return ""


def get_experimental_options():
    return dict(_state["optimizer_options"])


def set_experimental_options(options):
    _state["optimizer_options"].update(options)


def get_device_details(device):
    """``{}`` for the CPU, as in TF."""
    if device != CPU:
        raise ValueError(f"Unrecognized device: {device!r}")
    return {}


def get_device_policy():
    return _state["device_policy"] or "silent"


def set_device_policy(device_policy):
    if device_policy not in DEVICE_POLICIES:
        raise ValueError(
            f"Invalid argument `device_policy`: {device_policy!r}. Valid: "
            f"{', '.join(map(repr, DEVICE_POLICIES))}."
        )
    _state["device_policy"] = device_policy


def get_synchronous_execution():
    return _state["synchronous_execution"]


def set_synchronous_execution(enable):
    _state["synchronous_execution"] = bool(enable)


def tensor_float_32_execution_enabled():
    """False: TensorFloat-32 is a GPU feature; miniflow computes in full float32."""
    return False


def _no_allocator_stats(device):
    raise ValueError(f"Allocator stats not available for device {device!r}")


def get_memory_info(device):
    """Like TF on the CPU: no allocator statistics (ValueError)."""
    _no_allocator_stats(device)


def get_memory_usage(device):
    _no_allocator_stats(device)


def reset_memory_stats(device):
    _no_allocator_stats(device)
