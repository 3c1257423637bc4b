"""Loading TensorFlow's SavedModel layout (``tf.saved_model.loader.load`` on a directory
written by TensorFlow)::

    export_dir/
      saved_model.pb | saved_model.pbtxt     SavedModel protobuf: tagged MetaGraphDefs
      variables/variables.index              V2 tensor bundle (train/tensor_bundle.py)
      variables/variables.data-0000K-of-0000N
      assets/        files the graph reads (vocabularies), fed by path at init
      assets.extra/  files for the serving system; not read by the loader

Steps, as TF's ``SavedModelLoader.load``: pick the MetaGraphDef whose tag set equals
``tags``; import its graph (``tf_graph_proto.import_meta_graph_def``); restore the variables
from ``variables/variables``; run the init op (the ``__saved_model_init_op`` signature,
else the ``saved_model_main_op`` collection, else ``legacy_init_op``) with every asset
tensor fed the asset's path under ``assets/``. Returns the protobuf ``MetaGraphDef``.
If any step fails, the ops it added are taken out of the graph again.
"""

from __future__ import annotations

import os

from miniflow import errors
from miniflow.graph import serialization as ser
from miniflow.saved_model import tf_proto
from miniflow.train import tensor_bundle

VARIABLES_DIRECTORY = "variables"
VARIABLES_FILENAME = "variables"
ASSETS_DIRECTORY = "assets"
ASSETS_KEY = "saved_model_assets"
MAIN_OP_KEY = "saved_model_main_op"
LEGACY_INIT_OP_KEY = "legacy_init_op"
INIT_OP_SIGNATURE_KEY = "__saved_model_init_op"


def is_tf_layout(export_dir) -> bool:
    """True if ``export_dir`` holds TF's ``saved_model.pb`` or ``saved_model.pbtxt``."""
    return tf_proto.find_file(os.fspath(export_dir)) is not None


def meta_graph_for_tags(saved_model, tags, export_dir):
    """The MetaGraphDef whose tag set is exactly ``set(tags)``.

    Raises:
        RuntimeError: none has (TF's exception); the message lists the tag sets there.
    """
    if isinstance(tags, str):
        tags = [tags]  # a bare "serve" is one tag, not five letters
    want = set(tags)
    available = []
    for meta in saved_model.meta_graphs:
        have = set(meta.meta_info_def.tags)
        if have == want:
            return meta
        available.append(sorted(have))
    raise RuntimeError(
        f"MetaGraphDef associated with tags {sorted(want)} could not be found in "
        f"SavedModel at {export_dir}; available tag-sets: {available}."
    )


def asset_paths(export_dir, meta, import_scope=None) -> dict:
    """Asset tensor name -> the file's path under ``export_dir/assets``."""
    _, mg = tf_proto.protos()
    protos = list(meta.asset_file_def)
    if not protos and ASSETS_KEY in meta.collection_def:
        for any_proto in meta.collection_def[ASSETS_KEY].any_list.value:
            if not any_proto.type_url.endswith(".AssetFileDef"):
                raise errors.InvalidArgumentError(
                    None,
                    None,
                    f"Collection {ASSETS_KEY} holds a {any_proto.type_url}, expected AssetFileDef.",
                )
            protos.append(mg.AssetFileDef.FromString(any_proto.value))
    assets = os.path.join(export_dir, ASSETS_DIRECTORY)
    out = {}
    for proto in protos:
        name = os.path.basename(proto.filename)
        if not name or name != proto.filename:
            # Reading outside assets/ ("../../etc/passwd") is never what TF's writer made.
            raise errors.InvalidArgumentError(
                None, None, f"Asset filename {proto.filename!r} is not a plain file name."
            )
        path = os.path.join(assets, name)
        if not os.path.isfile(path):
            raise errors.NotFoundError(
                None, None, f"SavedModel asset {name} is missing: {path} does not exist."
            )
        tensor = proto.tensor_info.name
        out[f"{import_scope}/{tensor}" if import_scope else tensor] = path
    return out


def init_op_name(meta) -> str | None:
    """The name of the op a loader runs after restoring (None: there is none)."""
    if INIT_OP_SIGNATURE_KEY in meta.signature_def:
        outputs = meta.signature_def[INIT_OP_SIGNATURE_KEY].outputs
        if INIT_OP_SIGNATURE_KEY in outputs:
            return outputs[INIT_OP_SIGNATURE_KEY].name
    for key in (MAIN_OP_KEY, LEGACY_INIT_OP_KEY):
        if key in meta.collection_def:
            names = list(meta.collection_def[key].node_list.value)
            if len(names) != 1:
                raise RuntimeError(
                    f"Expected exactly one SavedModel init op. Found {len(names)}: {names}."
                )
            return names[0]
    return None


def load(sess, tags, export_dir, import_scope=None, **saver_kwargs):
    """`tf.saved_model.loader.load` for TF's layout (see the module docstring)."""
    from miniflow.train import tf_graph_proto  # imports protobuf; only needed here

    export_dir = os.fspath(export_dir)
    meta = meta_graph_for_tags(tf_proto.read(export_dir), tags, export_dir)
    graph = sess.graph
    # A failed restore or init op takes the imported ops out again: all or nothing.
    with ser.all_or_nothing(graph), graph.as_default():
        saver = tf_graph_proto.import_meta_graph_def(
            meta, import_scope=import_scope, **saver_kwargs
        )
        if _saves_variables(meta):
            _restore(sess, saver, export_dir)
        feeds = asset_paths(export_dir, meta, import_scope)
        name = init_op_name(meta)
        if name is not None:
            if import_scope:
                name = f"{import_scope}/{name}"
            sess.run(
                _element(graph, name, "init op"),
                {_element(graph, t, "asset tensor"): path for t, path in feeds.items()},
            )
    return meta


def _element(graph, name, what):
    try:
        return graph.as_graph_element(name)
    except (KeyError, ValueError):
        raise errors.NotFoundError(
            None, None, f"The SavedModel's {what} '{name}' is not in its graph."
        ) from None


def _saves_variables(meta) -> bool:
    """Whether the meta graph has global variables (TF's Saver restores those; a graph
    with only local variables, initialized by the main op, has no checkpoint). Without
    a ``variables`` collection (an export that dropped collections) the SaverDef says."""
    col = meta.collection_def.get("variables")
    if col is None:
        return bool(meta.saver_def.restore_op_name)
    return len(col.bytes_list.value) > 0


def _restore(sess, saver, export_dir):
    if saver is None:
        return  # a graph without variables (TF logs the same and restores nothing)
    prefix = os.path.join(export_dir, VARIABLES_DIRECTORY, VARIABLES_FILENAME)
    if not os.path.isfile(prefix + ".index"):
        raise errors.NotFoundError(
            None,
            None,
            f"The SavedModel at {export_dir} has variables but no checkpoint of them: "
            f"{prefix}.index does not exist.",
        )
    if not tensor_bundle.is_bundle(prefix):
        raise errors.DataLossError(
            None, None, f"{prefix}.index is not a TensorFlow checkpoint index (tensor bundle)."
        )
    saver.restore(sess, prefix)
