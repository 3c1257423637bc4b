"""`tf.summary.tensor_summary` and `tf.summary.audio`: summaries of a whole tensor (as a
TensorProto) and of audio clips (16-bit PCM WAV), in TF's encodings."""

from __future__ import annotations

import struct

import numpy as np

from miniflow import dtypes, errors
from miniflow.core.registry import not_differentiable, register_op
from miniflow.ops.summary_ops import _string_scalar, _summary, summary_pb2

_ENUM = {
    "float32": "DT_FLOAT",
    "float64": "DT_DOUBLE",
    "float16": "DT_HALF",
    "int8": "DT_INT8",
    "int16": "DT_INT16",
    "int32": "DT_INT32",
    "int64": "DT_INT64",
    "uint8": "DT_UINT8",
    "uint16": "DT_UINT16",
    "bool": "DT_BOOL",
    "string": "DT_STRING",
    "complex64": "DT_COMPLEX64",
    "complex128": "DT_COMPLEX128",
}


def tensor_proto(value):
    """A TensorProto of ``value`` as TF writes it (``tensor_content`` little-endian bytes;
    strings in ``string_val``)."""
    from tensorboardX.proto import tensor_pb2, tensor_shape_pb2

    arr = np.asarray(value)
    dt = dtypes.string if arr.dtype.kind in "OSU" else dtypes.as_dtype(arr.dtype)
    shape = tensor_shape_pb2.TensorShapeProto(
        dim=[tensor_shape_pb2.TensorShapeProto.Dim(size=d) for d in arr.shape]
    )
    if dt == dtypes.string:
        return tensor_pb2.TensorProto(
            dtype="DT_STRING",
            tensor_shape=shape,
            string_val=[v if isinstance(v, bytes) else str(v).encode() for v in arr.ravel()],
        )
    if dt.name not in _ENUM:
        raise errors.InvalidArgumentError(
            None, None, f"tensor_summary: unsupported dtype {dt.name}"
        )
    content = np.ascontiguousarray(arr, dtype=arr.dtype.newbyteorder("<")).tobytes()
    return tensor_pb2.TensorProto(dtype=_ENUM[dt.name], tensor_shape=shape, tensor_content=content)


def _string(data: bytes):
    """A 0-d string value (an object array: a ``np.bytes_`` would drop trailing zero bytes,
    and a serialized Summary can end in one)."""
    out = np.empty((), dtype=object)
    out[()] = data
    return out


@register_op("TensorSummaryV2", infer=_string_scalar)
def _tensor_summary(tensor, tag="", metadata=b""):
    pb = summary_pb2()
    meta = pb.SummaryMetadata.FromString(metadata)
    return _string(
        pb.Summary(
            value=[pb.Summary.Value(tag=tag, tensor=tensor_proto(tensor), metadata=meta)]
        ).SerializeToString()
    )


def wav(samples, sample_rate) -> bytes:
    """16-bit PCM WAV of float ``samples`` [frames, channels] in [-1, 1] (TF's rounding
    and clipping)."""
    x = np.asarray(samples, dtype=np.float64) * 32768.0
    pcm = np.clip(np.sign(x) * np.floor(np.abs(x) + 0.5), -32768, 32767).astype("<i2")
    frames, channels = pcm.shape
    data = pcm.tobytes()
    rate = int(sample_rate)
    header = struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF",
        36 + len(data),
        b"WAVE",
        b"fmt ",
        16,
        1,
        channels,
        rate,
        rate * channels * 2,
        channels * 2,
        16,
        b"data",
        len(data),
    )
    return header + data


@register_op("AudioSummaryV2", infer=_string_scalar)
def _audio_summary(tensor, tag="", sample_rate=1.0, max_outputs=3):
    clips = np.asarray(tensor, dtype=np.float32)
    if clips.ndim == 2:
        clips = clips[:, :, None]
    if clips.ndim != 3:
        raise errors.InvalidArgumentError(
            None, None, f"Tensor must be 3-D or 2-D, got: {list(clips.shape)}"
        )
    rate = float(sample_rate)
    if rate <= 0:
        raise errors.InvalidArgumentError(None, None, f"sample_rate must be > 0, got {rate}")
    pb = summary_pb2()
    n = min(max_outputs, clips.shape[0])
    values = []
    for i in range(n):
        audio = pb.Summary.Audio(
            sample_rate=rate,
            num_channels=clips.shape[2],
            length_frames=clips.shape[1],
            content_type="audio/wav",
            encoded_audio_string=wav(clips[i], rate),
        )
        values.append(
            pb.Summary.Value(
                tag=f"{tag}/audio" if max_outputs == 1 else f"{tag}/audio/{i}", audio=audio
            )
        )
    return _string(pb.Summary(value=values).SerializeToString())


not_differentiable("TensorSummaryV2", "AudioSummaryV2")


def tensor_summary(
    name,
    tensor,
    summary_description=None,
    collections=None,
    summary_metadata=None,
    family=None,
    display_name=None,
):
    """A summary op holding the whole ``tensor`` (a TensorProto) under tag ``name``.
    ``tf.summary.tensor_summary(name, tensor, summary_description=None, collections=None,
    summary_metadata=None, family=None, display_name=None)``"""
    meta = summary_metadata if summary_metadata is not None else summary_pb2().SummaryMetadata()
    if display_name is not None:
        meta.display_name = display_name
    if summary_description is not None:
        meta.summary_description = summary_description
    return _summary(
        "TensorSummaryV2", name, tensor, collections, family, metadata=meta.SerializeToString()
    )


def audio(name, tensor, sample_rate, max_outputs=3, collections=None, family=None):
    """A summary op writing up to ``max_outputs`` clips of ``tensor`` ([batch, frames,
    channels] or [batch, frames], floats in [-1, 1]) as WAV; tags ``name/audio/i``
    (``name/audio`` when ``max_outputs`` is 1). ``sample_rate`` must be a Python number
    here (TF also takes a tensor).
    ``tf.summary.audio(name, tensor, sample_rate, max_outputs=3, collections=None,
    family=None)``

    Raises:
        TypeError: ``sample_rate`` is not a number.
    """
    if not isinstance(sample_rate, (int, float, np.integer, np.floating)):
        raise TypeError(
            f"tf.summary.audio: sample_rate must be a number in miniflow, got "
            f"{type(sample_rate).__name__}"
        )
    return _summary(
        "AudioSummaryV2",
        name,
        tensor,
        collections,
        family,
        sample_rate=float(sample_rate),
        max_outputs=int(max_outputs),
    )
