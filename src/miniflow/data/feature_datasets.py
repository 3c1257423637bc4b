"""Pipelines built from the readers, as TF builds them: `Dataset.list_files`,
`parse_example_dataset`, `make_batched_features_dataset` and `make_csv_dataset`
(with TF's column type inference)."""

from __future__ import annotations

import collections
import glob

import numpy as np

from miniflow import dtypes, errors
from miniflow.core.shapes import TensorShape
from miniflow.data.dataset_ops import Dataset
from miniflow.data.readers import CsvDataset, TFRecordDataset, _lines, _open
from miniflow.data.registry import provides
from miniflow.data.sources import _component
from miniflow.data.structure import TensorSpec
from miniflow.graph.operation import Tensor
from miniflow.ops import example_parsing_ops


class _ListFiles(Dataset):
    """The files matching the patterns, found when iteration starts (sorted)."""

    def __init__(self, patterns):
        self._patterns = _component(patterns)
        self._template, self._specs = None, [TensorSpec(dtypes.string, TensorShape([]))]

    def _own_captured(self):
        return [self._patterns] if isinstance(self._patterns, Tensor) else []

    def _iter(self, ctx):
        patterns = (
            ctx["values"][self._patterns] if isinstance(self._patterns, Tensor) else self._patterns
        )
        patterns = [
            p.decode() if isinstance(p, bytes) else str(p)
            for p in np.asarray(patterns, dtype=object).ravel()
        ]
        found = sorted({f for p in patterns for f in glob.glob(p)})
        if not found:
            raise errors.InvalidArgumentError(
                None, None, f"No files matched pattern: {', '.join(patterns)}"
            )
        for f in found:
            yield [f.encode()]


@provides
def list_files(file_pattern, shuffle=None, seed=None):
    """`Dataset.list_files`: matching file names, shuffled (all of them) unless
    ``shuffle=False``."""
    ds = _ListFiles(file_pattern)
    return ds if shuffle is False else ds.shuffle(1 << 62, seed=seed)  # the whole list


def parse_example_dataset(features, num_parallel_calls=1, deterministic=None):
    """A transformation for `Dataset.apply`: each element (a vector of serialized
    `tf.train.Example`s) parsed into a dict of tensors and SparseTensors."""
    return lambda dataset: dataset.map(
        lambda serialized: example_parsing_ops.parse_example(serialized, features)
    )


def _files(file_pattern, shuffle, seed):
    if isinstance(file_pattern, Dataset):
        return file_pattern
    return list_files(file_pattern, shuffle=shuffle, seed=seed)


def _read_files(files, reader, reader_args, num_threads):
    if num_threads in (None, 1):
        return files.flat_map(lambda f: reader(f, *reader_args))
    return files.interleave(
        lambda f: reader(f, *reader_args), cycle_length=num_threads, block_length=1
    )


def make_batched_features_dataset(
    file_pattern,
    batch_size,
    features,
    reader=None,
    label_key=None,
    reader_args=None,
    num_epochs=None,
    shuffle=True,
    shuffle_buffer_size=10000,
    shuffle_seed=None,
    prefetch_buffer_size=None,
    reader_num_threads=None,
    parser_num_threads=None,
    sloppy_ordering=False,
    drop_final_batch=False,
):
    """Batches of parsed `tf.train.Example`s read from the files matching
    ``file_pattern`` (a dict of features, or ``(features, label)`` with ``label_key``)."""
    ds = _files(file_pattern, shuffle, shuffle_seed)
    ds = _read_files(ds, reader or TFRecordDataset, reader_args or [], reader_num_threads)
    if ds.output_types == (dtypes.string, dtypes.string):  # (key, value) readers
        ds = ds.map(lambda _, v: v)
    if shuffle:
        ds = ds.shuffle(shuffle_buffer_size, seed=shuffle_seed)
    ds = ds.repeat(num_epochs)
    ds = ds.batch(batch_size, drop_remainder=drop_final_batch or num_epochs is None)
    ds = ds.apply(parse_example_dataset(features))
    if label_key is not None:
        if label_key not in features:
            raise ValueError(
                f"The `label_key` provided ({label_key}) must be one of the `features` keys."
            )
        ds = ds.map(lambda x: (x, x.pop(label_key)))
    return ds


_INFER_ORDER = (dtypes.int32, dtypes.int64, dtypes.float32, dtypes.float64, dtypes.string)


