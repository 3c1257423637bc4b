"""Serving a :class:`miniflow.ml.SparseLinearModel`: sparse feature ids in, P(click) out."""

from __future__ import annotations

import logging
import os

import numpy as np
from scipy.special import expit

from miniflow.ml.sparse_lr import FORMAT, FORMAT_VERSION, SparseLinearModel, read_model_json
from miniflow.serving import model_files
from miniflow.serving.errors import InvalidRequest, ModelLoadError
from miniflow.serving.signature import (
    CLASSIFY_METHOD,
    DEFAULT_SIGNATURE,
    REGRESS_METHOD,
    Ragged,
    SignatureDef,
    TensorSpec,
)

__all__ = ["SparseLRServable"]

log = logging.getLogger("miniflow.serving")


def _signatures() -> dict[str, SignatureDef]:
    inputs = {
        "indices": TensorSpec("indices", np.dtype(np.int64), (None, None), ragged=True),
        "values": TensorSpec("values", np.dtype(np.float32), (None, None), ragged=True),
    }
    prob = TensorSpec("probabilities", np.dtype(np.float32), (None,))
    logit = TensorSpec("logits", np.dtype(np.float32), (None,))
    return {
        DEFAULT_SIGNATURE: SignatureDef(inputs, {"probabilities": prob}),
        "predict": SignatureDef(inputs, {"probabilities": prob, "logits": logit}),
        # as a TF canned binary classifier exports them: classes "0"/"1" with their
        # probabilities, and the positive class's probability as the regression
        "classification": SignatureDef(
            inputs,
            {
                "classes": TensorSpec("classes", np.dtype(object), (None, 2)),
                "scores": TensorSpec("scores", np.dtype(np.float32), (None, 2)),
            },
            CLASSIFY_METHOD,
        ),
        "regression": SignatureDef(
            inputs,
            {"outputs": TensorSpec("outputs", np.dtype(np.float32), (None,))},
            REGRESS_METHOD,
        ),
    }


class SparseLRServable:
    """A sparse logistic-regression model behind the :class:`Servable` interface.

    Each instance is ``{"indices": [feature ids], "values": [feature values]}`` with ids
    in ``[0, 2**dims_log2)``. Signatures: ``serving_default`` returns ``probabilities``;
    ``predict`` returns ``probabilities`` and ``logits`` (the margin ``b + w.x``);
    ``classification`` (``:classify``) and ``regression`` (``:regress``) as TF's binary
    classifiers export them.

    The sorted keys and their weights come from ``weights.npz``; under ``miniflow serve``
    they are memory-mapped (:mod:`miniflow.serving.model_files`), so server workers
    share them. The model is immutable, so ``predict`` needs no lock.
    """

    def __init__(
        self,
        keys: np.ndarray,
        weights: np.ndarray,
        bias: float,
        dims_log2: int,
        mapped_files: list[str] | None = None,
    ):
        self.keys = keys
        self.weights = weights
        self.bias = float(bias)
        self.dims_log2 = int(dims_log2)
        self.signature_defs = _signatures()
        self._mapped_files = mapped_files or []

    @classmethod
    def from_model(cls, model: SparseLinearModel) -> SparseLRServable:
        """Serves an in-memory :class:`SparseLinearModel` (keys already sorted)."""
        return cls(model.keys, model.weights, model.bias, model.dims_log2)

    @classmethod
    def load(cls, path: str) -> SparseLRServable:
        """Loads ``model.json`` + ``weights.npz`` written by ``SparseLinearModel.save``.

        Raises:
            ModelLoadError: a wrong format or version, or weights that are not sorted
                unique integer keys with one finite weight each.
        """
        try:
            meta = read_model_json(path, FORMAT, FORMAT_VERSION)
        except (ValueError, AttributeError) as e:  # AttributeError: JSON that is no object
            raise ModelLoadError(
                f"{path}: model.json is not a {FORMAT!r} model description: {e}"
            ) from e
        arrays, files = model_files.load_npz(os.path.join(path, "weights.npz"))
        try:
            keys, weights = _checked(path, arrays, int(meta["dims_log2"]))
            return cls(keys, weights, float(meta["bias"]), int(meta["dims_log2"]), files)
        except BaseException:
            model_files.release(files)
            raise

    def predict(self, signature_name: str, inputs) -> dict[str, np.ndarray]:
        if signature_name not in self.signature_defs:
            raise InvalidRequest(
                f'Serving signature name: "{signature_name}" not found '
                f"in signature def; have {sorted(self.signature_defs)}"
            )
        ids, vals = inputs["indices"], inputs["values"]
        assert isinstance(ids, Ragged) and isinstance(vals, Ragged)  # the decoder's contract
        splits, idx = ids.row_splits, ids.values
        if len(idx) != len(vals.values) or (
            len(splits) > 2 and not (splits == vals.row_splits).all()
        ):
            row = int(np.argmax(splits != vals.row_splits)) - 1
            raise InvalidRequest(
                f"instance {row}: 'indices' and 'values' have different "
                "lengths; every feature id needs exactly one value"
            )
        dim = 1 << self.dims_log2
        if idx.size and idx.view(np.uint64).max() >= dim:  # negative ids wrap to huge
            k = int(np.argmax((idx < 0) | (idx >= dim)))
            row = int(np.searchsorted(splits, k, side="right")) - 1
            raise InvalidRequest(
                f"instance {row}: feature index {int(idx[k])} is out of "
                f"range [0, {dim}) (the model has 2^{self.dims_log2} features)"
            )
        logits = self._margins(idx, vals.values, splits)
        prob = expit(logits).astype(np.float32)
        return binary_outputs(prob, logits, signature_name, self.signature_defs[signature_name])

    def _margins(self, idx: np.ndarray, vals: np.ndarray, splits: np.ndarray) -> np.ndarray:
        """``b + w.x`` per row: weights found by binary search in the sorted keys."""
        n = len(splits) - 1
        if not len(self.keys) or not idx.size:
            return np.full(n, self.bias)
        pos = np.searchsorted(self.keys, idx)
        w = np.where(
            self.keys.take(pos, mode="clip") == idx,
            self.weights.take(pos, mode="clip"),
            np.float32(0),
        )
        if n == 1:  # the common request: one dot product
            return np.array([float(np.dot(w, vals)) + self.bias])
        rows = np.repeat(np.arange(n), np.diff(splits))
        return np.bincount(rows, weights=w * vals, minlength=n) + self.bias

    def close(self) -> None:
        model_files.release(self._mapped_files)
        self._mapped_files = []


