"""Issue 17, "nobody joins who does not belong": the handshake, job ids and frame caps
of the process backend, each tried against real shard processes on loopback."""

import os
import socket
import struct
import subprocess
import sys
import threading

import numpy as np
import pytest

from miniflow.core import wire
from miniflow.core.job_auth import SECRET_ENV, AuthError, new_identity
from miniflow.ps import PSConfig
from miniflow.ps.backends.base import JobSpec, import_path
from miniflow.ps.backends.process import ProcessBackend
from miniflow.ps.client import Call, ShardClient
from miniflow.ps.partition import Partitions, write_partitions
from miniflow.ps.transport import SocketTransport


@pytest.fixture
def shards(tmp_path):
    """Two shard processes of one job (stopped at the end)."""
    cfg = PSConfig(num_shards=2, num_workers=1, dims_log2=20)
    spec = JobSpec(
        cfg.shard_configs(str(tmp_path)), Partitions(str(tmp_path), 1, 1, []), 1, str(tmp_path)
    )
    backend = ProcessBackend(spec)
    try:
        backend.start_shards()
        yield backend
    finally:
        backend.stop()
    assert all(p.poll() is not None for p in backend.shard_procs)


def _raw(backend, shard=0):
    sock = socket.create_connection(("127.0.0.1", backend.ports[shard]), timeout=10)
    hello, _ = wire.recv_frame(sock, max_body=0)
    return sock, hello


def _stats(backend):
    client = backend.client()
    try:
        return client.stats()
    finally:
        client.close()


def test_a_peer_without_the_secret_cannot_push_dump_or_read_stats(shards):
    sock, hello = _raw(shards)
    assert hello["op"] == "hello" and hello["job"] == shards.job_id
    with sock:  # a request instead of the auth answer
        wire.send_frame(sock, {"op": "dump"})
        reply, arrays = wire.recv_frame(sock)
        assert reply["ok"] is False and "must be the auth answer" in reply["error"] and not arrays
    for identity, message in [
        (new_identity(shards.job_id), "wrong job secret"),  # the right id, a guessed secret
        (new_identity("job-other"), f"belongs to job '{shards.job_id}', not 'job-other'"),
    ]:
        sock, hello = _raw(shards)
        with sock:
            cnonce = "ab" * 16
            mac = identity.mac("client", hello["nonce"], cnonce)
            wire.send_frame(
                sock, {"op": "auth", "job": identity.job_id, "cnonce": cnonce, "mac": mac}
            )
            reply, _ = wire.recv_frame(sock)
            assert reply["ok"] is False and message in reply["error"]
            assert sock.recv(1) == b""  # and hung up
        # the client's own view: a clear AuthError, not a retry loop
        client = ShardClient(SocketTransport(shards.addresses, 5, identity=identity))
        with pytest.raises(AuthError, match="refused us|belongs to job"):
            client.stats()
        client.close()
    assert all(s["pushes"] == 0 and s["pulls"] == 0 for s in _stats(shards))


def test_a_1_gib_frame_header_is_refused_before_anything_is_allocated(shards):
    prefix = struct.pack("<4sIQ", b"MFPS", 2, 1 << 30)
    sock, _ = _raw(shards)  # before authenticating: the cap is the handshake's
    with sock:
        sock.sendall(prefix)
        reply, _ = wire.recv_frame(sock)
        assert "body of 1073741824 bytes exceeds the 0-byte limit" in reply["error"]
    transport = SocketTransport(shards.addresses, 5, identity=shards.identity)
    sock = transport._connect(0)  # authenticated: the cap is wire.MAX_BODY
    sock.sendall(prefix)
    reply, _ = wire.recv_frame(sock)
    assert f"exceeds the {wire.MAX_BODY}-byte limit" in reply["error"]
    transport.close()
    stats = _stats(shards)  # still serving, and never grew by a GiB
    assert stats[0]["peak_rss"] < 400 << 20


def test_every_request_must_name_the_job(shards):
    transport = SocketTransport(shards.addresses, 5, identity=shards.identity)
    sock = transport._connect(1)
    wire.send_frame(sock, {"op": "stats", "job": "job-other"})
    reply, _ = wire.recv_frame(sock)
    assert reply["ok"] is False and "a request of job 'job-other'" in reply["error"]
    transport.close()


