"""`Dataset.save` / `Dataset.load`: a dataset's elements on disk, as a directory with
``element_spec.json`` (the nesting, dtypes and shapes) and ``elements.tfrecord`` (one
record per component, each a serialized `TensorProto`, optionally GZIP/ZLIB). The
layout is miniflow's own, not TF's snapshot format."""

from __future__ import annotations

import json
import os

import numpy as np

from miniflow import dtypes, errors
from miniflow.core import tfrecord
from miniflow.core.dispatch import apply_op
from miniflow.core.registry import not_differentiable, register_op
from miniflow.core.shapes import TensorShape
from miniflow.data import structure
from miniflow.data.dataset_ops import Dataset
from miniflow.data.registry import provides
from miniflow.data.structure import TensorSpec
from miniflow.ops.parsing_ops import parse_tensor_proto, tensor_proto_bytes

_SPEC, _DATA = "element_spec.json", "elements.tfrecord"


def _encode_template(t):
    if isinstance(t, dict):
        return {"dict": {k: _encode_template(v) for k, v in t.items()}}
    if isinstance(t, tuple):
        return {"tuple": [_encode_template(v) for v in t]}
    return None


def _decode_template(t):
    if t is None:
        return None
    if "dict" in t:
        return {k: _decode_template(v) for k, v in t["dict"].items()}
    return tuple(_decode_template(v) for v in t["tuple"])


@register_op("SaveDataset", num_outputs=0, writes=True, exportable=False)
def _save_dataset(*captured, dataset=None, path="", compression=""):
    os.makedirs(path, exist_ok=True)
    spec = {
        "template": _encode_template(dataset._template),
        "specs": [[s.dtype.name, s.shape.as_list()] for s in dataset._specs],
        "compression": compression,
    }
    with tfrecord.TFRecordWriter(os.path.join(path, _DATA), compression or None) as w:
        for element in dataset._generate(captured):
            for value in element:
                w.write(tensor_proto_bytes(np.asarray(value)))
    with open(os.path.join(path, _SPEC), "w") as f:  # written last: marks a complete save
        json.dump(spec, f)
    return ()


not_differentiable("SaveDataset")


@provides
def save(dataset, path, compression=None):
    """Writes the elements of ``dataset`` under the directory ``path`` (an op in graph
    mode, done at once in eager mode)."""
    kind = tfrecord.TFRecordOptions(compression or None).compression_type
    return apply_op(
        "SaveDataset",
        *dataset._captured(),
        dataset=dataset,
        path=os.fspath(path),
        compression=kind,
        name="SaveDataset",
    )


class _Load(Dataset):
    def __init__(self, path, element_spec, compression):
        self._path = os.fspath(path)
        spec_file = os.path.join(self._path, _SPEC)
        saved = None
        if os.path.exists(spec_file):
            with open(spec_file) as f:
                saved = json.load(f)
        if element_spec is None:
            if saved is None:
                raise errors.NotFoundError(
                    None,
                    None,
                    f"{spec_file}: no saved dataset here (pass element_spec, or save it first).",
                )
            self._template = _decode_template(saved["template"])
            self._specs = [
                TensorSpec(dtypes.as_dtype(d), TensorShape(s)) for d, s in saved["specs"]
            ]
        else:
            self._template = structure.template(element_spec)
            self._specs = [
                TensorSpec(dtypes.as_dtype(s.dtype), TensorShape(s.shape))
                for s in structure.flatten(element_spec)
            ]
        self._compression = tfrecord.TFRecordOptions(
            compression or (saved or {}).get("compression") or None
        ).compression_type

    def _iter(self, ctx):
        records = tfrecord.tf_record_iterator(
            os.path.join(self._path, _DATA), self._compression or None
        )
        n = len(self._specs)
        while True:
            element = []
            for spec in self._specs:
                data = next(records, None)
                if data is None:
                    if element:
                        raise errors.DataLossError(
                            None,
                            None,
                            f"{self._path}: the last element has {len(element)} of {n} components",
                        )
                    return
                value = parse_tensor_proto(data)
                if value.dtype != spec.dtype.np and not (
                    spec.dtype == dtypes.string and value.dtype == object
                ):
                    raise errors.InvalidArgumentError(
                        None,
                        None,
                        f"{self._path}: saved component of type {value.dtype} "
                        f"where the element_spec says {spec.dtype.name}",
                    )
                element.append(value[()] if value.ndim == 0 else value)
            yield element


@provides
def load(path, element_spec=None, compression=None):
    """The dataset saved under ``path`` by `Dataset.save`."""
    return _Load(path, element_spec, compression)
