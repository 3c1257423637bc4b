"""Offline batch prediction: stream rows from files through a servable into one output.

Input rows are read in groups of ``batch_size`` lines (never the whole file; gzip is
detected), decoded for the model's signature, predicted, and written in input order,
one output line per row. Formats:

* ``libsvm``: ``label idx:val ...`` (the label is ignored). Sparse LR models take the
  ids modulo ``2**dims_log2``, as ``miniflow lr predict`` does; a dense model with input
  shape ``[-1, d]`` gets the row scattered into ``d`` columns (an id >= d is a bad row).
* ``csv``: dense rows of numbers (a first line that is not numeric is a header).
  Sparse LR models take the non-zero columns as feature ids.
* ``jsonl``: one TF Serving row-format instance per line, e.g.
  ``{"indices": [3, 17], "values": [1, 0.5]}`` or ``[0.1, 0.2, 0.3]``; any signature.

Before a group of libsvm or csv rows is decoded, each line is matched against a
pattern of the format (about 1 us a line); lines that do not match are tried alone and
the runs between them go as whole calls. A group that still fails (a row the pattern
cannot catch, or one the model refuses) is bisected: halves that succeed run as one
call, so one bad row in a group of n costs about 2 log2(n) extra calls, not n. A bad
row is reported with its file and line number. The output
goes to ``OUTPUT.partial`` and is renamed to ``OUTPUT`` only when the run succeeds; a
run that fails moves an ``OUTPUT`` left by an earlier run to ``OUTPUT.stale``, so no
file at ``OUTPUT`` looks like this run's result.
"""

from __future__ import annotations

import glob
import io
import json
import os
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from miniflow.core.atomic_file import AtomicFile
from miniflow.ml.data import iter_chunks, parse_libsvm
from miniflow.serving.codec import decode_instances
from miniflow.serving.manager import list_versions
from miniflow.serving.servable import Servable, servable_kind
from miniflow.serving.signature import DEFAULT_SIGNATURE, Ragged, SignatureDef

__all__ = [
    "BadRowError",
    "PredictSummary",
    "resolve_model_dir",
    "expand_inputs",
    "predict_files",
    "FORMATS",
]

FORMATS = ("libsvm", "csv", "jsonl")
PARTIAL_SUFFIX = ".partial"
STALE_SUFFIX = ".stale"
_ROW_IN_CHUNK = re.compile(r"^instance 0:? ")  # a one-row call: the file line says where
# Lines these patterns reject cannot parse; the ones they pass may still fail (bisection
# finds those), so the patterns may be loose but never stricter than the parsers.
_NUM = rb"[-+]?(?:[\d.]+(?:[eE][-+]?\d+)?|(?i:inf|infinity|nan))"
_SHAPES = {
    "libsvm": re.compile(
        rb"\s*[^\s:#]+(?:\s+(?:\d{1,16}(?::" + _NUM + rb")?|qid:\S+))*\s*(?:#.*)?"
    ),
    "csv": re.compile(rb"\s*" + _NUM + rb"\s*(?:,\s*" + _NUM + rb"\s*)*"),
}


class BadRowError(ValueError):
    """An input row the model cannot take; names the file and line."""

    def __init__(self, source: str, line: int, message: str):
        super().__init__(f"{source}:{line}: {message}")
        self.source, self.line, self.message = source, line, message
        self.stale_output: str | None = None  # where an earlier run's output was moved


@dataclass
class PredictSummary:
    rows: int
    bad_rows: int
    seconds: float
    output: str


def resolve_model_dir(path: str) -> str:
    """A version directory: ``path`` itself, or the newest numbered version under it.

    Raises:
        FileNotFoundError: no model at ``path``.
    """
    if servable_kind(path) is not None:
        return path
    for v in list_versions(path):
        candidate = os.path.join(path, str(v))
        if servable_kind(candidate) is not None:
            return candidate
    raise FileNotFoundError(
        f"{path}: no model found (neither a model directory nor a base "
        "directory with numbered versions)"
    )


def expand_inputs(patterns: list[str]) -> list[str]:
    """Files and globs -> files, in the order given (each glob sorted).

    Raises:
        FileNotFoundError: a pattern that matches nothing.
    """
    files: list[str] = []
    for p in patterns:
        matches = sorted(glob.glob(p)) if glob.has_magic(p) else ([p] if os.path.exists(p) else [])
        if not matches:
            raise FileNotFoundError(f"input {p!r} matches no file")
        files += matches
    return files


# -- reading rows ------------------------------------------------------------------------
def _rows(path: str, batch_size: int, comment: bytes | None) -> Iterator[list[tuple[int, bytes]]]:
    """(line number, line) of the non-blank rows, in groups of ``batch_size``."""
    group: list[tuple[int, bytes]] = []
    lineno = 0
    for chunk in iter_chunks(path):
        for line in chunk.split(b"\n")[:-1]:
            lineno += 1
            body = line.split(comment, 1)[0] if comment else line
            if not body.strip():
                continue
            group.append((lineno, line))
            if len(group) >= batch_size:
                yield group
                group = []
    if group:
        yield group


