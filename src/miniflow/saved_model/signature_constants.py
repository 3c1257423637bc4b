"""`tf.saved_model.signature_constants`."""

from miniflow.saved_model.impl import CLASSIFY_METHOD_NAME as CLASSIFY_METHOD_NAME
from miniflow.saved_model.impl import (
    DEFAULT_SERVING_SIGNATURE_DEF_KEY as DEFAULT_SERVING_SIGNATURE_DEF_KEY,
)
from miniflow.saved_model.impl import PREDICT_INPUTS as PREDICT_INPUTS
from miniflow.saved_model.impl import PREDICT_METHOD_NAME as PREDICT_METHOD_NAME
from miniflow.saved_model.impl import PREDICT_OUTPUTS as PREDICT_OUTPUTS
from miniflow.saved_model.impl import REGRESS_METHOD_NAME as REGRESS_METHOD_NAME

# TF's names for the classify and regress signatures' tensors (issue 13)
CLASSIFY_INPUTS = "inputs"
CLASSIFY_OUTPUT_CLASSES = "classes"
CLASSIFY_OUTPUT_SCORES = "scores"
REGRESS_INPUTS = "inputs"
REGRESS_OUTPUTS = "outputs"
