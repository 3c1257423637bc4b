"""SavedModel directories: one or more tagged meta graphs with signatures, plus the
variables as a checkpoint. Two layouts; `load` tells them apart by the files present.
miniflow's (docs/persistence.md), the builder's default::

    export_dir/
      saved_model.json          checksummed JSON envelope: {"meta_graphs": [...]}
      variables/variables.index
      variables/variables.data-<sha>.npz

and TensorFlow's (``saved_model.pb``/``.pbtxt``, ``variables/`` as a V2 tensor bundle,
``assets/``; docs/tf_files.md): read by `tf_loader`, written with ``format="tf"`` by
`tf_builder`.

The directory is assembled under a temporary name and renamed into place, so a reader
(e.g. a model server) never sees a half-written export.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading

from miniflow import errors
from miniflow.graph.file_io import atomic_write, dump_envelope, fsync_dir, load_envelope, read_bytes
from miniflow.graph.graph import Graph, GraphKeys, get_default_graph
from miniflow.graph.session import Session
from miniflow.saved_model import tf_builder, tf_loader
from miniflow.train import meta_graph as mg
from miniflow.train.saver import Saver, saver_for

SAVED_MODEL_FILENAME = "saved_model.json"
VARIABLES_DIRECTORY = "variables"
VARIABLES_FILENAME = "variables"
SAVED_MODEL_FORMAT = "miniflow.saved_model"
SAVED_MODEL_VERSION = 1

SERVING = "serve"
TRAINING = "train"
DEFAULT_SERVING_SIGNATURE_DEF_KEY = "serving_default"
PREDICT_METHOD_NAME = "tensorflow/serving/predict"
CLASSIFY_METHOD_NAME = "tensorflow/serving/classify"
REGRESS_METHOD_NAME = "tensorflow/serving/regress"
PREDICT_INPUTS = "inputs"
PREDICT_OUTPUTS = "outputs"
MAIN_OP_KEY = "saved_model_main_op"
LEGACY_INIT_OP_KEY = "legacy_init_op"


def build_tensor_info(tensor) -> mg.TensorInfo:
    """The signature entry (name, dtype, shape) of a graph tensor."""
    tensor = getattr(tensor, "_as_graph_element", lambda: tensor)()
    return mg.TensorInfo(tensor.name, tensor.dtype, tensor.shape)


def build_signature_def(inputs=None, outputs=None, method_name=None) -> mg.SignatureDef:
    """A signature from dicts of key -> `TensorInfo` (see `build_tensor_info`)."""
    return mg.SignatureDef(dict(inputs or {}), dict(outputs or {}), method_name or "")


def predict_signature_def(inputs: dict, outputs: dict) -> mg.SignatureDef:
    """A prediction signature from dicts of key -> tensor."""
    if not inputs:
        raise ValueError("Prediction inputs cannot be None or empty.")
    if not outputs:
        raise ValueError("Prediction outputs cannot be None or empty.")
    return mg.SignatureDef(
        {k: build_tensor_info(t) for k, t in inputs.items()},
        {k: build_tensor_info(t) for k, t in outputs.items()},
        PREDICT_METHOD_NAME,
    )


class SavedModelBuilder:
    """Builds a SavedModel directory (`tf.saved_model.builder.SavedModelBuilder`).

    Args:
        export_dir: the directory to create (absent or empty).
        format: ``"miniflow"`` (default: ``saved_model.json``, needs NumPy only, holds
            any graph) or ``"tf"`` (TensorFlow's layout, which TensorFlow and TF Serving
            load; needs the ``tf-formats`` extra and ops TensorFlow has).

    Example:
        >>> b = tf.saved_model.builder.SavedModelBuilder("/models/m/1")
        >>> b.add_meta_graph_and_variables(sess, [tf.saved_model.tag_constants.SERVING],
        ...                                signature_def_map={"serving_default": sig})
        >>> b.save()
    """

    def __init__(self, export_dir, format="miniflow"):
        if format not in ("miniflow", "tf"):
            raise ValueError(f"SavedModel format must be 'miniflow' or 'tf', got {format!r}")
        self._export_dir = os.fspath(export_dir)
        _refuse_existing(self._export_dir)
        parent = os.path.dirname(os.path.abspath(self._export_dir))
        os.makedirs(parent, exist_ok=True)
        base = os.path.basename(os.path.abspath(self._export_dir))
        self._staging = tempfile.mkdtemp(dir=parent, prefix=f".{base}.", suffix=".tmp")
        self._meta_graphs: list[dict] = []
        self._saver_def = None
        self._tf = tf_builder.TFLayoutWriter(self._staging) if format == "tf" else None
        self._has_variables = False

    def add_meta_graph_and_variables(
        self,
        sess,
        tags,
        signature_def_map=None,
        assets_collection=None,
        legacy_init_op=None,
        clear_devices=False,
        main_op=None,
        strip_default_attrs=False,
        saver=None,
    ):
        """Records ``sess.graph`` under ``tags`` and saves the variables' values."""
        if self._has_variables:
            raise AssertionError(
                "Graph state including variables and assets has already "
                "been saved. Please invoke `add_meta_graph()` instead."
            )
        graph = sess.graph
        main_op = main_op if main_op is not None else legacy_init_op
        if self._tf is not None:
            self._tf.save_variables(sess, saver)
            self._tf.add(graph, tags, signature_def_map, assets_collection, main_op)
            self._has_variables = True
            return
        saver = saver or Saver(graph.get_collection(GraphKeys.GLOBAL_VARIABLES), allow_empty=True)
        if saver._vars:
            os.makedirs(os.path.join(self._staging, VARIABLES_DIRECTORY), exist_ok=True)
            prefix = os.path.join(self._staging, VARIABLES_DIRECTORY, VARIABLES_FILENAME)
            saver.save(sess, prefix, write_meta_graph=False, write_state=False)
            self._saver_def = saver.saver_def
        self._add(graph, tags, signature_def_map, main_op)
        self._has_variables = True

    def add_meta_graph(
        self,
        tags,
        signature_def_map=None,
        assets_collection=None,
        legacy_init_op=None,
        clear_devices=False,
        main_op=None,
        strip_default_attrs=False,
        saver=None,
        graph=None,
    ):
        """Records another meta graph (default graph) sharing the saved variables."""
        if not self._has_variables:
            raise AssertionError(
                "Variables and assets have not been saved yet. Please "
                "invoke `add_meta_graph_and_variables()` first."
            )
        graph = graph or get_default_graph()
        main_op = main_op if main_op is not None else legacy_init_op
        if self._tf is not None:
            self._tf.add(graph, tags, signature_def_map, assets_collection, main_op)
        else:
            self._add(graph, tags, signature_def_map, main_op)

    def _add(self, graph, tags, signature_def_map, main_op):
        tags = sorted(set(tags))
        if any(sorted(m["meta_info_def"]["tags"]) == tags for m in self._meta_graphs):
            raise AssertionError(f"A meta graph with tags {tags} was already added.")
        for sig in (signature_def_map or {}).values():
            for info in [*sig.inputs.values(), *sig.outputs.values()]:
                graph.as_graph_element(info.name)  # raises if the tensor is not in the graph
        if main_op is not None:
            # Recorded through the collection TF uses for it; `load` runs it.
            graph.clear_collection(MAIN_OP_KEY)
            graph.add_to_collection(MAIN_OP_KEY, getattr(main_op, "op", main_op))
        meta = mg.build_meta_graph(graph, self._saver_def, signature_def_map, tags)
        self._meta_graphs.append(meta._body)

    def save(self, as_text=False) -> str:
        """Writes ``saved_model.json`` (format "tf": ``saved_model.pb``, or ``.pbtxt`` with
        ``as_text``) and moves the directory into place; returns its path.

        Raises:
            AlreadyExistsError: the export directory appeared meanwhile.
        """
        if self._tf is not None:
            self._tf.save(as_text)
        else:
            data = dump_envelope(
                SAVED_MODEL_FORMAT, SAVED_MODEL_VERSION, {"meta_graphs": self._meta_graphs}
            )
            path = os.path.join(self._staging, SAVED_MODEL_FILENAME)
            atomic_write(path, lambda fh: fh.write(data))
        _refuse_existing(self._export_dir)
        if os.path.isdir(self._export_dir):
            os.rmdir(self._export_dir)  # empty: _refuse_existing allows only that
        os.rename(self._staging, self._export_dir)
        fsync_dir(os.path.dirname(os.path.abspath(self._export_dir)))
        return self._export_dir

    def __del__(self):
        staging = getattr(self, "_staging", None)
        if staging and os.path.isdir(staging):
            shutil.rmtree(staging, ignore_errors=True)


