"""`tf.saved_model.constants` (values are TF's). miniflow writes its own
``saved_model.json`` by default and TF's ``saved_model.pb`` with ``format="tf"``
(``impl.py``, ``tf_builder.py``); the loader reads all three file names."""

from miniflow.saved_model.impl import (  # noqa: F401
    LEGACY_INIT_OP_KEY as LEGACY_INIT_OP_KEY,  # noqa: F401
    MAIN_OP_KEY as MAIN_OP_KEY,  # noqa: F401
    SAVED_MODEL_VERSION as SAVED_MODEL_SCHEMA_VERSION,
    VARIABLES_DIRECTORY as VARIABLES_DIRECTORY,  # noqa: F401
    VARIABLES_FILENAME as VARIABLES_FILENAME,  # noqa: F401
)

ASSETS_DIRECTORY = "assets"
ASSETS_KEY = "saved_model_assets"
DEBUG_DIRECTORY = "debug"

# TF's file names (tf_proto.py reads and writes the first two); miniflow writes no debug
# info (see docs/tf_files.md).
SAVED_MODEL_FILENAME_PB = "saved_model.pb"
SAVED_MODEL_FILENAME_PBTXT = "saved_model.pbtxt"
DEBUG_INFO_FILENAME_PB = "saved_model_debug_info.pb"
