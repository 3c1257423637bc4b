"""`tf.random.experimental`: the Generator API and the seed helpers under their TF2.x
experimental names."""

from miniflow.ops.random_generator_ops import (
    Algorithm as Algorithm,
    Generator as Generator,
    create_rng_state as create_rng_state,
    get_global_generator as get_global_generator,
    set_global_generator as set_global_generator,
)
from miniflow.ops.stateless_random_ops import fold_in as stateless_fold_in, split as stateless_split

__all__ = [
    "Algorithm",
    "Generator",
    "create_rng_state",
    "get_global_generator",
    "set_global_generator",
    "stateless_fold_in",
    "stateless_split",
]
