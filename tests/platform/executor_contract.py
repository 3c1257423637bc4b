"""The executor contract, once: every executor runs these tests (a subclass per executor
gives the ``harness`` fixture). Runs are real processes: the local executor's, or the
fake Kubernetes API server's kubelet (``kubernetes_fake.py``).
"""

from __future__ import annotations

import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from miniflow_platform.executors.base import Executor, Resources, RunSpec, RunState, RunStatus

TIMEOUT_S = 60.0


@dataclass
class Harness:
    executor: Executor
    data_dir: Path
    reopen: Callable[[], Executor]  # a new executor on the same state (a server restart)
    python: str = sys.executable  # the interpreter where the runs run (an image's: "python")

    def spec(self, run_id: str, code: str, **kw: object) -> RunSpec:
        run_dir = self.data_dir / run_id
        (run_dir / "artifacts").mkdir(parents=True, exist_ok=True)
        env = {"PATH": "/usr/bin:/bin", "MINIFLOW_ARTIFACTS_DIR": str(run_dir / "artifacts")}
        return RunSpec(
            [self.python, "-c", code],
            run_dir,
            run_dir,
            env,
            tenant=1,
            **kw,  # type: ignore[arg-type]
        )


def wait_done(ex: Executor, run_id: str, timeout: float = TIMEOUT_S) -> RunStatus:
    deadline = time.monotonic() + timeout
    while (status := ex.status(run_id)).state == RunState.RUNNING:
        assert time.monotonic() < deadline, f"{run_id} did not end in {timeout} s"
        time.sleep(0.05)
    return status


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ExecutorContract:
    def test_exit_code_and_log(self, harness):
        ex = harness.executor
        ex.start("jobs/job-1", harness.spec("jobs/job-1", "print('hello'); raise SystemExit(3)"))
        status = wait_done(ex, "jobs/job-1")
        assert (status.state, status.exit_code) == (RunState.EXITED, 3)
        assert ex.read_log("jobs/job-1") == b"hello\n"
        assert ex.read_log("jobs/job-1", 2, 2) == b"ll"
        assert ex.read_log("jobs/job-1", 6) == b""
        assert ex.log_tail("jobs/job-1", 3) == "lo\n"

    def test_success_is_exit_code_zero(self, harness):
        ex = harness.executor
        ex.start("jobs/job-2", harness.spec("jobs/job-2", "import sys; sys.stdout.write('ok')"))
        assert wait_done(ex, "jobs/job-2") == RunStatus(RunState.EXITED, 0)
        assert b"".join(ex.logs("jobs/job-2")) == b"ok"

    def test_follow_streams_until_the_run_ends(self, harness):
        ex = harness.executor
        code = "import time\nfor i in range(4):\n    print(i, flush=True); time.sleep(0.3)"
        ex.start("jobs/job-3", harness.spec("jobs/job-3", code))
        got = b"".join(ex.logs("jobs/job-3", follow=True))
        assert got == b"0\n1\n2\n3\n"
        assert ex.status("jobs/job-3").state == RunState.EXITED
        assert b"".join(ex.logs("jobs/job-3", offset=4, follow=True)) == b"2\n3\n"

    def test_timeout_ends_timed_out(self, harness):
        ex = harness.executor
        ex.start(
            "jobs/job-4", harness.spec("jobs/job-4", "import time; time.sleep(60)", timeout_s=1)
        )
        started = time.monotonic()
        assert wait_done(ex, "jobs/job-4").state == RunState.TIMED_OUT
        assert time.monotonic() - started < 30

    def test_memory_limit_ends_oom_killed(self, harness):
        ex = harness.executor
        code = "x = b'x' * (600 << 20); print(len(x))"
        spec = harness.spec("jobs/job-5", code, resources=Resources(memory_mb=100))
        ex.start("jobs/job-5", spec)
        status = wait_done(ex, "jobs/job-5")
        assert status.state == RunState.OOM_KILLED, (status, ex.log_tail("jobs/job-5"))

    def test_cancel_stops_the_run(self, harness):
        ex = harness.executor
        code = "import time\nprint('up', flush=True)\ntime.sleep(60)"
        ex.start("jobs/job-6", harness.spec("jobs/job-6", code))
        deadline = time.monotonic() + TIMEOUT_S
        while b"up" not in ex.read_log("jobs/job-6"):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        ex.cancel("jobs/job-6")
        status = ex.status("jobs/job-6")
        assert (status.state, status.exit_code) == (RunState.EXITED, -15)  # as by SIGTERM

    def test_endpoint_reaches_the_server(self, harness):
        ex = harness.executor
        port = free_port()
        code = (
            "import http.server as h\n"
            f"h.ThreadingHTTPServer(({ex.listen_host!r}, {port}), h.SimpleHTTPRequestHandler)"
            ".serve_forever()"
        )
        rid = "services/svc-1-g1"
        ex.start(rid, harness.spec(rid, code, port=port, health_path="/"))
        try:
            where = ex.endpoint(rid, port)
            assert where.port == port and where.scheme == "http"
            deadline = time.monotonic() + TIMEOUT_S
            while True:
                try:
                    if httpx.get(where.url("/"), timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, "the server never answered at its endpoint"
                time.sleep(0.1)
            assert ex.status(rid).state == RunState.RUNNING
        finally:
            ex.cancel(rid)
        assert ex.status(rid).state != RunState.RUNNING
        with pytest.raises(httpx.HTTPError):
            httpx.get(where.url("/"), timeout=1)

    def test_unknown_run_is_lost(self, harness):
        assert harness.executor.status("jobs/job-999").state == RunState.LOST

    def test_artifacts_are_in_storage(self, harness):
        ex = harness.executor
        code = (
            "import os, pathlib\n"
            "d = pathlib.Path(os.environ['MINIFLOW_ARTIFACTS_DIR'])\n"
            "(d / 'model').mkdir()\n"
            "(d / 'model' / 'w.txt').write_text('0.5')\n"
        )
        ex.start("jobs/job-7", harness.spec("jobs/job-7", code))
        assert wait_done(ex, "jobs/job-7").exit_code == 0
        ex.release("jobs/job-7")
        prefix = ex.artifacts_prefix("jobs/job-7")
        assert prefix == "jobs/job-7/artifacts/"
        assert ex.storage.list(prefix) == ["model/w.txt"]
        assert ex.storage.get(prefix + "model/w.txt") == b"0.5"
        assert ex.read_log("jobs/job-7") == b""  # and the log outlives the release
        ex.remove("jobs/job-7")
        assert ex.storage.list(prefix) == []

    def test_log_outlives_release_and_remove_deletes_it(self, harness):
        ex = harness.executor
        ex.start("jobs/job-8", harness.spec("jobs/job-8", "print('kept')"))
        wait_done(ex, "jobs/job-8")
        ex.release("jobs/job-8")
        assert ex.read_log("jobs/job-8") == b"kept\n"
        assert ex.status("jobs/job-8") == RunStatus(RunState.EXITED, 0)  # still known
        assert harness.reopen().status("jobs/job-8") == RunStatus(RunState.EXITED, 0)
        ex.remove("jobs/job-8")
        assert ex.read_log("jobs/job-8") == b""

    def test_a_restarted_server_adopts_a_running_run(self, harness):
        ex = harness.executor
        code = "import time\nprint('up', flush=True)\ntime.sleep(60)"
        ex.start("jobs/job-9", harness.spec("jobs/job-9", code))
        again = harness.reopen()
        deadline = time.monotonic() + TIMEOUT_S
        while b"up" not in again.read_log("jobs/job-9"):
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert again.status("jobs/job-9").state == RunState.RUNNING
        again.cancel("jobs/job-9")
        assert again.status("jobs/job-9").state != RunState.RUNNING

    @pytest.mark.parametrize("bad", ["../etc", "jobs/../x", "Jobs/A", "jobs", "jobs/x/y", ""])
    def test_a_bad_run_id_is_refused(self, harness, bad):
        with pytest.raises(ValueError, match="must look like 'jobs/job-3'"):
            harness.executor.status(bad)