def _refuse_existing(export_dir):
    if os.path.exists(export_dir) and (not os.path.isdir(export_dir) or os.listdir(export_dir)):
        raise errors.AlreadyExistsError(
            None,
            None,
            f"Export directory already exists, and isn't empty. Please choose a "
            f"different export directory, or delete all the contents of the specified "
            f"directory: {export_dir}",
        )


def simple_save(session, export_dir, inputs, outputs, legacy_init_op=None, format="miniflow"):
    """Saves ``session``'s graph and variables as a SavedModel for serving.

    One signature, ``serving_default`` (a predict signature from ``inputs`` and
    ``outputs``, dicts of key -> tensor), under the tag ``serve``. ``format``: see
    `SavedModelBuilder` (``"tf"`` writes TensorFlow's layout).

    Example:
        >>> tf.saved_model.simple_save(sess, "/models/m/1", {"x": x}, {"y": y})
    """
    b = SavedModelBuilder(export_dir, format=format)
    b.add_meta_graph_and_variables(
        session,
        [SERVING],
        signature_def_map={
            DEFAULT_SERVING_SIGNATURE_DEF_KEY: predict_signature_def(inputs, outputs)
        },
        legacy_init_op=legacy_init_op,
    )
    return b.save()


def maybe_saved_model_directory(export_dir) -> bool:
    """True if ``export_dir`` holds a SavedModel, TensorFlow's or miniflow's."""
    export_dir = os.fspath(export_dir)
    return tf_loader.is_tf_layout(export_dir) or os.path.isfile(
        os.path.join(export_dir, SAVED_MODEL_FILENAME)
    )


