"""TensorFlow's ``SavedModel`` protobuf (``saved_model.proto``) on top of TensorBoard's
compiled ``MetaGraphDef``, and reading/writing ``saved_model.pb``/``saved_model.pbtxt``.

TensorBoard ships ``meta_graph_pb2`` but not ``saved_model_pb2``, so the wrapper message
(``int64 saved_model_schema_version = 1; repeated MetaGraphDef meta_graphs = 2;``) is
built here at run time from a descriptor; its wire format is TensorFlow's. Needs the
``tf-formats`` extra (protobuf + tensorboard), imported only when a TF-layout SavedModel
is read or written.

Parsing runs no code from the file: protobuf decoding only.
"""

from __future__ import annotations

import os
import re

from miniflow import errors
from miniflow.core.shapes import TensorShape
from miniflow.graph.file_io import atomic_write
from miniflow.train import tf_graph_export, tf_proto_values as values

SAVED_MODEL_FILENAME_PB = "saved_model.pb"
SAVED_MODEL_FILENAME_PBTXT = "saved_model.pbtxt"
SCHEMA_VERSION = 1
# TensorBoard's copies of TF's messages live in package "tensorboard"; files written by
# TensorFlow name them "tensorflow.X" (in Any type URLs), so both spellings are accepted.
_TF_TYPE_URL = "type.googleapis.com/tensorflow."
_FILE = "miniflow/saved_model/saved_model.proto"
_classes: dict = {}


def protos():
    """``(SavedModel, meta_graph_pb2)``; raises a clear ImportError without the extra."""
    if not _classes:
        meta_graph_pb2 = values.protos().meta_graph_pb2  # ImportError names the extra
        from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

        pool = descriptor_pool.Default()
        try:
            pool.FindFileByName(_FILE)
        except KeyError:
            f = descriptor_pb2.FileDescriptorProto(
                name=_FILE,
                package="miniflow_tf",
                syntax="proto3",
                dependency=[meta_graph_pb2.DESCRIPTOR.name],
            )
            msg = f.message_type.add(name="SavedModel")
            fd = descriptor_pb2.FieldDescriptorProto
            msg.field.add(
                name="saved_model_schema_version",
                number=1,
                type=fd.TYPE_INT64,
                label=fd.LABEL_OPTIONAL,
            )
            msg.field.add(
                name="meta_graphs",
                number=2,
                type=fd.TYPE_MESSAGE,
                label=fd.LABEL_REPEATED,
                type_name="." + meta_graph_pb2.MetaGraphDef.DESCRIPTOR.full_name,
            )
            pool.Add(f)
        cls = message_factory.GetMessageClass(pool.FindMessageTypeByName("miniflow_tf.SavedModel"))
        _classes.update(SavedModel=cls, meta_graph_pb2=meta_graph_pb2)
    return _classes["SavedModel"], _classes["meta_graph_pb2"]


def find_file(export_dir: str) -> str | None:
    """The path of ``saved_model.pb`` (preferred, as TF) or ``saved_model.pbtxt``."""
    for name in (SAVED_MODEL_FILENAME_PB, SAVED_MODEL_FILENAME_PBTXT):
        path = os.path.join(export_dir, name)
        if os.path.isfile(path):
            return path
    return None


def read(export_dir: str):
    """The ``SavedModel`` message of ``export_dir``.

    Raises:
        NotFoundError: neither ``saved_model.pb`` nor ``saved_model.pbtxt`` is there.
        DataLossError: the file is not a valid SavedModel protobuf (truncated, corrupt).
    """
    path = find_file(export_dir)
    if path is None:
        raise errors.NotFoundError(
            None,
            None,
            f"SavedModel file does not exist at: {export_dir}{os.sep}"
            f"{{{SAVED_MODEL_FILENAME_PBTXT}|{SAVED_MODEL_FILENAME_PB}}}",
        )
    saved_model_cls, _ = protos()
    from google.protobuf import message, text_format

    with open(path, "rb") as fh:
        data = fh.read()
    sm = saved_model_cls()
    try:
        if path.endswith(".pbtxt"):
            text = re.sub(
                r"\[type\.googleapis\.com/tensorflow\.",
                "[type.googleapis.com/tensorboard.",
                data.decode("utf-8"),
            )
            text_format.Parse(text, sm)
            _tf_type_urls(sm)
        else:
            sm.ParseFromString(data)
    except (message.DecodeError, text_format.ParseError, UnicodeDecodeError) as e:
        raise errors.DataLossError(None, None, f"Cannot parse file {path}: {e}.") from None
    except RuntimeError as e:  # the C++ parser's "recursion limit" and similar
        raise errors.DataLossError(None, None, f"Cannot parse file {path}: {e}.") from None
    if not sm.meta_graphs:
        raise errors.DataLossError(
            None, None, f"Cannot parse file {path}: it holds no MetaGraphDef (empty or corrupt)."
        )
    return sm


def _tf_type_urls(sm) -> None:
    """Gives the ``Any`` values a text file expanded (``[type.googleapis.com/...] {}``) the
    type URL TensorFlow writes, so a later binary write is what TensorFlow unpacks."""
    for meta in sm.meta_graphs:
        for col in meta.collection_def.values():
            for value in col.any_list.value:
                value.type_url = value.type_url.replace(
                    "type.googleapis.com/tensorboard.", _TF_TYPE_URL
                )


def write(export_dir: str, saved_model, as_text: bool = False) -> str:
    """Writes ``saved_model`` (binary ``saved_model.pb``, or ``.pbtxt``) atomically;
    returns the path."""
    if as_text:
        path = os.path.join(export_dir, SAVED_MODEL_FILENAME_PBTXT)
        text = str(saved_model).replace("[type.googleapis.com/tensorboard.", "[" + _TF_TYPE_URL)
        data = text.encode("utf-8")
    else:
        path = os.path.join(export_dir, SAVED_MODEL_FILENAME_PB)
        data = saved_model.SerializeToString(deterministic=True)
    atomic_write(path, lambda fh: fh.write(data))
    return path


def new_saved_model(meta_graphs):
    saved_model_cls, _ = protos()
    sm = saved_model_cls(saved_model_schema_version=SCHEMA_VERSION)
    sm.meta_graphs.extend(meta_graphs)
    return sm


def tf_type_url(message_name: str) -> str:
    """``AssetFileDef`` -> TensorFlow's Any type URL for it."""
    return _TF_TYPE_URL + message_name


# -- signature entries -----------------------------------------------------------------
def dtype_from_enum(value: int):
    """TF's DataType enum (``DT_FLOAT`` = 1) -> miniflow `DType`.

    Raises:
        InvalidArgumentError: a dtype miniflow does not have (names it).
    """
    return values.dtype_from_enum(int(value), "SavedModel signature")


def shape_from_proto(proto) -> TensorShape:
    """A ``TensorShapeProto`` as a `TensorShape` (size -1: unknown)."""
    return TensorShape(values.dims_from_proto(proto, "SavedModel signature"))


def tensor_info_proto(info):
    """A miniflow `TensorInfo` (or a protobuf one, returned as is) as a protobuf."""
    _, mg = protos()
    if isinstance(info, mg.TensorInfo):
        return info
    out = mg.TensorInfo()
    tf_graph_export.tensor_info_to_proto(info, out)
    return out


def signature_def_proto(sig):
    """A miniflow `SignatureDef` (or a protobuf one, returned as is) as a protobuf."""
    _, mg = protos()
    if isinstance(sig, mg.SignatureDef):
        return sig
    out = mg.SignatureDef()
    tf_graph_export.signature_def_to_proto(sig, out)
    return out
