"""The storage interface: flat keys (``jobs/job-3/artifacts/model/w.npy``) to bytes.

Keys are relative, ``/``-separated, without empty, ``.`` or ``..`` parts, so no key
can leave its store (a local directory or a bucket prefix). A missing key raises
``FileNotFoundError`` in every implementation.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator
from pathlib import Path

MAX_KEY_BYTES = 1024  # S3's limit; the local store keeps it too, so both accept the same keys


class StorageError(ValueError):
    """A key or URL that no store accepts."""


def check_key(key: str, prefix: bool = False) -> str:
    """``key`` if it is a valid relative key, else StorageError naming the problem.

    With ``prefix``, the empty key (the whole store) and a trailing ``/`` are allowed.
    """
    if not isinstance(key, str):
        raise StorageError(f"a storage key must be a string, got {type(key).__name__}")
    body = key[:-1] if prefix and key.endswith("/") else key
    if body == "" and prefix:
        return key
    if not body:
        raise StorageError("a storage key must not be empty")
    if len(key.encode()) > MAX_KEY_BYTES:
        raise StorageError(f"storage key is {len(key.encode())} bytes; the limit is 1024")
    if "\x00" in key or "\\" in key:
        raise StorageError(f"storage key {key!r} contains a NUL or backslash")
    if body.startswith("/"):
        raise StorageError(f"storage key {key!r} must be relative (no leading '/')")
    bad = [part for part in body.split("/") if part in ("", ".", "..")]
    if bad:
        raise StorageError(f"storage key {key!r} has an empty, '.' or '..' part")
    return key


class Storage(abc.ABC):
    """Bytes under keys. Implementations: ``LocalStorage``, ``S3Storage``."""

    @abc.abstractmethod
    def put(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key``, replacing what was there (atomically)."""

    @abc.abstractmethod
    def read_chunks(self, key: str, chunk: int = 1 << 16) -> Iterator[bytes]:
        """The object's bytes, streamed; FileNotFoundError if there is none."""

    @abc.abstractmethod
    def list(self, prefix: str = "") -> list[str]:
        """Every key under ``prefix`` (a folder: ``a/b/``), relative to it, sorted."""

    @abc.abstractmethod
    def delete(self, key: str) -> None:
        """Delete one object; nothing happens if there is none."""

    @abc.abstractmethod
    def delete_prefix(self, prefix: str) -> int:
        """Delete every key under ``prefix``; returns how many."""

    @abc.abstractmethod
    def url(self, key: str) -> str:
        """Where ``key`` lives, for people and for workloads (a path or ``s3://`` URL)."""

    def get(self, key: str) -> bytes:
        return b"".join(self.read_chunks(key))

    def exists(self, key: str) -> bool:
        try:
            next(iter(self.read_chunks(key, 1)), None)
        except FileNotFoundError:
            return False
        return True

    def upload_dir(self, local: Path, prefix: str) -> int:
        """Copy every file under ``local`` to ``prefix``; returns how many (symlinks skipped)."""
        check_key(prefix, prefix=True)
        count = 0
        for path in sorted(local.rglob("*")):
            if path.is_file() and not path.is_symlink():
                rel = path.relative_to(local).as_posix()
                self.put(_join(prefix, rel), path.read_bytes())
                count += 1
        return count

    def download_dir(self, prefix: str, local: Path) -> int:
        """Copy every key under ``prefix`` into ``local``; returns how many."""
        keys = self.list(prefix)
        for rel in keys:
            check_key(rel)
            dest = local / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            with dest.open("wb") as f:
                for part in self.read_chunks(_join(prefix, rel)):
                    f.write(part)
        return len(keys)


def _join(prefix: str, rel: str) -> str:
    return f"{prefix.rstrip('/')}/{rel}" if prefix else rel
