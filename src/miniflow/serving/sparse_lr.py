"""Serving a :class:`miniflow.ml.SparseLinearModel`: sparse feature ids in, P(click) out."""

from __future__ import annotations

import numpy as np

from miniflow.ml.data import Batch
from miniflow.ml.linear_model import sigmoid
from miniflow.ml.sparse_lr import SparseLinearModel, load_model
from miniflow.serving.errors import InvalidRequest
from miniflow.serving.signature import (
    CLASSIFY_METHOD,
    DEFAULT_SIGNATURE,
    REGRESS_METHOD,
    Ragged,
    SignatureDef,
    TensorSpec,
)

__all__ = ["SparseLRServable"]


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
    The model is immutable, so ``predict`` needs no lock.
    """

    def __init__(self, model: SparseLinearModel):
        self.model = model
        self.signature_defs = _signatures()

    @property
    def dims_log2(self) -> int:
        """Feature ids lie in ``[0, 2**dims_log2)``."""
        return self.model.dims_log2

    @classmethod
    def load(cls, path: str) -> SparseLRServable:
        return cls(load_model(path))

    def predict(self, signature_name: str, inputs) -> dict[str, np.ndarray]:
        if signature_name not in self.signature_defs:
            raise InvalidRequest(
                f'Serving signature name: "{signature_name}" not found '
                f"in signature def; have {sorted(self.signature_defs)}"
            )
        ids, vals = inputs["indices"], inputs["values"]
        assert isinstance(ids, Ragged) and isinstance(vals, Ragged)  # the decoder's contract
        if not np.array_equal(ids.row_splits, vals.row_splits):
            row = int(np.argmax(ids.row_splits != vals.row_splits)) - 1
            raise InvalidRequest(
                f"instance {row}: 'indices' and 'values' have different "
                "lengths; every feature id needs exactly one value"
            )
        dim = 1 << self.model.dims_log2
        bad = (ids.values < 0) | (ids.values >= dim)
        if bad.any():
            k = int(np.argmax(bad))
            row = int(np.searchsorted(ids.row_splits, k, side="right")) - 1
            raise InvalidRequest(
                f"instance {row}: feature index {int(ids.values[k])} is out of "
                f"range [0, {dim}) (the model has 2^{self.model.dims_log2} "
                "features)"
            )
        batch = Batch(
            ids.row_splits.astype(np.int64),
            ids.values.astype(np.int64),
            vals.values.astype(np.float32),
            np.zeros(len(ids), np.float32),
        )
        logits = self.model.decision_function(batch)
        prob = sigmoid(logits).astype(np.float32)
        if signature_name == "classification":
            classes = np.empty((len(prob), 2), object)
            classes[:] = (b"0", b"1")
            return {"classes": classes, "scores": np.stack([1 - prob, prob], axis=1)}
        if signature_name == "regression":
            return {"outputs": prob}
        out = {"probabilities": prob}
        if "logits" in self.signature_defs[signature_name].outputs:
            out["logits"] = logits.astype(np.float32)
        return out

    def close(self) -> None:
        pass
