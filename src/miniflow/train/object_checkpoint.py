"""``tf.train.Checkpoint`` and ``tf.train.CheckpointManager``: object-based checkpoints
over miniflow's checkpoint files.

A Checkpoint's keyword arguments name the objects it tracks. Each variable reachable
from them is saved under its path of attribute names, with TF's key spelling
``model/dense/kernel/.ATTRIBUTES/VARIABLE_VALUE``: Variables are leaves; lists, tuples
and dicts contribute their indices/keys; an Optimizer contributes its slot and
hyperparameter variables (``.OPTIMIZER_VARIABLES/<op name>``, a miniflow spelling); any
other object its public attributes. In graph mode values are read from and written to a
session (``session=`` or the default one), in eager mode directly.
"""

from __future__ import annotations

import os
import time

import numpy as np

from miniflow import dtypes, errors
from miniflow.core.dispatch import current_frontend
from miniflow.graph.session import get_default_session
from miniflow.ops.variables import Variable
from miniflow.train import checkpoint as ckpt
from miniflow.train.optimizer import Optimizer

_VALUE = ".ATTRIBUTES/VARIABLE_VALUE"
# Graph machinery (graphs, sessions, tensors, ops) holds no trackable state of its own.
_NOT_TRACKED = ("miniflow.graph", "miniflow.core", "miniflow.eager")


def _collect(obj, path, out, seen):
    if isinstance(obj, Variable):
        out.setdefault(f"{path}/{_VALUE}", obj)
        return
    if (
        id(obj) in seen
        or obj is None
        or isinstance(obj, (str, bytes, int, float, bool, np.ndarray, type))
    ):
        return
    seen.add(id(obj))
    if isinstance(obj, (list, tuple)):
        for i, item in enumerate(obj):
            _collect(item, f"{path}/{i}", out, seen)
    elif isinstance(obj, dict):
        for key, item in obj.items():
            _collect(item, f"{path}/{key}", out, seen)
    elif isinstance(obj, Optimizer):
        for v in obj.variables():
            out.setdefault(f"{path}/.OPTIMIZER_VARIABLES/{v.op_name}/{_VALUE}", v)
    elif hasattr(obj, "__dict__") and not type(obj).__module__.startswith(_NOT_TRACKED):
        for key, item in sorted(vars(obj).items()):
            if not key.startswith("_") or key.startswith("_checkpoint"):
                _collect(item, f"{path}/{key.lstrip('_')}", out, seen)


class CheckpointOptions:
    """Options of a checkpoint save/restore (``tf.train.CheckpointOptions``). They
    concern devices, async writes and sharding, none of which miniflow has: accepted,
    kept, ignored."""

    def __init__(
        self,
        experimental_io_device=None,
        experimental_enable_async_checkpoint=False,
        experimental_write_callbacks=None,
        enable_async=False,
        experimental_skip_slot_variables=False,
        experimental_sharding_callback=None,
    ):
        self.experimental_io_device = experimental_io_device
        self.experimental_enable_async_checkpoint = experimental_enable_async_checkpoint
        self.experimental_write_callbacks = experimental_write_callbacks
        self.enable_async = enable_async
        self.experimental_skip_slot_variables = experimental_skip_slot_variables
        self.experimental_sharding_callback = experimental_sharding_callback


class _Status:
    """What `Checkpoint.restore` returns (TF's load-status methods)."""

    def __init__(self, checkpoint, prefix, values, unmatched):
        self._checkpoint, self._prefix = checkpoint, prefix
        self._values, self._unmatched = values, unmatched

    def assert_consumed(self):
        """Raises AssertionError if a saved value has no object or an object no value."""
        missing = sorted(set(self._checkpoint._variables()) - set(self._values))
        if self._unmatched or missing:
            raise AssertionError(
                f"Unresolved checkpoint values {self._unmatched} / objects "
                f"without a value {missing} restoring {self._prefix}"
            )
        return self

    def assert_existing_objects_matched(self):
        missing = sorted(set(self._checkpoint._variables()) - set(self._values))
        if missing:
            raise AssertionError(f"Objects without a value in {self._prefix}: {missing}")
        return self

    def expect_partial(self):
        return self

    def run_restore_ops(self, session=None):
        self._checkpoint._load(self._values, session)

    def initialize_or_restore(self, session=None):
        self.run_restore_ops(session)


