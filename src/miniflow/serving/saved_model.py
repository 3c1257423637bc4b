"""Serving a graph model exported with ``tf.saved_model.simple_save`` (or the builder).

Each loaded version owns one ``tf.Session`` on its own ``tf.Graph``. Every request of a
signature feeds the same placeholders in the same order and fetches the same tensors,
so the session compiles its execution plan on the first request and every later
request reuses it: no graph is built or walked per request.
"""

from __future__ import annotations

import threading

import numpy as np

import miniflow as tf
from miniflow.serving import model_files
from miniflow.serving.errors import InvalidRequest
from miniflow.serving.signature import PREDICT_METHOD, SignatureDef, TensorSpec

__all__ = ["SavedModelServable"]


def _spec(info) -> TensorSpec:
    if isinstance(info.dtype, int):  # a protobuf TensorInfo (TensorFlow's layout)
        from miniflow.saved_model import tf_proto

        if info.WhichOneof("encoding") != "name":
            raise ValueError(
                f"Signature tensor {info} is sparse or composite; only dense tensors can be served."
            )
        dtype = tf_proto.dtype_from_enum(info.dtype)
        dims = tf_proto.shape_from_proto(info.tensor_shape).as_tuple()
    else:
        dtype = info.dtype
        dims = info.tensor_shape.as_tuple() if info.tensor_shape is not None else None
    return TensorSpec(
        info.name, np.dtype(dtype.as_numpy_dtype), None if dims is None else tuple(dims)
    )


class SavedModelServable:
    """A SavedModel behind :class:`Servable`: miniflow's (``saved_model.json``) or
    TensorFlow's (``saved_model.pb``/``.pbtxt``, ``variables/``, ``assets/``) layout.

    Signatures that are not computations (TF2's ``__saved_model_init_op``) are not served.

    Args:
        session: a session whose graph holds the loaded model (owned; closed by
            :meth:`close`).
        signature_defs: the meta graph's ``signature_def`` map.
    """

    def __init__(self, session, signature_defs: dict):
        self.session = session
        self.signature_defs: dict[str, SignatureDef] = {}
        self._feeds: dict[str, list] = {}
        self._fetches: dict[str, list] = {}
        graph = session.graph
        for key, sig in signature_defs.items():
            if key.startswith("__saved_model_"):
                continue
            inputs = {k: _spec(v) for k, v in sig.inputs.items()}
            outputs = {k: _spec(v) for k, v in sig.outputs.items()}
            self.signature_defs[key] = SignatureDef(
                inputs, outputs, sig.method_name or PREDICT_METHOD
            )
            self._feeds[key] = [(k, graph.get_tensor_by_name(s.name)) for k, s in inputs.items()]
            self._fetches[key] = [graph.get_tensor_by_name(s.name) for s in outputs.values()]
        self._warm: set[str] = set()
        self._lock = threading.Lock()
        self._mapped_files: list[str] = []

    @classmethod
    def load(cls, path: str) -> SavedModelServable:
        session = tf.Session(graph=tf.Graph())
        try:
            with session.graph.as_default():
                meta = tf.saved_model.loader.load(
                    session, [tf.saved_model.tag_constants.SERVING], path
                )
            servable = cls(session, meta.signature_def)
        except BaseException:
            session.close()
            raise
        try:
            servable._share_variables(path)
        except BaseException:
            servable.close()
            raise
        return servable

    def _share_variables(self, path: str) -> None:
        """Under ``miniflow serve --workers``: each large restored variable is swapped
        for a copy-on-write mapping of one cache file that every worker maps
        (:func:`model_files.share_array`); the restored copy is freed."""
        if model_files.cache_dir() is None:
            return
        key = model_files.files_key(path)
        graph = self.session.graph
        for var in graph.get_collection(tf.GraphKeys.GLOBAL_VARIABLES) + graph.get_collection(
            tf.GraphKeys.LOCAL_VARIABLES
        ):
            slot = var._slot_in(self.session)  # the session's holder of its value
            mapped, file = model_files.share_array(key, var.op_name, slot.value)
            if file is not None:
                slot.value = mapped
                self._mapped_files.append(file)

    def predict(self, signature_name: str, inputs) -> dict[str, np.ndarray]:
        if signature_name not in self.signature_defs:
            raise InvalidRequest(
                f'Serving signature name: "{signature_name}" not found in '
                f"signature def; have {sorted(self.signature_defs)}"
            )
        # The same feed order and fetch list every time: one cached plan per signature.
        feed = {t: inputs[k] for k, t in self._feeds[signature_name]}
        fetches = self._fetches[signature_name]
        if signature_name in self._warm:
            values = self.session.run(fetches, feed)
        else:
            with self._lock:  # the first call compiles the plan; let only one thread do it
                values = self.session.run(fetches, feed)
                self._warm.add(signature_name)
        names = self.signature_defs[signature_name].outputs
        return {k: np.asarray(v) for k, v in zip(names, values, strict=True)}

    def close(self) -> None:
        self.session.close()
        model_files.release(self._mapped_files)
        self._mapped_files = []
