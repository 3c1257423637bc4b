"""The servable interface and the loader that picks an implementation for a directory.

A *servable* is one loaded model version. The server, the micro-batcher and
``miniflow predict`` only use this interface, so a new kind of model is one class with
``load``, ``signature_defs``, ``predict`` and ``close``, plus one row in ``_KINDS``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Protocol

import numpy as np

from miniflow.serving.errors import ModelLoadError
from miniflow.serving.signature import Ragged, SignatureDef

__all__ = ["Servable", "Inputs", "load_servable", "servable_kind"]

Inputs = Mapping[str, "np.ndarray | Ragged"]


class Servable(Protocol):
    """One loaded model version.

    ``predict`` must be safe to call from several threads at once, and must run the
    same prepared computation for every call (no per-request graph building).
    """

    signature_defs: Mapping[str, SignatureDef]

    def predict(self, signature_name: str, inputs: Inputs) -> dict[str, np.ndarray]:
        """Runs signature ``signature_name`` on a batch of checked inputs (batch dim
        first; ragged inputs as :class:`Ragged`) and returns its outputs by name, each
        with the same number of rows.

        Raises:
            InvalidRequest: values the model cannot take (e.g. an index out of range).
        """
        ...

    def close(self) -> None:
        """Releases the model's resources; called once no request uses it any more."""
        ...


def _is_sparse_lr(path: str) -> bool:
    return os.path.isfile(os.path.join(path, "model.json"))


def _is_sparse_fm(path: str) -> bool:
    from miniflow.ml.fm_model import is_fm_model

    return is_fm_model(path)


def _load_sparse_fm(path: str) -> Servable:
    from miniflow.serving.sparse_fm import SparseFMServable

    return SparseFMServable.load(path)


def _is_saved_model(path: str) -> bool:
    return any(name.startswith("saved_model.") for name in os.listdir(path))


def _load_sparse_lr(path: str) -> Servable:
    from miniflow.serving.sparse_lr import SparseLRServable

    return SparseLRServable.load(path)


def _is_sharded_lr(path: str) -> bool:
    from miniflow.ps.export import is_sharded_model

    return is_sharded_model(path)


def _load_sharded_lr(path: str) -> Servable:
    from miniflow.ps.export import sharded_servable

    return sharded_servable(path)  # the parts stay memory-mapped


def _load_saved_model(path: str) -> Servable:
    from miniflow.serving.saved_model import SavedModelServable

    return SavedModelServable.load(path)


# (kind, detector, loader), tried in order.
_KINDS: list[tuple[str, Callable[[str], bool], Callable[[str], Servable]]] = [
    ("sparse_fm", _is_sparse_fm, _load_sparse_fm),  # before sparse_lr: both have model.json
    ("sparse_lr_sharded", _is_sharded_lr, _load_sharded_lr),  # a miniflow.ps export
    ("sparse_lr", _is_sparse_lr, _load_sparse_lr),
    ("saved_model", _is_saved_model, _load_saved_model),
]


def servable_kind(path: str | os.PathLike) -> str | None:
    """``sparse_fm``, ``sparse_lr``, ``saved_model`` or None for a directory holding none."""
    path = os.fspath(path)
    if not os.path.isdir(path):
        return None
    for kind, detect, _ in _KINDS:
        if detect(path):
            return kind
    return None


def load_servable(path: str | os.PathLike) -> Servable:
    """Loads the model in version directory ``path``.

    A miniflow.ml sparse LR or FM/FFM model (``model.json`` + ``weights.npz``) or a graph model
    exported with ``tf.saved_model.simple_save`` (``saved_model.*``): miniflow's
    ``saved_model.json`` or TensorFlow's ``saved_model.pb``/``.pbtxt`` layout.

    Raises:
        ModelLoadError: the directory holds no model, or loading it failed (the
            message says why).
    """
    path = os.fspath(path)
    kind = servable_kind(path)
    if kind is None:
        raise ModelLoadError(
            f"{path}: no model found; expected model.json (a miniflow.ml "
            "sparse LR model) or saved_model.pb/.pbtxt/.json (a SavedModel of TensorFlow "
            "or miniflow)"
        )
    loader = next(load for k, _, load in _KINDS if k == kind)
    try:
        return loader(path)
    except ModelLoadError:
        raise
    except Exception as e:  # any failure to load is reported, never fatal to the server
        raise ModelLoadError(f"{path}: failed to load {kind} model: {type(e).__name__}: {e}") from e
