"""`tf.config.threading`: thread-pool sizes (remembered; NumPy decides its own threads)."""

from miniflow.config.devices import (  # noqa: F401
    get_inter_op_parallelism_threads as get_inter_op_parallelism_threads,
    get_intra_op_parallelism_threads as get_intra_op_parallelism_threads,
    set_inter_op_parallelism_threads as set_inter_op_parallelism_threads,
    set_intra_op_parallelism_threads as set_intra_op_parallelism_threads,
)
