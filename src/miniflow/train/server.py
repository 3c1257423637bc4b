"""``tf.train.Server``: one task of a TF1 cluster, served over TCP.

Every task (ps or worker) listens on its address in the `ClusterSpec` and serves a
`VariableStore`: the variables placed on it. A session whose target is a server's
``grpc://host:port`` keeps the variables of other tasks there (`remote_session`).

Identity: the job id of a cluster is a hash of its spec, so a process of another
cluster is refused. Connections use the parameter server's HMAC handshake and
size-capped frames (`core.job_auth`, `core.wire`; nothing is pickled) with the secret in
``MINIFLOW_PS_SECRET`` (hex, at least 32 digits). Without it, every address of the
cluster must be loopback and the server binds 127.0.0.1 only: any local process of
the same cluster could then connect, which is the whole protection.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import os
import socket
import threading

from miniflow import errors
from miniflow.core import job_auth, wire
from miniflow.core.job_auth import SECRET_ENV, JobIdentity
from miniflow.train.cluster_spec import ClusterDef, ClusterSpec, ServerDef
from miniflow.train.variable_store import VariableStore

__all__ = ["Server", "cluster_identity", "parse_address", "SECRET_ENV"]

_SERVERS: dict[str, Server] = {}  # target -> the in-process server


def parse_address(address: str) -> tuple[str, int]:
    """``"host:port"`` -> ``(host, port)``.

    Raises:
        ValueError: not HOST:PORT with a port in 1..65535.
    """
    host, sep, port = str(address).rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"bad task address {address!r}; expected HOST:PORT")
    return host.strip("[]"), int(port)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def cluster_identity(cluster: ClusterSpec) -> JobIdentity:
    """The cluster's job identity: id from the spec, secret from ``MINIFLOW_PS_SECRET``.

    Raises:
        ValueError: no secret is set and the cluster has a non-loopback address, or the
            secret is not hex of at least 16 bytes.
    """
    spec = json.dumps({j: cluster.job_tasks(j) for j in sorted(cluster.jobs)}, sort_keys=True)
    job_id = "tf-" + hashlib.sha256(spec.encode()).hexdigest()[:20]
    if os.environ.get(SECRET_ENV):
        return JobIdentity.from_env(job_id)
    remote = [
        a
        for j in cluster.jobs
        for a in cluster.job_tasks(j)
        if a is not None and not _loopback(parse_address(a)[0])
    ]
    if remote:
        raise ValueError(
            f"cluster address {remote[0]!r} is not loopback: set {SECRET_ENV} (hex, at "
            "least 32 digits, the same in every task) so that tasks authenticate; "
            "without it a cluster runs on 127.0.0.1 only"
        )
    # no secret: the id still keeps clusters apart; loopback is the only protection
    return JobIdentity(job_id, hashlib.sha256(b"miniflow-loopback|" + job_id.encode()).digest())


def _resolve(server_or_cluster_def, job_name, task_index):
    if isinstance(server_or_cluster_def, ServerDef):
        sd = server_or_cluster_def
        cluster = ClusterSpec(sd.cluster)
        job_name = job_name if job_name is not None else sd.job_name
        task_index = task_index if task_index is not None else sd.task_index
    elif isinstance(server_or_cluster_def, ClusterSpec | ClusterDef | dict):
        cluster = ClusterSpec(server_or_cluster_def)
    else:
        raise TypeError(
            "server_or_cluster_def must be a tf.train.ClusterSpec, a ClusterDef, a "
            f"ServerDef or a dict, got {type(server_or_cluster_def).__name__}"
        )
    if not job_name:
        if len(cluster.jobs) != 1:
            raise ValueError(f"job_name must be given: the cluster has jobs {cluster.jobs}")
        job_name = cluster.jobs[0]
    if job_name not in cluster.jobs:  # TF's error class and message, with the jobs
        raise errors.InternalError(
            None, None, f'Job "{job_name}" was not defined in cluster (jobs: {cluster.jobs})'
        )
    if task_index is None:
        task_index = 0
    if not isinstance(task_index, int) or task_index not in cluster.task_indices(job_name):
        raise errors.InternalError(
            None,
            None,
            f'Task {task_index} was not defined in job "{job_name}" (tasks: '
            f"{cluster.task_indices(job_name)})",
        )
    return cluster, job_name, task_index


class Server:
    """An in-process server of task ``task_index`` of job ``job_name``.

    Args:
        server_or_cluster_def: a `ClusterSpec` (or its dict, a ``ClusterDef``, a
            ``ServerDef``).
        job_name: this task's job (may be omitted when the cluster has one job).
        task_index: this task's index in the job (default 0).
        protocol: ``"grpc"`` or None (the only protocol; the wire is miniflow's own).
        config: accepted (a ``ConfigProto``).
        start: start serving at once.

    Raises:
        InternalError: unknown job or task index out of range (TF's class and message).
        ValueError: a bad address, a non-loopback cluster without
            ``MINIFLOW_PS_SECRET``, or the port is taken.
    """

    def __init__(
        self,
        server_or_cluster_def,
        job_name=None,
        task_index=None,
        protocol=None,
        config=None,
        start=True,
    ):
        if protocol not in (None, "grpc"):
            raise ValueError(f"protocol {protocol!r} is not supported; use 'grpc' or None")
        self.cluster, self.job_name, self.task_index = _resolve(
            server_or_cluster_def, job_name, task_index
        )
        self.identity = cluster_identity(self.cluster)
        self.address = self.cluster.task_address(self.job_name, self.task_index)
        host, port = parse_address(self.address)
        self._config = config
        self.store = VariableStore(f"/job:{self.job_name}/task:{self.task_index}")
        # loopback addresses bind loopback; others (only with a secret) all interfaces
        bind = ("127.0.0.1" if host == "localhost" else host) if _loopback(host) else ""
        try:
            self._sock = socket.create_server((bind, port))
        except OSError as e:
            raise ValueError(
                f"tf.train.Server /job:{self.job_name}/task:{self.task_index} cannot listen "
                f"on {self.address}: {e}"
            ) from None
        self._thread: threading.Thread | None = None
        self._stopped = threading.Event()
        _SERVERS[self.target] = self
        if start:
            self.start()

    @property
    def target(self) -> str:
        """The session target of this server, ``"grpc://host:port"``."""
        return f"grpc://{self.address}"

    @property
    def server_def(self) -> ServerDef:
        return ServerDef(
            cluster=self.cluster.as_cluster_def(),
            job_name=self.job_name,
            task_index=self.task_index,
            protocol="grpc",
        )

    @staticmethod
    def create_local_server(config=None, start=True):
        """A one-task server on a free loopback port (``job "local"``)."""
        with socket.create_server(("127.0.0.1", 0)) as s:
            port = s.getsockname()[1]
        return Server({"local": [f"localhost:{port}"]}, "local", 0, config=config, start=start)

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._accept, daemon=True)
            self._thread.start()

    def join(self) -> None:
        """Blocks while the server runs (a ps task's main loop)."""
        self.start()
        while not self._stopped.wait(3600):
            pass

    def stop(self) -> None:
        """Stops serving (miniflow's addition; TF servers stop with their process)."""
        self._stopped.set()
        self.store.close()
        _SERVERS.pop(self.target, None)
        try:
            self._sock.close()
        except OSError:
            pass

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with conn:
            try:
                conn.settimeout(job_auth.HELLO_TIMEOUT)
                if not job_auth.admit(conn, self.identity, self.task_index, "cluster"):
                    return
                conn.settimeout(None)
                while True:
                    header, arrays = wire.recv_frame(conn)
                    if header.get("job") != self.identity.job_id:
                        job_auth.refuse(conn, f"refused: a request of job {header.get('job')!r}")
                        return
                    if header.get("op") == "cluster":
                        reply = {"ok": True, "cluster": self.cluster.as_dict()}
                        wire.send_frame(conn, reply)
                        continue
                    wire.send_frame(conn, *self.store.handle(header, arrays))
            except OSError:
                return
            except Exception as e:  # a malformed or oversized frame: say why, hang up
                job_auth.refuse(conn, f"refused: {e}")


def in_process(target: str) -> Server | None:
    """The server of this process whose target is ``target``, if any."""
    return _SERVERS.get(target)
