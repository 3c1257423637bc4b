"""`tf.train.summary_iterator`: reads the `Event` records of an event file, checking each
record's CRC32C as TensorFlow's record reader does."""

from __future__ import annotations

import os
import struct

from miniflow import errors
from miniflow.summary.writer import _tbx


def summary_iterator(path):
    """Yields the ``Event`` protocol buffers of the event file ``path`` in order.

    Raises:
        NotFoundError: no such file.
        DataLossError: a record is truncated or fails its checksum.

    Example:
        >>> for event in tf.train.summary_iterator(path):
        ...     for v in event.summary.value: print(event.step, v.tag, v.simple_value)
    """
    from tensorboardX.record_writer import masked_crc32c

    event_pb2 = _tbx()[1]
    path = os.fspath(path)
    try:
        fh = open(path, "rb")
    except FileNotFoundError:
        raise errors.NotFoundError(None, None, f"{path}; No such file or directory") from None
    with fh:
        offset = 0
        while True:
            header = fh.read(12)
            if not header:
                return
            if len(header) < 12:
                raise _corrupt(path, offset, "truncated record header")
            (length,), (length_crc,) = (
                struct.unpack("<Q", header[:8]),
                struct.unpack("<I", header[8:]),
            )
            if masked_crc32c(header[:8]) != length_crc:
                raise _corrupt(path, offset, "corrupted record length")
            data, footer = fh.read(length), fh.read(4)
            if len(data) < length or len(footer) < 4:
                raise _corrupt(path, offset, "truncated record")
            if masked_crc32c(data) != struct.unpack("<I", footer)[0]:
                raise _corrupt(path, offset, "corrupted record data")
            event = event_pb2.Event()
            event.ParseFromString(data)
            yield event
            offset += 16 + length


def _corrupt(path, offset, what) -> errors.DataLossError:
    return errors.DataLossError(None, None, f"{path}: {what} at offset {offset}")
