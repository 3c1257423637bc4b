"""Checking and unpacking untrusted archives (.zip, .tar, .tar.gz/.bz2/.xz).

``inspect`` reads only metadata: a zip's central directory, a tar's headers (the data
in between is decompressed and skipped, never more than the limit in total), so a
small archive that would unpack to gigabytes is refused after reading its headers.
``extract`` then writes regular files and directories only, counting the bytes it
actually writes, so headers that lie about sizes cannot get past the limit either.
Refused: ``..``, absolute or drive paths, NUL or backslashes in names, symlinks, hard
links, device files, FIFOs; over ``max_archive_members`` or ``max_unpacked_bytes``.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
import stat
import struct
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any

from miniflow_platform.errors import InvalidRequest, TooLarge
from miniflow_platform.limits import Limits

CHUNK = 1 << 20


@dataclass(frozen=True)
class Summary:
    format: str  # "zip" | "tar" | "tar.gz" | "tar.bz2" | "tar.xz"
    members: int
    unpacked_bytes: int  # as declared by the headers


@dataclass(frozen=True)
class _Member:
    name: str
    is_dir: bool
    size: int
    mode: int


def detect(path: Path) -> str:
    with path.open("rb") as f:
        head = f.read(6)
    if zipfile.is_zipfile(path):
        return "zip"
    if head[:2] == b"\x1f\x8b":
        return "tar.gz"
    if head[:3] == b"BZh":
        return "tar.bz2"
    if head == b"\xfd7zXZ\x00":
        return "tar.xz"
    return "tar"


def inspect(path: Path, limits: Limits) -> Summary:
    """Check every member's name and type and the totals, without unpacking anything."""
    fmt = detect(path)
    count = total = 0
    for member in _members(path, fmt, limits):
        count += 1
        total += member.size
        _check_totals(count, total, limits)
    if count == 0:
        raise InvalidRequest("the archive has no members")
    return Summary(fmt, count, total)


def extract(path: Path, dest: Path, limits: Limits) -> int:
    """Unpack into ``dest`` (created, must not exist); returns the bytes written."""
    fmt = detect(path)
    dest.mkdir(parents=True)
    written = count = 0
    try:
        opened = _open(path, fmt, limits)
        for member, read in opened:
            count += 1
            _check_totals(count, written + member.size, limits)
            target = dest.joinpath(*PurePosixPath(member.name).parts)
            if member.is_dir:
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW
            fd = os.open(target, flags, 0o755 if member.mode & 0o111 else 0o644)
            with os.fdopen(fd, "wb") as out, read() as src:
                while chunk := src.read(CHUNK):
                    written += len(chunk)
                    _check_totals(count, written, limits)
                    out.write(chunk)
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, lzma.LZMAError, OSError) as e:
        raise InvalidRequest(f"the archive cannot be unpacked: {e}") from e
    return written


def _check_totals(count: int, total: int, limits: Limits) -> None:
    if count > limits.max_archive_members:
        raise TooLarge(
            f"the archive has more than {limits.max_archive_members} members "
            "(limits.max_archive_members)",
            {"limit": limits.max_archive_members},
        )
    if total > limits.max_unpacked_bytes:
        raise TooLarge(
            f"the archive unpacks to more than {limits.max_unpacked_bytes} bytes "
            "(limits.max_unpacked_bytes)",
            {"limit_bytes": limits.max_unpacked_bytes},
        )


def _check_name(name: str) -> str:
    if not name or "\x00" in name or "\\" in name:
        raise InvalidRequest(f"archive member {name[:200]!r}: invalid name")
    pure = PurePosixPath(name)
    if pure.is_absolute() or ".." in pure.parts or (pure.parts and ":" in pure.parts[0]):
        raise InvalidRequest(f"archive member {name[:200]!r} would land outside the code dir")
    return name


def _members(path: Path, fmt: str, limits: Limits) -> Iterator[_Member]:
    for member, _read in _open(path, fmt, limits):
        yield member


