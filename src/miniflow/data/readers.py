"""File readers: `TFRecordDataset`, `FixedLengthRecordDataset`, `TextLineDataset`,
`CsvDataset` and `SqlDataset` (SQLite), and the dataset `TFRecordWriter`. Records stream
from disk; nothing is read before iteration, and a corrupt or truncated record is a
`DataLossError`."""

from __future__ import annotations

import contextlib
import gzip

import numpy as np

from miniflow import dtypes, errors
from miniflow.core import tfrecord
from miniflow.core.dispatch import apply_op
from miniflow.core.registry import not_differentiable, register_op
from miniflow.core.shapes import TensorShape
from miniflow.core.values import as_array
from miniflow.data.dataset_ops import Dataset
from miniflow.data.sources import _component
from miniflow.data.structure import TensorSpec
from miniflow.graph.operation import Tensor
from miniflow.ops.parsing_ops import _decode_csv

_SCALAR_STRING = [TensorSpec(dtypes.string, TensorShape([]))]


class _FileDataset(Dataset):
    """A source reading one or more files in order (or ``num_parallel_reads`` at a time,
    one record from each in turn, as TF's deterministic parallel interleave)."""

    def __init__(self, filenames, num_parallel_reads=None, compression_type=None):
        if isinstance(filenames, Dataset):
            self._files, self._file_ds = None, filenames
        else:
            self._files, self._file_ds = _component(filenames), None
        if (
            self._files is not None
            and not isinstance(self._files, Tensor)
            and self._files.dtype != object
            and self._files.dtype.kind not in "SU"
        ):
            raise TypeError(
                f"`filenames` must be a string or a list of strings, got {self._files.dtype}."
            )
        self._parallel = int(num_parallel_reads or 1)
        self._compression = tfrecord.TFRecordOptions(compression_type or None).compression_type

    def _inputs(self):
        return [self._file_ds] if self._file_ds is not None else []

    def _own_captured(self):
        return [self._files] if isinstance(self._files, Tensor) else []

    def _paths(self, ctx):
        if self._file_ds is not None:
            names = (e[0] for e in self._file_ds._iter(ctx))
        else:
            files = ctx["values"][self._files] if isinstance(self._files, Tensor) else self._files
            names = np.asarray(files, dtype=object).ravel()
        for name in names:
            yield name.decode() if isinstance(name, bytes) else str(name)

    def _iter(self, ctx):
        readers = (self._read(p, ctx) for p in self._paths(ctx))
        if self._parallel <= 1:
            for r in readers:
                yield from r
        else:
            yield from _interleave(readers, self._parallel)

    def _read(self, path, ctx):
        raise NotImplementedError


def _interleave(sources, cycle):
    """One element from each of ``cycle`` open sources in turn; an exhausted slot is
    refilled from ``sources`` when the cycle reaches it (TF's interleave order)."""
    slots, i, exhausted = [None] * cycle, 0, False
    while True:
        if slots[i] is None and not exhausted:
            slots[i] = next(sources, None)
            exhausted = slots[i] is None
        if slots[i] is not None:
            element = next(slots[i], None)
            if element is None:
                slots[i] = None
            else:
                yield element
        elif exhausted and all(s is None for s in slots):
            return
        i = (i + 1) % cycle


@contextlib.contextmanager
def _open(path, compression):
    """The file's (decompressed) byte stream; the file is closed on exit."""
    try:
        raw = open(path, "rb")  # noqa: SIM115 (closed below)
    except FileNotFoundError:
        raise errors.NotFoundError(None, None, f"{path}; No such file or directory") from None
    with raw:
        if compression == "GZIP":
            yield gzip.GzipFile(fileobj=raw, mode="rb")
        elif compression == "ZLIB":
            yield tfrecord._ZlibReader(raw)
        else:
            yield raw


class TFRecordDataset(_FileDataset):
    """The records of TFRecord files, as scalar strings.

    ``tf.data.TFRecordDataset(filenames, compression_type=None, buffer_size=None,
    num_parallel_reads=None)``
    """

    def __init__(
        self, filenames, compression_type=None, buffer_size=None, num_parallel_reads=None, name=None
    ):
        super().__init__(filenames, num_parallel_reads, compression_type)
        self._template, self._specs = None, _SCALAR_STRING

    def _read(self, path, ctx):
        for record in tfrecord.tf_record_iterator(path, self._compression or None):
            yield [record]


