"""`tf.manip`: TF1's older home of some array functions (the same as the top-level ones).

Imported at the end of ``miniflow/__init__.py``, when the top-level names exist.
"""

from miniflow import (
    batch_to_space_nd as batch_to_space_nd,  # noqa: F401
    gather_nd as gather_nd,  # noqa: F401
    reshape as reshape,  # noqa: F401
    reverse as reverse,  # noqa: F401
    roll as roll,  # noqa: F401
    scatter_nd as scatter_nd,  # noqa: F401
    space_to_batch_nd as space_to_batch_nd,  # noqa: F401
    tile as tile,  # noqa: F401
)
