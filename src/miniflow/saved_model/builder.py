"""`tf.saved_model.builder`."""

from miniflow.saved_model.impl import SavedModelBuilder as SavedModelBuilder
