"""Hung-worker detection for ``miniflow serve --workers N`` (both ends of the heartbeat).

A worker can stop answering without exiting: stopped (SIGSTOP, a debugger), stuck in C
code that holds the GIL, or with a model call that never returns. The supervisor
cannot ask the worker over the shared port (the kernel picks which process accepts),
so each worker writes a heartbeat line to a pipe of its own every ``timeout / 4``:
``ok`` or, when one request's model work has run longer than the timeout, ``stuck``.

- Worker side (:class:`Heartbeat`): the request path marks the model work of each
  request (:meth:`Heartbeat.begin`/:meth:`Heartbeat.end`, a dict store each). A request
  over the timeout is answered ``503`` JSON from the heartbeat thread, its connection
  shut down, and ``stuck`` is reported; the thread stuck in the model cannot be
  stopped from Python, so the worker must be replaced.
- Supervisor side (:func:`read_beats`, :func:`answer_stranded`): a worker that sent no
  line for the timeout, or reported ``stuck``, is killed and started again. Before the
  kill, the supervisor copies the worker's client sockets (``pidfd_getfd``, Linux 5.6+)
  and answers each ``503`` JSON with ``Connection: close``, so a client waiting on a
  stopped worker gets an answer instead of a reset; where the copy is refused they are
  reset when the worker dies.
"""

from __future__ import annotations

import ctypes
import json
import logging
import os
import socket
import threading
import time

__all__ = ["Heartbeat", "read_beats", "answer_stranded", "SERVICE_UNAVAILABLE"]

log = logging.getLogger("miniflow.serving")

_SYS_PIDFD_GETFD = 438  # the same number on x86_64 and aarch64 (the generic table)


def _response_503(message: str) -> bytes:
    body = json.dumps({"error": message}).encode()
    return (
        b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
        + body
    )


SERVICE_UNAVAILABLE = "worker {pid} stopped answering ({why}); it is being replaced, retry"


class Heartbeat:
    """The worker's end: beats to pipe ``fd`` and answers model calls stuck for
    ``timeout_s`` with 503.

    Args:
        fd: the write end of the supervisor's pipe for this worker.
        timeout_s: the supervisor's timeout; beats go out every quarter of it.
    """

    def __init__(self, fd: int, timeout_s: float):
        self.fd = fd
        self.timeout_s = timeout_s
        self._busy: dict[int, tuple[float, socket.socket]] = {}
        self._answered: set[int] = set()
        self._stop = threading.Event()
        os.set_blocking(fd, False)  # a full pipe drops a beat, never blocks the worker
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def begin(self, connection: socket.socket) -> int:
        """Marks the start of one request's model work; returns its token."""
        token = id(connection)
        self._busy[token] = (time.monotonic(), connection)
        return token

    def end(self, token: int) -> bool:
        """Marks its end; False when the heartbeat already answered it 503."""
        self._busy.pop(token, None)
        if token in self._answered:
            self._answered.discard(token)
            return False
        return True

    def _run(self) -> None:
        interval = max(0.05, self.timeout_s / 4)
        while not self._stop.wait(interval):
            now = time.monotonic()
            stuck = [
                (token, start, conn)
                for token, (start, conn) in list(self._busy.items())
                if now - start > self.timeout_s
            ]
            for token, start, conn in stuck:
                if token not in self._answered:
                    self._answered.add(token)
                    _answer(conn, f"model call still running after {now - start:.1f} s")
            line = f"stuck {now - stuck[0][1]:.1f}\n" if stuck else "ok\n"
            try:
                os.write(self.fd, line.encode())
            except BlockingIOError:
                pass
            except OSError:  # the supervisor is gone; watch_parent stops this worker
                return


def _answer(conn: socket.socket, why: str) -> None:
    message = SERVICE_UNAVAILABLE.format(pid=os.getpid(), why=why)
    try:
        conn.sendall(_response_503(message))
        conn.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def read_beats(fd: int) -> tuple[bool, str | None]:
    """Drains the supervisor's end ``fd``: (any line arrived, the last ``stuck`` line or None).

    Raises:
        EOFError: the worker closed its end (it exited).
    """
    got, stuck = False, None
    while True:
        try:
            data = os.read(fd, 4096)
        except BlockingIOError:
            return got, stuck
        if not data:
            if got:
                return got, stuck
            raise EOFError
        got = True
        for line in data.decode(errors="replace").splitlines():
            if line.startswith("stuck"):
                stuck = line


def answer_stranded(pid: int, listen_inode: int, why: str) -> int:
    """Answers 503 JSON on every client connection of worker ``pid`` (stopped or stuck)
    and returns how many; 0 where the kernel refuses to copy its sockets."""
    try:
        pidfd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        return 0
    libc = ctypes.CDLL(None, use_errno=True)
    answered = 0
    message = _response_503(SERVICE_UNAVAILABLE.format(pid=pid, why=why))
    try:
        for name in os.listdir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{name}")
            except OSError:
                continue
            if not target.startswith("socket:[") or target == f"socket:[{listen_inode}]":
                continue
            fd = libc.syscall(_SYS_PIDFD_GETFD, pidfd, int(name), 0)
            if fd < 0:
                log.warning(
                    "cannot take worker %d's connections (pidfd_getfd: %s); they are reset",
                    pid,
                    os.strerror(ctypes.get_errno()),
                )
                return answered
            sock = socket.socket(fileno=fd)
            try:
                if sock.type != socket.SOCK_STREAM or sock.family not in (
                    socket.AF_INET,
                    socket.AF_INET6,
                ):
                    continue
                if sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN):
                    continue
                sock.setblocking(False)
                sock.send(message)
                sock.shutdown(socket.SHUT_RDWR)
                answered += 1
            except OSError:
                pass
            finally:
                sock.close()
    except OSError:
        pass
    finally:
        os.close(pidfd)
    return answered
