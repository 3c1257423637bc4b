"""Model arrays memory-mapped from private copies, so N server workers share one copy.

``miniflow serve --workers N`` runs N processes. Reading a model's weights into each
process's heap would cost N copies; mapping the same file read-only costs one (the
kernel's page cache, shared, counted once in the workers' summed PSS).

The file mapped is never the one in the model directory: a user who overwrites a
served version in place (``cp new/weights.npz 2/``) truncates that file, and touching a
mapped page past the new end kills the process with SIGBUS. So each array of a model
file is first extracted, as its own ``.npy``, into the server's cache directory
(:func:`configure`), under a name made from the source's path, inode, size and mtime;
every worker maps that file, and the first to need it writes it (a temporary name,
then an atomic ``link``). A ``.npy`` of its own also keeps the data aligned: mapping
the member inside the ``.npz`` directly gives misaligned arrays, on which NumPy's
``searchsorted`` and ``take`` took twice the CPU of a whole request. The files are
unlinked when a worker unloads the version; workers still mapping them keep their
pages.

SavedModel variables are restored into memory first (the checkpoint formats are not
laid out for mapping); :func:`share_array` then writes each large one to the cache once
and maps it copy-on-write, so the restored heap copy is freed and the workers share the
pages (a signature that writes a variable gets private copies of the pages it writes).

Without a cache directory (the Python API, ``miniflow predict``) arrays are read into
memory as before.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import zipfile
from collections.abc import Callable
from typing import BinaryIO

import numpy as np

__all__ = ["configure", "cache_dir", "load_npz", "release", "share_array", "files_key"]

_cache_dir: str | None = None
SHARE_MIN_BYTES = 1 << 20  # smaller arrays are not worth a file and a mapping each


def configure(directory: str | None) -> None:
    """Maps model arrays from private copies in ``directory`` (None: read into memory)."""
    global _cache_dir
    if directory is not None:
        os.makedirs(directory, exist_ok=True)
    _cache_dir = directory


def cache_dir() -> str | None:
    return _cache_dir


def load_npz(path: str) -> tuple[dict[str, np.ndarray], list[str]]:
    """The arrays of the ``.npz`` at ``path`` and the cache files they map ([] if none).

    With a cache directory each member is extracted to its own ``.npy`` there (so its
    data is aligned, which NumPy's fast paths need, and compressed members can be
    mapped too) and opened with ``mmap_mode="r"``.

    Raises:
        OSError: the file cannot be read.
        ValueError: not a ``.npz`` of plain (non-object) arrays, or the file changed
            while it was read (the loader reports it; the poller retries).
    """
    try:
        if _cache_dir is None:
            with np.load(path, allow_pickle=False) as z:
                return {k: z[k] for k in z.files}, []
        files = _extract(path)
    except (zipfile.BadZipFile, EOFError) as e:
        raise ValueError(f"{path}: not a readable .npz of arrays: {e}") from e
    try:
        arrays = {k: np.load(f, mmap_mode="r", allow_pickle=False) for k, f in files.items()}
    except BaseException:
        release(list(files.values()))
        raise
    return arrays, list(files.values())


def files_key(path: str) -> str:
    """Identifies the files under ``path`` as they are now (names, inodes, sizes, mtimes):
    the key of arrays restored from them."""
    items = [os.path.abspath(path)]
    for root, _, files in sorted(os.walk(path)):
        for name in sorted(files):
            try:
                st = os.stat(os.path.join(root, name))
            except OSError:
                continue
            items.append(f"{name}:{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}")
    return "\0".join(items)


def share_array(key: str, name: str, array: np.ndarray) -> tuple[np.ndarray, str | None]:
    """``array`` as a copy-on-write mapping of a cache file that every worker restoring
    the same ``key`` and ``name`` maps, and that file; ``(array, None)`` without a cache
    directory, for arrays under 1 MiB, and for object arrays."""
    if (
        _cache_dir is None
        or not isinstance(array, np.ndarray)
        or array.nbytes < SHARE_MIN_BYTES
        or array.dtype.hasobject
    ):
        return array, None
    ident = f"{key}\0{name}\0{array.dtype.str}\0{array.shape}"
    final = os.path.join(_cache_dir, hashlib.sha256(ident.encode()).hexdigest()[:24] + "-var.npy")
    _write_once(final, lambda f: np.save(f, np.ascontiguousarray(array), allow_pickle=False))
    mapped = np.load(final, mmap_mode="c", allow_pickle=False)
    if mapped.shape != array.shape or mapped.dtype != array.dtype:
        raise ValueError(f"{final}: cached copy of {name} does not match it; remove the file")
    return mapped, final


def release(copies: list[str]) -> None:
    """Unlinks cache files once their version is unloaded (mappings stay valid)."""
    for copy in copies:
        try:
            os.unlink(copy)
        except FileNotFoundError:
            pass


def _extract(path: str) -> dict[str, str]:
    """Each member of the ``.npz`` as a ``.npy`` in the cache: name -> file."""
    st = os.stat(path)
    key = f"{os.path.abspath(path)}\0{st.st_dev}\0{st.st_ino}\0{st.st_size}\0{st.st_mtime_ns}"
    prefix = hashlib.sha256(key.encode()).hexdigest()[:24]
    out = {}
    with zipfile.ZipFile(path) as zf:
        for info in zf.infolist():
            name = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
            final = os.path.join(_cache_dir, f"{prefix}-{len(out)}.npy")
            out[name] = final

            def copy(dst: BinaryIO, info: zipfile.ZipInfo = info) -> None:
                with zf.open(info) as src:
                    shutil.copyfileobj(src, dst, 1 << 20)

            _write_once(final, copy)
    after = os.stat(path)
    if (after.st_ino, after.st_size, after.st_mtime_ns) != (st.st_ino, st.st_size, st.st_mtime_ns):
        release(list(out.values()))
        raise ValueError(f"{path} changed while it was being loaded; will retry")
    return out


def _write_once(final: str, write: Callable[[BinaryIO], object]) -> None:
    """Creates cache file ``final`` unless it exists: ``write`` fills a temporary file of
    this process, then an atomic ``link`` publishes it, so a reader never maps a partial
    file and, when workers race, the first one's copy wins."""
    if os.path.exists(final):
        return
    tmp = f"{final}.{os.getpid()}.tmp"
    try:
        with open(tmp, "wb") as f:
            write(f)
        with contextlib.suppress(FileExistsError):  # another worker wrote it first
            os.link(tmp, final)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
