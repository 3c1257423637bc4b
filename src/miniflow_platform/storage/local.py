"""A directory as storage: the default, with no dependency beyond the standard library."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from miniflow_platform.storage.base import Storage, StorageError, check_key


class LocalStorage(Storage):
    """Keys are paths under ``root``; a symlink that leads out of it is refused."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def path(self, key: str, prefix: bool = False) -> Path:
        """The file (or folder, for a prefix) of ``key``; never outside ``root``."""
        check_key(key, prefix=prefix)
        path = self.root / key
        root = self.root.resolve()
        resolved = path.resolve()
        if resolved != root and root not in resolved.parents:
            raise StorageError(f"storage key {key!r} leads outside the store (a symlink)")
        return path

    def put(self, key: str, data: bytes) -> None:
        path = self.path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".put-")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)

    def read_chunks(self, key: str, chunk: int = 1 << 16) -> Iterator[bytes]:
        path = self.path(key)
        if not path.is_file():
            raise FileNotFoundError(f"no object {key!r} in {self.root}")
        return _chunks(path, chunk)

    def list(self, prefix: str = "") -> list[str]:
        folder = self.path(prefix, prefix=True) if prefix else self.root
        if not folder.is_dir():
            return []
        return sorted(
            f.relative_to(folder).as_posix()
            for f in folder.rglob("*")
            if f.is_file() and not f.is_symlink() and not f.name.startswith(".put-")
        )

    def delete(self, key: str) -> None:
        path = self.path(key)
        if not path.is_dir():
            path.unlink(missing_ok=True)

    def delete_prefix(self, prefix: str) -> int:
        count = len(self.list(prefix))
        folder = self.path(prefix, prefix=True)
        if folder.is_dir() and folder.resolve() != self.root.resolve():
            shutil.rmtree(folder, ignore_errors=True)
        return count

    def url(self, key: str) -> str:
        return str(self.path(key, prefix=True))


def _chunks(path: Path, chunk: int) -> Iterator[bytes]:
    with path.open("rb") as f:
        while data := f.read(chunk):
            yield data