class Checkpoint:
    """Saves and restores the variables of the objects given as keyword arguments.
    ``tf.train.Checkpoint(**kwargs)``; ``save(file_prefix, session=None)`` writes
    ``file_prefix-<n>`` and returns it; ``restore(save_path)`` returns a status whose
    ``run_restore_ops(session)`` loads the values (at once in eager mode)."""

    def __init__(self, **kwargs):
        for name in kwargs:
            if name.startswith("_") or name in ("save", "restore", "write", "read", "save_counter"):
                raise ValueError(f"Checkpoint: {name!r} is not a valid dependency name.")
        self._objects = dict(kwargs)
        self._save_count = 0

    def __getattr__(self, name):
        objects = self.__dict__.get("_objects", {})
        if name in objects:
            return objects[name]
        raise AttributeError(f"'Checkpoint' object has no attribute '{name}'")

    @property
    def save_counter(self) -> int:
        """How many times `save` has run (restored from a checkpoint too)."""
        return self._save_count

    def _variables(self) -> dict:
        out: dict = {}
        for name in sorted(self._objects):
            _collect(self._objects[name], name, out, set())
        return out

    def _session(self, session):
        if current_frontend().eager:
            return None
        session = session or get_default_session()
        if session is None:
            raise ValueError(
                "Checkpoint in graph mode needs a session: pass session= or "
                "call it inside `with sess:`."
            )
        return session

    def write(self, file_prefix, session=None, options=None) -> str:
        """Writes the values to ``file_prefix`` exactly (no counter, no state file)."""
        session = self._session(session)
        tensors = {}
        for key, var in self._variables().items():
            slot = var._slot_in(session)
            if slot.value is None:
                raise errors.FailedPreconditionError(
                    None, None, f"Attempting to save uninitialized variable {var.op_name} ({key})"
                )
            tensors[key] = np.array(slot.value, copy=True)
        tensors[f"save_counter/{_VALUE}"] = np.asarray(self._save_count, np.int64)
        prefix = os.fspath(file_prefix)
        ckpt.write_checkpoint(prefix, tensors)
        return prefix

    def save(self, file_prefix, session=None, options=None) -> str:
        """Writes ``file_prefix-<save_counter>`` and records it as the directory's latest
        checkpoint; returns the path."""
        self._save_count += 1
        try:
            path = self.write(f"{os.fspath(file_prefix)}-{self._save_count}", session)
        except BaseException:
            self._save_count -= 1
            raise
        directory = os.path.dirname(os.path.abspath(path))
        state = ckpt.get_checkpoint_state(directory)
        previous = [
            p
            for p in (state.all_model_checkpoint_paths if state else [])
            if ckpt.checkpoint_exists(p) and p != path
        ]
        ckpt.update_checkpoint_state(directory, path, previous + [path])
        return path

    def read(self, save_path, options=None) -> _Status:
        return self.restore(save_path)

    def restore(self, save_path, options=None) -> _Status:
        """Matches the checkpoint's values to this object's variables; in eager mode
        loads them at once, in graph mode when the status's ``run_restore_ops`` runs.
        ``save_path`` None (no checkpoint yet) restores nothing.

        Raises:
            NotFoundError: there is no checkpoint at ``save_path``.
            ValueError: a saved value's shape differs from its variable's.
        """
        if save_path is None:
            return _Status(self, None, {}, [])
        prefix = os.fspath(save_path)
        saved = ckpt.load_checkpoint_tensors(prefix)
        counter = saved.pop(f"save_counter/{_VALUE}", None)
        variables = self._variables()
        values, unmatched = {}, []
        for key, value in saved.items():
            var = variables.get(key)
            if var is None:
                unmatched.append(key)
                continue
            want = var.shape
            if want.is_fully_defined() and tuple(want.as_list()) != value.shape:
                raise ValueError(
                    f"Checkpoint {prefix}: {key} has shape {list(value.shape)}, "
                    f"the variable {var.op_name} {want}"
                )
            values[key] = value.astype(dtypes.as_dtype(var.dtype).np, copy=False)
        if counter is not None:
            self._save_count = int(counter)
        status = _Status(self, prefix, values, sorted(unmatched))
        if current_frontend().eager:
            self._load(values, None)
        return status

    def _load(self, values, session):
        session = self._session(session)
        variables = self._variables()
        for key, value in values.items():
            var = variables[key]
            if session is None:
                var.assign(value)
            else:
                var.load(value, session)


