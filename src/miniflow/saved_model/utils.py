"""`tf.saved_model.utils`."""

from miniflow.saved_model.impl import build_tensor_info as build_tensor_info
