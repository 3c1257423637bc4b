"""`tf.summary`: summary ops and `FileWriter` for TensorBoard."""

from miniflow.ops.summary_ops import histogram as histogram
from miniflow.ops.summary_ops import image as image
from miniflow.ops.summary_ops import merge as merge
from miniflow.ops.summary_ops import merge_all as merge_all
from miniflow.ops.summary_ops import scalar as scalar
from miniflow.ops.summary_ops import text as text
from miniflow.summary.writer import FileWriter as FileWriter


def __getattr__(name):
    """``tf.summary.Summary`` / ``HistogramProto``: the protobuf classes, loaded lazily
    because tensorboardX is an optional dependency."""
    if name in ("Summary", "HistogramProto"):
        from miniflow.ops.summary_ops import summary_pb2

        return getattr(summary_pb2(), name)
    raise AttributeError(f"module 'miniflow.summary' has no attribute '{name}'")
