"""`tf.saved_model.signature_def_utils`."""

from miniflow.saved_model.impl import (
    build_signature_def as build_signature_def,
    predict_signature_def as predict_signature_def,
)
from miniflow.saved_model.method_name_updater import (
    MethodNameUpdater as MethodNameUpdater,
)

# -- issue 13: TF Serving's classify and regress signatures
from miniflow.saved_model.signatures import (
    classification_signature_def as classification_signature_def,
    is_valid_signature as is_valid_signature,
    regression_signature_def as regression_signature_def,
)
