"""``tf.saved_model.signature_def_utils.MethodNameUpdater``: edit the method names of a
SavedModel's signatures on disk."""

from __future__ import annotations

import os

from miniflow.graph.file_io import atomic_write, dump_envelope
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
        self._bodies = [m._body for m in read_saved_model(self._export_dir)]

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
        for body in self._bodies:
            if tags is None or set(tags) == set(body["meta_info_def"].get("tags", [])):
                if signature_key not in body["signature_def"]:
                    raise ValueError(
                        f"MetaGraphDef associated with tags {tags} does not have a "
                        f"signature_def with key: '{signature_key}'. This means either you "
                        "specified the wrong signature key or forgot to put the "
                        "signature_def with the corresponding key in your SavedModel."
                    )
                body["signature_def"][signature_key]["method_name"] = method_name
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
        data = dump_envelope(SAVED_MODEL_FORMAT, SAVED_MODEL_VERSION, {"meta_graphs": self._bodies})
        atomic_write(os.path.join(directory, SAVED_MODEL_FILENAME), lambda fh: fh.write(data))
