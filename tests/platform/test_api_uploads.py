"""Uploads on a real server: archives streamed to disk, checked without unpacking
(zip bombs, member counts, zip-slip, links, device files), the disk quota, and the
event loop staying free while an upload is in progress."""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import os
import struct
import sys
import tarfile
import threading
import zipfile
import zlib

import httpx
import pytest
from platform_helpers import Server, kill_all_runs, wait_for, wait_job

MiB = 2**20


@pytest.fixture(scope="module")
def srv(tmp_path_factory):
    s = Server(
        tmp_path_factory.mktemp("uploads") / "data",
        "--cpu",
        "2",
        "--quota-disk-mb",
        "3",
        "--limit",
        "max_archive_members=50",
        "--limit",
        f"max_upload_bytes={5 * MiB // 2}",
    )
    try:
        yield s.start()
    finally:
        s.stop()
        kill_all_runs(s.data_dir)


@pytest.fixture(scope="module")
def dave(srv):
    with srv.client(srv.new_user("dave")) as c:
        yield c


@pytest.fixture(scope="module")
def erin(srv):
    with srv.client(srv.new_user("erin")) as c:
        yield c


def upload(client: httpx.Client, data) -> httpx.Response:
    return client.post(
        "/v1/uploads", content=data, headers={"Content-Type": "application/octet-stream"}
    )


def error(r: httpx.Response, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    err = r.json()["error"]
    assert err["code"] == code, err
    return err


def targz(files: dict[str, bytes], extra: list[tarfile.TarInfo] = ()) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mode = 0o755 if name.endswith(".sh") else 0o644
            tf.addfile(info, io.BytesIO(data))
        for info in extra:
            tf.addfile(info)
    return buf.getvalue()


def zipped(files: dict[str, bytes], modes: dict[str, int] | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (modes or {}).get(name, 0o100644) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, data)
    return buf.getvalue()


def zip_bomb(members: int = 32, size: int = 32 * MiB) -> bytes:
    """A valid zip of ``members`` files of ``size`` zero bytes each, written by hand so
    that the deflated data is computed once (1 GiB unpacked, about 1 MiB packed)."""
    raw = bytes(size)
    co = zlib.compressobj(9, zlib.DEFLATED, -15)
    data = co.compress(raw) + co.flush()
    crc = zlib.crc32(raw)
    out, central = io.BytesIO(), []
    for i in range(members):
        name = f"zeros-{i:04d}.bin".encode()
        offset = out.tell()
        out.write(
            struct.pack(
                "<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(data), size, len(name), 0
            )
            + name
            + data
        )
        central.append(
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                20,
                20,
                0,
                8,
                0,
                0,
                crc,
                len(data),
                size,
                len(name),
                0,
                0,
                0,
                0,
                0o100644 << 16,
                offset,
            )
            + name
        )
    start = out.tell()
    for entry in central:
        out.write(entry)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, members, members, out.tell() - start, start, 0)
    out.write(end)
    return out.getvalue()


def test_zip_bomb_is_a_real_zip():
    bomb = zip_bomb(members=3, size=MiB)
    with zipfile.ZipFile(io.BytesIO(bomb)) as zf:
        assert zf.read("zeros-0002.bin") == bytes(MiB)


def test_one_mib_zip_that_unpacks_to_one_gib_is_refused_unpacked(srv, dave):
    bomb = zip_bomb()
    assert len(bomb) < 1.1 * MiB
    err = error(upload(dave, bomb), 413, "too_large")
    assert "limits.max_unpacked_bytes" in err["message"], err
    assert not list((srv.data_dir / "uploads").rglob("*.part"))
    assert not list((srv.data_dir / "jobs").rglob("zeros-*"))  # nothing was unpacked
    assert dave.get("/v1/uploads").json()["count"] == 0


def test_tar_whose_header_declares_one_gib_is_refused_from_the_header(dave):
    info = tarfile.TarInfo("huge.bin")
    info.size = 2**30
    header = info.tobuf(format=tarfile.GNU_FORMAT)  # the data itself is never sent
    err = error(upload(dave, gzip.compress(header)), 413, "too_large")
    assert "limits.max_unpacked_bytes" in err["message"]


def test_too_many_members_is_refused(dave):
    files = {f"f{i}.txt": b"x" for i in range(51)}
    err = error(upload(dave, targz(files)), 413, "too_large")
    assert "50 members" in err["message"] and "limits.max_archive_members" in err["message"]
    assert upload(dave, targz(dict(list(files.items())[:50]))).status_code == 201


