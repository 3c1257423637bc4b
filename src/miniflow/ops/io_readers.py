"""Readers (`tf.TextLineReader`, `TFRecordReader`, `WholeFileReader`, ...): each `read`
takes the next record of the current *work unit* (a file name dequeued from a queue of
strings), moving to the next file name when one is exhausted.

A reader's position is session state (one per reader per session, like a variable's
value); its ops take the reader's handle and the queue's handle as inputs, as in TF.
Threads sharing a reader are served one at a time.
"""

from __future__ import annotations

import threading

import numpy as np

from miniflow import dtypes as _dtypes, errors
from miniflow.core import tfrecord
from miniflow.core.dispatch import apply_op, current_frontend
from miniflow.core.registry import not_differentiable, register_op
from miniflow.graph.session import run_deadline
from miniflow.ops import array_ops
from miniflow.ops.data_flow_ops import queue_from_handle


class _ReaderState:
    """The work unit in progress and the records left in it."""

    def __init__(self, records):
        self.records = records  # work (str) -> iterator of (key bytes, value bytes)
        self.lock = threading.Lock()
        self.work = None
        self.it = None
        self.produced = 0
        self.completed = 0

    def reset(self):
        with self.lock:
            self.work, self.it, self.produced, self.completed = None, None, 0, 0

    def _next_work(self, queue):
        (work,) = queue.dequeue(1, deadline=run_deadline())[0]
        work = work[()] if isinstance(work, np.ndarray) else work
        self.work = work.decode() if isinstance(work, bytes) else str(work)
        self.it = self.records(self.work)

    def read(self, queue, n):
        """Up to ``n`` records of one work unit (fewer at its end)."""
        keys, values = [], []
        with self.lock:
            while len(keys) < n:
                if self.it is None:
                    try:
                        self._next_work(queue)
                    except errors.OutOfRangeError:
                        if keys:
                            break
                        raise
                record = next(self.it, None)
                if record is None:  # a batch never spans two work units (as in TF)
                    self.it, self.work = None, None
                    self.completed += 1
                    if keys:
                        break
                    continue
                keys.append(record[0])
                values.append(record[1])
                self.produced += 1
        return keys, values


def _handle_infer(inputs, attrs):
    return [((), _dtypes.resource)]


def _reader_state(**kw):
    return dict(
        stateful=True,
        make_state=lambda attrs: _ReaderState(attrs["reader"]._records),
        state_key=lambda attrs: attrs["reader"],
        exportable=False,
        **kw,
    )


_READERS = (
    "WholeFileReaderV2",
    "TextLineReaderV2",
    "TFRecordReaderV2",
    "FixedLengthRecordReaderV2",
    "IdentityReaderV2",
)
for _type in _READERS:
    register_op(_type, infer=_handle_infer, **_reader_state())(lambda state: state)


def _scalar_strings(inputs, attrs):
    return [((), _dtypes.string), ((), _dtypes.string)]


def _vector_strings(inputs, attrs):
    return [((None,), _dtypes.string), ((None,), _dtypes.string)]


@register_op("ReaderReadV2", num_outputs=2, infer=_scalar_strings, **_reader_state())
def _read(state, handle, queue_handle):
    keys, values = state.read(queue_from_handle(queue_handle), 1)
    return np.array(keys[0], dtype=object), np.array(values[0], dtype=object)


@register_op("ReaderReadUpToV2", num_outputs=2, infer=_vector_strings, **_reader_state())
def _read_up_to(state, handle, queue_handle, num_records):
    n = int(num_records)
    if n <= 0:
        raise errors.InvalidArgumentError(None, None, f"num_records ({n}) must be > 0")
    keys, values = state.read(queue_from_handle(queue_handle), n)
    return np.array(keys, dtype=object), np.array(values, dtype=object)


@register_op(
    "ReaderNumRecordsProducedV2", infer=lambda i, a: [((), _dtypes.int64)], **_reader_state()
)
def _num_records(state, handle):
    return np.int64(state.produced)


@register_op(
    "ReaderNumWorkUnitsCompletedV2", infer=lambda i, a: [((), _dtypes.int64)], **_reader_state()
)
def _num_work_units(state, handle):
    return np.int64(state.completed)


@register_op("ReaderResetV2", num_outputs=0, **_reader_state())
def _reset(state, handle):
    state.reset()
    return ()


not_differentiable(
    *_READERS,
    "ReaderReadV2",
    "ReaderReadUpToV2",
    "ReaderNumRecordsProducedV2",
    "ReaderNumWorkUnitsCompletedV2",
    "ReaderResetV2",
)


def _open(path):
    try:
        return open(path, "rb")  # noqa: SIM115  closed by the generators using it
    except FileNotFoundError:
        raise errors.NotFoundError(None, None, f"{path}; No such file or directory") from None


