"""`tf.saved_model.signature_def_utils`."""

from miniflow.saved_model.impl import predict_signature_def as predict_signature_def
