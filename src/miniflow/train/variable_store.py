"""The state a ``tf.train.Server`` task holds for the sessions of its cluster.

Variables placed on a task (``/job:ps/task:k``) live here, keyed by their op name,
with their optimizer slots (colocated, so on the same task). Workers send the *op* to
run, never code: the op type must be a variable op or an optimizer Apply op of the
registry, and the store runs that op's registered kernel on its own `Slot`s, so an
update here is bit for bit the update a single-process session makes. Requests:

- ``run``: one variable op (read, assign, Apply...) with its input arrays;
- ``gather``: rows of a variable (``tf.gather``/``embedding_lookup`` pull only these);
- ``sync``: one worker's gradients for step ``s`` (``SyncReplicasOptimizer``). When
  ``n`` pushes of the current step have arrived they are averaged and applied once,
  the global step (if it lives here) is bumped, and every pusher is answered; a push of
  an older step is dropped as stale, as TF's conditional accumulators do. An update
  whose spec lists ``post_step`` inputs gets the step's number plus one there (the
  global step after the step: a moving average's ``num_updates``);
- ``stats``: counters (rows sent by gathers, rows received by sparse updates, steps).
"""

from __future__ import annotations

import inspect
import threading

import numpy as np

from miniflow import dtypes, errors
from miniflow.core.registry import has_op, kernel_attrs, lookup_op
from miniflow.core.shapes import TensorShape
from miniflow.ops.state_ops import Slot

__all__ = ["VariableStore", "VarInfo", "remote_op_allowed", "encode_attrs", "decode_attrs"]

_VARIABLE_OPS = frozenset(
    {"VariableV2", "IsVariableInitialized", "InitializedValue", "Assign", "AssignAdd", "AssignSub"}
)
_UPDATE_PREFIXES = ("Apply", "SparseApply", "Scatter")


def remote_op_allowed(op_type: str) -> bool:
    """Whether a store runs ``op_type``: variable reads/assigns and the registry's
    stateful updates of one variable (Apply*, SparseApply*, Scatter*)."""
    if op_type in _VARIABLE_OPS:
        return True
    if not op_type.startswith(_UPDATE_PREFIXES) or not has_op(op_type):
        return False
    opdef = lookup_op(op_type)
    return bool(opdef.stateful and opdef.extra.get("writes") and opdef.state_key)


def _indices_position(op_type) -> int | None:
    """Where a sparse update (SparseApply*, Scatter*) takes its row indices."""
    if not isinstance(op_type, str) or not op_type.startswith(("SparseApply", "Scatter")):
        return None
    if not has_op(op_type):
        return None
    try:
        names = list(inspect.signature(lookup_op(op_type).forward).parameters)[1:]
    except (TypeError, ValueError):
        return None
    return names.index("indices") if "indices" in names else None


class VarInfo:
    """What a kernel needs of its variable on the ps: name, static shape and dtype."""

    __slots__ = ("op_name", "shape", "dtype")

    def __init__(self, op_name: str, shape, dtype: str):
        self.op_name = op_name
        self.shape = TensorShape(None if shape is None else tuple(shape))
        self.dtype = dtypes.as_dtype(dtype)

    @property
    def name(self) -> str:
        return f"{self.op_name}:0"


def encode_attrs(attrs: dict) -> dict:
    """Kernel attrs as JSON (numbers, strings, bools, lists; dtypes as their names).

    Raises:
        UnimplementedError: an attr has another type (it cannot be sent).
    """
    out = {}
    for k, v in attrs.items():
        if isinstance(v, dtypes.DType):
            out[k] = {"dtype": v.name}
        elif isinstance(v, bool | int | float | str | type(None)):
            out[k] = v
        elif isinstance(v, list | tuple) and all(isinstance(x, int | float | str) for x in v):
            out[k] = {"tuple": list(v)}
        else:
            raise errors.UnimplementedError(
                None, None, f"attr {k}={v!r} cannot be sent to a ps task"
            )
    return out


