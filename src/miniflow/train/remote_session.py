"""Sessions on a ``tf.train.Server`` target: the state of other tasks lives there.

``tf.Session(server.target)`` (and ``MonitoredTrainingSession(master=...)``) compile
their plans as usual; when a plan is built, each op that touches a variable placed on
another task of the cluster (its ``device``, e.g. ``/job:ps/task:1`` from
``replica_device_setter``) gets a remote kernel instead of the local one:

- a variable read returns a `RemoteRead`, pulled (once per run) only when a consumer
  needs the whole value; ``tf.gather``/``embedding_lookup`` on it pulls only the rows
  asked for, and ``tf.shape`` of it pulls nothing;
- assigns, Apply* (dense or sparse: only the gradient's rows travel) and Scatter* ops
  are sent to the variable's task, which runs the registered kernel on its own state;
- ``SyncReplicasOptimizer``'s step pushes the gradients to every task and waits until
  the step is applied there (and the step's moving averages, with ``variable_averages``).

Everything else runs in the worker, as before; plans of local sessions are unchanged.
"""

from __future__ import annotations

import inspect
import socket
import threading
import time

import numpy as np

from miniflow import errors
from miniflow.core import job_auth, wire
from miniflow.core.job_auth import AuthError
from miniflow.core.registry import kernel_attrs
from miniflow.graph import session as session_lib
from miniflow.ops.device_spec import DeviceSpec
from miniflow.train.server import in_process, parse_address
from miniflow.train.variable_store import encode_attrs, remote_op_allowed

__all__ = ["RemoteRead", "ClusterRuntime", "CONNECT_TIMEOUT"]

CONNECT_TIMEOUT = 60.0  # seconds to wait for a task (ConfigProto.operation_timeout_in_ms wins)


