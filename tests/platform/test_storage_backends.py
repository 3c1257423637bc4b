"""The storage interface, the same tests for the local directory and for S3.

S3 runs against moto's server (a real HTTP implementation of the S3 REST API) started
as a subprocess on 127.0.0.1, reached by boto3 over HTTP, never a mock object.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time

import pytest

from miniflow_platform.storage import LocalStorage, StorageError, open_storage

boto3 = pytest.importorskip("boto3", reason="S3 storage tests need the s3 extra (boto3)")
pytest.importorskip("moto", reason="S3 storage tests need moto[server]")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def s3_endpoint():
    port = _free_port()
    proc = subprocess.Popen(  # noqa: S603
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.time() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.time() > deadline or proc.poll() is not None:
                    pytest.fail("moto server did not start")
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def s3_env(monkeypatch):
    for k, v in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(k, v)


@pytest.fixture(params=["local", "s3"])
def store(request, tmp_path):
    if request.param == "local":
        return open_storage(None, tmp_path / "store")
    endpoint = request.getfixturevalue("s3_endpoint")
    request.getfixturevalue("s3_env")
    bucket = f"b{os.getpid()}-{time.monotonic_ns()}"
    boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=bucket)
    return open_storage(f"s3://{bucket}/platform", tmp_path, endpoint_url=endpoint)


def test_put_get_list_delete(store):
    store.put("jobs/job-1/artifacts/model/w.npy", b"\x00\x01" * 100_000)
    store.put("jobs/job-1/artifacts/metrics.json", b'{"loss": 0.5}')
    store.put("jobs/job-10/artifacts/x", b"other job")
    assert store.list("jobs/job-1/artifacts") == ["metrics.json", "model/w.npy"]
    # "job-1" must not match "job-10": a prefix is a folder, not a string prefix.
    assert store.list("jobs/job-1/") == ["artifacts/metrics.json", "artifacts/model/w.npy"]
    assert store.get("jobs/job-1/artifacts/model/w.npy") == b"\x00\x01" * 100_000
    chunks = list(store.read_chunks("jobs/job-1/artifacts/model/w.npy", 65536))
    assert [len(c) for c in chunks] == [65536, 65536, 65536, 3392]  # 200000 bytes
    store.put("jobs/job-1/artifacts/metrics.json", b"replaced")
    assert store.get("jobs/job-1/artifacts/metrics.json") == b"replaced"
    assert store.exists("jobs/job-10/artifacts/x")
    store.put("jobs/job-1/artifacts/gone", b"x")
    store.delete("jobs/job-1/artifacts/gone")
    store.delete("jobs/job-1/artifacts/gone")  # twice: no error
    assert not store.exists("jobs/job-1/artifacts/gone")
    assert store.delete_prefix("jobs/job-1") == 2
    assert store.list("jobs/job-1") == []
    assert store.list() == ["jobs/job-10/artifacts/x"]
    assert not store.exists("jobs/job-1/artifacts/metrics.json")


def test_missing_key_is_file_not_found(store):
    with pytest.raises(FileNotFoundError, match="no object 'nope/x'"):
        store.get("nope/x")
    assert store.list("nope") == []
    assert store.delete_prefix("nope") == 0


@pytest.mark.parametrize(
    ("key", "problem"),
    [
        ("", "empty"),
        ("/etc/passwd", "relative"),
        ("a/../../b", r"'\.\.' part"),
        ("a//b", "empty, '.'"),
        ("a/./b", "empty, '.'"),
        ("a\\b", "backslash"),
        ("a\x00b", "NUL"),
        ("k" * 1025, "limit is 1024"),
    ],
)
def test_bad_keys_are_refused_with_the_reason(store, key, problem):
    with pytest.raises(StorageError, match=problem):
        store.put(key, b"x")
    with pytest.raises(StorageError):
        store.get(key)


def test_upload_and_download_a_directory(store, tmp_path):
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_bytes(b"A")
    (src / "sub" / "b.bin").write_bytes(bytes(range(256)))
    (src / "link").symlink_to("/etc/hostname")  # symlinks are not followed out
    assert store.upload_dir(src, "models/m1") == 2
    assert store.list("models/m1") == ["a.txt", "sub/b.bin"]
    dest = tmp_path / "dest"
    assert store.download_dir("models/m1", dest) == 2
    assert (dest / "sub" / "b.bin").read_bytes() == bytes(range(256))
    assert not (dest / "link").exists()


def test_url_names_the_location(store, tmp_path):
    url = store.url("jobs/job-2/artifacts")
    if isinstance(store, LocalStorage):
        assert url == str(tmp_path / "store" / "jobs/job-2/artifacts")
    else:
        assert url.startswith("s3://b") and url.endswith("/platform/jobs/job-2/artifacts")


def test_local_store_refuses_a_symlink_out(tmp_path):
    store = LocalStorage(tmp_path / "store")
    (tmp_path / "store" / "jobs").mkdir(parents=True)
    (tmp_path / "outside").mkdir()
    (tmp_path / "outside" / "secret").write_bytes(b"s")
    (tmp_path / "store" / "jobs" / "evil").symlink_to(tmp_path / "outside")
    with pytest.raises(StorageError, match="outside the store"):
        store.get("jobs/evil/secret")
    with pytest.raises(StorageError, match="outside the store"):
        store.put("jobs/evil/new", b"x")
    assert not (tmp_path / "outside" / "new").exists()


def test_storage_urls(tmp_path):
    assert isinstance(open_storage(f"file://{tmp_path}", tmp_path / "x"), LocalStorage)
    with pytest.raises(ValueError, match="names no bucket"):
        open_storage("s3:///prefix", tmp_path)
    with pytest.raises(ValueError, match="expected file:///PATH or s3://BUCKET/PREFIX"):
        open_storage("gs://bucket", tmp_path)


def test_s3_missing_bucket_is_a_clear_error(s3_endpoint, s3_env, tmp_path):
    store = open_storage("s3://no-such-bucket/p", tmp_path, endpoint_url=s3_endpoint)
    with pytest.raises(Exception, match="NoSuchBucket"):
        store.put("a", b"x")
