"""Checkpoint files and the ``checkpoint`` state file (format: docs/persistence.md).

A checkpoint with prefix ``P`` is two files:

- ``P.data-<sha256[:16]>.npz``: the values, a NumPy ``.npz`` (keys ``t0``, ``t1``...);
- ``P.index``: a checksummed JSON envelope naming the data file and its sha256, and each
  tensor's name, dtype, shape and ``.npz`` key.

The index is written last, by an atomic rename, and is the commit point: a crash at any
moment leaves either the previous checkpoint or the complete new one.

TensorFlow's own format (`tensor_bundle`) is read wherever ``P.index`` is one, and
written by ``write_checkpoint(..., fmt="tf")``.
"""

from __future__ import annotations

import codecs
import functools
import glob
import hashlib
import io
import json
import os
import re
import zipfile

import numpy as np

from miniflow import dtypes, errors
from miniflow.graph.file_io import (
    atomic_write,
    dump_envelope,
    file_sha256,
    load_envelope,
    read_bytes,
)
from miniflow.train import tensor_bundle

INDEX_FORMAT = "miniflow.checkpoint"
INDEX_VERSION = 1
STATE_FILENAME = "checkpoint"


# -- checkpoint files ---------------------------------------------------------------------
def write_checkpoint(prefix: str, tensors: dict, fmt: str = "miniflow") -> None:
    """Writes ``tensors`` (name -> ndarray) as checkpoint ``prefix``, crash-safely, in
    miniflow's format or (``fmt="tf"``) TensorFlow's V2 bundle format."""
    if fmt == "tf":
        tensor_bundle.write(prefix, tensors)
        for stale in glob.glob(glob.escape(prefix) + ".data-*.npz"):
            os.remove(stale)
        return
    directory = os.path.dirname(os.path.abspath(prefix))
    os.makedirs(directory, exist_ok=True)
    arrays, entries = {}, {}
    for i, (name, value) in enumerate(sorted(tensors.items())):
        dt = dtypes.as_dtype(value.dtype)
        key = f"t{i}"
        # Strings are stored as fixed-width bytes so loading never needs pickle.
        arrays[key] = value.astype(bytes) if dt is dtypes.string else value
        entries[name] = {"dtype": dt.name, "shape": list(value.shape), "key": key}
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    data = buf.getvalue()
    digest = hashlib.sha256(data).hexdigest()
    data_file = f"{os.path.basename(prefix)}.data-{digest[:16]}.npz"
    atomic_write(os.path.join(directory, data_file), lambda fh: fh.write(data))
    body = {
        "data_file": data_file,
        "data_sha256": digest,
        "data_size": len(data),
        "tensors": entries,
    }
    atomic_write(
        prefix + ".index", lambda fh: fh.write(dump_envelope(INDEX_FORMAT, INDEX_VERSION, body))
    )
    for stale in glob.glob(glob.escape(prefix) + ".data-*.npz"):
        if os.path.basename(stale) != data_file:
            os.remove(stale)


def read_index(prefix: str) -> dict:
    """The checked index of checkpoint ``prefix``: ``{"tensors": {name: {dtype, shape,
    key}}, ...}``.

    Raises:
        NotFoundError: there is no checkpoint at ``prefix``.
        DataLossError / InvalidArgumentError: the index is corrupt or of another format.
    """
    if tensor_bundle.is_bundle(prefix):
        num_shards, entries = tensor_bundle.read_index(prefix)
        return {
            "format": "tf",
            "num_shards": num_shards,
            "entries": entries,
            "tensors": {n: {"dtype": e.dtype, "shape": list(e.shape)} for n, e in entries.items()},
        }
    what = f"Checkpoint index {prefix}.index"
    body = load_envelope(
        read_bytes(prefix + ".index", "Checkpoint index"), INDEX_FORMAT, INDEX_VERSION, what
    )
    _check_index(body, what)
    return body


def _check_index(body, what):
    if not _valid_index(body):
        raise errors.InvalidArgumentError(
            None,
            None,
            f"{what} is malformed: expected "
            "data_file (a file name), data_sha256, data_size and "
            "a tensors map of {dtype, shape, key}.",
        )


def _valid_index(body) -> bool:
    if not (
        isinstance(body, dict)
        and isinstance(body.get("data_file"), str)
        and isinstance(body.get("data_sha256"), str)
        and type(body.get("data_size")) is int
        and isinstance(body.get("tensors"), dict)
    ):
        return False
    if re.fullmatch(r"[^/\\]+\.npz", body["data_file"]) is None:  # no paths
        return False
    return all(
        isinstance(e, dict)
        and isinstance(e.get("key"), str)
        and e.get("dtype") in dtypes._BY_NAME
        and isinstance(e.get("shape"), list)
        and all(type(d) is int and d >= 0 for d in e["shape"])
        for e in body["tensors"].values()
    )


