"""`tf.saved_model.tag_constants`."""

from miniflow.saved_model.impl import SERVING as SERVING, TRAINING as TRAINING

GPU = "gpu"  # TF's tags for graphs meant for a GPU or a TPU (issue 13)
TPU = "tpu"
