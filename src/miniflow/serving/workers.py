"""``miniflow serve --workers N``: N server processes on one listening socket.

The supervisor (the process the user started) binds the port once and starts N
workers, each a fresh ``miniflow serve`` interpreter that inherits the listening
socket (``--listen-fd``) and accepts from it. It loads no model and runs no request.

- A worker that exits while the supervisor runs is started again (after 0.5 s, doubling
  up to 10 s while it keeps dying within 10 s of its start).
- SIGTERM, SIGINT or SIGHUP to the supervisor sends SIGTERM to every worker, waits for
  them (then SIGKILL), and exits 0.
- Each worker holds the read end of a pipe whose write end only the supervisor has:
  when the supervisor dies, even by SIGKILL, the pipe reads EOF and the worker stops,
  so no worker outlives it.
- Workers run in their own process group, so a Ctrl-C in the terminal reaches the
  supervisor only, which then stops them in order.
- A worker that sends no heartbeat for ``hang_timeout_s``, or reports a model call
  running longer, is hung: its client connections are answered 503 and it is killed
  and started again (:mod:`miniflow.serving.liveness`).

Why one inherited socket rather than ``SO_REUSEPORT`` (docs/serving.md): one bind
serves ``--port 0`` and leaves no moment with the port unbound; the connections waiting
in the one accept queue are taken by the surviving workers when one dies (with
``SO_REUSEPORT`` the kernel resets those queued on the dead worker's socket); and no
other process of the same user can join the port's group and receive its traffic. The
workers are started with fork+exec, not a bare ``fork``, so no thread or lock state is
copied; they share the model through memory-mapped files instead of copy-on-write pages
(:mod:`miniflow.serving.model_files`).
"""

from __future__ import annotations

import json
import logging
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass

from miniflow.serving.liveness import answer_stranded, read_beats

__all__ = ["Supervisor", "watch_parent"]

log = logging.getLogger("miniflow.serving")

_RESTART_MIN_S = 0.5
_RESTART_MAX_S = 10.0
_HEALTHY_AFTER_S = 10.0  # a worker that lived this long restarts without delay


@dataclass
class _Worker:
    index: int
    proc: subprocess.Popen
    started: float
    delay: float = 0.0  # before the last restart; doubles while it keeps dying
    restart_at: float | None = None
    beat_fd: int | None = None  # the supervisor's end of the heartbeat pipe
    last_beat: float | None = None  # None until the first beat (the model is loading)
    hung: bool = False


