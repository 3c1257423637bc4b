"""Reading, listing, waiting for and removing checkpoints: TF1's checkpoint utilities
over miniflow's checkpoint format (`checkpoint`)."""

from __future__ import annotations

import os
import time

from miniflow import dtypes
from miniflow.train import checkpoint as ckpt


class CheckpointReader:
    """Reads the tensors of one checkpoint (what ``tf.train.NewCheckpointReader`` returns)."""

    def __init__(self, prefix: str):
        self._prefix = prefix
        self._tensors = ckpt.read_index(prefix)["tensors"]

    def has_tensor(self, name) -> bool:
        return name in self._tensors

    def get_tensor(self, name):
        """The tensor's value (an ndarray).

        Raises:
            NotFoundError: the checkpoint holds no tensor ``name``.
        """
        return ckpt.load_checkpoint_tensors(self._prefix, [name])[name]

    def get_variable_to_shape_map(self) -> dict:
        return {n: list(e["shape"]) for n, e in self._tensors.items()}

    def get_variable_to_dtype_map(self) -> dict:
        return {n: dtypes.as_dtype(e["dtype"]) for n, e in self._tensors.items()}

    def debug_string(self) -> bytes:
        return "".join(
            f"{n} ({e['dtype']}) {e['shape']}\n" for n, e in sorted(self._tensors.items())
        ).encode()


def NewCheckpointReader(filepattern) -> CheckpointReader:  # noqa: N802  (TF's name)
    """A `CheckpointReader` for checkpoint prefix ``filepattern``.
    ``tf.train.NewCheckpointReader(filepattern)``

    Raises:
        NotFoundError: there is no checkpoint at ``filepattern``.
    """
    return CheckpointReader(os.fspath(filepattern))


def load_checkpoint(ckpt_dir_or_file) -> CheckpointReader:
    """A `CheckpointReader` for a checkpoint prefix or a directory's latest checkpoint.
    ``tf.train.load_checkpoint(ckpt_dir_or_file)``

    Raises:
        ValueError: a directory holds no checkpoint (TF's error).
        NotFoundError: there is no checkpoint at the prefix.
    """
    path = os.fspath(ckpt_dir_or_file)
    if os.path.isdir(path):
        latest = ckpt.latest_checkpoint(path)
        if latest is None:
            raise ValueError(
                f"Couldn't find 'checkpoint' file or checkpoints in given directory {path}"
            )
        path = latest
    return CheckpointReader(path)


def remove_checkpoint(
    checkpoint_prefix, checkpoint_format_version=2, meta_graph_suffix="meta"
) -> None:
    """Deletes a checkpoint's files (and its meta graph); the format version is ignored
    (miniflow has one format). ``tf.train.remove_checkpoint(checkpoint_prefix,
    checkpoint_format_version=2, meta_graph_suffix="meta")``"""
    ckpt.remove_checkpoint(os.fspath(checkpoint_prefix), meta_graph_suffix)


def checkpoints_iterator(checkpoint_dir, min_interval_secs=0, timeout=None, timeout_fn=None):
    """Yields each new latest checkpoint of ``checkpoint_dir`` as it appears, at most one
    per ``min_interval_secs``; stops when none appears within ``timeout`` seconds and
    ``timeout_fn`` (if given) returns True. ``tf.train.checkpoints_iterator(
    checkpoint_dir, min_interval_secs=0, timeout=None, timeout_fn=None)``"""
    last = None
    while True:
        new = wait_for_new_checkpoint(checkpoint_dir, last, timeout=timeout)
        if new is None:
            if not timeout_fn:
                return
            if timeout_fn():
                return
            continue
        start = time.time()
        last = new
        yield new
        remaining = start + min_interval_secs - time.time()
        if remaining > 0:
            time.sleep(remaining)


def wait_for_new_checkpoint(checkpoint_dir, last_checkpoint=None, seconds_to_sleep=1, timeout=None):
    """The latest checkpoint once it differs from ``last_checkpoint``; None on timeout."""
    stop = None if timeout is None else time.time() + timeout
    while True:
        path = ckpt.latest_checkpoint(checkpoint_dir)
        if path is not None and path != last_checkpoint:
            return path
        if stop is not None and time.time() + seconds_to_sleep > stop:
            return None
        time.sleep(seconds_to_sleep)


def generate_checkpoint_state_proto(
    save_dir,
    model_checkpoint_path,
    all_model_checkpoint_paths=None,
    all_model_checkpoint_timestamps=None,
    last_preserved_timestamp=None,
) -> ckpt.CheckpointState:
    """A `CheckpointState` with the model path appended to the list if missing, relative
    paths made relative to a relative ``save_dir`` (TF's rules).

    Raises:
        ValueError: timestamps are given but not one per path.
    """
    paths = list(all_model_checkpoint_paths or [])
    if not paths or paths[-1] != model_checkpoint_path:
        paths.append(model_checkpoint_path)
    if all_model_checkpoint_timestamps and len(all_model_checkpoint_timestamps) != len(paths):
        raise ValueError(
            f"Checkpoint timestamps, if provided, must match checkpoint paths "
            f"(got paths {paths} and timestamps "
            f"{all_model_checkpoint_timestamps})"
        )
    if not os.path.isabs(save_dir):
        if not os.path.isabs(model_checkpoint_path):
            model_checkpoint_path = os.path.relpath(model_checkpoint_path, save_dir)
        paths = [p if os.path.isabs(p) else os.path.relpath(p, save_dir) for p in paths]
    return ckpt.CheckpointState(
        model_checkpoint_path,
        paths,
        all_model_checkpoint_timestamps or (),
        last_preserved_timestamp or 0.0,
    )