class CheckpointManager:
    """Numbered checkpoints of a `Checkpoint` in ``directory``, keeping the newest
    ``max_to_keep`` (None: all) plus one every ``keep_checkpoint_every_n_hours``.
    ``tf.train.CheckpointManager(checkpoint, directory, max_to_keep,
    keep_checkpoint_every_n_hours=None, checkpoint_name="ckpt", step_counter=None,
    checkpoint_interval=None, init_fn=None)``"""

    def __init__(
        self,
        checkpoint,
        directory,
        max_to_keep,
        keep_checkpoint_every_n_hours=None,
        checkpoint_name="ckpt",
        step_counter=None,
        checkpoint_interval=None,
        init_fn=None,
    ):
        if max_to_keep is not None and max_to_keep <= 0:
            raise ValueError(
                f"Expected a positive integer or `None` for `max_to_keep`, got {max_to_keep}."
            )
        if checkpoint_interval is not None and step_counter is None:
            raise ValueError(
                "`step_counter` should be passed if `checkpoint_interval` is not None."
            )
        self._checkpoint = checkpoint
        self._directory = os.fspath(directory)
        self._max_to_keep = max_to_keep
        self._keep_hours = keep_checkpoint_every_n_hours
        self._prefix = os.path.join(self._directory, checkpoint_name)
        self._step_counter, self._interval = step_counter, checkpoint_interval
        self._init_fn = init_fn
        self._last_saved_step = None
        state = ckpt.get_checkpoint_state(self._directory)
        self._kept = [
            p
            for p in (state.all_model_checkpoint_paths if state else [])
            if ckpt.checkpoint_exists(p)
        ]
        self._last_preserved = time.time()

    directory = property(lambda self: self._directory)
    checkpoint = property(lambda self: self._checkpoint)

    @property
    def latest_checkpoint(self):
        """The newest managed checkpoint's prefix, or None."""
        return self._kept[-1] if self._kept else None

    @property
    def checkpoints(self) -> list:
        """The managed checkpoints still on disk, oldest first."""
        return list(self._kept)

    def save(self, checkpoint_number=None, check_interval=True, options=None, session=None):
        """Saves ``<directory>/<checkpoint_name>-<n>`` (``n``: ``checkpoint_number``,
        else the checkpoint's save counter), deletes the checkpoints beyond
        ``max_to_keep`` and returns the path (None when ``checkpoint_interval`` says it
        is too early)."""
        step = None
        if self._interval is not None and check_interval:
            step = int(_value(self._step_counter, session))
            if self._last_saved_step is not None and step < self._last_saved_step + self._interval:
                return None
        self._checkpoint._save_count += 1  # as TF, also when the number is given
        number = (
            self._checkpoint._save_count
            if checkpoint_number is None
            else int(_value(checkpoint_number, session))
        )
        try:
            path = self._checkpoint.write(f"{self._prefix}-{number}", session=session)
        except BaseException:
            self._checkpoint._save_count -= 1
            raise
        self._kept = [p for p in self._kept if p != path] + [path]
        self._sweep()
        ckpt.update_checkpoint_state(self._directory, path, self._kept)
        if step is not None:
            self._last_saved_step = step
        return path

    def _sweep(self):
        if self._max_to_keep is None:
            return
        while len(self._kept) > self._max_to_keep:
            old = self._kept.pop(0)
            if (
                self._keep_hours is not None
                and ckpt.checkpoint_exists(old)
                and ckpt.get_checkpoint_mtimes([old])[0] - self._last_preserved
                > self._keep_hours * 3600
            ):
                self._last_preserved = ckpt.get_checkpoint_mtimes([old])[0]
                continue
            ckpt.remove_checkpoint(old)

    def restore_or_initialize(self, session=None):
        """Restores the latest checkpoint and returns its path, else runs ``init_fn`` (if
        any) and returns None."""
        if self.latest_checkpoint is not None:
            self._checkpoint.restore(self.latest_checkpoint).run_restore_ops(session)
            return self.latest_checkpoint
        if self._init_fn is not None:
            self._init_fn()
        return None


def _value(x, session):
    """A Python number from a number, an eager tensor/variable or a graph one."""
    if isinstance(x, (int, float, np.integer, np.floating)):
        return x
    if current_frontend().eager or not hasattr(x, "eval"):
        return np.asarray(x)
    return x.eval(session=session)
