"""The ``process`` backend: every shard and worker is an OS process on this machine.

Shards serve the :mod:`miniflow.ps.wire` frames over TCP on 127.0.0.1 (one thread per
connection, so a pull waiting at the sync barrier blocks only its own worker). Workers
connect to every shard. The coordinator starts each process in its own process group
(``python -m miniflow.ps.backends.process shard|worker ...``), restarts a dead shard on
the same port from its checkpoint, and reports dead workers to the job, which starts
replacements. Children exit by themselves when their parent process disappears.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

from miniflow.ps import wire
from miniflow.ps.backends.base import Backend, WorkerState, import_path
from miniflow.ps.client import Call, ShardClient
from miniflow.ps.shard import Shard, ShardConfig

__all__ = ["ProcessBackend", "SocketTransport", "serve_shard"]

HOST = "127.0.0.1"


class SocketTransport:
    """One TCP connection per shard; requests are written to every socket before any
    reply is read, so the shards work on them concurrently.

    A request whose connection fails (the shard died) is retried on a fresh connection
    until ``timeout`` seconds have passed; the shard's new incarnation then tells the
    :class:`ShardClient` to replay its last push.
    """

    def __init__(self, addresses: list[str], timeout: float = 60.0):
        self.addresses = [(a.rsplit(":", 1)[0], int(a.rsplit(":", 1)[1])) for a in addresses]
        self.num_shards = len(addresses)
        self.timeout = timeout
        self._socks: list[socket.socket | None] = [None] * self.num_shards
        self.reconnects = 0

    def _connect(self, shard: int) -> socket.socket:
        if self._socks[shard] is None:
            sock = socket.create_connection(self.addresses[shard], timeout=None)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self._socks[shard] = sock
        return self._socks[shard]

    def _drop(self, shard: int) -> None:
        sock, self._socks[shard] = self._socks[shard], None
        if sock is not None:
            sock.close()

    def call_many(self, calls: list[Call]) -> list[tuple[dict, dict]]:
        sent = []
        for c in calls:
            try:
                wire.send_frame(self._connect(c.shard), c.header, c.arrays)
                sent.append(True)
            except OSError:
                self._drop(c.shard)
                sent.append(False)
        replies = []
        for c, ok in zip(calls, sent, strict=True):
            reply = None
            if ok:
                try:
                    reply = wire.recv_frame(self._socks[c.shard])
                except OSError:  # ConnectionError is an OSError
                    self._drop(c.shard)
            replies.append(reply if reply is not None else self._retry(c))
        return replies

    def _retry(self, call: Call) -> tuple[dict, dict]:
        deadline, delay = time.monotonic() + self.timeout, 0.05
        while True:
            try:
                self.reconnects += 1
                sock = self._connect(call.shard)
                wire.send_frame(sock, call.header, call.arrays)
                return wire.recv_frame(sock)
            except OSError as e:
                self._drop(call.shard)
                if time.monotonic() > deadline:
                    host, port = self.addresses[call.shard]
                    raise ConnectionError(
                        f"shard {call.shard} at {host}:{port} unreachable for "
                        f"{self.timeout:.0f}s: {e}"
                    ) from None
                time.sleep(delay)
                delay = min(delay * 2, 0.5)

    def close(self) -> None:
        for s in range(self.num_shards):
            self._drop(s)


def serve_shard(shard: Shard, port: int = 0, announce=None) -> None:
    """Serves ``shard`` on 127.0.0.1:``port`` forever (0 picks a free port).

    ``announce(port)`` is called once the socket listens.
    """
    server = socket.create_server((HOST, port))  # sets SO_REUSEADDR: a restart may rebind
    if announce is not None:
        announce(server.getsockname()[1])

    def serve(conn: socket.socket) -> None:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with conn:
            while True:
                try:
                    header, arrays = wire.recv_frame(conn)
                except (OSError, ValueError):
                    return
                wire.send_frame(conn, *shard.handle(header, arrays))

    while True:
        conn, _ = server.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()


def _exit_with_parent() -> None:
    """Ends this process when the coordinator that started it is gone (no orphans)."""
    parent = os.getppid()

    def watch():
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(3)

    threading.Thread(target=watch, daemon=True).start()


class ProcessBackend(Backend):
    name = "process"

    def __init__(self, spec):
        super().__init__(spec)
        self.shard_procs: list[subprocess.Popen | None] = [None] * len(spec.shards)
        self.ports: list[int] = [0] * len(spec.shards)
        self.worker_procs: dict[int, subprocess.Popen] = {}
        self._stopping = False
        self._env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(
                p for p in (import_path(), os.environ.get("PYTHONPATH")) if p
            ),
        }

    @property
    def addresses(self) -> list[str]:
        return [f"{HOST}:{p}" for p in self.ports]

    def _spawn(self, args: list[str], log_name: str) -> subprocess.Popen:
        log = open(os.path.join(self.spec.job_dir, log_name), "ab")  # noqa: SIM115
        try:
            return subprocess.Popen(
                [sys.executable, "-m", __name__, *args],
                env=self._env,
                stdout=subprocess.PIPE,
                stderr=log,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        finally:
            log.close()

    def _start_shard(self, index: int, restore: bool) -> None:
        cfg = json.dumps(self.spec.shards[index].__dict__)
        args = ["shard", "--config", cfg, "--port", str(self.ports[index])]
        proc = self._spawn(args + (["--restore"] if restore else []), f"shard-{index}.log")
        line = proc.stdout.readline().decode()
        if not line.startswith("PORT "):
            proc.kill()
            proc.wait()
            raise RuntimeError(
                f"shard {index} did not start (said {line!r}); see "
                f"{os.path.join(self.spec.job_dir, f'shard-{index}.log')}"
            )
        self.ports[index] = int(line.split()[1])
        self.shard_procs[index] = proc

    def start_shards(self, restore: bool = False) -> None:
        for i in range(len(self.spec.shards)):
            self._start_shard(i, restore=restore)

    def client(self, worker: int = -1, timeout: float | None = None) -> ShardClient:
        timeout = self.spec.timeout if timeout is None else timeout
        return ShardClient(SocketTransport(self.addresses, timeout), worker)

    def start_worker(self, index: int) -> None:
        args = [
            "worker",
            "--index",
            str(index),
            "--shards",
            ",".join(self.addresses),
            "--partition",
            self.spec.partitions.path(index),
            "--epochs",
            str(self.spec.epochs),
            "--pace",
            str(self.spec.pace),
            "--timeout",
            str(self.spec.timeout),
        ]
        self.worker_procs[index] = self._spawn(args, f"worker-{index}.log")

    def poll(self) -> list[WorkerState]:
        for i, proc in enumerate(self.shard_procs):
            if proc is not None and proc.poll() is not None and not self._stopping:
                self.log(
                    f"shard {i} died (exit {proc.returncode}); restarting it on port "
                    f"{self.ports[i]} from {self.spec.shards[i].checkpoint_path}"
                )
                proc.stdout.close()
                self._start_shard(i, restore=True)
        states = []
        for i in range(self.spec.num_workers):
            rc = self.worker_procs[i].poll()
            if rc is None:
                states.append(WorkerState("running"))
            elif rc == 0:
                states.append(WorkerState("done"))
            else:
                states.append(
                    WorkerState(
                        "failed",
                        _exit_reason(rc)
                        + _log_tail(os.path.join(self.spec.job_dir, f"worker-{i}.log")),
                    )
                )
        return states

    def kill_worker(self, index: int) -> None:
        os.killpg(self.worker_procs[index].pid, signal.SIGKILL)
        self.worker_procs[index].wait()

    def kill_shard(self, index: int) -> None:
        os.killpg(self.shard_procs[index].pid, signal.SIGKILL)
        self.shard_procs[index].wait()

    def stop(self) -> None:
        self._stopping = True
        procs = [p for p in [*self.worker_procs.values(), *self.shard_procs] if p is not None]
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        deadline = time.monotonic() + 5
        for p in procs:
            try:
                p.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
            if p.stdout is not None:
                p.stdout.close()


def _exit_reason(rc: int) -> str:
    if rc < 0:
        return f"killed by {signal.Signals(-rc).name}"
    return f"exit status {rc}"


def _log_tail(path: str, lines: int = 5) -> str:
    try:
        with open(path, "rb") as f:
            tail = f.read().decode(errors="replace").strip().splitlines()[-lines:]
    except OSError:
        return ""
    return ("; log: " + " | ".join(tail)) if tail else ""


def main(argv: list[str] | None = None) -> int:
    """Entry point of shard and worker processes (started by :class:`ProcessBackend`)."""
    p = argparse.ArgumentParser(prog="python -m miniflow.ps.backends.process")
    sub = p.add_subparsers(dest="role", required=True)
    s = sub.add_parser("shard")
    s.add_argument("--config", required=True, help="ShardConfig as JSON")
    s.add_argument("--port", type=int, default=0)
    s.add_argument("--restore", action="store_true")
    w = sub.add_parser("worker")
    w.add_argument("--index", type=int, required=True)
    w.add_argument("--shards", required=True, help="host:port,... in shard order")
    w.add_argument("--partition", required=True)
    w.add_argument("--epochs", type=int, default=1)
    w.add_argument("--pace", type=float, default=0.0)
    w.add_argument("--timeout", type=float, default=300.0)
    args = p.parse_args(argv)
    _exit_with_parent()
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    if args.role == "shard":
        shard = Shard(ShardConfig(**json.loads(args.config)), restore=args.restore)
        serve_shard(shard, args.port, lambda port: print(f"PORT {port}", flush=True))
        return 0
    from miniflow.ps.worker import run_worker

    client = ShardClient(SocketTransport(args.shards.split(","), args.timeout), args.index)
    result = run_worker(client, args.partition, args.epochs, args.pace)
    print(f"worker {args.index} finished: {json.dumps(result.__dict__)}", file=sys.stderr)
    client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
