"""Serving a :class:`miniflow.ml.fm_model.FMModel` (FM or FFM): sparse ids in, P(click) out.

The request format and signatures are sparse LR's (:mod:`miniflow.serving.sparse_lr`):
``{"indices": [...], "values": [...]}`` per instance; ``serving_default``
(probabilities), ``predict`` (+ logits), ``classification`` and ``regression``. An
FFM's ids carry their field in the top bits (``field << (dims_log2 - field_bits) |
index``), as the libffm reader writes them; an id whose field the model does not have
is a 400, like an id out of range.
"""

from __future__ import annotations

import numpy as np

from miniflow.ml.batch import Batch
from miniflow.ml.fm_model import FMModel, load_fm_model
from miniflow.ml.linear_model import sigmoid
from miniflow.serving.errors import InvalidRequest, ModelLoadError
from miniflow.serving.signature import Ragged
from miniflow.serving.sparse_lr import _signatures, binary_outputs

__all__ = ["SparseFMServable"]


class SparseFMServable:
    """An FM/FFM behind the :class:`Servable` interface (immutable: no lock needed)."""

    def __init__(self, model: FMModel):
        self.model = model
        self.signature_defs = _signatures()

    @property
    def dims_log2(self) -> int:
        """Feature ids lie in ``[0, 2**dims_log2)`` (``miniflow predict`` reduces libsvm ids)."""
        return self.model.dims_log2

    @classmethod
    def load(cls, path: str) -> SparseFMServable:
        """Loads a model saved by :meth:`FMModel.save`.

        Raises:
            ModelLoadError: a wrong format, a newer version or inconsistent arrays.
        """
        try:
            model = load_fm_model(path)
        except (ValueError, KeyError) as e:
            raise ModelLoadError(f"{path}: {e}") from e
        if not np.isfinite(model.factors).all() or not np.isfinite(model.linear.weights).all():
            raise ModelLoadError(f"{path}: weights hold NaN or infinity")
        return cls(model)

    def predict(self, signature_name: str, inputs) -> dict[str, np.ndarray]:
        if signature_name not in self.signature_defs:
            raise InvalidRequest(
                f'Serving signature name: "{signature_name}" not found '
                f"in signature def; have {sorted(self.signature_defs)}"
            )
        ids, vals = inputs["indices"], inputs["values"]
        assert isinstance(ids, Ragged) and isinstance(vals, Ragged)  # the decoder's contract
        splits = ids.row_splits
        if not np.array_equal(splits, vals.row_splits):
            row = int(np.argmax(splits != vals.row_splits)) - 1
            raise InvalidRequest(
                f"instance {row}: 'indices' and 'values' have different "
                "lengths; every feature id needs exactly one value"
            )
        idx, dim = ids.values, 1 << self.dims_log2
        if idx.size and (idx.min() < 0 or idx.max() >= dim):
            k = int(np.argmax((idx < 0) | (idx >= dim)))
            row = int(np.searchsorted(splits, k, side="right")) - 1
            raise InvalidRequest(
                f"instance {row}: feature index {int(idx[k])} is out of "
                f"range [0, {dim}) (the model has 2^{self.dims_log2} features)"
            )
        batch = Batch(
            splits.astype(np.int64),
            idx.astype(np.int64),
            vals.values.astype(np.float32),
            np.zeros(len(splits) - 1, np.float32),
        )
        try:
            logits = self.model.decision_function(batch)
        except ValueError as e:  # an FFM id with a field the model does not have
            raise InvalidRequest(str(e)) from None
        prob = sigmoid(logits).astype(np.float32)
        return binary_outputs(prob, logits, signature_name, self.signature_defs[signature_name])

    def close(self) -> None:
        pass