class _TaskClient:
    """One authenticated connection to a task; requests on it are serialised."""

    def __init__(self, task: str, address: str, identity, timeout: float):
        self.task, self.address, self.identity, self.timeout = task, address, identity, timeout
        self.lock = threading.Lock()
        self._sock = None

    def _connect(self):
        if self._sock is not None:
            return self._sock
        deadline, delay, last = time.monotonic() + self.timeout, 0.05, None
        while True:
            try:
                sock = socket.create_connection(
                    parse_address(self.address), timeout=job_auth.HELLO_TIMEOUT
                )
                try:
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    job_auth.greet(sock, self.identity, self.address, "task of this cluster")
                    sock.settimeout(None)
                except BaseException:
                    sock.close()
                    raise
                self._sock = sock
                return sock
            except AuthError as e:
                raise errors.UnauthenticatedError(
                    None, None, f"{self.task} at {self.address}: {e}"
                ) from None
            except OSError as e:
                last = e
            if time.monotonic() > deadline:
                raise errors.UnavailableError(
                    None,
                    None,
                    f"{self.task} at {self.address} unreachable for {self.timeout:g}s: {last}",
                )
            time.sleep(delay)
            delay = min(delay * 2, 0.5)

    def send(self, header: dict, arrays: dict | None = None) -> None:
        try:
            wire.send_frame(self._connect(), {**header, "job": self.identity.job_id}, arrays)
        except OSError as e:
            self.close()
            raise errors.UnavailableError(
                None, None, f"{self.task} at {self.address}: {e}"
            ) from None
        except BaseException:  # interrupted mid-frame: the stream is unusable
            self.close()
            raise

    def recv(self) -> tuple[dict, dict]:
        try:
            reply, arrays = wire.recv_frame(self._sock)
        except (OSError, ValueError) as e:
            self.close()
            raise errors.UnavailableError(
                None, None, f"{self.task} at {self.address}: {e}"
            ) from None
        except BaseException:  # interrupted mid-reply: the stream position is unknown
            self.close()
            raise
        if not reply.get("ok"):
            kind = getattr(errors, str(reply.get("kind")), None)
            if not (isinstance(kind, type) and issubclass(kind, errors.OpError)):
                kind = errors.UnavailableError
            raise kind(None, None, f"{reply.get('error')} (on {self.task})")
        return reply, arrays

    def call(self, header: dict, arrays: dict | None = None) -> tuple[dict, dict]:
        with self.lock:
            self.send(header, arrays)
            return self.recv()

    def close(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            sock.close()


class RemoteRead:
    """A variable of another task as a kernel input: pulled at most once per run, and
    only if a consumer needs the whole value (``np.asarray`` works on it)."""

    __slots__ = ("client", "spec", "shape", "_value")

    def __init__(self, client: _TaskClient, spec: dict, shape):
        self.client, self.spec, self.shape, self._value = client, spec, shape, None

    def value(self):
        if self._value is None:
            _, arrays = self.client.call(self.spec)
            v = arrays["value"]
            self._value = v[()] if v.ndim == 0 else np.array(v)
        return self._value

    def __array__(self, dtype=None, copy=None):
        # a fetch (read at the end of the run, after this run's updates): pulled again
        _, arrays = self.client.call(self.spec)
        return np.asarray(arrays["value"], dtype=dtype)


class RemoteSlot:
    """Another task's variable as a session `Slot`: what checkpoints read and write
    (``.value`` pulls it, None when uninitialized; assigning pushes an Assign)."""

    def __init__(self, client: _TaskClient, read: dict, assign: dict, name: str):
        self.client, self._read, self._assign, self.name = client, read, assign, name

    @property
    def value(self):
        try:
            _, arrays = self.client.call(self._read)
        except errors.FailedPreconditionError:
            return None
        return arrays["value"]

    @value.setter
    def value(self, new):
        self.client.call(self._assign, {"in0": _wire_array(new)})


def _local(value):
    return value.value() if type(value) is RemoteRead else value


def _wire_array(value):
    a = np.asarray(_local(value))
    if a.dtype.str.replace(">", "<") not in wire.DTYPES:
        a = a.astype(np.float64) if a.dtype.kind == "f" else a
    return a


def _grad_positions(opdef) -> tuple[list[int], bool]:
    """Input positions of the gradient in an Apply kernel (``grad``, or ``values`` and
    ``indices`` for a sparse one), and whether it is sparse."""
    names = [
        p.name
        for p in inspect.signature(opdef.forward).parameters.values()
        if p.kind is p.POSITIONAL_OR_KEYWORD and p.default is p.empty
    ][1:]  # after the state slot
    if "values" in names and "indices" in names:
        return [names.index("values"), names.index("indices")], True
    for dense in ("grad", "delta"):  # (GradientDescent names it delta)
        if dense in names:
            return [names.index(dense)], False
    raise errors.UnimplementedError(None, None, f"{opdef.type} has no gradient input")


class ClusterRuntime:
    """The remote kernels of one session on a server target."""

    def __init__(self, session, target: str):
        server = in_process(target)
        if server is None:
            raise errors.UnimplementedError(
                None,
                None,
                f"session target {target!r} is not a tf.train.Server of this process; "
                "create the server first and pass server.target",
            )
        self.session = session
        self.cluster, self.job, self.task = server.cluster, server.job_name, server.task_index
        self.identity = server.identity
        ms = getattr(session.config, "operation_timeout_in_ms", 0) or 0
        self.timeout = ms / 1000.0 if ms > 0 else CONNECT_TIMEOUT
        self._clients: dict[tuple, _TaskClient] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        for c in list(self._clients.values()):
            c.close()

    # -- where state lives --------------------------------------------------------------
    def client_for(self, var) -> _TaskClient | None:
        """The connection to ``var``'s task, or None when it is this task's own (or
        unplaced) variable."""
        device = getattr(var, "device", "") or ""
        if not device:
            return None
        spec = DeviceSpec.from_string(device)
        if spec.job is None:
            return None
        task = spec.task or 0
        if (spec.job, task) == (self.job, self.task):
            return None
        if spec.job not in self.cluster.jobs or task not in self.cluster.task_indices(spec.job):
            raise errors.InvalidArgumentError(
                None,
                None,
                f"variable {var.op_name} is placed on /job:{spec.job}/task:{task}, which is "
                f"not a task of the cluster {self.cluster.as_dict()}",
            )
        key = (spec.job, task)
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                address = self.cluster.task_address(spec.job, task)
                client = self._clients[key] = _TaskClient(
                    f"/job:{spec.job}/task:{task}", address, self.identity, self.timeout
                )
        return client

    def state_for(self, op):
        """A `RemoteSlot` for the read op of another task's variable, else None."""
        var = op.attrs.get("var")
        if op.type != "VariableV2" or not hasattr(var, "op_name"):
            return None
        client = self.client_for(var)
        if client is None:
            return None
        read = {**self.spec("VariableV2", var), "want": True}
        assign = {**self.spec("Assign", var, {"validate_shape": True}), "ninputs": 1}
        return RemoteSlot(client, read, assign, var.op_name)

    def _remote_output(self, tensor) -> bool:
        var = tensor.op.attrs.get("var")
        return hasattr(var, "op_name") and self.client_for(var) is not None

    # -- kernels ------------------------------------------------------------------------
    def bind(self, op):
        """A kernel that runs ``op`` against remote state, or None (run it locally)."""
        var = op.attrs.get("var")
        if hasattr(var, "op_name"):
            client = self.client_for(var)
            return None if client is None else self._variable_kernel(op, var, client)
        if op.type == "SyncReplicasPush":
            return self._sync_kernel(op)
        remote = [i for i, t in enumerate(op.inputs) if self._remote_output(t)]
        if not remote:
            return None
        local = session_lib._local_kernel(self.session, op)
        if op.type == "GatherV2" and remote == [0] and op.attrs.get("axis", 0) == 0:
            return _gather_kernel(local)
        if op.type == "Shape" and op.inputs[0].shape.is_fully_defined():
            dims = np.array(op.inputs[0].shape.as_list(), dtype=op.outputs[0].dtype.np)
            return lambda _value: dims.copy()

        def resolved(*inputs):
            return local(*[_local(x) for x in inputs])

        return resolved

    def spec(self, op_type: str, var, attrs: dict | None = None, slots=()) -> dict:
        if var.dtype.np.str.replace(">", "<") not in wire.DTYPES:
            raise errors.UnimplementedError(
                None, None, f"variable {var.op_name} of dtype {var.dtype.name} cannot live on a ps"
            )
        shape = var.shape.as_list() if var.shape.ndims is not None else None
        out = {"op": "run", "type": op_type, "var": var.op_name, "shape": shape}
        out["dtype"] = var.dtype.name
        out["attrs"] = encode_attrs(attrs or {})
        if slots:
            out["slots"] = list(slots)
        return out

    def _variable_kernel(self, op, var, client):
        if not remote_op_allowed(op.type):
            raise errors.UnimplementedError(
                None,
                op,
                f"{op.type} op '{op.name}' on variable {var.op_name} (placed on {var.device}) "
                "cannot run on a ps task",
            )
        attrs = dict(kernel_attrs(op.opdef, op.attrs))
        attrs.pop("var", None)
        slots = []
        for s in attrs.pop("slot_vars", ()):
            if self.client_for(s) is not client:
                raise errors.UnimplementedError(
                    None, op, f"slot {s.op_name} is not on the task of {var.op_name}"
                )
            slots.append(s.op_name)
        read = {**self.spec("VariableV2", var), "want": True}
        shape = var.shape
        if op.type == "VariableV2":
            return lambda: RemoteRead(client, read, shape)
        spec = self.spec(op.type, var, attrs, slots)
        if op.type == "IsVariableInitialized":
            ask = {**spec, "want": True}
            return lambda: client.call(ask)[1]["value"][()]
        if op.type == "InitializedValue":  # (a moving average's initial value)
            ask = {**spec, "want": True, "ninputs": 1}
            return lambda initial: client.call(ask, {"in0": _wire_array(initial)})[1]["value"]

        def run(*inputs):
            arrays = {f"in{i}": _wire_array(x) for i, x in enumerate(inputs)}
            client.call({**spec, "ninputs": len(inputs)}, arrays)
            return RemoteRead(client, read, shape)

        return run

    def _sync_kernel(self, op):
        updates, gs = op.attrs["updates"], op.attrs["global_step"]
        averages = op.attrs.get("averages", ())
        n = int(op.attrs["replicas_to_aggregate"])
        gs_client = self.client_for(gs)
        if gs_client is None:
            raise errors.UnimplementedError(
                None, op, "SyncReplicasOptimizer needs the global step on a ps task"
            )
        plan, start = [], 1  # (client, spec, input slice) per update
        for apply_op in (*updates, *averages):
            var = apply_op.attrs["var"]
            client = self.client_for(var)
            if client is None:
                raise errors.UnimplementedError(
                    None, op, f"SyncReplicasOptimizer: variable {var.op_name} is not on a ps task"
                )
            average = apply_op in averages
            # an Assign of optimizer state (Adam's beta powers) or a moving average
            # carries no gradient
            grads, sparse = (
                ([], False)
                if average or apply_op.type == "Assign"
                else _grad_positions(apply_op.opdef)
            )
            attrs = dict(kernel_attrs(apply_op.opdef, apply_op.attrs))
            attrs.pop("var", None)
            slots = []
            for s in attrs.pop("slot_vars", ()):
                if self.client_for(s) is not client:
                    raise errors.UnimplementedError(
                        None, op, f"{s.op_name} is not on the ps task of {var.op_name}"
                    )
                slots.append(s.op_name)
            spec = self.spec(apply_op.type, var, attrs, slots)
            k = len(apply_op.inputs)
            spec.update(ninputs=k, grads=grads, sparse=sparse)
            if average and op.attrs.get("averages_count_steps"):
                spec["post_step"] = [1]  # num_updates: the global step after the step
            plan.append((client, spec, slice(start, start + k)))
            start += k
        clients = list(dict.fromkeys([gs_client] + [c for c, _, _ in plan]))
        # TF's token: the step this worker's next gradients are for is the global step
        # after its previous push (applied or dropped), not a read racing other workers'
        # steps: a gradient computed before a step was applied is stale after it.
        token: list = [None]

        def push(step, *inputs):
            step = int(_local(step)) if token[0] is None else token[0]
            requests = {
                c: ({"op": "sync", "step": step, "n": n, "updates": []}, {}) for c in clients
            }
            requests[gs_client][0]["bump"] = gs.op_name
            for client, spec, where in plan:
                header, arrays = requests[client]
                k = len(header["updates"])
                header["updates"].append(spec)
                for j, x in enumerate(inputs[where.start - 1 : where.stop - 1]):
                    # (a post-step input is the task's to fill: no global step pull)
                    post = j in spec.get("post_step", ())
                    arrays[f"u{k}_{j}"] = np.zeros((), np.int64) if post else _wire_array(x)
            deadline = session_lib.run_deadline()
            for c in sorted(clients, key=lambda c: c.task):
                c.lock.acquire()
            try:
                replies = _exchange(clients, requests, deadline)
            finally:
                for c in clients:
                    c.lock.release()
            reply = replies[gs_client]
            token[0] = int(reply["step"]) + (0 if reply.get("stale") else 1)
            return np.int64(step)

        return push


def _exchange(clients: list, requests: dict, deadline: float | None) -> dict:
    """Sends each task its request, then reads every reply owed, even after an error:
    an unread reply would answer that connection's next request (a variable read would
    get a sync step's answer). The first error is raised after the others are read."""
    sent, error = [], None
    for c in clients:
        header, arrays = requests[c]
        if deadline is not None:
            header["timeout"] = max(0.0, deadline - time.monotonic())
        try:
            c.send(header, arrays)
        except errors.OpError as e:  # its connection is closed; the others were sent
            error = e
            break
        sent.append(c)
    replies = {}
    for i, c in enumerate(sent):
        try:
            replies[c] = c.recv()[0]
        except errors.OpError as e:  # an error reply was read whole, or the connection closed
            error = error or e
        except BaseException:  # interrupted: what the rest still owe is unknown
            for rest in sent[i + 1 :]:
                rest.close()
            raise
    if error is not None:
        raise error
    return replies


def _gather_kernel(local):
    def gather(params, indices):
        if type(params) is not RemoteRead:
            return local(params, indices)
        idx = np.asarray(indices)
        flat = idx.reshape(-1).astype(np.int64, copy=False)
        _, arrays = params.client.call({"op": "gather", "var": params.spec["var"]}, {"ids": flat})
        rows = arrays["rows"]
        return rows.reshape(idx.shape + rows.shape[1:])

    return gather


session_lib.register_target("grpc://", ClusterRuntime)
