"""One shard's part of an exported model: its non-zero weights, sorted by key.

``DIR/part-IIIII.keys.npy`` (int64, ascending) and ``DIR/part-IIIII.weights.npy``
(float32), written atomically by the shard that owns those keys, so exporting never
gathers the model in one process. Plain ``.npy`` files, so a reader can memory-map
them (see :class:`miniflow.ps.export.ShardedLinearModel`).
"""

from __future__ import annotations

import os

import numpy as np

from miniflow.core.atomic_file import atomic_write

__all__ = ["part_paths", "write_part", "read_part"]


def part_paths(directory: str, index: int) -> tuple[str, str]:
    stem = os.path.join(directory, f"part-{index:05d}")
    return stem + ".keys.npy", stem + ".weights.npy"


def write_part(directory: str, index: int, keys: np.ndarray, weights: np.ndarray) -> int:
    """Writes shard ``index``'s non-zero ``weights`` at ``keys``; returns how many."""
    os.makedirs(directory, exist_ok=True)
    order = np.argsort(keys, kind="stable")
    keys_path, weights_path = part_paths(directory, index)
    sorted_keys = np.ascontiguousarray(keys[order], np.int64)
    sorted_weights = np.ascontiguousarray(weights[order], np.float32)
    atomic_write(keys_path, lambda f: np.save(f, sorted_keys))
    atomic_write(weights_path, lambda f: np.save(f, sorted_weights))
    return len(order)


def read_part(directory: str, index: int, mmap: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """(keys, weights) of part ``index``; memory-mapped unless ``mmap`` is False."""
    mode = "r" if mmap else None
    keys_path, weights_path = part_paths(directory, index)
    keys = np.load(keys_path, mmap_mode=mode, allow_pickle=False)
    weights = np.load(weights_path, mmap_mode=mode, allow_pickle=False)
    if keys.dtype != np.int64 or weights.dtype != np.float32 or keys.shape != weights.shape:
        raise ValueError(f"{directory}: part {index} is not int64 keys and float32 weights")
    return keys, weights
