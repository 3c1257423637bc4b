"""TCP transport of the process backend and the standalone commands.

A shard listens with :func:`listen` and serves with :func:`serve_shard` (one thread per
connection, so a pull waiting at the sync barrier blocks only its own worker). Clients
use :class:`SocketTransport`: one connection per shard, requests written to every
socket before any reply is read. Where shards are is read from an *address file*
(``JOB_DIR/shards.json``) when one is given, so a shard restarted on another port (its
old one taken) is found again by every client.

With a :class:`~miniflow.core.job_auth.JobIdentity` every connection starts with the
handshake of :mod:`miniflow.core.job_auth`, every request carries the job id, and frames
are capped: 4 KiB until the peer is authenticated, :data:`~miniflow.core.wire.MAX_BODY`
after. A peer that is not a shard of the job (no hello within ``hello_timeout``, as
with a squatter on a restarted shard's old port) is dropped and the address retried.
"""

from __future__ import annotations

import json
import socket
import threading
import time

from miniflow.core import job_auth, wire
from miniflow.core.job_auth import JobIdentity
from miniflow.graph.file_io import atomic_write
from miniflow.ps.client import Call
from miniflow.ps.shard import Shard

__all__ = [
    "SocketTransport",
    "listen",
    "serve_shard",
    "read_addresses",
    "write_addresses",
    "parse_address",
    "HELLO_TIMEOUT",
]

HELLO_TIMEOUT = 10.0  # seconds a handshake may take, on either side


def parse_address(address: str) -> tuple[str, int]:
    """``"host:port"`` -> ``(host, port)``, or ValueError naming the bad address."""
    host, sep, port = str(address).rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"bad shard address {address!r}; expected HOST:PORT")
    return host, int(port)


def write_addresses(
    path: str, addresses: list[str], pids: list[int] | None = None, job_id: str = ""
) -> None:
    """Writes the shards' ``host:port`` list (with the job id and the shards' process
    ids, for operators) atomically: readers never see half a file."""
    data = json.dumps({"job": job_id, "shards": addresses, "pids": pids or []}).encode()
    atomic_write(path, lambda f: f.write(data))


def read_addresses(path: str) -> list[str]:
    with open(path) as f:
        return list(json.load(f)["shards"])


class SocketTransport:
    """One TCP connection per shard; requests are written to every socket before any
    reply is read, so the shards work on them concurrently.

    A request whose connection fails (the shard died) is retried on a fresh connection
    until ``timeout`` seconds have passed, re-reading ``address_file`` before each try;
    the shard's new incarnation then tells the :class:`ShardClient` to replay its last
    push. ``address_file`` may also be a function returning the current addresses
    (standalone workers read the shards' registrations in the job dir).
    """

    def __init__(
        self,
        addresses: list[str],
        timeout: float = 60.0,
        address_file=None,
        identity: JobIdentity | None = None,
        hello_timeout: float = HELLO_TIMEOUT,
    ):
        self.addresses = [parse_address(a) for a in addresses]
        self.num_shards = len(addresses)
        self.timeout = timeout
        self.address_file = address_file
        self.identity = identity
        self.hello_timeout = hello_timeout
        self._socks: list[socket.socket | None] = [None] * self.num_shards
        self.reconnects = 0

    def _connect(self, shard: int, hello_timeout: float | None = None) -> socket.socket:
        if self._socks[shard] is None:
            timeout = self.hello_timeout if hello_timeout is None else hello_timeout
            sock = socket.create_connection(self.addresses[shard], timeout=timeout)
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                if self.identity is not None:
                    self._handshake(sock, shard)
                sock.settimeout(None)
            except BaseException:
                sock.close()
                raise
            self._socks[shard] = sock
        return self._socks[shard]

    def _handshake(self, sock: socket.socket, shard: int) -> None:
        job_auth.greet(sock, self.identity, "{}:{}".format(*self.addresses[shard]))

    def _stamp(self, header: dict) -> dict:
        return header if self.identity is None else {**header, "job": self.identity.job_id}

    def _drop(self, shard: int) -> None:
        sock, self._socks[shard] = self._socks[shard], None
        if sock is not None:
            sock.close()

    def _reload(self) -> None:
        if self.address_file is None:
            return
        try:
            source = self.address_file
            listed = source() if callable(source) else read_addresses(source)
            found = [parse_address(a) for a in listed]
        except (OSError, ValueError, KeyError):
            return  # being rewritten, or gone: keep the last known addresses
        if len(found) == self.num_shards:
            self.addresses = found

    def call_many(self, calls: list[Call]) -> list[tuple[dict, dict]]:
        sent = []
        for c in calls:
            try:
                wire.send_frame(self._connect(c.shard), self._stamp(c.header), c.arrays)
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
        # The handshake's wait starts short and doubles up to ``hello_timeout``: a
        # squatter on a restarted shard's old port answers no hello, and the shard's
        # new address (in the address file) should be read again soon, not after the
        # full timeout; a slow but real shard still gets the full wait on later tries.
        deadline, delay, hello = time.monotonic() + self.timeout, 0.05, 0.25
        while True:
            try:
                self.reconnects += 1
                self._reload()
                sock = self._connect(call.shard, min(hello, self.hello_timeout))
                wire.send_frame(sock, self._stamp(call.header), call.arrays)
                return wire.recv_frame(sock)
            except OSError as e:
                hello *= 2
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


def listen(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    """A listening socket (``SO_REUSEADDR``: a restarted shard may rebind its port
    unless another process holds it, in which case ``OSError`` says so)."""
    return socket.create_server((host, port))


_refuse = job_auth.refuse


def _admit(conn: socket.socket, identity: JobIdentity, index: int) -> bool:
    """The shard's side of the handshake: True if the peer proved it is of the job."""
    return job_auth.admit(conn, identity, index)


def serve_shard(
    shard: Shard,
    server: socket.socket,
    identity: JobIdentity | None = None,
    max_body: int = wire.MAX_BODY,
) -> None:
    """Serves ``shard`` on the listening socket ``server`` forever (with ``identity``:
    only to peers that pass the handshake, and only requests naming the job)."""

    def serve(conn: socket.socket) -> None:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with conn:
            try:
                conn.settimeout(HELLO_TIMEOUT)
                if identity is not None and not _admit(conn, identity, shard.config.index):
                    return
                conn.settimeout(None)
                while True:
                    header, arrays = wire.recv_frame(conn, max_body)
                    if identity is not None and header.get("job") != identity.job_id:
                        _refuse(conn, f"refused: a request of job {header.get('job')!r}")
                        return
                    wire.send_frame(conn, *shard.handle(header, arrays))
            except ValueError as e:  # a malformed or oversized frame: say why, hang up
                _refuse(conn, f"refused: {e}")
            except OSError:
                return

    while True:
        conn, _ = server.accept()
        threading.Thread(target=serve, args=(conn,), daemon=True).start()