def _checked(path: str, arrays: dict, dims_log2: int) -> tuple[np.ndarray, np.ndarray]:
    """The (keys, weights) pair of ``weights.npz``, checked (this reads every page once,
    so the first requests do not wait for the disk)."""
    if set(arrays) != {"keys", "values"}:
        raise ValueError(f"{path}: weights.npz holds {sorted(arrays)}, expected ['keys', 'values']")
    keys, weights = np.asarray(arrays["keys"]), np.asarray(arrays["values"])
    if keys.ndim != 1 or weights.shape != keys.shape:
        raise ValueError(
            f"{path}: keys {keys.shape} and values {weights.shape} must be 1-D of equal length"
        )
    if keys.dtype != np.int64 or weights.dtype.kind != "f":
        raise ValueError(
            f"{path}: expected int64 keys and float values, got {keys.dtype} and {weights.dtype}"
        )
    if keys.size:
        if not (keys[1:] > keys[:-1]).all():
            # not written by SparseLinearModel.save: sorted here, in this process's memory
            order = np.argsort(keys, kind="stable")
            keys, weights = keys[order], weights[order]
            if not (keys[1:] > keys[:-1]).all():
                raise ValueError(f"{path}: a feature id appears twice in keys")
            log.warning("%s: keys are not sorted; sorted in memory (not shared)", path)
        if keys[0] < 0 or keys[-1] >= 1 << dims_log2:
            raise ValueError(f"{path}: keys outside [0, 2^{dims_log2})")
        if not np.isfinite(weights).all():
            raise ValueError(f"{path}: weights hold NaN or infinity")
    return keys, weights


def binary_outputs(prob, logits, signature_name: str, signature_def) -> dict:
    """A binary model's outputs for one signature: classes and scores (classify), the
    probability (regress), or probabilities and, where declared, logits (predict)."""
    if signature_name == "classification":
        classes = np.empty((len(prob), 2), object)
        classes[:] = (b"0", b"1")
        return {"classes": classes, "scores": np.stack([1 - prob, prob], axis=1)}
    if signature_name == "regression":
        return {"outputs": prob}
    out = {"probabilities": prob}
    if "logits" in signature_def.outputs:
        out["logits"] = logits.astype(np.float32)
    return out
