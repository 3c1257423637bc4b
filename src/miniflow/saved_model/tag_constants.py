"""`tf.saved_model.tag_constants`."""

from miniflow.saved_model.impl import SERVING as SERVING
from miniflow.saved_model.impl import TRAINING as TRAINING