def decode_attrs(attrs: dict) -> dict:
    out = {}
    for k, v in attrs.items():
        if isinstance(v, dict) and set(v) == {"dtype"}:
            out[k] = dtypes.as_dtype(v["dtype"])
        elif isinstance(v, dict) and set(v) == {"tuple"}:
            out[k] = tuple(v["tuple"])
        else:
            out[k] = v
    return out


def _error(exc: Exception) -> dict:
    kind = type(exc).__name__ if isinstance(exc, errors.OpError) else "InvalidArgumentError"
    message = exc.message if isinstance(exc, errors.OpError) else f"{type(exc).__name__}: {exc}"
    return {"ok": False, "kind": kind, "error": message}


class VariableStore:
    """The variables of one task, and the sync-step state of ``SyncReplicasOptimizer``."""

    def __init__(self, task: str = ""):
        self.task = task
        self._slots: dict[str, Slot] = {}
        self._lock = threading.RLock()
        self._cond = threading.Condition(self._lock)
        self._sync_step: int | None = None  # the step being aggregated
        self._applied = -(1 << 62)  # the last step applied
        self._pending: dict[int, list] = {}
        self._failed: dict[int, dict] = {}  # step -> the error its pushers are answered
        self._closed = False
        self.stats = {
            "requests": 0,
            "rows_sent": 0,
            "rows_received": 0,
            "dense_pulls": 0,
            "sync_steps": 0,
            "stale_pushes": 0,
        }

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    def slot(self, name: str) -> Slot:
        s = self._slots.get(name)
        if s is None:
            s = self._slots.setdefault(name, Slot(name))
        return s

    def value(self, name: str):
        """The current value of variable ``name`` (None if never initialized here)."""
        with self._lock:
            s = self._slots.get(name)
            return None if s is None or s.value is None else np.array(s.value)

    # -- requests -------------------------------------------------------------------
    def handle(self, header: dict, arrays: dict) -> tuple[dict, dict]:
        self.stats["requests"] += 1
        try:
            op = header.get("op")
            if op == "run":
                return self._run(header, arrays)
            if op == "gather":
                return self._gather(header, arrays)
            if op == "sync":
                return self._sync(header, arrays)
            if op == "stats":
                return {"ok": True, "stats": dict(self.stats)}, {}
            return {"ok": False, "kind": "InvalidArgumentError", "error": f"unknown op {op!r}"}, {}
        except Exception as e:  # a bad request is answered, the task keeps serving
            return _error(e), {}

    def _kernel_call(self, spec: dict, inputs: list):
        op_type = spec.get("type")
        if not isinstance(op_type, str) or not remote_op_allowed(op_type):
            raise errors.PermissionDeniedError(
                None, None, f"a ps task runs only variable ops, not {op_type!r}"
            )
        opdef = lookup_op(op_type)
        var = VarInfo(spec["var"], spec.get("shape"), spec["dtype"])
        attrs = decode_attrs(spec.get("attrs") or {})
        attrs["var"] = var
        attrs["slot_vars"] = tuple(self.slot(n) for n in spec.get("slots", ()))
        attrs = kernel_attrs(opdef, attrs)  # only what the kernel accepts
        return opdef.forward(self.slot(var.op_name), *inputs, **attrs)

    def _run(self, header, arrays):
        inputs = [arrays[f"in{i}"] for i in range(int(header.get("ninputs", 0)))]
        rows = _indices_position(header.get("type"))
        if rows is not None and rows < len(inputs):  # a sparse update: count its rows
            self.stats["rows_received"] += int(np.size(inputs[rows]))
        with self._lock:
            out = self._kernel_call(header, inputs)
            if not header.get("want"):
                return {"ok": True}, {}
            if header["type"] == "VariableV2":
                self.stats["dense_pulls"] += 1
            return {"ok": True}, {"value": np.array(out)}

    def _gather(self, header, arrays):
        ids = np.asarray(arrays["ids"]).reshape(-1)
        name = header["var"]
        with self._lock:
            s = self._slots.get(name)
            if s is None or s.value is None:
                raise errors.FailedPreconditionError(
                    None, None, f"Attempting to use uninitialized value {name}"
                )
            n = s.value.shape[0]
            if ids.size and (ids.min() < 0 or ids.max() >= n):
                bad = int(ids[(ids < 0) | (ids >= n)][0])
                raise errors.InvalidArgumentError(
                    None, None, f"indices = {bad} is not in [0, {n}) (variable {name})"
                )
            rows = s.value[ids]
            self.stats["rows_sent"] += int(ids.size)
        return {"ok": True}, {"rows": rows}

    # -- SyncReplicasOptimizer ------------------------------------------------------
    def _sync(self, header, arrays):
        step, n = int(header["step"]), int(header["n"])
        if n < 1:
            raise errors.InvalidArgumentError(None, None, "replicas_to_aggregate must be >= 1")
        timeout = header.get("timeout")
        with self._cond:
            if self._sync_step is None or (step > self._sync_step and not self._pending):
                self._sync_step = step
            if step < self._sync_step:
                self.stats["stale_pushes"] += 1
                return {"ok": True, "stale": True, "step": self._sync_step}, {}
            self._pending.setdefault(step, []).append((header, arrays))
            while len(self._pending.get(self._sync_step, ())) >= n:
                done = self._sync_step
                try:
                    self._apply_step(done, self._pending.pop(done), n)
                except Exception as e:  # every pusher of the step gets the error
                    self._failed[done] = _error(e)
                    self._finish_step(done)
            ok = self._cond.wait_for(
                lambda: self._applied >= step or self._closed,
                None if timeout is None else float(timeout),
            )
            if step in self._failed:
                return self._failed[step], {}
            if not ok or self._applied < step:
                raise errors.DeadlineExceededError(
                    None,
                    None,
                    f"sync step {step} on {self.task or 'this task'}: waited for {n} "
                    f"replicas, {len(self._pending.get(step, ()))} arrived",
                )
            return {"ok": True, "stale": False, "step": step}, {}

    def _apply_step(self, step: int, pushes: list, n: int) -> None:
        """Averages ``n`` workers' gradients of ``step`` and applies each update once,
        in order (a moving average comes after the updates of its variable)."""
        first, first_arrays = pushes[0]
        for k, spec in enumerate(first["updates"]):
            inputs = [first_arrays[f"u{k}_{j}"] for j in range(int(spec["ninputs"]))]
            for j in spec.get("post_step", ()):
                inputs[j] = np.asarray(step + 1, np.int64)
            grads = spec["grads"]  # input positions holding the gradient
            if spec.get("sparse"):
                vi, ii = grads
                values = [p[1][f"u{k}_{vi}"] for p in pushes]
                inputs[vi] = np.concatenate(values) / np.asarray(n, values[0].dtype)
                inputs[ii] = np.concatenate([p[1][f"u{k}_{ii}"] for p in pushes])
                self.stats["rows_received"] += int(inputs[ii].size)
            else:
                for j in grads:
                    total = first_arrays[f"u{k}_{j}"].copy()
                    for _, a in pushes[1:]:
                        total += a[f"u{k}_{j}"]
                    inputs[j] = total / np.asarray(n, total.dtype)
            self._kernel_call(spec, inputs)
        bump = first.get("bump")
        if bump:
            gs = self.slot(bump)
            if gs.value is None:
                raise errors.FailedPreconditionError(
                    None, None, f"Attempting to use uninitialized value {bump}"
                )
            gs.value[()] = gs.value[()] + 1
        self.stats["sync_steps"] += 1
        self._finish_step(step)

    def _finish_step(self, step: int) -> None:
        self._applied = step
        self._sync_step = step + 1
        self._failed.pop(step - 8, None)
        self._cond.notify_all()