# -- decoding rows for a signature -------------------------------------------------------
def _layout(sig: SignatureDef) -> tuple[str, int | None]:
    """``("sparse", None)``, ``("dense", width)`` or ``("other", None)``."""
    specs = sig.inputs
    if set(specs) == {"indices", "values"} and all(s.ragged for s in specs.values()):
        return "sparse", None
    if len(specs) == 1:
        spec = next(iter(specs.values()))
        if not spec.ragged and spec.shape is not None and len(spec.shape) == 2:
            return "dense", spec.shape[1]
    return "other", None


def _sparse_inputs(indptr: np.ndarray, ids: np.ndarray, vals: np.ndarray) -> dict:
    return {
        "indices": Ragged(ids.astype(np.int64), indptr),
        "values": Ragged(vals.astype(np.float32), indptr),
    }


def _dense_inputs(sig: SignatureDef, X: np.ndarray) -> dict:
    name, spec = next(iter(sig.inputs.items()))
    width = spec.shape[1]
    if width is not None and X.shape[1] != width:
        raise ValueError(f"row has {X.shape[1]} columns, the model's input {name!r} takes {width}")
    return {name: X.astype(spec.dtype)}


def _make_decoder(fmt: str, sig: SignatureDef, dims_log2: int | None) -> Callable[[list], dict]:
    """lines -> model inputs (one row per line); raises on any bad line."""
    layout, width = _layout(sig)
    if fmt == "jsonl":
        return lambda lines: decode_instances([json.loads(line) for line in lines], sig)
    if layout == "other":
        raise ValueError(
            f"--format {fmt} needs a model whose signature takes sparse "
            "'indices'/'values' or one dense [-1, d] input; use --format jsonl"
        )
    if fmt == "libsvm":

        def decode_libsvm(lines):
            batch = parse_libsvm(
                b"\n".join(lines) + b"\n", dims_log2 if layout == "sparse" else None
            )
            if len(batch) != len(lines):
                raise ValueError("not a libsvm row (expected 'label idx:val ...')")
            vals = np.ones(batch.nnz, np.float32) if batch.values is None else batch.values
            if layout == "sparse":
                return _sparse_inputs(batch.indptr, batch.indices, vals)
            if width is None:
                raise ValueError("the model's input width is unknown; use --format csv/jsonl")
            if batch.nnz and batch.indices.max() >= width:
                raise ValueError(
                    f"feature index {int(batch.indices.max())} >= the model's input width {width}"
                )
            X = np.zeros((len(batch), width))
            X[batch.row_ids(), batch.indices] = vals
            return _dense_inputs(sig, X)

        return decode_libsvm

    def decode_csv(lines):
        X = np.loadtxt(io.BytesIO(b"\n".join(lines)), delimiter=",", ndmin=2, dtype=np.float64)
        if len(X) != len(lines):
            raise ValueError("not a CSV row of numbers")
        if layout == "dense":
            return _dense_inputs(sig, X)
        if dims_log2 is not None and X.shape[1] > 1 << dims_log2:
            raise ValueError(f"row has {X.shape[1]} columns; the model has 2^{dims_log2} features")
        rows, cols = np.nonzero(X)
        indptr = np.zeros(len(X) + 1, np.int64)
        np.cumsum(np.bincount(rows, minlength=len(X)), out=indptr[1:])
        return _sparse_inputs(indptr, cols, X[rows, cols])

    return decode_csv


def _is_header(line: bytes) -> bool:
    def number(field: bytes) -> bool:
        try:
            float(field)
        except ValueError:
            return False
        return True

    return not any(number(f) for f in line.split(b","))


# -- writing predictions -----------------------------------------------------------------
def _format_rows(outputs: dict[str, np.ndarray], fmt: str) -> list[str]:
    cols = {k: np.asarray(v).tolist() for k, v in outputs.items()}
    if fmt == "jsonl":
        if len(cols) == 1:
            return [json.dumps(v) for v in next(iter(cols.values()))]
        return [
            json.dumps(dict(zip(cols, row, strict=True)))
            for row in zip(*cols.values(), strict=True)
        ]

    def text(v) -> str:
        if isinstance(v, list):
            return " ".join(text(x) for x in v)
        return f"{v:.9g}" if isinstance(v, float) else str(v)

    return ["\t".join(text(x) for x in row) for row in zip(*cols.values(), strict=True)]


def _error_record(err: BadRowError, fmt: str) -> str:
    if fmt == "jsonl":
        return json.dumps({"error": err.message, "source": err.source, "line": err.line})
    return f"ERROR\t{err.source}:{err.line}: {err.message}"