class FixedLengthRecordDataset(_FileDataset):
    """Fixed-size records of binary files, after ``header_bytes`` and before
    ``footer_bytes``.

    ``tf.data.FixedLengthRecordDataset(filenames, record_bytes, header_bytes=None,
    footer_bytes=None, buffer_size=None, compression_type=None, num_parallel_reads=None)``
    """

    def __init__(
        self,
        filenames,
        record_bytes,
        header_bytes=None,
        footer_bytes=None,
        buffer_size=None,
        compression_type=None,
        num_parallel_reads=None,
        name=None,
    ):
        super().__init__(filenames, num_parallel_reads, compression_type)
        self._record, self._header = int(record_bytes), int(header_bytes or 0)
        self._footer = int(footer_bytes or 0)
        if self._record <= 0 or self._header < 0 or self._footer < 0:
            raise errors.InvalidArgumentError(
                None, None, "record_bytes must be positive and header/footer bytes non-negative."
            )
        self._template, self._specs = None, _SCALAR_STRING

    def _read(self, path, ctx):
        with _open(path, self._compression) as fh:

            def read(n, fh=fh):
                return tfrecord._read(fh, n)

            if len(read(self._header)) < self._header:
                raise errors.DataLossError(
                    None, None, f"{path}: shorter than its header ({self._header} bytes)"
                )
            # Keep ``footer`` bytes of look-ahead: a record is emitted only once the bytes
            # after it prove it is not part of the footer.
            buf = read(self._record + self._footer)
            while len(buf) >= self._record + self._footer:
                yield [buf[: self._record]]
                buf = buf[self._record :] + read(self._record)
            if len(buf) != self._footer:  # TF: InvalidArgumentError
                raise errors.InvalidArgumentError(
                    None,
                    None,
                    f"{path}: {len(buf) - self._footer} bytes left after the last "
                    f"record; the body is not a multiple of record_bytes={self._record}",
                )


class TextLineDataset(_FileDataset):
    """The lines of text files, without their line endings, as scalar strings.

    ``tf.data.TextLineDataset(filenames, compression_type=None, buffer_size=None,
    num_parallel_reads=None)``
    """

    def __init__(
        self, filenames, compression_type=None, buffer_size=None, num_parallel_reads=None, name=None
    ):
        super().__init__(filenames, num_parallel_reads, compression_type)
        self._template, self._specs = None, _SCALAR_STRING

    def _read(self, path, ctx):
        with _open(path, self._compression) as fh:
            for line in _lines(fh, keep_empty=True):
                yield [line]


def _csv_default(d, k):
    """(dtype, default array) of one ``record_defaults`` entry: a dtype means required."""
    if isinstance(d, dtypes.DType) or (isinstance(d, type) and issubclass(d, np.generic)):
        dt = dtypes.as_dtype(d)
        return dt, np.zeros([0], dtype=object if dt == dtypes.string else dt.np)
    value = _component(d)
    if isinstance(value, Tensor):  # read when iteration starts
        return value.dtype, value
    if value.dtype == object or value.dtype.kind in "SU":
        return dtypes.string, np.asarray(value, dtype=object).reshape(-1)
    return dtypes.as_dtype(value.dtype), value.reshape(-1)


class CsvDataset(_FileDataset):
    """The rows of CSV files, one scalar per selected column.

    ``tf.data.experimental.CsvDataset(filenames, record_defaults, compression_type=None,
    buffer_size=None, header=False, field_delim=',', use_quote_delim=True, na_value='',
    select_cols=None, exclude_cols=None)``
    """

    def __init__(
        self,
        filenames,
        record_defaults,
        compression_type=None,
        buffer_size=None,
        header=False,
        field_delim=",",
        use_quote_delim=True,
        na_value="",
        select_cols=None,
        exclude_cols=None,
        name=None,
    ):
        super().__init__(filenames, compression_type=compression_type)
        if select_cols is not None and exclude_cols is not None:
            raise ValueError("Either select_cols or exclude_cols should be set, not both.")
        self._defaults = [_csv_default(d, k) for k, d in enumerate(record_defaults)]
        if select_cols is not None and len(select_cols) != len(self._defaults):
            raise ValueError("Length of select_cols and record_defaults do not match.")
        self._select, self._exclude = select_cols, exclude_cols
        self._header, self._delim, self._quote = bool(header), field_delim, use_quote_delim
        self._na = na_value
        self._template = tuple([None] * len(self._defaults))
        self._tensors = [d for _, d in self._defaults if isinstance(d, Tensor)]
        self._specs = [TensorSpec(dt, TensorShape([])) for dt, _ in self._defaults]

    def _own_captured(self):
        return super()._own_captured() + self._tensors

    def _columns(self, fields: int):
        if self._select is not None:
            return tuple(int(c) for c in self._select)
        excluded = set(self._exclude or ())
        return tuple(c for c in range(fields) if c not in excluded)

    def _read(self, path, ctx):
        types = tuple(dt.name for dt, _ in self._defaults)
        defaults = [
            np.asarray(ctx["values"][d]).reshape(-1) if isinstance(d, Tensor) else d
            for _, d in self._defaults
        ]
        with _open(path, self._compression) as fh:
            for k, line in enumerate(_lines(fh)):
                if k == 0 and self._header:
                    continue
                if self._exclude is None and self._select is None:
                    select = None
                else:
                    n = line.count(self._delim.encode()) + 1
                    select = self._columns(n)
                    if len(select) != len(defaults):
                        raise errors.InvalidArgumentError(
                            None,
                            None,
                            f"{path}: record {k} has {n} fields; after "
                            f"exclude_cols {len(select)} remain, expected {len(defaults)}.",
                        )
                out = _decode_csv(
                    np.array(line, dtype=object),
                    *defaults,
                    types=types,
                    field_delim=self._delim,
                    use_quote_delim=self._quote,
                    na_value=self._na,
                    select_cols=select,
                )
                yield [v[()] for v in out]


