"""`tf.config`: the devices (one CPU) and TF's runtime switches."""

from miniflow.config import (
    experimental as experimental,  # noqa: F401
    optimizer as optimizer,  # noqa: F401
    threading as threading,  # noqa: F401
)
from miniflow.config.devices import (  # noqa: F401
    LogicalDevice as LogicalDevice,
    LogicalDeviceConfiguration as LogicalDeviceConfiguration,
    PhysicalDevice as PhysicalDevice,
    functions_run_eagerly as experimental_functions_run_eagerly,
    functions_run_eagerly as functions_run_eagerly,
    get_logical_device_configuration as get_logical_device_configuration,
    get_soft_device_placement as get_soft_device_placement,
    get_visible_devices as get_visible_devices,
    list_logical_devices as list_logical_devices,
    list_physical_devices as list_physical_devices,
    run_functions_eagerly as experimental_run_functions_eagerly,
    run_functions_eagerly as run_functions_eagerly,
    set_soft_device_placement as set_soft_device_placement,
    set_visible_devices as set_visible_devices,
)