class Supervisor:
    """Starts and watches ``workers`` copies of ``miniflow serve ARGV``.

    Args:
        argv: the user's ``miniflow serve`` arguments (each worker gets them, plus its
            own ``--listen-fd``, ``--worker-index``, ``--parent-fd`` and
            ``--model-cache-dir``).
        host, port: the address to bind (port 0: any free port).
        workers: how many worker processes.
        cache_dir: where workers put the model copies they map; removed at exit when
            ``own_cache_dir``.
        start_timeout_s: longest wait for a worker's first "listening" line (and, for
            a restarted worker, its first heartbeat).
        stop_timeout_s: longest wait for workers to exit after SIGTERM (then SIGKILL).
        hang_timeout_s: a worker silent this long, or with a model call running this
            long, is killed and replaced (0: never).
    """

    def __init__(
        self,
        argv: list[str],
        host: str,
        port: int,
        workers: int,
        cache_dir: str,
        own_cache_dir: bool = True,
        start_timeout_s: float = 300.0,
        stop_timeout_s: float = 10.0,
        hang_timeout_s: float = 0.0,
    ):
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        if hang_timeout_s < 0:
            raise ValueError(f"hang_timeout_s must be >= 0, got {hang_timeout_s}")
        self.hang_timeout_s = hang_timeout_s
        self.argv = list(argv)
        self.count = workers
        self.cache_dir = cache_dir
        self.own_cache_dir = own_cache_dir
        self.start_timeout_s = start_timeout_s
        self.stop_timeout_s = stop_timeout_s
        self.sock = socket.create_server((host, port), backlog=1024)
        self.sock.set_inheritable(True)
        self.host = host
        self.port = self.sock.getsockname()[1]
        self._parent_r, self._parent_w = os.pipe()  # only the read end reaches workers
        os.set_inheritable(self._parent_r, True)
        self.workers: list[_Worker] = []
        self._stop = threading.Event()
        self.restarts = {"exited": 0, "hung": 0}
        fd, self.stats_path = tempfile.mkstemp(prefix="miniflow-serve-stats-", suffix=".json")
        os.close(fd)
        self._write_stats()

    def _spawn(self, index: int, wait_ready: bool) -> tuple[_Worker, str]:
        args = [
            *self.argv,
            "--workers",
            "1",
            "--listen-fd",
            str(self.sock.fileno()),
            "--parent-fd",
            str(self._parent_r),
            "--worker-index",
            str(index),
            "--model-cache-dir",
            self.cache_dir,
            "--supervisor-stats",
            self.stats_path,
        ]
        fds = [self.sock.fileno(), self._parent_r]
        beat_r = beat_w = None
        if self.hang_timeout_s > 0:
            beat_r, beat_w = os.pipe()
            os.set_blocking(beat_r, False)
            args += ["--heartbeat-fd", str(beat_w), "--worker-timeout-s", str(self.hang_timeout_s)]
            fds.append(beat_w)
        try:
            proc = subprocess.Popen(
                [sys.executable, "-m", "miniflow.cli.main", "serve", *args],
                stdout=subprocess.PIPE if wait_ready else subprocess.DEVNULL,
                pass_fds=fds,
                process_group=0,
            )
        except BaseException:
            for fd in (beat_r, beat_w):
                if fd is not None:
                    os.close(fd)
            raise
        if beat_w is not None:
            os.close(beat_w)  # the worker holds the only write end: EOF when it dies
        line = ""
        if wait_ready:
            line = _first_line(proc, self.start_timeout_s, self._stop)
        return _Worker(index, proc, time.monotonic(), beat_fd=beat_r), line

    def start(self) -> str:
        """Starts every worker and waits until each listens; returns worker 0's line.

        Raises:
            RuntimeError: a worker exited or stayed silent before listening (the
                workers already started are stopped).
        """
        first = ""
        try:
            for i in range(self.count):
                w, line = self._spawn(i, wait_ready=True)
                self.workers.append(w)
                if self._stop.is_set():
                    raise RuntimeError("stopped by a signal while starting the workers")
                if not line.startswith("miniflow serve: listening on"):
                    raise RuntimeError(
                        f"worker {i} (pid {w.proc.pid}) did not start"
                        + (f": exit code {w.proc.poll()}" if w.proc.poll() is not None else "")
                    )
                first = first or line
        except BaseException:
            self.stop()
            raise
        return first

    def handle_signals(self) -> None:
        """SIGTERM, SIGINT and SIGHUP stop the workers (call before :meth:`start`)."""
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, lambda *_: self._stop.set())

    def run(self) -> int:
        """Watches the workers until SIGTERM/SIGINT/SIGHUP, then stops them; returns 0."""
        while not self._stop.wait(0.1):
            self.check()
        self.stop()
        return 0

    def check(self) -> None:
        """Replaces every worker that exited or hung (with a growing delay if it keeps
        dying)."""
        now = time.monotonic()
        for k, w in enumerate(self.workers):
            if self._stop.is_set():
                return
            code = w.proc.poll()
            if code is None:
                self._check_alive(w, now)
                continue
            if w.restart_at is None:  # just noticed
                self._close_beats(w)
                if not w.hung:
                    self._count("exited")
                lived = now - w.started
                if lived >= _HEALTHY_AFTER_S:
                    w.delay = 0.0
                else:
                    w.delay = min(_RESTART_MAX_S, max(_RESTART_MIN_S, 2 * w.delay))
                w.restart_at = now + w.delay
                log.error(
                    "worker %d (pid %d) exited with %s after %.1f s; restarting in %g s",
                    w.index,
                    w.proc.pid,
                    _describe(code),
                    lived,
                    w.delay,
                )
            if now >= w.restart_at:
                fresh, _ = self._spawn(w.index, wait_ready=False)
                fresh.delay = w.delay
                self.workers[k] = fresh
                log.info("worker %d restarted as pid %d", w.index, fresh.proc.pid)

    def _check_alive(self, w: _Worker, now: float) -> None:
        """Kills ``w`` when its heartbeat stopped or it reports a stuck model call."""
        if w.beat_fd is None or w.hung:
            return
        try:
            got, stuck = read_beats(w.beat_fd)
        except EOFError:  # exiting: poll() sees it next round
            self._close_beats(w)
            return
        if got:
            w.last_beat = now
        if stuck is not None:
            self._kill_hung(w, f"a model call is still running after {stuck.split()[1]} s")
            return
        since = w.last_beat if w.last_beat is not None else w.started
        limit = self.hang_timeout_s if w.last_beat is not None else self.start_timeout_s
        if now - since > limit:
            self._kill_hung(w, f"no heartbeat for {now - since:.1f} s")

    def _kill_hung(self, w: _Worker, why: str) -> None:
        w.hung = True
        self._count("hung")
        listen = os.fstat(self.sock.fileno()).st_ino
        answered = answer_stranded(w.proc.pid, listen, why)
        log.error(
            "worker %d (pid %d) hung: %s; answered %d open connections 503; killing it",
            w.index,
            w.proc.pid,
            why,
            answered,
        )
        w.proc.kill()

    def _close_beats(self, w: _Worker) -> None:
        if w.beat_fd is not None:
            os.close(w.beat_fd)
            w.beat_fd = None

    def _count(self, reason: str) -> None:
        self.restarts[reason] += 1
        self._write_stats()

    def _write_stats(self) -> None:
        """The restart counters, for every worker's metrics (``--supervisor-stats``)."""
        tmp = f"{self.stats_path}.tmp"
        with open(tmp, "w") as f:
            json.dump({"restarts": self.restarts}, f)
        os.replace(tmp, self.stats_path)

    def pids(self) -> list[int]:
        return [w.proc.pid for w in self.workers]

    def stop(self) -> None:
        """SIGTERM to every worker, SIGKILL to those still running after the timeout."""
        self._stop.set()
        for w in self.workers:
            if w.proc.poll() is None:
                w.proc.terminate()
        deadline = time.monotonic() + self.stop_timeout_s
        for w in self.workers:
            try:
                w.proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("worker %d (pid %d) ignored SIGTERM; killing", w.index, w.proc.pid)
                w.proc.kill()
                w.proc.wait()
        self.sock.close()
        for w in self.workers:
            self._close_beats(w)
        for fd in (self._parent_r, self._parent_w):
            try:
                os.close(fd)
            except OSError:
                pass
        try:
            os.unlink(self.stats_path)
        except FileNotFoundError:
            pass
        if self.own_cache_dir:
            shutil.rmtree(self.cache_dir, ignore_errors=True)


def _first_line(proc: subprocess.Popen, timeout_s: float, stop: threading.Event) -> str:
    """The worker's first stdout line (its "listening" line), then its stdout closed."""
    deadline = time.monotonic() + timeout_s
    fd = proc.stdout.fileno()
    data = b""
    while b"\n" not in data and time.monotonic() < deadline and not stop.is_set():
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            data += chunk
        elif proc.poll() is not None:
            break
    proc.stdout.close()
    return data.decode(errors="replace").split("\n", 1)[0]


def _describe(code: int) -> str:
    if code < 0:
        try:
            return f"signal {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"exit code {code}"


def watch_parent(fd: int, on_exit) -> None:
    """Calls ``on_exit()`` when the supervisor's pipe ``fd`` reads EOF (it died)."""

    def wait():
        try:
            while os.read(fd, 1):
                pass
        except OSError:
            pass
        log.warning("supervisor gone; worker %d stopping", os.getpid())
        on_exit()

    threading.Thread(target=wait, name="parent-watch", daemon=True).start()
