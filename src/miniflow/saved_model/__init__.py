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
from miniflow.train.meta_graph import (
    MetaGraphDef as MetaGraphDef,
    SignatureDef as SignatureDef,
    TensorInfo as TensorInfo,
)

Builder = SavedModelBuilder
contains_saved_model = maybe_saved_model_directory

# -- issue 13: TF's constants under their tf.saved_model names
# -- issue 13: main ops, TF's file-name constants, tensor lookup by signature entry
from miniflow.saved_model import (  # noqa: E402
    constants as constants,
    main_op as main_op,
)
from miniflow.saved_model.constants import (  # noqa: E402,E402
    ASSETS_DIRECTORY as ASSETS_DIRECTORY,
    ASSETS_KEY as ASSETS_KEY,
    DEBUG_DIRECTORY as DEBUG_DIRECTORY,
    DEBUG_INFO_FILENAME_PB as DEBUG_INFO_FILENAME_PB,
    LEGACY_INIT_OP_KEY as LEGACY_INIT_OP_KEY,
    MAIN_OP_KEY as MAIN_OP_KEY,
    SAVED_MODEL_FILENAME_PB as SAVED_MODEL_FILENAME_PB,
    SAVED_MODEL_FILENAME_PBTXT as SAVED_MODEL_FILENAME_PBTXT,
    SAVED_MODEL_SCHEMA_VERSION as SAVED_MODEL_SCHEMA_VERSION,
    VARIABLES_DIRECTORY as VARIABLES_DIRECTORY,
    VARIABLES_FILENAME as VARIABLES_FILENAME,
)
from miniflow.saved_model.main_op import main_op_with_restore as main_op_with_restore  # noqa: E402
from miniflow.saved_model.signature_constants import (  # noqa: E402
    CLASSIFY_INPUTS as CLASSIFY_INPUTS,
    CLASSIFY_OUTPUT_CLASSES as CLASSIFY_OUTPUT_CLASSES,
    CLASSIFY_OUTPUT_SCORES as CLASSIFY_OUTPUT_SCORES,
    PREDICT_INPUTS as PREDICT_INPUTS,
    PREDICT_OUTPUTS as PREDICT_OUTPUTS,
    REGRESS_INPUTS as REGRESS_INPUTS,
    REGRESS_OUTPUTS as REGRESS_OUTPUTS,
)
from miniflow.saved_model.signatures import (  # noqa: E402
    classification_signature_def as classification_signature_def,
    is_valid_signature as is_valid_signature,
    regression_signature_def as regression_signature_def,
)
from miniflow.saved_model.tag_constants import (  # noqa: E402
    GPU as GPU,
    TPU as TPU,
)
from miniflow.saved_model.utils import (  # noqa: E402
    get_tensor_from_tensor_info as get_tensor_from_tensor_info,
)
