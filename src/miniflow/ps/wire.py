"""The binary message format of the ``process`` backend (and of partition files).

Defined in :mod:`miniflow.core.wire` (moved there so that ``tf.train.Server`` uses the
same size-capped, pickle-free frames); re-exported here for the parameter server.
"""

from __future__ import annotations

from miniflow.core.wire import (
    DTYPES as DTYPES,
    MAGIC as MAGIC,
    MAX_BODY as MAX_BODY,
    MAX_HEADER as MAX_HEADER,
    decode_header as decode_header,
    encode as encode,
    read_frame as read_frame,
    recv_frame as recv_frame,
    send_frame as send_frame,
    write_frame as write_frame,
)

__all__ = [
    "MAGIC",
    "encode",
    "decode_header",
    "read_frame",
    "write_frame",
    "recv_frame",
    "send_frame",
    "DTYPES",
    "MAX_BODY",
]
