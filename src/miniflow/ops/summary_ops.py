"""Summary ops: each evaluates to a serialized TensorBoard ``Summary`` protocol buffer
(bytes), as in TF. The protobuf classes come from tensorboardX (the optional
``tensorboard`` extra), imported when a summary is first computed."""

from __future__ import annotations

import math

import numpy as np

from miniflow import dtypes, errors
from miniflow.core.dispatch import apply_op
from miniflow.core.registry import not_differentiable, register_op
from miniflow.graph.graph import GraphKeys, get_default_graph


def summary_pb2():
    """tensorboardX's ``summary_pb2`` module, or a clear error naming the extra."""
    try:
        from tensorboardX.proto import summary_pb2
    except ImportError:
        raise errors.UnimplementedError(
            None, None, "TensorBoard summaries need the optional dependency tensorboardX: "
            "pip install 'miniflow[tensorboard]'") from None
    return summary_pb2


def _string_scalar(inputs, attrs):
    return [((), dtypes.string)]


@register_op("ScalarSummary", infer=_string_scalar)
def _scalar_summary(value, tag=""):
    value = np.asarray(value)
    if value.shape != ():
        raise errors.InvalidArgumentError(None, None, f"tags and values not the same shape: "
                                          f"[] != {list(value.shape)} (tag '{tag}')")
    pb = summary_pb2()
    return pb.Summary(value=[pb.Summary.Value(tag=tag, simple_value=float(value))]) \
        .SerializeToString()


# TF's default histogram buckets: +-1e-12 * 1.1^k up to 1e20, zero, and DBL_MAX.
_POS = 1e-12 * 1.1 ** np.arange(int(math.log(1e32) / math.log(1.1)) + 1)
_POS = _POS[_POS < 1e20]
_LIMITS = np.concatenate([-_POS[::-1], [0.0], _POS, [np.finfo(np.float64).max]])


@register_op("HistogramSummary", infer=_string_scalar)
def _histogram_summary(values, tag=""):
    values = np.asarray(values, dtype=np.float64).ravel()
    if not np.all(np.isfinite(values)):
        raise errors.InvalidArgumentError(None, None, f"Nan in summary histogram for: {tag}")
    counts = np.bincount(np.searchsorted(_LIMITS, values, side="right"),
                         minlength=len(_LIMITS))[: len(_LIMITS)]
    limits, buckets = [], []
    i = 0
    while i < len(counts):  # runs of empty buckets collapse into one, as TF encodes them
        end, count = _LIMITS[i], counts[i]
        i += 1
        while count == 0 and i < len(counts) and counts[i] == 0:
            end = _LIMITS[i]
            i += 1
        limits.append(float(end))
        buckets.append(float(count))
    pb = summary_pb2()
    empty = values.size == 0
    histo = pb.HistogramProto(min=0.0 if empty else float(values.min()),
                              max=0.0 if empty else float(values.max()),
                              num=float(values.size), sum=float(values.sum()),
                              sum_squares=float(values @ values), bucket_limit=limits,
                              bucket=buckets)
    return pb.Summary(value=[pb.Summary.Value(tag=tag, histo=histo)]).SerializeToString()


@register_op("MergeSummary", infer=_string_scalar)
def _merge_summary(*serialized):
    pb = summary_pb2()
    merged, seen = pb.Summary(), set()
    for s in serialized:
        part = pb.Summary()
        part.ParseFromString(s.item() if isinstance(s, np.ndarray) else bytes(s))
        for v in part.value:
            if v.tag in seen:
                raise errors.InvalidArgumentError(None, None, f"Duplicate tag {v.tag} found in "
                                                  "summary inputs")
            seen.add(v.tag)
            merged.value.add().CopyFrom(v)
    return merged.SerializeToString()


not_differentiable("ScalarSummary", "HistogramSummary", "MergeSummary")


def _summary(op_type, name, tensor, collections, family):
    graph = get_default_graph()
    scoped = f"{family}/{name}" if family else name
    with graph.name_scope(scoped) as scope:
        tag = scope.rstrip("/")
        out = apply_op(op_type, tensor, tag=tag, name=scope)
    for key in [GraphKeys.SUMMARIES] if collections is None else collections:
        graph.add_to_collection(key, out)
    return out


def scalar(name, tensor, collections=None, family=None):
    """A summary op writing the scalar ``tensor`` under the tag ``name`` (scoped).

    Returns:
        A string tensor: the serialized ``Summary``. Added to ``collections`` (default
        ``GraphKeys.SUMMARIES``, which `merge_all` merges).

    Example:
        >>> tf.summary.scalar("loss", loss)
    """
    return _summary("ScalarSummary", name, tensor, collections, family)


def histogram(name, values, collections=None, family=None):
    """A summary op writing a histogram of ``values`` (TF's exponential buckets)."""
    return _summary("HistogramSummary", name, values, collections, family)


def merge(inputs, collections=None, name=None):
    """One summary op holding the values of all summary tensors in ``inputs``."""
    out = apply_op("MergeSummary", *inputs, name=name or "Merge/MergeSummary")
    for key in collections or []:
        get_default_graph().add_to_collection(key, out)
    return out


def merge_all(key=GraphKeys.SUMMARIES, scope=None, name=None):
    """`merge` of the graph's collection ``key``; None if the collection is empty."""
    summaries = get_default_graph().get_collection(key, scope=scope)
    return merge(summaries, name=name) if summaries else None