def test_a_worker_of_another_job_is_refused_with_a_clear_error(shards, ctr, tmp_path):
    other = write_partitions(ctr.train(), tmp_path / "other-job", 1, 4096)
    env = {**os.environ, "PYTHONPATH": import_path()}
    base = [sys.executable, "-m", "miniflow.ps.backends.process", "worker", "--index", "0"]
    base += ["--shards", ",".join(shards.addresses), "--partition", other.path(0), "--timeout", "5"]
    stray = new_identity("job-stray")
    cases = [
        (stray.job_id, stray.secret, f"belongs to job '{shards.job_id}', not to job 'job-stray'"),
        (
            shards.job_id,
            stray.secret,
            "authentication for job",
        ),  # the id is public; the secret is not
    ]
    for job_id, secret, message in cases:
        p = subprocess.run(
            [*base, "--job-id", job_id],
            env={**env, SECRET_ENV: secret.hex()},
            capture_output=True,
            text=True,
            timeout=120,
        )
        print(p.stderr)
        assert p.returncode == 2 and message in p.stderr
        assert "Traceback" not in p.stderr
    assert all(s["pushes"] == 0 for s in _stats(shards))  # nothing of theirs was applied


def test_a_client_refuses_a_shard_that_cannot_prove_it_is_of_the_job(tmp_path):
    """An impostor on a shard's address greets with the right job id but cannot MAC."""
    identity = new_identity()
    server = socket.create_server(("127.0.0.1", 0))

    def impostor():
        conn, _ = server.accept()
        with conn:
            wire.send_frame(conn, {"op": "hello", "job": identity.job_id, "nonce": "00" * 16})
            wire.recv_frame(conn, max_body=0)
            wire.send_frame(conn, {"ok": True, "mac": "00" * 32})
            conn.recv(1)

    t = threading.Thread(target=impostor, daemon=True)
    t.start()
    transport = SocketTransport([f"127.0.0.1:{server.getsockname()[1]}"], 5, identity=identity)
    with pytest.raises(AuthError, match="could not prove it belongs"):
        ShardClient(transport).pull(np.array([1]))
    transport.close()
    server.close()
    t.join(5)


def test_the_secret_file_replaces_a_readable_file_and_stays_private(tmp_path):
    path = tmp_path / "secret"
    path.write_text("old")
    path.chmod(0o644)  # left by someone else, or an earlier run, readable by all
    identity = new_identity("job-x")
    identity.write_secret(str(path))
    assert path.stat().st_mode & 0o777 == 0o600
    assert bytes.fromhex(path.read_text()) == identity.secret
    assert [p.name for p in tmp_path.iterdir()] == ["secret"]  # no temporary left


def test_a_retry_reads_the_new_address_without_waiting_out_a_squatters_silence(shards):
    """A squatter on a restarted shard's old port accepts the connection and says
    nothing. The retry's handshake wait starts short, so the shard's new address (the
    address file changes 0.3 s later) is read long before the 30 s hello timeout runs
    out: the call succeeds within the transport's 5 s, where one full handshake wait on
    the squatter would have outlasted it."""
    squatter = socket.create_server(("127.0.0.1", 0))
    gone = socket.create_server(("127.0.0.1", 0))  # the killed shard's connection
    dead = f"127.0.0.1:{gone.getsockname()[1]}"
    gone.close()
    addresses = [f"127.0.0.1:{squatter.getsockname()[1]}", shards.addresses[1]]
    transport = SocketTransport(
        [dead, shards.addresses[1]],
        5,
        address_file=lambda: addresses,
        identity=shards.identity,
        hello_timeout=30,
    )
    moved = threading.Timer(0.3, lambda: addresses.__setitem__(0, shards.addresses[0]))
    moved.start()
    try:
        assert transport.call_many([Call(0, {"op": "stats"}, {})])[0][0]["ok"] is True
        assert transport.reconnects >= 2  # the squatter was tried, then the new address
    finally:
        moved.cancel()
        transport.close()
        squatter.close()
