"""Where artifacts and models live: a local directory (default) or an S3-compatible store.

``open_storage(url, data_dir)`` builds one from a URL: ``None`` or ``file:///path`` is
a local directory (no extra dependency), ``s3://bucket/prefix`` an object store through
boto3 (the ``s3`` extra).
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

from miniflow_platform.storage.base import Storage, StorageError, check_key
from miniflow_platform.storage.local import LocalStorage


def open_storage(url: str | None, data_dir: Path, endpoint_url: str | None = None) -> Storage:
    """The storage named by ``url``; ``None`` means ``data_dir`` itself."""
    if not url:
        return LocalStorage(data_dir)
    parsed = urlparse(url)
    if parsed.scheme == "file":
        return LocalStorage(Path(parsed.path))
    if parsed.scheme == "s3":
        from miniflow_platform.storage.s3 import S3Storage

        if not parsed.netloc:
            raise ValueError(f"storage URL {url!r} names no bucket; expected s3://BUCKET/PREFIX")
        return S3Storage(parsed.netloc, parsed.path.strip("/"), endpoint_url=endpoint_url)
    raise ValueError(f"storage URL {url!r}: expected file:///PATH or s3://BUCKET/PREFIX")


__all__ = ["LocalStorage", "Storage", "StorageError", "check_key", "open_storage"]
