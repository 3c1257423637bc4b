"""Numeric CSV files as sparse rows: one label column, every other column a feature whose
id is its position among the feature columns.

Parsing is vectorised per chunk: the delimiters and newlines give every field, a check
of the fields per line finds ragged rows, and all values go through
:func:`~miniflow.ml.numeric_text.decimals` at once. Empty fields are missing values
and zeros are not stored (a sparse row keeps only its non-zero features); NaN and
infinity are errors, as in the other readers.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from miniflow.ml.batch import Batch
from miniflow.ml.numeric_text import ParseError, decimals, words_at
from miniflow.ml.text_rows import CHUNK_BYTES, BadRows, iter_chunks, read_rows

__all__ = ["CSVLayout", "csv_layout", "parse_csv", "read_csv"]

_NEWLINE = 10
_BLANKS = np.zeros(256, np.bool_)
_BLANKS[[32, 9, 13]] = True


@dataclass(frozen=True)
class CSVLayout:
    """How a CSV file's lines are read: its delimiter, column names, the label column
    and whether the first line is a header."""

    delimiter: bytes
    names: tuple[str, ...]
    label: int
    header: bool

    @property
    def features(self) -> tuple[str, ...]:
        return self.names[: self.label] + self.names[self.label + 1 :]


def _is_number(text: bytes) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def csv_layout(
    first_line: bytes, label_col: int | str = 0, header: str = "auto", delimiter: str | None = None
) -> CSVLayout:
    """The layout of a CSV file from its first line.

    Args:
        label_col: the label column, by 0-based position or by header name.
        header: ``"auto"`` (a first line with a field that is not a number is a
            header), ``"yes"`` or ``"no"``.
        delimiter: one character; None picks ``,``, tab or ``;`` from the first line.

    Raises:
        ValueError: an unknown label column, a bad delimiter or ``header`` value.
    """
    line = first_line.rstrip(b"\r\n")
    if delimiter is None:
        counts = {d: line.count(d) for d in (b",", b"\t", b";")}
        sep = max(counts, key=counts.get) if max(counts.values()) else b","
    elif len(delimiter.encode()) == 1 and delimiter not in '\n\r".' and not delimiter.isalnum():
        sep = delimiter.encode()
    else:
        raise ValueError(
            f"CSV delimiter must be one punctuation or blank character, got {delimiter!r}"
        )
    fields = [f.strip().strip(b"\"'") for f in line.split(sep)]
    if header not in ("auto", "yes", "no"):
        raise ValueError(f"header must be 'auto', 'yes' or 'no', got {header!r}")
    has_header = header == "yes" or (
        header == "auto" and any(f and not _is_number(f) for f in fields)
    )
    names = tuple(
        f.decode(errors="replace") if has_header else str(i) for i, f in enumerate(fields)
    )
    if isinstance(label_col, str) and not label_col.lstrip("-").isdigit():
        if label_col not in names:
            raise ValueError(
                f"label column {label_col!r} is not in the CSV header {list(names)}"
                + ("" if has_header else " (the file has no header: give a 0-based position)")
            )
        label = names.index(label_col)
    else:
        label = int(label_col)
        if not 0 <= label < len(names):
            raise ValueError(
                f"label column {label} is out of range: the CSV has {len(names)} columns"
            )
    return CSVLayout(sep, names, label, has_header)


def _trim(b: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> None:
    """Moves field bounds past leading and trailing blanks (in place)."""
    while True:
        lead = (starts < ends) & _BLANKS[b[starts]]
        if not lead.any():
            break
        starts += lead
    while True:
        trail = (ends > starts) & _BLANKS[b[ends - 1]]
        if not trail.any():
            break
        ends -= trail


def parse_csv(chunk: bytes, layout: CSVLayout, dims_log2: int | None = None) -> Batch:
    """Parses whole CSV data lines (no header) into a :class:`Batch`.

    Raises:
        ParseError: a row with the wrong number of fields, an empty label, a value that
            is not a finite number (the message names its column); ``.line`` is its line
            in the chunk.
    """
    if not chunk.endswith(b"\n"):
        chunk += b"\n"
    try:
        return _parse_csv(chunk, layout, dims_log2)
    except ParseError as e:
        e.line = chunk.count(b"\n", 0, e.offset) + 1
        raise


def _parse_csv(chunk: bytes, layout: CSVLayout, dims_log2: int | None) -> Batch:
    b = np.frombuffer(chunk, np.uint8)
    seps = np.flatnonzero((b == layout.delimiter[0]) | (b == _NEWLINE))
    starts = np.empty(len(seps), np.int64)
    starts[0] = 0
    starts[1:] = seps[:-1] + 1
    ends = seps.copy()
    _trim(b, starts, ends)
    is_end = b[seps] == _NEWLINE
    line = np.cumsum(is_end) - is_end
    per_line = np.bincount(line)
    # A blank line is one empty field: not a row.
    blank = (per_line == 1) & (starts[is_end] == ends[is_end])
    if blank.any():
        keep = ~blank[line]
        starts, ends, line = starts[keep], ends[keep], line[keep]
        per_line = per_line[~blank]
        line = np.cumsum(np.r_[True, line[1:] != line[:-1]]) - 1 if len(line) else line
    ncols = len(layout.names)
    if (per_line != ncols).any():
        row = int(np.argmax(per_line != ncols))
        first = int(starts[np.searchsorted(line, row)])
        raise ParseError(f"expected {ncols} fields, found {per_line[row]}", first)
    rows = len(per_line)
    starts, ends = starts.reshape(rows, ncols), ends.reshape(rows, ncols)
    words = words_at(chunk)
    lab_s, lab_e = starts[:, layout.label], ends[:, layout.label]
    if (lab_s == lab_e).any():
        raise ParseError("the label is empty", int(lab_s[np.argmax(lab_s == lab_e)]))
    labels = _values(chunk, b, words, lab_s, lab_e, layout, layout.label) > 0
    feat_cols = np.array([j for j in range(ncols) if j != layout.label], np.int64)
    fs, fe = starts[:, feat_cols], ends[:, feat_cols]
    present = fs != fe
    values = np.zeros(fs.shape)
    values[present] = _values(chunk, b, words, fs[present], fe[present], layout, None)
    keep = values != 0.0
    indices = np.broadcast_to(np.arange(len(feat_cols)), fs.shape)[keep]
    if dims_log2 is not None:
        indices = indices & ((1 << dims_log2) - 1)
    indptr = np.zeros(rows + 1, np.int64)
    np.cumsum(keep.sum(axis=1), out=indptr[1:])
    return Batch(indptr, indices, values[keep].astype(np.float32), labels.astype(np.float32))


def _values(chunk, b, words, starts, ends, layout: CSVLayout, column: int | None) -> np.ndarray:
    """decimals() whose errors name the column."""
    try:
        return decimals(chunk, b, words, starts, ends)
    except ParseError as e:
        if column is None:  # find it: the number of delimiters before the field on its line
            line_start = chunk.rfind(b"\n", 0, e.offset) + 1
            column = chunk.count(layout.delimiter, line_start, e.offset)
        raise ParseError(f"column {layout.names[column]!r}: {e}", e.offset) from None


def read_csv(
    path,
    dims_log2: int | None = None,
    label_col: int | str = 0,
    header: str = "auto",
    delimiter: str | None = None,
    chunk_bytes: int = CHUNK_BYTES,
    bad_rows: BadRows | None = None,
) -> Iterator[Batch]:
    """Streams a numeric CSV file (optionally gzip) as :class:`Batch` chunks.

    The layout (delimiter, header, label column) comes from the first non-blank line:
    see :func:`csv_layout`. Feature ``j`` is the j-th column other than the label.

    Raises:
        ValueError: ``PATH:LINE: csv: ...`` for a malformed row (unless ``bad_rows``
            collects it); more feature columns than ``2**dims_log2``; an empty file.
    """
    first, lines_before = b"", 0
    for line in next(iter_chunks(path, 1 << 16), b"").split(b"\n"):
        if line.strip():
            first = line
            break
        lines_before += 1
    layout = csv_layout(first, label_col, header, delimiter)
    n_features = len(layout.names) - 1
    if dims_log2 is not None and n_features > 1 << dims_log2:
        raise ValueError(
            f"{path}: {n_features} feature columns do not fit in 2**{dims_log2} ids: "
            "raise dims_log2"
        )
    skip = lines_before + 1 if layout.header else 0
    yield from read_rows(
        path, lambda c: parse_csv(c, layout, dims_log2), "csv", chunk_bytes, bad_rows, skip
    )
