"""``tf.saved_model.signature_def_utils.MethodNameUpdater``: edit the method names of a
SavedModel's signatures on disk, in miniflow's layout or TensorFlow's (``saved_model.pb``
or ``.pbtxt``, written back in the same form, as TF)."""

from __future__ import annotations

import os

from miniflow.graph.file_io import atomic_write, dump_envelope
from miniflow.saved_model import tf_loader, tf_proto
from miniflow.saved_model.impl import (
    SAVED_MODEL_FILENAME,
    SAVED_MODEL_FORMAT,
    SAVED_MODEL_VERSION,
    read_saved_model,
)


class MethodNameUpdater:
    """Loads ``export_dir``'s SavedModel; ``replace_method_name(signature_key,
    method_name, tags=None)`` edits it, ``save(new_export_dir=None)`` writes the
    SavedModel file back (to ``new_export_dir`` if given: only that file, as TF)."""

    def __init__(self, export_dir):
        self._export_dir = os.fspath(export_dir)
        self._proto = None  # TF's layout: the SavedModel protobuf
        self._bodies = []  # miniflow's layout: the meta graph bodies
        if tf_loader.is_tf_layout(self._export_dir):
            self._proto = tf_proto.read(self._export_dir)
            self._as_text = tf_proto.find_file(self._export_dir).endswith(".pbtxt")
        else:
            self._bodies = [m._body for m in read_saved_model(self._export_dir)]

    def _meta_graphs(self):
        """``(tags, signature keys, set_method_name(key, name))`` per meta graph."""
        if self._proto is not None:
            for meta in self._proto.meta_graphs:

                def set_name(key, name, sigs=meta.signature_def):
                    sigs[key].method_name = name

                yield set(meta.meta_info_def.tags), set(meta.signature_def), set_name
        for body in self._bodies:

            def set_name(key, name, sigs=body["signature_def"]):
                sigs[key]["method_name"] = name

            yield set(body["meta_info_def"].get("tags", [])), set(body["signature_def"]), set_name

    def replace_method_name(self, signature_key, method_name, tags=None) -> None:
        """Raises: ValueError (TF's messages) for an empty key or name, tags matching no
        meta graph, or a matching meta graph without the signature."""
        if not signature_key:
            raise ValueError("`signature_key` must be defined.")
        if not method_name:
            raise ValueError("`method_name` must be defined.")
        if tags is not None and not isinstance(tags, list):
            tags = [tags]
        found = False
        for meta_tags, keys, set_name in self._meta_graphs():
            if tags is None or set(tags) == meta_tags:
                if signature_key not in keys:
                    raise ValueError(
                        f"MetaGraphDef associated with tags {tags} does not have a "
                        f"signature_def with key: '{signature_key}'. This means either you "
                        "specified the wrong signature key or forgot to put the "
                        "signature_def with the corresponding key in your SavedModel."
                    )
                set_name(signature_key, method_name)
                found = True
        if not found:
            raise ValueError(
                f"MetaGraphDef associated with tags {tags} could not be found in SavedModel. "
                "This means either you specified invalid tags or your SavedModel does not "
                "have a MetaGraphDef with the specified tags."
            )

    def save(self, new_export_dir=None) -> None:
        directory = self._export_dir if new_export_dir is None else os.fspath(new_export_dir)
        os.makedirs(directory, exist_ok=True)
        if self._proto is not None:
            tf_proto.write(directory, self._proto, self._as_text)
            return
        data = dump_envelope(SAVED_MODEL_FORMAT, SAVED_MODEL_VERSION, {"meta_graphs": self._bodies})
        atomic_write(os.path.join(directory, SAVED_MODEL_FILENAME), lambda fh: fh.write(data))
