"""The ``process`` backend: every shard and worker is an OS process on this machine.

Shards serve the :mod:`miniflow.core.wire` frames over TCP on 127.0.0.1 (one thread per
connection, so a pull waiting at the sync barrier blocks only its own worker). Workers
connect to every shard. The coordinator starts each process in its own process group
(``python -m miniflow.ps.backends.process shard|worker ...``), restarts a dead shard from its checkpoint
on the same port (or on a new one if another process took it: the addresses live in
``JOB_DIR/shards.json``, which clients re-read when a shard is unreachable), and reports
dead workers to the job, which starts replacements. Children exit by themselves when their parent process disappears.
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import signal
import subprocess
import sys
import threading
import time

from miniflow.core.job_auth import SECRET_ENV, AuthError, JobIdentity, new_identity
from miniflow.ps.backends.base import Backend, WorkerState, import_path
from miniflow.ps.client import ShardClient
from miniflow.ps.shard import Shard, ShardConfig
from miniflow.ps.transport import SocketTransport, listen, serve_shard, write_addresses

__all__ = ["ProcessBackend", "SocketTransport", "serve_shard"]

HOST = "127.0.0.1"


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
        # The job's identity: children get the secret in their environment (never on a
        # command line); JOB_DIR/secret (mode 0600) is for tools of the same user.
        self.identity = new_identity()
        self.identity.write_secret(os.path.join(spec.job_dir, "secret"))
        self._env = {
            **os.environ,
            SECRET_ENV: self.identity.secret.hex(),
            "PYTHONPATH": os.pathsep.join(
                p for p in (import_path(), os.environ.get("PYTHONPATH")) if p
            ),
        }

    @property
    def addresses(self) -> list[str]:
        return [f"{HOST}:{p}" for p in self.ports]

    @property
    def job_id(self) -> str:
        return self.identity.job_id

    @property
    def address_file(self) -> str:
        return os.path.join(self.spec.job_dir, "shards.json")

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
        old = self.ports[index]
        for port in dict.fromkeys([old, 0]):  # the old port, else any free one
            args = ["shard", "--config", cfg, "--port", str(port), "--job-id", self.job_id]
            proc = self._spawn(args + (["--restore"] if restore else []), f"shard-{index}.log")
            line = proc.stdout.readline().decode()
            if line.startswith("PORT "):
                break
            proc.kill()
            proc.wait()
            proc.stdout.close()
            if not line.startswith("PORT_IN_USE"):
                raise RuntimeError(
                    f"shard {index} did not start (said {line!r}); see "
                    f"{os.path.join(self.spec.job_dir, f'shard-{index}.log')}"
                )
            self.log(f"shard {index}: port {port} is taken by another process; using a new port")
        self.ports[index] = int(line.split()[1])
        self.shard_procs[index] = proc
        pids = [p.pid if p is not None else 0 for p in self.shard_procs]
        write_addresses(self.address_file, self.addresses, pids, self.job_id)

    def start_shards(self, restore: bool = False) -> None:
        for i in range(len(self.spec.shards)):
            self._start_shard(i, restore=restore)

    def client(self, worker: int = -1, timeout: float | None = None) -> ShardClient:
        timeout = self.spec.timeout if timeout is None else timeout
        transport = SocketTransport(self.addresses, timeout, self.address_file, self.identity)
        return ShardClient(transport, worker)

    def start_worker(self, index: int) -> None:
        args = [
            "worker",
            "--job-id",
            self.job_id,
            "--index",
            str(index),
            "--shards",
            ",".join(self.addresses),
            "--address-file",
            self.address_file,
            "--partition",
            _as_arg(self.spec.partitions.path(index)),
            "--epochs",
            str(self.spec.epochs),
            "--pace",
            str(self.spec.pace),
            "--timeout",
            str(self.spec.timeout),
        ]
        if self.spec.shards[0].factors:
            args += ["--factors", json.dumps(self.spec.shards[0].factors)]
        self.worker_procs[index] = self._spawn(args, f"worker-{index}.log")

    def poll(self) -> list[WorkerState]:
        for i, proc in enumerate(self.shard_procs):
            if proc is not None and proc.poll() is not None and not self._stopping:
                ckpt = self.spec.shards[i].checkpoint_path
                source = (
                    f"from its checkpoint {ckpt}"
                    if ckpt and os.path.exists(ckpt)
                    else "with EMPTY state (it had written no checkpoint)"
                )
                self.log(
                    f"shard {i} died ({_exit_reason(proc.returncode)}); restarting it {source}"
                )
                proc.stdout.close()
                self._start_shard(i, restore=True)
                self.log(f"shard {i} is back on port {self.ports[i]}")
        states = []
        for i in range(self.spec.num_workers):
            rc = self.worker_procs[i].poll()
            if rc is None:
                states.append(WorkerState("running"))
            elif rc == 0:
                states.append(WorkerState("done"))
            elif rc == 2:  # it refused its input or credentials: its last line says why
                log = os.path.join(self.spec.job_dir, f"worker-{i}.log")
                states.append(WorkerState("failed", _last_line(log), fatal=True))
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


def _as_arg(descriptor) -> str:
    """A worker's input on its command line: a partition path, or JSON input files."""
    return descriptor if isinstance(descriptor, str) else json.dumps(descriptor)


def _last_line(path: str) -> str:
    try:
        with open(path, "rb") as f:
            lines = f.read().decode(errors="replace").strip().splitlines()
    except OSError:
        return "exit status 2"
    return lines[-1].split(": error: ", 1)[-1] if lines else "exit status 2"


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
    s.add_argument("--job-id", required=True)
    w = sub.add_parser("worker")
    w.add_argument("--index", type=int, required=True)
    w.add_argument("--job-id", required=True)
    w.add_argument("--shards", required=True, help="host:port,... in shard order")
    w.add_argument("--address-file", help="JSON file with the shards' current addresses")
    w.add_argument("--partition", required=True, help="a partition file or a JSON input")
    w.add_argument("--epochs", type=int, default=1)
    w.add_argument("--pace", type=float, default=0.0)
    w.add_argument("--timeout", type=float, default=300.0)
    w.add_argument("--factors", type=json.loads, help="an FM job's FactorSpec as JSON")
    args = p.parse_args(argv)
    _exit_with_parent()
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    if args.role == "shard":
        try:
            server = listen(HOST, args.port)
        except OSError as e:
            taken = e.errno == errno.EADDRINUSE
            print(f"{'PORT_IN_USE' if taken else 'BIND_FAILED'} {e}", flush=True)
            return 2
        shard = Shard(ShardConfig(**json.loads(args.config)), restore=args.restore)
        print(f"PORT {server.getsockname()[1]}", flush=True)
        serve_shard(shard, server, JobIdentity.from_env(args.job_id))
        return 0
    from miniflow.ps.worker import run_worker

    identity = JobIdentity.from_env(args.job_id)
    transport = SocketTransport(args.shards.split(","), args.timeout, args.address_file, identity)
    client = ShardClient(transport, args.index)
    try:
        partition = json.loads(args.partition) if args.partition.startswith("{") else args.partition
        result = run_worker(client, partition, args.epochs, args.pace, factors=args.factors)
    except (AuthError, ValueError, FileNotFoundError) as e:  # exit 2: not retried
        print(f"worker {args.index}: error: {e}", file=sys.stderr)
        return 2
    print(f"worker {args.index} finished: {json.dumps(result.__dict__)}", file=sys.stderr)
    client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
