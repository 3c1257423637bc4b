"""Path helpers that keep client-supplied names inside the data directory."""

from __future__ import annotations

from pathlib import Path

from miniflow_platform.errors import NotFound


def safe_join(root: Path, relative: str) -> Path:
    """Return ``root/relative`` resolved, or raise NotFound if it escapes ``root``.

    Symlinks are resolved first, so a link inside the root that points outside is
    refused too.
    """
    root = root.resolve()
    candidate = (root / relative.lstrip("/")).resolve()
    if candidate != root and root not in candidate.parents:
        raise NotFound(f"path {relative!r} is outside this resource")
    return candidate


def is_within(path: Path, root: Path) -> bool:
    path, root = path.resolve(), root.resolve()
    return path == root or root in path.parents
