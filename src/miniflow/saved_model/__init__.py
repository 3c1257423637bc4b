"""`tf.saved_model`: export a trained graph with its variables and signatures, and load
it back (e.g. in a model server) without the code that built it.

Serving uses `load_signature_runner(export_dir)`, which returns a `SignatureRunner`
whose ``run({key: array})`` reuses one compiled session plan.
"""

from miniflow.saved_model import (
    builder as builder,
    loader as loader,
    signature_constants as signature_constants,
    signature_def_utils as signature_def_utils,
    tag_constants as tag_constants,
    utils as utils,
)
from miniflow.saved_model.impl import (
    CLASSIFY_METHOD_NAME as CLASSIFY_METHOD_NAME,
    DEFAULT_SERVING_SIGNATURE_DEF_KEY as DEFAULT_SERVING_SIGNATURE_DEF_KEY,
    PREDICT_METHOD_NAME as PREDICT_METHOD_NAME,
    REGRESS_METHOD_NAME as REGRESS_METHOD_NAME,
    SERVING as SERVING,
    TRAINING as TRAINING,
    SavedModelBuilder as SavedModelBuilder,
    SignatureRunner as SignatureRunner,
    build_signature_def as build_signature_def,
    build_tensor_info as build_tensor_info,
    load as load,
    load_signature_runner as load_signature_runner,
    maybe_saved_model_directory as maybe_saved_model_directory,
    predict_signature_def as predict_signature_def,
    read_saved_model as read_saved_model,
    simple_save as simple_save,
)
from miniflow.train.meta_graph import MetaGraphDef as MetaGraphDef
from miniflow.train.meta_graph import SignatureDef as SignatureDef
from miniflow.train.meta_graph import TensorInfo as TensorInfo

Builder = SavedModelBuilder
contains_saved_model = maybe_saved_model_directory
