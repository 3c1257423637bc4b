"""`tf.config.optimizer`: graph-optimizer options (remembered; miniflow has no grappler)."""

from miniflow.config.devices import (  # noqa: F401
    get_experimental_options as get_experimental_options,
    get_jit as get_jit,
    set_experimental_options as set_experimental_options,
)