class ReaderBase:
    """Base class for readers (`tf.ReaderBase`): `read` / `read_up_to` records from the
    work units (file names) of a queue."""

    _op_type = ""

    def __init__(self, reader_ref=None, supports_serialize=False, name=None):
        if current_frontend().eager:
            raise RuntimeError(
                "Readers are either not supported or not supported when "
                "eager execution is enabled. Instead, please use tf.data to "
                "get data into your model."
            )
        self._supports_serialize = supports_serialize
        self._reader_ref = apply_op(self._op_type, reader=self, name=name)

    @property
    def reader_ref(self):
        return self._reader_ref

    @property
    def supports_serialize(self) -> bool:
        return self._supports_serialize

    def _records(self, work):
        raise NotImplementedError

    @staticmethod
    def _queue_ref(queue):
        return queue if hasattr(queue, "op") else queue.queue_ref

    def read(self, queue, name=None):
        """The next (key, value) record, dequeuing a work unit from ``queue`` when needed."""
        return apply_op(
            "ReaderReadV2", self._reader_ref, self._queue_ref(queue), reader=self, name=name
        )

    def read_up_to(self, queue, num_records, name=None):
        """Up to ``num_records`` (keys, values), as two string vectors."""
        n = array_ops.convert_to_tensor(num_records, dtype=_dtypes.int64)
        return apply_op(
            "ReaderReadUpToV2", self._reader_ref, self._queue_ref(queue), n, reader=self, name=name
        )

    def num_records_produced(self, name=None):
        return apply_op("ReaderNumRecordsProducedV2", self._reader_ref, reader=self, name=name)

    def num_work_units_completed(self, name=None):
        return apply_op("ReaderNumWorkUnitsCompletedV2", self._reader_ref, reader=self, name=name)

    def reset(self, name=None):
        """Restores the reader to its initial clean state."""
        return apply_op("ReaderResetV2", self._reader_ref, reader=self, name=name)

    def serialize_state(self, name=None):
        raise errors.UnimplementedError(
            None, None, "Reader state serialization is not supported by miniflow"
        )

    def restore_state(self, state, name=None):
        raise errors.UnimplementedError(
            None, None, "Reader state serialization is not supported by miniflow"
        )


class WholeFileReader(ReaderBase):
    """Reads each file whole: key = file name, value = its contents."""

    _op_type = "WholeFileReaderV2"

    def __init__(self, name=None):
        super().__init__(supports_serialize=True, name=name)

    def _records(self, work):
        with _open(work) as fh:
            data = fh.read()
        yield work.encode(), data


class TextLineReader(ReaderBase):
    """Reads lines: key = ``"file:line number"`` (1-based), value = the line without its
    line break; the first ``skip_header_lines`` lines of each file are skipped."""

    _op_type = "TextLineReaderV2"

    def __init__(self, skip_header_lines=None, name=None):
        self._skip = int(skip_header_lines or 0)
        super().__init__(name=name)

    def _records(self, work):
        with _open(work) as fh:
            for i, line in enumerate(fh, start=1):
                if i <= self._skip:
                    continue
                if line.endswith(b"\n"):
                    line = line[:-1]
                    if line.endswith(b"\r"):
                        line = line[:-1]
                yield f"{work}:{i}".encode(), line


class TFRecordReader(ReaderBase):
    """Reads TFRecord files: key = ``"file:offset"`` of the record, value = the record."""

    _op_type = "TFRecordReaderV2"

    def __init__(self, name=None, options=None):
        self._options = options
        super().__init__(name=name)

    def _records(self, work):
        offset = 0
        for record in tfrecord.tf_record_iterator(work, self._options):
            yield f"{work}:{offset}".encode(), record
            offset += 16 + len(record)


class FixedLengthRecordReader(ReaderBase):
    """Reads records of ``record_bytes`` bytes after a ``header_bytes`` header, stopping
    before a ``footer_bytes`` footer; ``hop_bytes`` (if set) is the stride between record
    starts. Key = ``"file:record index"``."""

    _op_type = "FixedLengthRecordReaderV2"

    def __init__(
        self,
        record_bytes,
        header_bytes=None,
        footer_bytes=None,
        hop_bytes=None,
        name=None,
        encoding=None,
    ):
        if encoding:
            raise errors.UnimplementedError(
                None,
                None,
                f"FixedLengthRecordReader encoding {encoding!r} is not supported by miniflow",
            )
        self._record = int(record_bytes)
        self._header, self._footer = int(header_bytes or 0), int(footer_bytes or 0)
        self._hop = int(hop_bytes or 0) or self._record
        super().__init__(name=name)

    def _records(self, work):
        with _open(work) as fh:
            data = fh.read()
        end = len(data) - self._footer
        start, k = self._header, 0
        while start + self._record <= end:
            yield f"{work}:{k}".encode(), data[start : start + self._record]
            start += self._hop
            k += 1


class IdentityReader(ReaderBase):
    """Outputs each work unit itself as both key and value."""

    _op_type = "IdentityReaderV2"

    def __init__(self, name=None):
        super().__init__(supports_serialize=True, name=name)

    def _records(self, work):
        yield work.encode(), work.encode()
