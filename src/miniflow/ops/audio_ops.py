"""`tf.audio`: 16-bit PCM WAV files to float32 samples in [-1, 1) and back, as TF does
(a sample s is stored as round(32768 * clip(s, -1, 1)), saturated to int16)."""

from __future__ import annotations

import collections
import struct

import numpy as np

from miniflow import dtypes, errors
from miniflow.core.dispatch import apply_op
from miniflow.core.registry import not_differentiable, register_op

DecodeWav = collections.namedtuple("DecodeWav", ["audio", "sample_rate"])


def _bad(message):
    return errors.InvalidArgumentError(None, None, message)


def _chunks(data: bytes):
    """(chunk id, payload) of a RIFF/WAVE file."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise _bad("Header mismatch: expected a RIFF/WAVE file")
    pos = 12
    while pos + 8 <= len(data):
        cid, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        yield cid, data[pos + 8 : pos + 8 + size]
        pos += 8 + size + (size & 1)  # chunks are padded to an even length


def _read_wav(data: bytes):
    fmt = samples = None
    for cid, payload in _chunks(data):
        if cid == b"fmt ":
            fmt = payload
        elif cid == b"data":
            samples = payload
    if fmt is None or samples is None or len(fmt) < 16:
        raise _bad("WAV file has no 'fmt ' or no 'data' chunk")
    kind, channels, rate, _, _, bits = struct.unpack("<HHIIHH", fmt[:16])
    if kind != 1 or bits != 16:
        raise _bad(f"Can only read 16-bit PCM WAV files, got format {kind} with {bits} bits")
    if channels < 1:
        raise _bad("WAV file has no channels")
    pcm = np.frombuffer(samples[: len(samples) // (2 * channels) * 2 * channels], "<i2")
    return pcm.reshape(-1, channels).astype(np.float32) / 32768.0, rate


def _decode_infer(inputs, attrs):
    samples, channels = attrs["desired_samples"], attrs["desired_channels"]
    return [
        ((samples if samples > 0 else None, channels if channels > 0 else None), dtypes.float32),
        ((), dtypes.int32),
    ]


@register_op("DecodeWav", infer=_decode_infer, num_outputs=2)
def _decode_wav(contents, desired_channels=-1, desired_samples=-1):
    data = contents.item() if isinstance(contents, np.ndarray) else contents
    audio, rate = _read_wav(bytes(data))
    if desired_channels > 0:  # more channels: the first; fewer: the last one repeated
        keep = np.minimum(np.arange(desired_channels), audio.shape[1] - 1)
        audio = audio[:, keep]
    if desired_samples > 0:
        audio = np.pad(
            audio[:desired_samples], ((0, max(0, desired_samples - audio.shape[0])), (0, 0))
        )
    return np.ascontiguousarray(audio, np.float32), np.int32(rate)


@register_op("EncodeWav", infer=lambda inputs, attrs: [((), dtypes.string)])
def _encode_wav(audio, sample_rate):
    audio = np.asarray(audio, np.float32)
    if audio.ndim != 2:
        raise _bad(f"audio must be 2-D [samples, channels], got shape {list(audio.shape)}")
    samples, channels = audio.shape
    pcm = np.clip(np.rint(np.clip(audio, -1.0, 1.0) * 32768.0), -32768, 32767).astype("<i2")
    rate = int(sample_rate)
    body = pcm.tobytes()
    header = struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF",
        36 + len(body),
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
        len(body),
    )
    return np.array(header + body, dtype=object)


not_differentiable("DecodeWav", "EncodeWav")


def decode_wav(contents, desired_channels=-1, desired_samples=-1, name=None):
    """(audio float32 [samples, channels] in [-1, 1), sample_rate int32) of a 16-bit PCM
    WAV file's bytes; ``desired_*`` > 0 trims or pads (zeros, or the last channel)."""
    audio, rate = apply_op(
        "DecodeWav",
        contents,
        desired_channels=int(desired_channels),
        desired_samples=int(desired_samples),
        name=name,
    )
    return DecodeWav(audio, rate)


def encode_wav(audio, sample_rate, name=None):
    """The bytes of a 16-bit PCM WAV file of float32 ``audio`` [samples, channels]."""
    return apply_op("EncodeWav", audio, sample_rate, name=name)
