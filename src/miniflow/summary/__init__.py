"""`tf.summary`: summary ops and `FileWriter` for TensorBoard."""

from miniflow.ops.summary_ops import (
    histogram as histogram,
    image as image,
    merge as merge,
    merge_all as merge_all,
    scalar as scalar,
    text as text,
)
from miniflow.ops.summary_tensor_ops import audio as audio, tensor_summary as tensor_summary
from miniflow.summary.writer import FileWriter as FileWriter
from miniflow.summary.writer_cache import FileWriterCache as FileWriterCache

# The protocol buffer classes (tensorboardX's copies of TF's summary.proto and
# event.proto), loaded on first use because tensorboardX is an optional dependency.
PROTO_MODULES = {
    "Summary": "summary_pb2",
    "HistogramProto": "summary_pb2",
    "SummaryMetadata": "summary_pb2",
    "SummaryDescription": "summary_pb2",
    "Event": "event_pb2",
    "SessionLog": "event_pb2",
    "TaggedRunMetadata": "event_pb2",
    "LogMessage": "event_pb2",
}


def proto_class(name):
    """The protobuf class ``name`` (see `PROTO_MODULES`); a clear error naming the
    optional extra when tensorboardX is missing."""
    import importlib

    from miniflow.ops.summary_ops import summary_pb2

    summary_pb2()  # raises the error naming the extra
    return getattr(importlib.import_module(f"tensorboardX.proto.{PROTO_MODULES[name]}"), name)


def __getattr__(name):
    if name in PROTO_MODULES:
        return proto_class(name)
    raise AttributeError(f"module 'miniflow.summary' has no attribute '{name}'")


def all_v2_summary_ops():
    """The TF2 summary ops of the default graph: always ``[]`` (miniflow's summaries are
    TF1 ops). ``tf.summary.all_v2_summary_ops()``"""
    return []


from miniflow.summary.contrib_compat import (  # noqa: E402
    get_summary_description as get_summary_description,
    initialize as initialize,
)
