"""miniflow.serving: models behind TensorFlow Serving's REST API, and batch prediction.

* :class:`Servable` (the interface), :func:`load_servable`, :class:`SparseLRServable`,
  :class:`SavedModelServable`; signatures in :mod:`miniflow.serving.signature`.
* :class:`ModelServer` (``miniflow serve``) over :class:`ModelManager` (versions, hot
  switching) with optional micro-batching and Prometheus metrics.
* :func:`predict_files` (``miniflow predict``).

Imports only the public ``miniflow`` namespace and ``miniflow.ml``. See docs/serving.md.
"""

from miniflow.serving.batch_predict import BadRowError, predict_files, resolve_model_dir
from miniflow.serving.config import load_model_config
from miniflow.serving.errors import InvalidRequest, ModelLoadError, ServableNotFound, ServingError
from miniflow.serving.manager import BatchingOptions, ModelConfig, ModelManager, VersionPolicy
from miniflow.serving.saved_model import SavedModelServable
from miniflow.serving.servable import Servable, load_servable
from miniflow.serving.server import ModelServer
from miniflow.serving.signature import Ragged, SignatureDef, TensorSpec
from miniflow.serving.sparse_lr import SparseLRServable

__all__ = [
    "Servable",
    "load_servable",
    "SparseLRServable",
    "SavedModelServable",
    "SignatureDef",
    "TensorSpec",
    "Ragged",
    "ModelServer",
    "ModelManager",
    "ModelConfig",
    "VersionPolicy",
    "BatchingOptions",
    "load_model_config",
    "predict_files",
    "resolve_model_dir",
    "BadRowError",
    "ServingError",
    "InvalidRequest",
    "ServableNotFound",
    "ModelLoadError",
]
