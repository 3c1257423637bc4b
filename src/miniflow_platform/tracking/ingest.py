"""What a job leaves behind, read as tracking data when it ends (no user code needed).

* ``metrics.json`` anywhere in the artifacts dir (and the file a ``--metrics-out`` or
  ``--report`` option names), as ``miniflow lr|fm train`` / ``eval`` write it: each epoch's holdout metrics (``auc``, ``log_loss``, ...) and training
  numbers (``progressive_log_loss``, ``rows``, ...) become metrics at step = epoch;
  the final ``test`` block (when there are no epochs) and other top-level numbers at
  the last step; nested objects as ``name.field``.
* TensorBoard event files (``*tfevents*``): every scalar, at its step and wall time.
* A ``miniflow ...`` command line: its ``--flag value`` options become params.

Bounded: at most ``MAX_WALKED`` directory entries are looked at, and ``MAX_FILES``
files of at most ``MAX_FILE_BYTES`` each are read.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from miniflow_platform.tracking import tfevents

MAX_FILES = 100
MAX_FILE_BYTES = 32 * 2**20
MAX_DEPTH = 6
MAX_WALKED = 20_000  # directory entries looked at, matching or not
HOLDOUT = ("holdout", "test")


@dataclass
class Found:
    params: dict[str, str] = field(default_factory=dict)
    points: list[tuple[str, int, float, float]] = field(default_factory=list)  # key, step, v, t
    notes: list[str] = field(default_factory=list)


def collect(artifacts: Path, command: list[str]) -> Found:
    found = Found(params=command_params(command))
    files = _candidates(artifacts, found)
    reports = _named_reports(artifacts, found.params)
    files += [r for r in reports if r not in files]
    for path in files:
        rel = path.relative_to(artifacts)
        try:
            if path.stat().st_size > MAX_FILE_BYTES:
                found.notes.append(f"{rel}: over {MAX_FILE_BYTES} bytes, read in part")
            if path.name == "metrics.json" or path in reports:
                found.points += metrics_json(path)
            else:
                found.points += list(tfevents.read_scalars(path, MAX_FILE_BYTES))
        except (OSError, ValueError, tfevents.WireError) as e:
            found.notes.append(f"{rel}: skipped ({e})")
    return found


def _candidates(root: Path, found: Found) -> list[Path]:
    out: list[Path] = []
    if not root.is_dir():
        return out
    walked = 0
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        walked += len(dirnames) + len(filenames)
        if walked > MAX_WALKED:
            found.notes.append(f"more than {MAX_WALKED} files in the artifacts; the rest not read")
            return out
        depth = len(Path(dirpath).relative_to(root).parts)
        if depth >= MAX_DEPTH:
            dirnames[:] = []
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if (name == "metrics.json" or "tfevents" in name) and not path.is_symlink():
                if len(out) == MAX_FILES:
                    found.notes.append(f"more than {MAX_FILES} metrics files; the rest skipped")
                    return out
                out.append(path)
    return out


def _named_reports(root: Path, params: dict[str, str]) -> list[Path]:
    """The report a ``--metrics-out``/``--report FILE`` option named, if it is a file
    inside the artifacts dir (relative names are taken from there, the default cwd)."""
    out = []
    for key in ("metrics_out", "report"):
        if key in params:
            path = (root / params[key]).resolve()
            if path.is_relative_to(root.resolve()) and path.is_file():
                out.append(root / path.relative_to(root.resolve()))
    return out


def metrics_json(path: Path) -> list[tuple[str, int, float, float]]:
    with path.open("rb") as f:
        report = json.loads(f.read(MAX_FILE_BYTES))
    if not isinstance(report, dict):
        raise ValueError("not a JSON object")
    when = path.stat().st_mtime
    points: list[tuple[str, int, float, float]] = []
    epochs = report.get("epochs")
    last = 0
    if isinstance(epochs, list):
        for i, epoch in enumerate(epochs):
            if not isinstance(epoch, dict):
                continue
            step = epoch.get("epoch", i + 1)
            step = step if isinstance(step, int) and step >= 0 else i + 1
            last = max(last, step)
            for key, value in _numbers(epoch, ""):
                if key != "epoch":
                    points.append((key, step, value, when))
    for key, value in report.items():
        if key == "epochs" or (key in HOLDOUT and isinstance(epochs, list) and epochs):
            continue
        for name, number in _numbers({key: value}, ""):
            points.append((name, last, number, when))
    return points


def _numbers(obj: dict[str, Any], prefix: str) -> list[tuple[str, float]]:
    out = []
    for key, value in obj.items():
        if not isinstance(key, str):
            continue
        if isinstance(value, dict):
            inner = "" if key in HOLDOUT else f"{prefix}{key}."
            out += _numbers(value, inner)
        elif isinstance(value, int | float) and not isinstance(value, bool):
            if math.isfinite(value):
                out.append((f"{prefix}{key}", float(value)))
    return out


def command_params(command: list[str]) -> dict[str, str]:
    """``miniflow lr train --alpha 0.1 --epochs=2`` -> {command: "lr train", alpha: "0.1", ...}."""
    start = next(
        (i for i, arg in enumerate(command) if Path(arg).name == "miniflow" or arg == "miniflow"),
        None,
    )
    if start is None:
        return {}
    rest = command[start + 1 :]
    words = []
    while rest and not rest[0].startswith("-"):
        words.append(rest.pop(0))
    params = {"command": " ".join(words)} if words else {}
    i = 0
    while i < len(rest):
        arg = rest[i]
        if arg.startswith("--") and len(arg) > 2:
            name, eq, value = arg[2:].partition("=")
            if not eq:
                has_value = i + 1 < len(rest) and not rest[i + 1].startswith("--")
                value = rest[i + 1] if has_value else "true"
                i += has_value
            params[name.replace("-", "_")[:250]] = value[:500]
        i += 1
    return params
