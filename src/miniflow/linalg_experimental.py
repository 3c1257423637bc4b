"""`tf.linalg.experimental`: the conjugate-gradient solver."""

from miniflow.ops.conjugate_gradient import conjugate_gradient as conjugate_gradient
