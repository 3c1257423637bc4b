"""Summary ops: each evaluates to a serialized TensorBoard ``Summary`` protocol buffer
(bytes), as in TF. The protobuf classes come from tensorboardX (the optional
``tensorboard`` extra), imported when a summary is first computed."""

from __future__ import annotations

import math
import re
import struct
import zlib

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
            None,
            None,
            "TensorBoard summaries need the optional dependency tensorboardX: "
            "pip install 'miniflow[tensorboard]'",
        ) from None
    return summary_pb2


def _string_scalar(inputs, attrs):
    return [((), dtypes.string)]


@register_op("ScalarSummary", infer=_string_scalar)
def _scalar_summary(value, tag=""):
    value = np.asarray(value)
    if value.shape != ():
        raise errors.InvalidArgumentError(
            None,
            None,
            f"tags and values not the same shape: [] != {list(value.shape)} (tag '{tag}')",
        )
    pb = summary_pb2()
    return pb.Summary(
        value=[pb.Summary.Value(tag=tag, simple_value=float(value))]
    ).SerializeToString()


# TF's default histogram buckets: +-1e-12 * 1.1^k up to 1e20, zero, and DBL_MAX.
_POS = 1e-12 * 1.1 ** np.arange(int(math.log(1e32) / math.log(1.1)) + 1)
_POS = _POS[_POS < 1e20]
_LIMITS = np.concatenate([-_POS[::-1], [0.0], _POS, [np.finfo(np.float64).max]])


@register_op("HistogramSummary", infer=_string_scalar)
def _histogram_summary(values, tag=""):
    values = np.asarray(values, dtype=np.float64).ravel()
    if not np.all(np.isfinite(values)):
        raise errors.InvalidArgumentError(None, None, f"Nan in summary histogram for: {tag}")
    counts = np.bincount(np.searchsorted(_LIMITS, values, side="right"), minlength=len(_LIMITS))[
        : len(_LIMITS)
    ]
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
    histo = pb.HistogramProto(
        min=0.0 if empty else float(values.min()),
        max=0.0 if empty else float(values.max()),
        num=float(values.size),
        sum=float(values.sum()),
        sum_squares=float(values @ values),
        bucket_limit=limits,
        bucket=buckets,
    )
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
                raise errors.InvalidArgumentError(
                    None, None, f"Duplicate tag {v.tag} found in summary inputs"
                )
            seen.add(v.tag)
            merged.value.add().CopyFrom(v)
    return merged.SerializeToString()


@register_op("ImageSummary", infer=_string_scalar)
def _image_summary(images, tag="", max_images=3):
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[-1] not in (1, 3, 4):
        raise errors.InvalidArgumentError(
            None,
            None,
            f"Tensor must be 4-D with last dim 1, 3, or 4, not {list(images.shape)} (tag '{tag}')",
        )
    images = images[:max_images]
    pixels = images if images.dtype == np.uint8 else _to_uint8(images.astype(np.float64))
    pb = summary_pb2()
    values = []
    for i, img in enumerate(pixels):
        h, w, c = img.shape
        values.append(
            pb.Summary.Value(
                tag=f"{tag}/image" if max_images == 1 else f"{tag}/image/{i}",
                image=pb.Summary.Image(
                    height=h, width=w, colorspace=c, encoded_image_string=_png(img)
                ),
            )
        )
    return pb.Summary(value=values).SerializeToString()


def _to_uint8(x):
    """TF's rule: all non-negative -> scaled so the maximum is 255; otherwise shifted so
    0 is 127, then scaled so the minimum is 0 or the maximum 255."""
    if x.size == 0:
        return x.astype(np.uint8)
    if x.min() >= 0:
        scale = 255.0 / x.max() if x.max() > 0 else 0.0
        return np.round(x * scale).astype(np.uint8)
    scale = min(127.0 / -x.min(), 128.0 / x.max() if x.max() > 0 else np.inf)
    return np.clip(np.round(x * scale + 127.0), 0, 255).astype(np.uint8)


def _png(img) -> bytes:
    """A minimal PNG (8-bit gray / RGB / RGBA, no filtering)."""
    h, w, c = img.shape
    raw = b"".join(b"\x00" + np.ascontiguousarray(img[y]).tobytes() for y in range(h))

    def chunk(kind, data):
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", w, h, 8, {1: 0, 3: 2, 4: 6}[c], 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


@register_op("TextSummary", infer=_string_scalar)
def _text_summary(text, tag=""):
    from tensorboardX.proto import plugin_text_pb2, tensor_pb2, tensor_shape_pb2

    text = np.asarray(text, dtype=object)
    pb = summary_pb2()
    meta = pb.SummaryMetadata(
        plugin_data=pb.SummaryMetadata.PluginData(
            plugin_name="text",
            content=plugin_text_pb2.TextPluginData(version=0).SerializeToString(),
        )
    )
    shape = tensor_shape_pb2.TensorShapeProto(
        dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=d) for d in text.shape]
    )
    tensor = tensor_pb2.TensorProto(
        dtype="DT_STRING",
        tensor_shape=shape,
        string_val=[v if isinstance(v, bytes) else str(v).encode() for v in text.ravel()],
    )
    return pb.Summary(
        value=[pb.Summary.Value(tag=tag, metadata=meta, tensor=tensor)]
    ).SerializeToString()


not_differentiable(
    "ScalarSummary", "HistogramSummary", "MergeSummary", "ImageSummary", "TextSummary"
)


def _clean_tag(name):
    """TF's rule: characters other than letters, digits and ``_-/.`` become ``_``, and
    leading slashes go (``histogram(v.name, v)`` with ``'W1:0'`` writes ``'W1_0'``)."""
    return None if name is None else re.sub(r"[^-/\w.]", "_", name).lstrip("/")


def _summary(op_type, name, tensor, collections, family, **attrs):
    graph = get_default_graph()
    name, family = _clean_tag(name), _clean_tag(family)
    scoped = f"{family}/{name}" if family else name
    with graph.name_scope(scoped) as scope:
        tag = scope.rstrip("/")
        out = apply_op(op_type, tensor, tag=tag, name=scope, **attrs)
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


def image(name, tensor, max_outputs=3, collections=None, family=None):
    """A summary op writing up to ``max_outputs`` images of the 4-D ``tensor`` [batch,
    height, width, 1|3|4] as PNGs (uint8 as is; floats rescaled as TF does). Tags are
    ``name/image/i`` (``name/image`` when ``max_outputs`` is 1)."""
    return _summary("ImageSummary", name, tensor, collections, family, max_images=int(max_outputs))


def text(name, tensor, collections=None):
    """A summary op writing the string ``tensor`` for TensorBoard's text dashboard."""
    return _summary("TextSummary", name, tensor, collections, None)


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