def load_checkpoint_tensors(prefix: str, names=None) -> dict:
    """Name -> ndarray for ``names`` (default: all) from checkpoint ``prefix``, verified
    against the index's checksum, dtypes and shapes. Never unpickles.

    Raises:
        NotFoundError: no checkpoint, or a name is not in it.
        DataLossError: the data file is missing, truncated or altered.
    """
    index = read_index(prefix)
    tensors = index["tensors"]
    wanted = list(tensors) if names is None else list(names)
    for name in wanted:
        if name not in tensors:
            raise errors.NotFoundError(
                None,
                None,
                f"Key {name} not found in checkpoint {prefix}. The checkpoint "
                f"holds: {', '.join(sorted(tensors)) or '(nothing)'}",
            )
    if index.get("format") == "tf":
        return tensor_bundle.read_tensors(prefix, index["num_shards"], index["entries"], wanted)
    path = os.path.join(os.path.dirname(os.path.abspath(prefix)), index["data_file"])
    if not os.path.exists(path):
        raise errors.DataLossError(None, None, f"Checkpoint {prefix}: data file {path} is missing.")
    size, digest = os.path.getsize(path), file_sha256(path)
    if size != index["data_size"] or digest != index["data_sha256"]:
        raise errors.DataLossError(
            None,
            None,
            f"Checkpoint {prefix}: data file {path} is "
            f"corrupt ({size} bytes, sha256 {digest}; the index "
            f"expects {index['data_size']} bytes, sha256 "
            f"{index['data_sha256']}).",
        )
    out = {}
    try:
        with np.load(path, allow_pickle=False) as npz:
            for name in wanted:
                out[name] = _checked(npz[tensors[name]["key"]], name, tensors[name], prefix)
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as e:
        if isinstance(e, errors.OpError):
            raise
        raise errors.DataLossError(
            None, None, f"Checkpoint {prefix}: cannot read {path}: {e}"
        ) from None
    return out


def _checked(arr, name, entry, prefix):
    dt = dtypes.as_dtype(entry["dtype"])
    if dt is dtypes.string:
        arr = arr.astype(object)
    if list(arr.shape) != entry["shape"] or (dt is not dtypes.string and arr.dtype != dt.np):
        raise errors.DataLossError(
            None,
            None,
            f"Checkpoint {prefix}: tensor {name} has "
            f"{arr.dtype}{list(arr.shape)} in the data file but "
            f"{entry['dtype']}{entry['shape']} in the index.",
        )
    return arr


def checkpoint_exists(checkpoint_prefix: str) -> bool:
    """True if a checkpoint index exists at ``checkpoint_prefix``."""
    return os.path.isfile(checkpoint_prefix + ".index")


def remove_checkpoint(prefix: str, meta_graph_suffix: str = "meta") -> None:
    for path in [
        prefix + ".index",
        f"{prefix}.{meta_graph_suffix}",
        *glob.glob(glob.escape(prefix) + ".data-*.npz"),
        *glob.glob(glob.escape(prefix) + ".data-[0-9][0-9][0-9][0-9][0-9]-of-*"),
    ]:
        if os.path.exists(path):
            os.remove(path)


def list_variables(ckpt_dir_or_file: str) -> list:
    """[(name, shape)] of the tensors in a checkpoint (or a directory's latest one)."""
    index = read_index(_resolve(ckpt_dir_or_file))
    return [(n, list(e["shape"])) for n, e in sorted(index["tensors"].items())]


def load_variable(ckpt_dir_or_file: str, name: str):
    """The value of tensor ``name`` in a checkpoint (or a directory's latest one)."""
    prefix = _resolve(ckpt_dir_or_file)
    return load_checkpoint_tensors(prefix, [name])[name]


def _resolve(ckpt_dir_or_file):
    if os.path.isdir(ckpt_dir_or_file):
        latest = latest_checkpoint(ckpt_dir_or_file)
        if latest is None:
            raise errors.NotFoundError(None, None, f"No checkpoint found in {ckpt_dir_or_file}")
        return latest
    return ckpt_dir_or_file


# -- the `checkpoint` state file -----------------------------------------------------------
class CheckpointState:
    """Which checkpoints of a directory exist, newest last (TF's CheckpointState)."""

    def __init__(
        self,
        model_checkpoint_path="",
        all_model_checkpoint_paths=(),
        all_model_checkpoint_timestamps=(),
        last_preserved_timestamp=0.0,
    ):
        self.model_checkpoint_path = model_checkpoint_path
        self.all_model_checkpoint_paths = list(all_model_checkpoint_paths)
        self.all_model_checkpoint_timestamps = list(all_model_checkpoint_timestamps)
        self.last_preserved_timestamp = last_preserved_timestamp

    def __repr__(self):
        return f"model_checkpoint_path: {json.dumps(self.model_checkpoint_path)}\n" + "".join(
            f"all_model_checkpoint_paths: {json.dumps(p)}\n"
            for p in self.all_model_checkpoint_paths
        )


