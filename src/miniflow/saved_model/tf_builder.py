"""Writing TensorFlow's SavedModel layout (``SavedModelBuilder(..., format="tf")``):
binary ``saved_model.pb`` (or ``.pbtxt``), the variables as a V2 tensor bundle under
``variables/``, the asset files copied into ``assets/``. TensorFlow's
``tf.compat.v1.saved_model.loader.load`` reads the result (checked by
``tests/tf_files/fixtures/tf_reads_miniflow_saved_models.py``).

What TF's v1 builder records, recorded the same way: the tags in ``meta_info_def``, the
signature defs, the main op in the ``saved_model_main_op`` collection, the assets as
``asset_file_def`` entries (file name + the string constant holding its path, which the
loader feeds with the copied file's path), the saver's ``SaverDef``.
"""

from __future__ import annotations

import filecmp
import os
import shutil

from miniflow import dtypes
from miniflow.graph.graph import GraphKeys
from miniflow.saved_model import tf_loader, tf_proto
from miniflow.train.saver import Saver


class TFLayoutWriter:
    """The meta graphs, variables and assets of one TF-layout SavedModel being built in
    the directory ``staging`` (renamed into place by the builder)."""

    def __init__(self, staging: str):
        self._staging = staging
        self._metas: list = []
        self._saver = None
        self._assets: dict[str, str] = {}  # file name in assets/ -> source path

    def save_variables(self, sess, saver=None) -> None:
        """Writes the variables of ``saver`` (default: the global variables) as TF's
        bundle ``variables/variables``; the builder's later meta graphs share them."""
        graph = sess.graph
        var_list = saver._vars if saver is not None else None
        if var_list is None:
            var_list = graph.get_collection(GraphKeys.GLOBAL_VARIABLES)
        self._saver = Saver(var_list, allow_empty=True, format="tf")
        directory = os.path.join(self._staging, tf_loader.VARIABLES_DIRECTORY)
        os.makedirs(directory, exist_ok=True)
        if self._saver._vars:
            prefix = os.path.join(directory, tf_loader.VARIABLES_FILENAME)
            self._saver.save(sess, prefix, write_meta_graph=False, write_state=False)

    def add(self, graph, tags, signature_def_map=None, assets_collection=None, main_op=None):
        """Records ``graph`` as the meta graph tagged ``tags``.

        Raises:
            AssertionError: a meta graph with the same tag set was already added (TF).
            KeyError / ValueError: a signature names a tensor that is not in ``graph``.
            TypeError: an asset is not a scalar string constant (TF's message).
        """
        from miniflow.train import tf_graph_proto

        tags = list(dict.fromkeys([tags] if isinstance(tags, str) else tags))
        if any(set(m.meta_info_def.tags) == set(tags) for m in self._metas):
            raise AssertionError(f"A meta graph with tags {sorted(tags)} was already added.")
        sigs = {k: tf_proto.signature_def_proto(v) for k, v in (signature_def_map or {}).items()}
        for sig in sigs.values():
            for info in [*sig.inputs.values(), *sig.outputs.values()]:
                graph.as_graph_element(info.name)  # raises if the tensor is not in the graph
        if main_op is not None:
            graph.clear_collection(tf_loader.MAIN_OP_KEY)
            graph.add_to_collection(tf_loader.MAIN_OP_KEY, getattr(main_op, "op", main_op))
        assets = [(self._add_asset(t), t.name) for t in assets_collection or ()]
        # No variables: no saver_def (TF's Saver refuses an empty SaveV2 node).
        saver = self._saver if self._saver is not None and self._saver._vars else None
        meta = tf_graph_proto.meta_graph_def_from_graph(graph, saver=saver, signature_def_map=sigs)
        meta.meta_info_def.tags.extend(tags)
        for filename, tensor_name in assets:
            entry = meta.asset_file_def.add(filename=filename)
            entry.tensor_info.name = tensor_name
        self._metas.append(meta)

    def _add_asset(self, tensor) -> str:
        """The file name (in ``assets/``) of the asset whose path ``tensor`` holds."""
        if getattr(tensor, "op", None) is None or tensor.op.type != "Const":
            raise TypeError(f"Asset path tensor {tensor} must be of type constant.")
        if tensor.dtype != dtypes.string or tensor.shape.ndims != 0:
            raise TypeError(f"Asset path tensor {tensor} must be a scalar string.")
        value = tensor.op.attrs["value"]
        source = os.fsdecode(value.item() if hasattr(value, "item") else value)
        if not os.path.isfile(source):
            raise FileNotFoundError(f"Asset file {source} (tensor {tensor.name}) does not exist.")
        name, i = os.path.basename(source), 1
        while name in self._assets and not _same_file(self._assets[name], source):
            name, i = f"{os.path.basename(source)}_{i}", i + 1
        self._assets[name] = source
        return name

    def save(self, as_text: bool = False) -> None:
        """Copies the assets and writes the SavedModel protobuf into the staging dir."""
        if self._assets:
            directory = os.path.join(self._staging, tf_loader.ASSETS_DIRECTORY)
            os.makedirs(directory, exist_ok=True)
            for name, source in self._assets.items():
                shutil.copyfile(source, os.path.join(directory, name))
        tf_proto.write(self._staging, tf_proto.new_saved_model(self._metas), as_text)


def _same_file(a: str, b: str) -> bool:
    return a == b or filecmp.cmp(a, b, shallow=False)
