"""`tf.gfile`: TF1's file API on the local file system, raising `tf.errors` classes
(`NotFoundError`, `AlreadyExistsError`, ...) where TF does."""

from __future__ import annotations

import glob as _glob
import os
import shutil
from dataclasses import dataclass

from miniflow import errors


def _not_found(path, what="") -> errors.NotFoundError:
    return errors.NotFoundError(None, None, f"{path}; No such file or directory{what}")


class GFile:
    """A file object (`tf.gfile.GFile` / `Open`): ``"r"`` gives str, ``"rb"`` bytes.

    Raises:
        NotFoundError: reading a file that does not exist.
    """

    def __init__(self, name, mode="r"):
        self.name, self.mode = os.fspath(name), mode
        try:
            self._f = open(
                self.name, mode if "b" in mode else mode, encoding=None if "b" in mode else "utf-8"
            )
        except FileNotFoundError:
            raise _not_found(self.name) from None
        except IsADirectoryError:
            raise errors.FailedPreconditionError(
                None, None, f"{self.name}; Is a directory"
            ) from None

    def read(self, n=-1):
        return self._f.read(n)

    def readline(self):
        return self._f.readline()

    def readlines(self):
        return self._f.readlines()

    def write(self, data):
        self._f.write(data)

    def flush(self):
        self._f.flush()

    def seek(self, offset=None, whence=0, position=None):
        self._f.seek(position if position is not None else offset, whence)

    def tell(self):
        return self._f.tell()

    def size(self):
        return os.path.getsize(self.name)

    def close(self):
        self._f.close()

    def __iter__(self):
        return iter(self._f)

    def __next__(self):
        return next(self._f)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


Open = GFile
FastGFile = GFile


def Exists(filename) -> bool:  # noqa: N802  TF's public names
    return os.path.exists(filename)


def IsDirectory(dirname) -> bool:  # noqa: N802
    return os.path.isdir(dirname)


def MakeDirs(dirname) -> None:  # noqa: N802
    """Creates ``dirname`` and its parents; no error if it exists."""
    os.makedirs(dirname, exist_ok=True)


def MkDir(dirname) -> None:  # noqa: N802
    """Creates one directory (its parent must exist)."""
    try:
        os.mkdir(dirname)
    except FileExistsError:
        raise errors.AlreadyExistsError(None, None, f"{dirname}; File exists") from None
    except FileNotFoundError:
        raise _not_found(dirname) from None


def ListDirectory(dirname) -> list:  # noqa: N802
    """The entry names in ``dirname`` (not full paths)."""
    try:
        return os.listdir(dirname)
    except (FileNotFoundError, NotADirectoryError):
        raise _not_found(dirname) from None


def Glob(filename) -> list:  # noqa: N802
    return _glob.glob(os.fspath(filename))


def Remove(filename) -> None:  # noqa: N802
    try:
        os.remove(filename)
    except FileNotFoundError:
        raise _not_found(filename) from None


def DeleteRecursively(dirname) -> None:  # noqa: N802
    if not os.path.exists(dirname):
        raise _not_found(dirname)
    if os.path.isdir(dirname):
        shutil.rmtree(dirname)
    else:
        os.remove(dirname)


def Rename(oldname, newname, overwrite=False) -> None:  # noqa: N802
    """Moves ``oldname`` to ``newname`` (AlreadyExistsError unless ``overwrite``)."""
    _check_move(oldname, newname, overwrite)
    os.replace(oldname, newname)


def Copy(oldpath, newpath, overwrite=False) -> None:  # noqa: N802
    """Copies ``oldpath`` to ``newpath`` (AlreadyExistsError unless ``overwrite``)."""
    _check_move(oldpath, newpath, overwrite)
    shutil.copyfile(oldpath, newpath)


def _check_move(src, dst, overwrite):
    if not os.path.exists(src):
        raise _not_found(src)
    if os.path.exists(dst) and not overwrite:
        raise errors.AlreadyExistsError(None, None, f"file already exists: {dst}")


@dataclass
class FileStatistics:
    length: int
    mtime_nsec: int
    is_directory: bool


def Stat(filename) -> FileStatistics:  # noqa: N802
    try:
        st = os.stat(filename)
    except FileNotFoundError:
        raise _not_found(filename) from None
    return FileStatistics(st.st_size, st.st_mtime_ns, os.path.isdir(filename))


def Walk(top, in_order=True):  # noqa: N802
    """(dirpath, subdirectory names, file names) for each directory under ``top``."""
    yield from os.walk(top, topdown=in_order)
