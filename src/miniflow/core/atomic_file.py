"""Crash-safe file replacement, once for every layer.

A writer fills a temporary file beside the target, fsyncs it, renames it over the
target (``os.replace``, atomic on POSIX) and fsyncs the directory, so the rename
itself survives a power cut. A reader sees the old file or the complete new one, never
a torn one; a failure before the rename leaves the old file untouched and removes the
temporary file (unless the caller asked to keep it, as batch prediction keeps the rows
written before a bad one).

* :func:`atomic_write` — bytes, or a callable that writes to the open file.
* :class:`AtomicFile` — a streaming writer (``with AtomicFile(path) as f: ...``, or
  :meth:`~AtomicFile.commit` / :meth:`~AtomicFile.abort` when the writes span calls).
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable

__all__ = ["AtomicFile", "atomic_write", "fsync_dir"]


def fsync_dir(directory: str) -> None:
    """Makes a rename inside ``directory`` durable (a no-op where directories can't sync)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


class AtomicFile:
    """A file written under a temporary name and renamed to ``path`` on :meth:`commit`.

    Args:
        path: the final file.
        mode: ``"wb"`` (default) or ``"w"`` (text, ``encoding`` applies).
        temp: the temporary file's path (must be in ``path``'s directory). Default: a
            fresh hidden name ``.NAME.XXXX.tmp`` beside ``path``, so concurrent writers
            never share one.
        keep_on_error: leave the temporary file behind on :meth:`abort` (or an
            exception in the ``with`` block), for a caller that documents it.
        encoding: text mode's encoding.

    Example::

        with AtomicFile("model.bin") as f:
            for chunk in chunks:
                f.write(chunk)
    """

    def __init__(
        self,
        path,
        mode: str = "wb",
        *,
        temp=None,
        keep_on_error: bool = False,
        encoding: str | None = None,
    ):
        if mode not in ("wb", "w"):
            raise ValueError(f"AtomicFile: mode must be 'wb' or 'w', got {mode!r}")
        self.path = os.fspath(path)
        self.directory = os.path.dirname(os.path.abspath(self.path))
        self.keep_on_error = keep_on_error
        if temp is None:
            name = os.path.basename(self.path)
            fd, self.temp = tempfile.mkstemp(dir=self.directory, prefix=f".{name}.", suffix=".tmp")
        else:
            self.temp = os.fspath(temp)
            if os.path.dirname(os.path.abspath(self.temp)) != self.directory:
                raise ValueError(
                    f"AtomicFile: the temporary file {self.temp} must be in the directory "
                    f"of {self.path} (a rename across directories is not atomic)"
                )
            fd = os.open(self.temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
        if mode == "w" and encoding is None:
            encoding = "utf-8"
        try:
            self.file = os.fdopen(fd, mode, encoding=encoding)
        except BaseException:
            os.close(fd)
            self._remove_temp()
            raise
        self.done = False

    def write(self, data) -> int:
        return self.file.write(data)

    def commit(self) -> None:
        """Flushes, fsyncs and closes the file, then renames it over ``path``."""
        if self.done:
            raise ValueError(f"AtomicFile({self.path}): already committed or aborted")
        self.done = True
        try:
            self.file.flush()
            os.fsync(self.file.fileno())
            self.file.close()
            os.replace(self.temp, self.path)
        except BaseException:
            self.file.close()
            if not self.keep_on_error:
                self._remove_temp()
            raise
        fsync_dir(self.directory)

    def abort(self) -> None:
        """Closes the file and removes it (kept with ``keep_on_error``); ``path`` is
        untouched. Safe to call more than once."""
        if self.done:
            return
        self.done = True
        self.file.close()
        if not self.keep_on_error:
            self._remove_temp()

    def _remove_temp(self) -> None:
        with contextlib.suppress(OSError):
            os.unlink(self.temp)

    def __enter__(self):
        return self.file

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()


def atomic_write(path, data: bytes | Callable) -> None:
    """Replaces ``path`` with ``data`` (bytes), or with what ``data(fh)`` writes to the
    open binary file, all or nothing."""
    with AtomicFile(path) as fh:
        if callable(data):
            data(fh)
        else:
            fh.write(data)
