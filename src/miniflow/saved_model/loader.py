"""`tf.saved_model.loader`."""

from miniflow.saved_model.impl import (
    load as load,
    maybe_saved_model_directory as maybe_saved_model_directory,
)