def test_zip_member_count_is_read_from_its_end_record_first(dave):
    """A zip whose end record declares 60,000 entries is refused before its central
    directory is loaded (a 256 MiB directory would be millions of Python objects)."""
    data = bytearray(zipped({"a": b"1", "b": b"2"}))
    end = data.rfind(b"PK\x05\x06")
    data[end + 8 : end + 12] = struct.pack("<HH", 60000, 60000)
    err = error(upload(dave, bytes(data)), 413, "too_large")
    assert "limits.max_archive_members" in err["message"]


def _link(name: str, kind: bytes, target: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    return info


@pytest.mark.parametrize(
    "archive, words",
    [
        (lambda: targz({"../evil.py": b"x"}), "outside the code dir"),
        (lambda: targz({"a/../../evil.py": b"x"}), "outside the code dir"),
        (lambda: targz({"/etc/evil.py": b"x"}), "outside the code dir"),
        (lambda: zipped({"../../evil.py": b"x"}), "outside the code dir"),
        (lambda: zipped({"/abs/evil.py": b"x"}), "outside the code dir"),
        (lambda: zipped({"C:/evil.py": b"x"}), "outside the code dir"),
        (lambda: zipped({"a\\..\\..\\evil.py": b"x"}), "invalid name"),
        (lambda: targz({}, [_link("passwd", tarfile.SYMTYPE, "/etc/passwd")]), "link"),
        (lambda: targz({"a": b"x"}, [_link("b", tarfile.LNKTYPE, "a")]), "link"),
        (lambda: zipped({"l": b"/etc/passwd"}, {"l": 0o120777}), "symlink"),
        (lambda: targz({}, [_link("null", tarfile.CHRTYPE)]), "device or special"),
        (lambda: targz({}, [_link("disk", tarfile.BLKTYPE)]), "device or special"),
        (lambda: targz({}, [_link("fifo", tarfile.FIFOTYPE)]), "device or special"),
        (lambda: zipped({"dev": b""}, {"dev": 0o020644}), "device or special"),
        (lambda: b"not an archive at all" * 100, "not a valid"),
        (lambda: zip_bomb(members=2, size=1024)[:-30], "not a valid"),
    ],
    ids=[
        "tar-dotdot",
        "tar-nested-dotdot",
        "tar-absolute",
        "zip-slip",
        "zip-absolute",
        "zip-drive",
        "zip-backslash",
        "tar-symlink",
        "tar-hardlink",
        "zip-symlink",
        "tar-chardev",
        "tar-blockdev",
        "tar-fifo",
        "zip-chardev",
        "garbage",
        "truncated-zip",
    ],
)
def test_unsafe_or_invalid_archives_are_refused(srv, dave, archive, words):
    err = error(upload(dave, archive()), 422, "invalid_request")
    assert words in err["message"], err
    assert not (srv.data_dir.parent / "evil.py").exists()


def test_inline_archive_gets_the_same_checks(dave):
    bad = targz({}, [_link("passwd", tarfile.SYMTYPE, "/etc/passwd")])
    r = dave.post(
        "/v1/jobs", json={"command": ["true"], "code_archive_b64": base64.b64encode(bad).decode()}
    )
    assert "link" in error(r, 422, "invalid_request")["message"]


def test_upload_then_run_a_job_from_it(srv, dave, erin):
    files = {
        "main.py": b"import pathlib; print('hello from', pathlib.Path('lib/x.txt').read_text())",
        "lib/x.txt": b"the upload",
        "run.sh": b"#!/bin/sh\necho ok\n",
    }
    data = targz(files)
    r = upload(dave, data)
    assert r.status_code == 201, r.text
    up = r.json()
    assert up["size_bytes"] == len(data) and up["sha256"] == hashlib.sha256(data).hexdigest()
    assert up["format"] == "tar.gz" and up["members"] == 3
    assert up["unpacked_bytes"] == sum(len(v) for v in files.values())
    assert up["created_at"].endswith("Z")
    assert dave.get(f"/v1/uploads/{up['id']}").json() == up
    job = dave.post(
        "/v1/jobs",
        json={
            "command": [sys.executable, "main.py"],
            "code_upload_id": up["id"],
            "resources": {"cpu": 0.2, "memory_mb": 256},
        },
    ).json()
    assert wait_job(dave, job["id"])["state"] == "SUCCEEDED"
    assert "hello from the upload" in dave.get(f"/v1/jobs/{job['id']}/logs").text
    code = srv.data_dir / "jobs" / f"job-{job['id']}" / "code"
    assert os.access(code / "run.sh", os.X_OK) and not os.access(code / "main.py", os.X_OK)
    # Another user cannot see it, use it or delete it: 404 like a missing one.
    assert erin.get(f"/v1/uploads/{up['id']}").status_code == 404
    assert erin.delete(f"/v1/uploads/{up['id']}").status_code == 404
    r = erin.post("/v1/jobs", json={"command": ["true"], "code_upload_id": up["id"]})
    assert error(r, 404, "not_found")["message"] == f"upload {up['id']} not found"
    assert erin.get("/v1/uploads").json()["count"] == 0
    assert dave.delete(f"/v1/uploads/{up['id']}").status_code == 204
    assert dave.get(f"/v1/uploads/{up['id']}").status_code == 404


def test_upload_over_the_upload_limit(dave):
    r = upload(dave, iter([os.urandom(MiB) for _ in range(3)]))  # chunked: no length
    err = error(r, 413, "too_large")
    assert str(5 * MiB // 2) in err["message"]


def test_disk_quota_is_counted_enforced_and_reported(srv, dave, erin):
    usage = erin.get("/v1/users/me/usage").json()
    assert usage["disk"] == {
        "used_bytes": 0,
        "quota_bytes": 3 * MiB,
        "jobs_bytes": 0,
        "notebooks_bytes": 0,
        "uploads_bytes": 0,
    }
    noise = zipped({"noise.bin": os.urandom(2 * MiB)})  # incompressible: ~2 MiB stored
    first = upload(erin, noise)
    assert first.status_code == 201, first.text
    used = erin.get("/v1/users/me/usage").json()["disk"]
    assert used["uploads_bytes"] == len(noise) == used["used_bytes"]
    err = error(upload(erin, noise), 413, "quota_exceeded")  # declared length over the room
    assert err["details"]["quota_bytes"] == 3 * MiB
    assert err["details"]["left_bytes"] == 3 * MiB - len(noise)
    chunks = iter([noise[:MiB], noise[MiB:]])  # streamed: refused once over the room
    error(upload(erin, chunks), 413, "quota_exceeded")
    assert erin.get("/v1/uploads").json()["count"] == 1
    # Unpacking counts too: 2.5 MiB of zeros packs small but would not fit next to it.
    zeros = zipped({"zeros.bin": bytes(MiB * 5 // 2)})
    small = upload(erin, zeros).json()
    r = erin.post("/v1/jobs", json={"command": ["true"], "code_upload_id": small["id"]})
    assert error(r, 413, "quota_exceeded")
    assert erin.delete(f"/v1/uploads/{first.json()['id']}").status_code == 204
    r = erin.post("/v1/jobs", json={"command": ["true"], "code_upload_id": small["id"]})
    assert r.status_code == 201, r.text
    disk = erin.get("/v1/users/me/usage").json()["disk"]
    assert disk["jobs_bytes"] >= MiB * 5 // 2 and disk["uploads_bytes"] == len(zeros)
    r = erin.post("/v1/jobs", json={"command": ["true"], "code_upload_id": small["id"]})
    error(r, 413, "quota_exceeded")
    # An admin reads anyone's usage; a user only their own.
    with srv.client(srv.admin_token) as admin:
        seen = admin.get("/v1/users/erin/usage").json()
        assert seen["user"] == "erin" and seen["disk"]["uploads_bytes"] == len(zeros)
    assert dave.get("/v1/users/erin/usage").status_code == 404


def test_other_requests_are_answered_while_an_upload_streams(srv, dave):
    """The upload is paused by its sender half-way; meanwhile other requests get their
    answers and the bytes already sent are on disk (streamed, not held in memory)."""
    paused, resume = threading.Event(), threading.Event()
    result: dict = {}

    def body():
        for i in range(3):
            yield os.urandom(MiB // 2)
            if i == 1:
                paused.set()
                resume.wait(60)

    def send():
        with srv.client(dave.headers["Authorization"].split()[1]) as c:
            result["response"] = upload(c, body())

    sender = threading.Thread(target=send)
    sender.start()
    try:
        assert paused.wait(30)
        part = wait_for(
            lambda: (
                [p for p in (srv.data_dir / "uploads").rglob("*.part") if p.stat().st_size] or None
            ),
            what="the upload's bytes on disk",
        )
        for _ in range(3):
            assert dave.get("/v1/users/me").status_code == 200
            assert dave.get("/v1/jobs").status_code == 200
        assert sender.is_alive() and "response" not in result  # the upload is still open
        assert part[0].stat().st_size >= MiB // 2
    finally:
        resume.set()
        sender.join(60)
    # Random bytes are not an archive: refused after the whole body was streamed.
    assert result["response"].status_code == 422
    assert not list((srv.data_dir / "uploads").rglob("*.part"))


def test_error_shape_of_upload_routes(dave):
    r = dave.get("/v1/uploads/999999")
    assert r.json() == {
        "error": {"code": "not_found", "message": "upload 999999 not found", "details": None}
    }
    assert json.loads(dave.get("/v1/uploads/0").text)["error"]["code"] == "validation_error"
