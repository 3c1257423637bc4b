"""Job identity on the wire (shared by `miniflow.ps` and ``tf.train.Server``): a per-job id and secret, and the connection handshake.

Every job has an id (public: it names the job in messages and frames) and a 32-byte
secret (never sent). A shard greets each new connection with its job id and a random
nonce; the client answers with ``HMAC-SHA256(secret, "client" | job | nonce | cnonce)``
and its own nonce; the shard checks it (constant-time) and proves itself back with
``HMAC(secret, "shard" | job | nonce | cnonce)``. A process of another job, a process
without the secret, or a squatter on a shard's port is refused before any request is
read, and a worker never talks to a shard that cannot prove it belongs to the job.
"""

from __future__ import annotations

import hmac
import os
import secrets

from miniflow.core import wire
from miniflow.core.atomic_file import atomic_write

__all__ = [
    "AuthError",
    "JobIdentity",
    "SECRET_ENV",
    "new_identity",
    "mac",
    "nonce",
    "same",
    "greet",
    "admit",
]

HELLO_TIMEOUT = 10.0  # seconds a handshake may take, on either side
HANDSHAKE_LIMITS = {"max_body": 0, "max_header": 4096}  # frames before authentication

SECRET_ENV = "MINIFLOW_PS_SECRET"  # hex secret handed to child processes


class AuthError(RuntimeError):
    """A peer could not prove it belongs to the job (or named another job)."""


class JobIdentity:
    """A job's id and secret; ``str()`` never shows the secret."""

    def __init__(self, job_id: str, secret: bytes):
        if not job_id or len(job_id) > 128 or not job_id.replace("-", "").isalnum():
            raise ValueError(f"bad job id {job_id!r}: use 1-128 letters, digits or '-'")
        if len(secret) < 16:
            raise ValueError("the job secret must be at least 16 bytes (32 hex digits)")
        self.job_id, self.secret = job_id, bytes(secret)

    def __repr__(self) -> str:
        return f"JobIdentity({self.job_id!r}, secret=<{len(self.secret)} bytes>)"

    @classmethod
    def from_hex(cls, job_id: str, secret_hex: str) -> JobIdentity:
        try:
            secret = bytes.fromhex(secret_hex.strip())
        except ValueError:
            raise ValueError("the job secret must be hex digits") from None
        return cls(job_id, secret)

    @classmethod
    def from_env(cls, job_id: str) -> JobIdentity:
        value = os.environ.get(SECRET_ENV)
        if not value:
            raise ValueError(f"no job secret: set {SECRET_ENV} (hex) or pass --secret-file")
        return cls.from_hex(job_id, value)

    @classmethod
    def from_file(cls, job_id: str, path: str) -> JobIdentity:
        with open(path) as f:
            return cls.from_hex(job_id, f.read())

    def write_secret(self, path: str) -> None:
        """The secret as hex in a file only its owner can read: a new file (mode 0600)
        renamed over ``path``, so a file or link already there (e.g. one others can
        read) is replaced, never written through."""
        data = self.secret.hex().encode()
        atomic_write(path, lambda f: f.write(data))

    def mac(self, role: str, nonce: str, cnonce: str) -> str:
        return mac(self.secret, role, self.job_id, nonce, cnonce)


def new_identity(job_id: str | None = None) -> JobIdentity:
    """A fresh random secret (and id, unless given)."""
    return JobIdentity(job_id or "job-" + secrets.token_hex(6), secrets.token_bytes(32))


def mac(secret: bytes, role: str, job_id: str, nonce: str, cnonce: str) -> str:
    message = "|".join(("miniflow.ps", role, job_id, nonce, cnonce)).encode()
    return hmac.new(secret, message, "sha256").hexdigest()


def nonce() -> str:
    return secrets.token_hex(16)


def same(a, b) -> bool:
    """Constant-time comparison of two hex strings (False for non-strings)."""
    return isinstance(a, str) and isinstance(b, str) and hmac.compare_digest(a, b)


def greet(sock, identity: JobIdentity, where: str, peer: str = "miniflow.ps shard") -> None:
    """The client's side of the handshake on a connected socket.

    Raises:
        ConnectionError: the peer is not a ``peer`` at all (maybe not up yet: retry).
        AuthError: the peer belongs to another job, refused us, or cannot prove it
            knows the secret.
    """
    try:
        hello, _ = wire.recv_frame(sock, **HANDSHAKE_LIMITS)
    except ValueError as e:
        raise ConnectionError(f"{where} is not a {peer} ({e})") from None
    if hello.get("op") != "hello" or not isinstance(hello.get("nonce"), str):
        raise ConnectionError(f"{where} is not a {peer}")
    if hello.get("job") != identity.job_id:
        raise AuthError(
            f"the {peer} at {where} belongs to job {hello.get('job')!r}, "
            f"not to job {identity.job_id!r}"
        )
    cnonce = nonce()
    answer = {"op": "auth", "job": identity.job_id, "cnonce": cnonce}
    wire.send_frame(sock, {**answer, "mac": identity.mac("client", hello["nonce"], cnonce)})
    reply, _ = wire.recv_frame(sock, **HANDSHAKE_LIMITS)
    if not reply.get("ok"):
        raise AuthError(f"the {peer} at {where} refused us: {reply.get('error')}")
    if not same(reply.get("mac"), identity.mac("shard", hello["nonce"], cnonce)):
        raise AuthError(
            f"the {peer} at {where} could not prove it belongs to job "
            f"{identity.job_id!r} (wrong secret)"
        )


def refuse(conn, message: str) -> None:
    """Answers ``{"ok": false, "error": message}`` (the peer may be gone already)."""
    try:
        wire.send_frame(conn, {"ok": False, "error": message})
    except OSError:
        pass


def admit(conn, identity: JobIdentity, index: int, what: str = "shard") -> bool:
    """The server's side of the handshake: True if the peer proved it is of the job
    (otherwise it was told why, and the caller hangs up)."""
    server_nonce = nonce()
    wire.send_frame(
        conn, {"op": "hello", "job": identity.job_id, "nonce": server_nonce, "shard": index}
    )
    header, _ = wire.recv_frame(conn, **HANDSHAKE_LIMITS)
    job, cnonce = header.get("job"), header.get("cnonce")
    if header.get("op") != "auth" or not isinstance(cnonce, str):
        refuse(conn, "refused: the first request must be the auth answer to the hello")
        return False
    if job != identity.job_id:
        refuse(conn, f"refused: this {what} belongs to job {identity.job_id!r}, not {job!r}")
        return False
    if not same(header.get("mac"), identity.mac("client", server_nonce, cnonce)):
        refuse(conn, f"refused: authentication for job {job!r} failed (wrong job secret)")
        return False
    wire.send_frame(conn, {"ok": True, "mac": identity.mac("shard", server_nonce, cnonce)})
    return True
