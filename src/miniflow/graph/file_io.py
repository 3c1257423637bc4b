"""Crash-safe file writes and the checksummed JSON envelope shared by miniflow's on-disk
formats (checkpoint index, meta graph, SavedModel; see docs/persistence.md)."""

from __future__ import annotations

import hashlib
import json

from miniflow import errors
from miniflow.core.atomic_file import atomic_write, fsync_dir  # noqa: F401  re-exported


def file_sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _canonical(body) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), allow_nan=False).encode()


def dump_envelope(kind: str, version: int, body) -> bytes:
    """``{"format": kind, "version": version, "sha256": <of body>, "body": body}`` as JSON.

    The checksum covers the canonical encoding of ``body``, so any change to the content
    (a flipped bit in a number, a truncated array) is detected on load.
    """
    envelope = {
        "format": kind,
        "version": version,
        "sha256": hashlib.sha256(_canonical(body)).hexdigest(),
        "body": body,
    }
    return json.dumps(envelope, sort_keys=True, indent=1, allow_nan=False).encode() + b"\n"


def load_envelope(data: bytes, kind: str, version: int, what: str):
    """The body of an envelope written by `dump_envelope`, after checking it.

    Raises:
        DataLossError: not JSON, truncated, or the checksum does not match.
        InvalidArgumentError: another format, or a version this miniflow cannot read.
    """
    try:
        envelope = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise errors.DataLossError(
            None,
            None,
            f"{what} is corrupt or truncated (not valid JSON: {e}). Restore it "
            "from a backup or write it again.",
        ) from None
    if not isinstance(envelope, dict) or envelope.get("format") != kind:
        found = envelope.get("format") if isinstance(envelope, dict) else type(envelope).__name__
        raise errors.InvalidArgumentError(
            None, None, f"{what} is not a {kind} file (format field: {found!r})."
        )
    if envelope.get("version") != version:
        raise errors.InvalidArgumentError(
            None,
            None,
            f"{what} has {kind} format version {envelope.get('version')!r}; this "
            f"miniflow reads version {version}. Re-export it with a matching miniflow.",
        )
    body, digest = envelope.get("body"), envelope.get("sha256")
    try:
        actual = hashlib.sha256(_canonical(body)).hexdigest()
    except (TypeError, ValueError, RecursionError):
        actual = None
    if not isinstance(digest, str) or actual != digest:
        raise errors.DataLossError(
            None,
            None,
            f"{what} is corrupt: its content does not match its sha256 checksum "
            f"(stored {digest!r}, computed {actual!r}).",
        )
    return body


def read_bytes(path: str, what: str) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read()
    except FileNotFoundError:
        raise errors.NotFoundError(None, None, f"{what} not found: {path}") from None