def _lines(fh, keep_empty=False):
    """Lines without their endings (\\n or \\r\\n), read in bounded chunks; empty lines
    are skipped unless ``keep_empty`` (TF's CSV reader skips them, its text reader not)."""
    rest = b""
    while True:
        chunk = tfrecord._read(fh, 1 << 16)
        if not chunk:
            break
        parts = (rest + chunk).split(b"\n")
        rest = parts.pop()
        for p in parts:
            p = p[:-1] if p.endswith(b"\r") else p
            if p or keep_empty:
                yield p
    rest = rest[:-1] if rest.endswith(b"\r") else rest
    if rest:
        yield rest


class SqlDataset(Dataset):
    """The rows a SQL query returns, one scalar per column (SQLite, via ``sqlite3``).

    ``tf.data.experimental.SqlDataset(driver_name, data_source_name, query,
    output_types)``
    """

    def __init__(self, driver_name, data_source_name, query, output_types):
        if driver_name != "sqlite":
            raise errors.InvalidArgumentError(
                None, None, f"The database type, {driver_name}, is not supported."
            )
        self._source, self._query = data_source_name, query
        from miniflow.data import structure

        self._template = structure.template(output_types)
        self._specs = [
            TensorSpec(dtypes.as_dtype(t), TensorShape([])) for t in structure.flatten(output_types)
        ]

    def _iter(self, ctx):
        import sqlite3

        try:
            conn = sqlite3.connect(f"file:{self._source}?mode=ro", uri=True)
        except sqlite3.Error as e:
            raise errors.NotFoundError(None, None, f"{self._source}: {e}") from None
        try:
            cursor = conn.execute(self._query)
            if len(cursor.description) != len(self._specs):
                raise errors.InvalidArgumentError(
                    None,
                    None,
                    f"The number of columns in the query ({len(cursor.description)})"
                    f" must match the number of output types ({len(self._specs)}).",
                )
            for row in cursor:
                yield [_sql_value(v, s.dtype) for v, s in zip(row, self._specs)]
        except sqlite3.Error as e:
            raise errors.InvalidArgumentError(None, None, f"SQLite error: {e}") from None
        finally:
            conn.close()


def _sql_value(value, dtype):
    if dtype == dtypes.string:
        return value if isinstance(value, bytes) else str(value).encode()
    if value is None:
        raise errors.InvalidArgumentError(
            None, None, f"SqlDataset: a NULL value where a {dtype.name} was expected."
        )
    return as_array(value, dtype)


@register_op("DatasetToTFRecord", num_outputs=0, writes=True, exportable=False)
def _dataset_to_tfrecord(*captured, dataset=None, filename="", compression_type=""):
    with tfrecord.TFRecordWriter(filename, compression_type or None) as writer:
        for element in dataset._generate(captured):
            writer.write(element[0])
    return ()


not_differentiable("DatasetToTFRecord")


class TFRecordWriter:
    """`tf.data.experimental.TFRecordWriter(filename, compression_type=None)`: ``write``
    writes a dataset of scalar strings to a TFRecord file (an op in graph mode)."""

    def __init__(self, filename, compression_type=None):
        self._filename = filename
        self._compression = tfrecord.TFRecordOptions(compression_type or None).compression_type

    def write(self, dataset):
        if (
            len(dataset._specs) != 1
            or dataset._specs[0].dtype != dtypes.string
            or dataset._specs[0].shape.ndims not in (0, None)
        ):
            raise TypeError(
                f"Invalid `dataset.` Expected a `dataset` that produces scalar "
                f"`tf.string` elements, but got a dataset which produces "
                f"elements of type {dataset.output_types} and shape "
                f"{dataset.output_shapes}."
            )
        return apply_op(
            "DatasetToTFRecord",
            *dataset._captured(),
            dataset=dataset,
            filename=self._filename,
            compression_type=self._compression,
            name="DatasetToTFRecord",
        )
