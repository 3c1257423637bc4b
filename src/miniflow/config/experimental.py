"""`tf.config.experimental`: device queries (one CPU) and runtime switches."""

from miniflow.config.devices import (  # noqa: F401
    get_device_details as get_device_details,
    get_device_policy as get_device_policy,
    get_memory_info as get_memory_info,
    get_memory_usage as get_memory_usage,
    get_synchronous_execution as get_synchronous_execution,
    get_visible_devices as get_visible_devices,
    list_logical_devices as list_logical_devices,
    list_physical_devices as list_physical_devices,
    reset_memory_stats as reset_memory_stats,
    set_device_policy as set_device_policy,
    set_synchronous_execution as set_synchronous_execution,
    set_visible_devices as set_visible_devices,
    tensor_float_32_execution_enabled as tensor_float_32_execution_enabled,
)
