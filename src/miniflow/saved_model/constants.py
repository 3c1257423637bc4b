"""`tf.saved_model.constants` (values are TF's). miniflow's SavedModel is
``saved_model.json`` (see ``impl.py``), so TF's ``SAVED_MODEL_FILENAME_PB`` has no
counterpart here."""

from miniflow.saved_model.impl import LEGACY_INIT_OP_KEY as LEGACY_INIT_OP_KEY  # noqa: F401
from miniflow.saved_model.impl import MAIN_OP_KEY as MAIN_OP_KEY  # noqa: F401
from miniflow.saved_model.impl import (  # noqa: F401
    SAVED_MODEL_VERSION as SAVED_MODEL_SCHEMA_VERSION,
)
from miniflow.saved_model.impl import VARIABLES_DIRECTORY as VARIABLES_DIRECTORY  # noqa: F401
from miniflow.saved_model.impl import VARIABLES_FILENAME as VARIABLES_FILENAME  # noqa: F401

ASSETS_DIRECTORY = "assets"
ASSETS_KEY = "saved_model_assets"
DEBUG_DIRECTORY = "debug"

# TF's file names, for programs that build paths with them; miniflow itself writes
# ``saved_model.json`` and no debug info (see docs/persistence.md).
SAVED_MODEL_FILENAME_PB = "saved_model.pb"
SAVED_MODEL_FILENAME_PBTXT = "saved_model.pbtxt"
DEBUG_INFO_FILENAME_PB = "saved_model_debug_info.pb"
