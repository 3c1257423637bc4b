"""What a servable exposes: signatures of named, typed, shaped inputs and outputs.

A :class:`SignatureDef` is the serving contract of one computation, as in TensorFlow
Serving: the request decoder checks every input against it, and ``GET .../metadata``
reports it in TF Serving's JSON form (``DT_FLOAT``, ``{"dim": [{"size": "-1"}]}``).

Sparse features travel as :class:`Ragged` inputs: per instance a variable-length list
(the feature ids, or their values), batched as one flat array plus row offsets, so a
client never sends the zeros of a high-dimensional input.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "TensorSpec",
    "SignatureDef",
    "Ragged",
    "DEFAULT_SIGNATURE",
    "PREDICT_METHOD",
    "CLASSIFY_METHOD",
    "REGRESS_METHOD",
    "dtype_enum",
]

DEFAULT_SIGNATURE = "serving_default"
PREDICT_METHOD = "tensorflow/serving/predict"
CLASSIFY_METHOD = "tensorflow/serving/classify"
REGRESS_METHOD = "tensorflow/serving/regress"

# numpy dtype -> TF's DataType enum name, as TF Serving's metadata reports it.
_DT_NAMES = {
    "float32": "DT_FLOAT",
    "float64": "DT_DOUBLE",
    "float16": "DT_HALF",
    "int8": "DT_INT8",
    "int16": "DT_INT16",
    "int32": "DT_INT32",
    "int64": "DT_INT64",
    "uint8": "DT_UINT8",
    "uint16": "DT_UINT16",
    "bool": "DT_BOOL",
    "object": "DT_STRING",
    "complex64": "DT_COMPLEX64",
    "complex128": "DT_COMPLEX128",
}


def dtype_enum(dtype: np.dtype) -> str:
    """``float32`` -> ``DT_FLOAT`` (TF's name for the dtype)."""
    return _DT_NAMES.get(np.dtype(dtype).name, "DT_INVALID")


@dataclass(frozen=True)
class Ragged:
    """A batch of variable-length rows: row ``i`` is ``values[row_splits[i]:row_splits[i+1]]``.

    The same layout as ``tf.RaggedTensor.from_row_splits`` and a CSR matrix's
    ``data``/``indptr``.
    """

    values: np.ndarray
    row_splits: np.ndarray

    def __len__(self) -> int:
        return len(self.row_splits) - 1

    @property
    def shape(self) -> tuple:
        return (len(self), None)

    def rows(self, start: int, stop: int) -> Ragged:
        """Rows ``start:stop`` (offsets rebased to 0)."""
        lo, hi = self.row_splits[start], self.row_splits[stop]
        return Ragged(self.values[lo:hi], self.row_splits[start : stop + 1] - lo)

    @staticmethod
    def concat(parts: list[Ragged]) -> Ragged:
        """Stacks batches row-wise."""
        offsets = np.cumsum([0] + [len(p.values) for p in parts])
        splits = [parts[0].row_splits[:1]]
        splits += [p.row_splits[1:] + o for p, o in zip(parts, offsets[:-1], strict=True)]
        return Ragged(np.concatenate([p.values for p in parts]), np.concatenate(splits))


@dataclass(frozen=True)
class TensorSpec:
    """One named input or output.

    Attributes:
        name: the tensor it maps to (a graph name such as ``x:0``, or a logical name).
        dtype: NumPy dtype of the values.
        shape: static shape including the batch dimension first; ``None`` entries are
            unknown sizes, and ``shape=None`` means unknown rank.
        ragged: per-instance variable-length 1-D values, batched as :class:`Ragged`.
    """

    name: str
    dtype: np.dtype
    shape: tuple[int | None, ...] | None
    ragged: bool = False

    def to_json(self) -> dict:
        """TF Serving's ``TensorInfo`` JSON."""
        if self.shape is None:
            shape = {"dim": [], "unknown_rank": True}
        else:
            shape = {
                "dim": [{"size": str(-1 if d is None else d), "name": ""} for d in self.shape],
                "unknown_rank": False,
            }
        out = {"dtype": dtype_enum(self.dtype), "tensor_shape": shape, "name": self.name}
        if self.ragged:
            out["ragged"] = True
        return out


@dataclass(frozen=True)
class SignatureDef:
    """Named inputs and outputs of one servable computation."""

    inputs: dict[str, TensorSpec]
    outputs: dict[str, TensorSpec]
    method_name: str = PREDICT_METHOD

    def to_json(self) -> dict:
        return {
            "inputs": {k: v.to_json() for k, v in self.inputs.items()},
            "outputs": {k: v.to_json() for k, v in self.outputs.items()},
            "method_name": self.method_name,
        }