# -- the driver --------------------------------------------------------------------------
def predict_files(
    servable: Servable,
    inputs: list[str],
    output: str,
    fmt: str = "libsvm",
    batch_size: int = 1024,
    skip_bad_rows: bool = False,
    signature_name: str = DEFAULT_SIGNATURE,
    output_format: str = "auto",
    progress: bool = True,
) -> PredictSummary:
    """Predicts every row of ``inputs`` (in order) into ``output``.

    Args:
        servable: the loaded model (see :func:`miniflow.serving.load_servable`).
        inputs: input files, read in this order.
        output: the output file, written as ``output + ".partial"`` and renamed on success.
        fmt: ``libsvm``, ``csv`` or ``jsonl``.
        batch_size: rows per model call.
        skip_bad_rows: write an error record for a bad row and go on, instead of stopping.
        signature_name: which signature to run.
        output_format: ``txt`` (one line of numbers per row), ``jsonl``, or ``auto``
            (``jsonl`` when ``output`` ends in .jsonl/.json).
        progress: show a tqdm bar (rows, rows/s) on stderr.

    Raises:
        BadRowError: a bad row, without ``skip_bad_rows`` (the partial file is kept).
    """
    from tqdm import tqdm

    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {FORMATS}")
    if signature_name not in servable.signature_defs:
        raise ValueError(
            f"signature {signature_name!r} not found; the model has "
            f"{sorted(servable.signature_defs)}"
        )
    sig = servable.signature_defs[signature_name]
    out_fmt = output_format
    if out_fmt == "auto":
        out_fmt = "jsonl" if output.endswith((".jsonl", ".json")) else "txt"
    # Sparse models expose dims_log2: libsvm ids are reduced modulo 2**dims_log2.
    decode = _make_decoder(fmt, sig, getattr(servable, "dims_log2", None))

    def run(lines: list[bytes]) -> list[str]:
        inputs_ = decode(lines)
        return _format_rows(servable.predict(signature_name, inputs_), out_fmt)

    partial = output + PARTIAL_SUFFIX
    rows = bad = 0
    start = time.perf_counter()
    bar = tqdm(unit="rows", unit_scale=True, disable=not progress, mininterval=0.5, desc="predict")
    try:
        # renamed to output (fsynced) when the block ends cleanly; kept on a failure
        with AtomicFile(output, "w", temp=partial, keep_on_error=True) as out:
            for path in inputs:
                comment = b"#" if fmt == "libsvm" else None
                for group in _rows(path, batch_size, comment):
                    if fmt == "csv" and group[0][0] == 1 and _is_header(group[0][1]):
                        group = group[1:]
                    bad += _predict_checked(
                        run, group, path, skip_bad_rows, out_fmt, out.write, _SHAPES.get(fmt)
                    )
                    rows += len(group)
                    bar.update(len(group))
    except BaseException as e:
        if os.path.exists(output):  # an earlier run's result must not pass for this one's
            os.replace(output, output + STALE_SUFFIX)
            if isinstance(e, BadRowError):
                e.stale_output = output + STALE_SUFFIX
        raise
    finally:
        bar.close()
    return PredictSummary(rows, bad, time.perf_counter() - start, output)


def _predict_checked(run, group, path, skip, out_fmt, write, shape) -> int:
    """Lines that do not match ``shape`` run alone; the runs between them as groups."""
    if shape is None:
        return _predict_group(run, group, path, skip, out_fmt, write)
    odd = [k for k, (_, line) in enumerate(group) if shape.fullmatch(line.rstrip(b"\r")) is None]
    bad = prev = 0
    for k in odd:
        bad += _predict_group(run, group[prev:k], path, skip, out_fmt, write)
        bad += _predict_group(run, group[k : k + 1], path, skip, out_fmt, write)
        prev = k + 1
    return bad + _predict_group(run, group[prev:], path, skip, out_fmt, write)


def _predict_group(
    run,
    group: list[tuple[int, bytes]],
    path: str,
    skip: bool,
    out_fmt: str,
    write: Callable[[str], object],
) -> int:
    """Writes one group's records in order. A failing group is bisected: halves that
    succeed are written as they are, down to the single bad rows. Returns the number
    of bad rows."""
    if not group:
        return 0
    try:
        records = run([line for _, line in group])
    except Exception as e:  # noqa: BLE001  any failure: locate it by bisection below
        if len(group) == 1:
            lineno = group[0][0]
            err = BadRowError(path, lineno, _ROW_IN_CHUNK.sub("", str(e)) or type(e).__name__)
            if not skip:
                raise err from e
            write(_error_record(err, out_fmt) + "\n")
            return 1
    else:
        write("".join(r + "\n" for r in records))
        return 0
    mid = len(group) // 2
    bad = _predict_group(run, group[:mid], path, skip, out_fmt, write)
    return bad + _predict_group(run, group[mid:], path, skip, out_fmt, write)