def read_saved_model(export_dir) -> list[mg.MetaGraphDef]:
    """The meta graphs of a SavedModel directory, checked.

    Raises:
        NotFoundError: no ``saved_model.json`` there.
        DataLossError / InvalidArgumentError: corrupt or malformed.
    """
    path = os.path.join(os.fspath(export_dir), SAVED_MODEL_FILENAME)
    what = f"SavedModel file {path}"
    body = load_envelope(
        read_bytes(path, "SavedModel file"), SAVED_MODEL_FORMAT, SAVED_MODEL_VERSION, what
    )
    if not isinstance(body, dict) or not isinstance(body.get("meta_graphs"), list):
        raise errors.InvalidArgumentError(
            None, None, f"{what} is malformed: expected a 'meta_graphs' list"
        )
    out = []
    for m in body["meta_graphs"]:
        mg._check_body(m)
        out.append(mg.MetaGraphDef(m))
    return out


def load(sess, tags, export_dir, import_scope=None, **saver_kwargs):
    """Loads the meta graph tagged ``tags`` into ``sess.graph``, restores its variables and
    runs its init op (`tf.saved_model.loader.load`). Returns the `MetaGraphDef`; its
    ``signature_def`` maps keys to `SignatureDef` (inputs/outputs: name, dtype,
    tensor_shape).

    The layout is told by the files present: ``saved_model.pb`` or ``saved_model.pbtxt``
    is TensorFlow's (`tf_loader`; the result is TF's protobuf ``MetaGraphDef``), else
    ``saved_model.json`` is miniflow's.

    Raises:
        RuntimeError: no meta graph has exactly these tags (lists the tag sets there).
        NotFoundError: no SavedModel file, or its variables or assets are missing.
        DataLossError: a file is truncated or corrupt.

    Example:
        >>> meta = tf.saved_model.loader.load(sess, ["serve"], "/models/m/1")
        >>> sig = meta.signature_def["serving_default"]
        >>> sess.run(sig.outputs["y"].name, {sig.inputs["x"].name: batch})
    """
    export_dir = os.fspath(export_dir)
    if tf_loader.is_tf_layout(export_dir):
        return tf_loader.load(sess, tags, export_dir, import_scope, **saver_kwargs)
    if not os.path.isfile(os.path.join(export_dir, SAVED_MODEL_FILENAME)):
        raise errors.NotFoundError(
            None,
            None,
            f"SavedModel file does not exist at: {export_dir}{os.sep}"
            f"{{saved_model.pb|saved_model.pbtxt|{SAVED_MODEL_FILENAME}}}",
        )
    metas = read_saved_model(export_dir)
    want = sorted({tags} if isinstance(tags, str) else set(tags))  # "serve" is one tag
    for meta in metas:
        if sorted(meta.tags) == want:
            break
    else:
        raise RuntimeError(
            f"MetaGraphDef associated with tags {want} could not be found in "
            f"SavedModel at {export_dir}. Available tag-sets: "
            f"{[m.tags for m in metas]}"
        )
    variables = mg.import_into(sess.graph, meta, import_scope or "")
    if meta.saver_def is not None:
        prefix = os.path.join(export_dir, VARIABLES_DIRECTORY, VARIABLES_FILENAME)
        saver_for(meta, variables).restore(sess, prefix)
    main_ops = sess.graph.get_collection(MAIN_OP_KEY)
    if main_ops:
        sess.run(main_ops)
    return meta


