"""An S3-compatible object store as storage (AWS S3, MinIO, Ceph RGW...), through boto3.

Credentials come from boto3's usual chain (``AWS_ACCESS_KEY_ID``..., an IAM role or
a Kubernetes service account); ``endpoint_url`` points at a non-AWS server.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from miniflow_platform.storage.base import Storage, check_key

DELETE_BATCH = 1000  # DeleteObjects takes at most 1000 keys


class S3Storage(Storage):
    """Keys live under ``s3://bucket/prefix/``."""

    def __init__(
        self, bucket: str, prefix: str = "", endpoint_url: str | None = None, client: Any = None
    ):
        if client is None:
            try:
                import boto3
            except ImportError as e:  # the s3 extra is not installed
                raise RuntimeError("S3 storage needs boto3: pip install 'miniflow[s3]'") from e
            client = boto3.client("s3", endpoint_url=endpoint_url)
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        if self.prefix:
            check_key(self.prefix)

    def _key(self, key: str, prefix: bool = False) -> str:
        check_key(key, prefix=prefix)
        return f"{self.prefix}/{key}" if self.prefix else key

    def put(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data)

    def read_chunks(self, key: str, chunk: int = 1 << 16) -> Iterator[bytes]:
        from botocore.exceptions import ClientError

        try:
            obj = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise FileNotFoundError(f"no object {key!r} in s3://{self.bucket}") from e
            raise
        return iter(obj["Body"].iter_chunks(chunk))

    def _full_prefix(self, prefix: str) -> str:
        if not prefix:
            return f"{self.prefix}/" if self.prefix else ""
        full = self._key(prefix, prefix=True)
        return full if full.endswith("/") else full + "/"

    def _keys(self, prefix: str) -> list[str]:
        full = self._full_prefix(prefix)
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=full
        )
        return [obj["Key"] for page in pages for obj in page.get("Contents", [])]

    def list(self, prefix: str = "") -> list[str]:
        full = self._full_prefix(prefix)
        return sorted(k[len(full) :] for k in self._keys(prefix))

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def delete_prefix(self, prefix: str) -> int:
        keys = self._keys(prefix)
        for i in range(0, len(keys), DELETE_BATCH):
            batch = [{"Key": k} for k in keys[i : i + DELETE_BATCH]]
            self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": batch})
        return len(keys)

    def url(self, key: str) -> str:
        return f"s3://{self.bucket}/{self._key(key, prefix=True)}"