_STATE_LINE = re.compile(
    r"^(model_checkpoint_path|all_model_checkpoint_paths|"
    r"all_model_checkpoint_timestamps|last_preserved_timestamp): (.+)$"
)


def update_checkpoint_state(
    save_dir,
    model_checkpoint_path,
    all_model_checkpoint_paths=None,
    latest_filename=None,
    all_model_checkpoint_timestamps=None,
    last_preserved_timestamp=None,
) -> None:
    """Atomically rewrites ``save_dir/checkpoint``; paths inside ``save_dir`` are stored
    relative to it, so the directory can be moved."""
    paths = list(all_model_checkpoint_paths or [])
    if not paths or paths[-1] != model_checkpoint_path:
        paths.append(model_checkpoint_path)
    # Raw UTF-8 (not JSON's \u escapes), which TF's text-format parser also reads.
    quote = functools.partial(json.dumps, ensure_ascii=False)
    lines = [f"model_checkpoint_path: {quote(_relative(save_dir, model_checkpoint_path))}"]
    lines += [f"all_model_checkpoint_paths: {quote(_relative(save_dir, p))}" for p in paths]
    lines += [
        f"all_model_checkpoint_timestamps: {float(t)!r}"
        for t in all_model_checkpoint_timestamps or []
    ]
    if last_preserved_timestamp is not None:
        lines.append(f"last_preserved_timestamp: {float(last_preserved_timestamp)!r}")
    text = ("\n".join(lines) + "\n").encode()
    atomic_write(
        os.path.join(save_dir, latest_filename or STATE_FILENAME), lambda fh: fh.write(text)
    )


def _relative(save_dir, path):
    if os.path.dirname(os.path.abspath(path)) == os.path.abspath(save_dir):
        return os.path.basename(path)
    return path


def get_checkpoint_state(checkpoint_dir, latest_filename=None):
    """The `CheckpointState` of ``checkpoint_dir``, or None if it has no state file.

    Raises:
        DataLossError: the state file exists but cannot be parsed (it is written
            atomically, so this means outside damage; starting over silently would lose
            the training run).
    """
    path = os.path.join(checkpoint_dir, latest_filename or STATE_FILENAME)
    try:
        with open(path, "rb") as fh:
            raw = fh.read()
    except FileNotFoundError:
        return None
    fields: dict = {}
    try:
        for line in raw.decode("utf-8").splitlines():
            if not line.strip():
                continue
            m = _STATE_LINE.match(line)
            if m is None:
                raise ValueError(f"unexpected line {line!r:.80}")
            key, value = m.group(1), _text_value(m.group(2))
            if key.endswith("timestamp") or key.endswith("timestamps"):
                if type(value) not in (int, float):
                    raise ValueError(f"{key} must be a number")
            elif not isinstance(value, str):
                raise ValueError(f"{key} must be a string")
            if key.startswith("all_"):
                fields.setdefault(key, []).append(value)
            else:
                fields[key] = value
        if "model_checkpoint_path" not in fields:
            raise ValueError("no model_checkpoint_path")
    except (UnicodeDecodeError, ValueError) as e:
        raise errors.DataLossError(
            None,
            None,
            f"Checkpoint state file {path} is corrupt: "
            f"{e}. Delete it to start over, or fix it to name an "
            "existing checkpoint.",
        ) from None

    def absolute(p):
        return p if os.path.isabs(p) else os.path.join(checkpoint_dir, p)

    return CheckpointState(
        absolute(fields["model_checkpoint_path"]),
        [absolute(p) for p in fields.get("all_model_checkpoint_paths", [])],
        fields.get("all_model_checkpoint_timestamps", []),
        fields.get("last_preserved_timestamp", 0.0),
    )


def _text_value(text: str):
    """A value of the state file: JSON (what miniflow and TF 2.x write), else a
    text-format string with C escapes (older TF, hand edits: octal ``\\303\\251``)."""
    try:
        return json.loads(text)
    except ValueError:
        if len(text) < 2 or text[0] != text[-1] or text[0] not in "\"'":
            raise
        return codecs.escape_decode(text[1:-1].encode("utf-8"))[0].decode("utf-8")


def latest_checkpoint(checkpoint_dir, latest_filename=None):
    """The prefix of the newest checkpoint in ``checkpoint_dir``, or None if there is none."""
    state = get_checkpoint_state(checkpoint_dir, latest_filename)
    if state is None or not checkpoint_exists(state.model_checkpoint_path):
        return None
    return state.model_checkpoint_path


def get_checkpoint_mtimes(checkpoint_prefixes) -> list:
    return [os.path.getmtime(p + ".index") for p in checkpoint_prefixes if checkpoint_exists(p)]


__all__ = [
    "CheckpointState",
    "checkpoint_exists",
    "get_checkpoint_state",
    "latest_checkpoint",
    "list_variables",
    "load_variable",
    "update_checkpoint_state",
]