def _open(path: Path, fmt: str, limits: Limits) -> Iterator[tuple[_Member, Any]]:
    try:
        if fmt == "zip":
            yield from _zip_members(path, limits)
        else:
            yield from _tar_members(path, fmt, limits)
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, lzma.LZMAError, OSError) as e:
        raise InvalidRequest(f"not a valid .zip or .tar(.gz|.bz2|.xz) archive: {e}") from e


def zip_entry_count(path: Path) -> int | None:
    """The entry count a zip's end record declares, read before ``zipfile`` loads the
    whole central directory into memory (a 256 MiB directory is millions of objects)."""
    with path.open("rb") as f:
        f.seek(0, os.SEEK_END)
        size = f.tell()
        f.seek(max(0, size - 65536 - 22))
        tail = f.read()
        at = tail.rfind(b"PK\x05\x06")
        if at < 0 or len(tail) < at + 22:
            return None
        count = int(struct.unpack("<H", tail[at + 10 : at + 12])[0])
        locator = tail.rfind(b"PK\x06\x07", 0, at)
        if count != 0xFFFF or locator < 0:
            return count
        (offset,) = struct.unpack("<Q", tail[locator + 8 : locator + 16])
        f.seek(offset)
        record = f.read(56)
        if record[:4] != b"PK\x06\x06":
            return None
        return int(struct.unpack("<Q", record[32:40])[0])


def _zip_members(path: Path, limits: Limits) -> Iterator[tuple[_Member, Any]]:
    declared = zip_entry_count(path)
    if declared is not None:
        _check_totals(declared, 0, limits)
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            name = _check_name(info.filename)
            mode = info.external_attr >> 16
            kind = stat.S_IFMT(mode)
            if kind == stat.S_IFLNK:
                raise InvalidRequest(f"archive member {name!r} is a symlink; links are refused")
            if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
                raise InvalidRequest(f"archive member {name!r} is a device or special file")
            member = _Member(name.rstrip("/"), info.is_dir(), info.file_size, mode)
            yield member, (lambda info=info: zf.open(info))


def _tar_members(path: Path, fmt: str, limits: Limits) -> Iterator[tuple[_Member, Any]]:
    opener = {"tar.gz": gzip.open, "tar.bz2": bz2.open, "tar.xz": lzma.open}.get(fmt, open)
    # Headers, skipped data and padding all come out of the decompressor: capping it
    # bounds the work of a hostile archive, whatever its headers say.
    cap = limits.max_unpacked_bytes + 1024 * (limits.max_archive_members + 2) + 10240
    with opener(path, "rb") as raw, tarfile.open(fileobj=_Capped(raw, cap), mode="r|") as tf:
        for info in tf:
            name = _check_name(info.name)
            if info.issym() or info.islnk():
                raise InvalidRequest(f"archive member {name!r} is a link; links are refused")
            if not (info.isfile() or info.isdir()):
                raise InvalidRequest(f"archive member {name!r} is a device or special file")
            member = _Member(name.rstrip("/"), info.isdir(), info.size, info.mode)
            yield member, (lambda info=info: _closing(tf.extractfile(info)))


class _Capped:
    """A read-only stream that refuses to give out more than ``cap`` bytes."""

    def __init__(self, raw: IO[bytes], cap: int):
        self.raw, self.left = raw, cap

    def read(self, n: int = -1) -> bytes:
        data = self.raw.read(n if n >= 0 else self.left + 1)
        self.left -= len(data)
        if self.left < 0:
            raise TooLarge(
                "the archive decompresses to more than the server's limits allow "
                "(limits.max_unpacked_bytes)"
            )
        return data


class _closing:  # noqa: N801  a tiny context manager for tarfile's extractfile result
    def __init__(self, f: IO[bytes] | None):
        self.f = f

    def __enter__(self) -> IO[bytes]:
        assert self.f is not None
        return self.f

    def __exit__(self, *exc: object) -> None:
        if self.f is not None:
            self.f.close()