class SignatureRunner:
    """Runs one signature of a loaded SavedModel: ``run({key: array}) -> {key: array}``.

    The fetches and the order of the feeds are fixed, so the session compiles its plan on
    the first call and every later call reuses it. Runs of a graph without state updates
    may be issued from several threads.

    Attributes:
        inputs / outputs: key -> `TensorInfo` (name, dtype, tensor_shape).
        session: the owned `Session`.
    """

    def __init__(self, session, signature_def: mg.SignatureDef):
        self.session = session
        self.signature_def = signature_def
        self.inputs = dict(sorted(signature_def.inputs.items()))
        self.outputs = dict(signature_def.outputs)
        graph = session.graph
        self._feed_tensors = [graph.as_graph_element(i.name) for i in self.inputs.values()]
        self._fetches = {k: graph.as_graph_element(i.name) for k, i in self.outputs.items()}
        self._lock = threading.Lock()
        self._warm = False

    def run(self, inputs: dict) -> dict:
        """The outputs for one batch of ``inputs`` (key -> array-like).

        Raises:
            InvalidArgumentError: a key is missing or unknown, or a value has the wrong
                dtype or shape (names the input).
        """
        missing = [k for k in self.inputs if k not in inputs]
        unknown = [k for k in inputs if k not in self.inputs]
        if missing or unknown:
            raise errors.InvalidArgumentError(
                None,
                None,
                f"Signature inputs mismatch: missing {missing}, unknown {unknown}; "
                f"expected exactly {list(self.inputs)}.",
            )
        feed = {t: inputs[k] for t, k in zip(self._feed_tensors, self.inputs)}
        try:
            if not self._warm:
                # The first call compiles the plan; concurrent first callers wait for it
                # instead of each compiling their own.
                with self._lock:
                    out = self.session.run(self._fetches, feed)
                    self._warm = True
                    return out
            return self.session.run(self._fetches, feed)
        except ValueError as e:  # Session.run's (TF's) error for a bad fed value
            raise errors.InvalidArgumentError(None, None, str(e)) from None

    def close(self) -> None:
        self.session.close()


def load_signature_runner(
    export_dir, signature_key=DEFAULT_SERVING_SIGNATURE_DEF_KEY, tags=(SERVING,), config=None
) -> SignatureRunner:
    """Loads a SavedModel into a fresh graph and session; returns a `SignatureRunner` for
    ``signature_key`` (what a model server keeps per model version).

    Raises:
        NotFoundError: the signature key is not in the model (lists those present).
    """
    session = Session(graph=Graph(), config=config)
    try:
        meta = load(session, tags, export_dir)
        sigs = meta.signature_def
        if signature_key not in sigs:
            raise errors.NotFoundError(
                None,
                None,
                f"Signature '{signature_key}' not found in "
                f"SavedModel {export_dir}; it has {sorted(sigs)}.",
            )
        return SignatureRunner(session, sigs[signature_key])
    except BaseException:
        session.close()
        raise


__all__ = [
    "SavedModelBuilder",
    "SignatureRunner",
    "build_signature_def",
    "build_tensor_info",
    "load",
    "load_signature_runner",
    "maybe_saved_model_directory",
    "predict_signature_def",
    "read_saved_model",
    "simple_save",
]