def _infer_type(text, na_value, current):
    """The first of TF's CSV types (int32, int64, float32, float64, string), from
    ``current`` on, that holds ``text`` (as TF: NaN and overflowing floats are strings)."""
    if text in ("", na_value):
        return current
    for dt in _INFER_ORDER[_INFER_ORDER.index(current) if current else 0 :]:
        try:
            with np.errstate(over="ignore"):
                if dt.is_integer:
                    if np.int64(text) == dt.as_numpy_dtype(text):
                        return dt
                elif dt == dtypes.string or dt.as_numpy_dtype(text) < np.inf:
                    return dt
        except (ValueError, OverflowError):
            continue
    return dtypes.string


def _first_file(file_pattern):
    if isinstance(file_pattern, str | bytes):
        file_pattern = [file_pattern]
    names = sorted(
        {f for p in file_pattern for f in glob.glob(p.decode() if isinstance(p, bytes) else p)}
    )
    if not names:
        raise ValueError(f"No files match `file_pattern` {file_pattern}.")
    return names


def _rows(path, compression, delim, limit):
    from miniflow.ops.parsing_ops import _csv_fields

    with _open(path, compression) as fh:
        for k, line in enumerate(_lines(fh)):
            if k >= limit:
                return
            yield [f.decode() for f in _csv_fields(line, delim.encode(), True, k)]


def make_csv_dataset(
    file_pattern,
    batch_size,
    column_names=None,
    column_defaults=None,
    label_name=None,
    select_columns=None,
    field_delim=",",
    use_quote_delim=True,
    na_value="",
    header=True,
    num_epochs=None,
    shuffle=True,
    shuffle_buffer_size=10000,
    shuffle_seed=None,
    prefetch_buffer_size=None,
    num_parallel_reads=None,
    sloppy=False,
    num_rows_for_inference=100,
    compression_type=None,
    ignore_errors=False,
    encoding="utf-8",
):
    """Batches of ``(features, label)`` read from CSV files: ``features`` maps column
    names to batched columns; column types come from ``column_defaults`` or are
    inferred from the first ``num_rows_for_inference`` rows."""
    from miniflow.core.tfrecord import TFRecordOptions

    compression = TFRecordOptions(compression_type or None).compression_type
    names = _first_file(file_pattern)
    if column_names is None:
        if not header:
            raise ValueError("Expected `column_names` or `header` arguments. Neither was provided.")
        column_names = next(_rows(names[0], compression, field_delim, 1), None) or []
    column_names = list(column_names)
    if len(set(column_names)) != len(column_names):
        raise ValueError("Found duplicate `column_names`; `column_names` must be unique.")
    select = None
    if select_columns is not None:
        select = sorted(
            column_names.index(c) if isinstance(c, str) else int(c) for c in select_columns
        )
        column_names = [column_names[i] for i in select]
    if label_name is not None and label_name not in column_names:
        raise ValueError(
            f"`label_name` provided must be one of the columns: "
            f"{column_names}. Received: {label_name}."
        )
    if column_defaults is None:
        types = [None] * len(column_names)
        rows = (
            row
            for name in names
            for k, row in enumerate(
                _rows(name, compression, field_delim, num_rows_for_inference + 1)
            )
            if k or not header
        )
        for _, row in zip(range(num_rows_for_inference), rows):
            cells = [row[i] for i in select] if select else row
            types = [_infer_type(c, na_value, t) for c, t in zip(cells, types)]
        # As TF: inferred columns default to 0 or "" (not required).
        column_defaults = [
            np.array([b""], dtype=object)
            if t is None or t == dtypes.string
            else np.zeros([1], dtype=t.as_numpy_dtype)
            for t in types
        ]
    defaults = [
        d
        if isinstance(d, dtypes.DType)
        else ([d] if not isinstance(d, list | tuple) and not hasattr(d, "shape") else d)
        for d in column_defaults
    ]
    if len(defaults) != len(column_names):
        raise ValueError("The number of `column_defaults` must match the number of columns.")

    def read(filename):
        ds = CsvDataset(
            filename,
            defaults,
            compression_type=compression_type,
            header=header,
            field_delim=field_delim,
            use_quote_delim=use_quote_delim,
            na_value=na_value,
            select_cols=select,
        )
        return ds.apply(_ignore_errors) if ignore_errors else ds

    ds = _read_files(_files(names, shuffle, shuffle_seed), read, [], num_parallel_reads)
    if shuffle:
        ds = ds.shuffle(shuffle_buffer_size, seed=shuffle_seed)
    ds = ds.repeat(num_epochs)
    ds = ds.batch(batch_size, drop_remainder=num_epochs is None)

    def to_features(*columns):
        features = collections.OrderedDict(zip(column_names, columns))
        if label_name is None:
            return features
        return features, features.pop(label_name)

    return ds.map(to_features)


def _ignore_errors(dataset):
    return dataset.ignore_errors()
