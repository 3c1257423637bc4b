"""`tf.saved_model.signature_def_utils`."""

from miniflow.saved_model.impl import build_signature_def as build_signature_def
from miniflow.saved_model.impl import predict_signature_def as predict_signature_def
