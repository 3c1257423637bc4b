"""Model versions on disk -> loaded servables, with hot switching.

A model's base directory holds numbered version directories (``1/``, ``2/``, ... as in
TensorFlow Serving). :meth:`ModelManager.poll` scans it, loads the versions the policy
wants, and only then swaps them in; requests already running keep the version they
started with, which is closed when its last request finishes. A version that fails to
load is logged and recorded in the status, the versions already serving stay, and the
directory is retried only once its contents change (a copy still in progress, fixed).

Write a new version atomically (save into a temporary directory, then rename it to its
number) so the poller never sees it half-written.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from miniflow.serving.batching import MicroBatcher
from miniflow.serving.errors import InvalidRequest, ModelLoadError, ServableNotFound
from miniflow.serving.servable import Servable, load_servable

__all__ = [
    "VersionPolicy",
    "ModelConfig",
    "BatchingOptions",
    "LoadedVersion",
    "ModelManager",
    "list_versions",
]

log = logging.getLogger("miniflow.serving")


@dataclass(frozen=True)
class VersionPolicy:
    """Which versions to serve: the ``latest`` N that load, ``specific`` ones, or ``all``."""

    kind: str = "latest"
    num_versions: int = 1
    versions: tuple[int, ...] = ()

    def __post_init__(self):
        if self.kind not in ("latest", "specific", "all"):
            raise ValueError(f"version policy must be latest, specific or all, got {self.kind!r}")
        if self.kind == "latest" and self.num_versions < 1:
            raise ValueError(f"latest num_versions must be >= 1, got {self.num_versions}")


@dataclass(frozen=True)
class ModelConfig:
    """One served model: its URL name, base directory, version policy and version
    labels (``{"stable": 1}``: ``/v1/models/NAME/labels/stable`` means version 1)."""

    name: str
    base_path: str
    policy: VersionPolicy = field(default_factory=VersionPolicy)
    version_labels: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class BatchingOptions:
    max_batch_size: int
    timeout_s: float


def list_versions(base_path: str) -> list[int]:
    """Numbered sub-directories of ``base_path``, newest first (others are ignored)."""
    try:
        names = os.listdir(base_path)
    except FileNotFoundError:
        return []
    # Only canonical numbers ("7", not "07"), so the directory is always str(version).
    return sorted(
        (
            int(n)
            for n in names
            if n.isdigit() and str(int(n)) == n and os.path.isdir(os.path.join(base_path, n))
        ),
        reverse=True,
    )


def _fingerprint(path: str) -> tuple:
    """Changes when a file under ``path`` is added, removed, resized or rewritten."""
    items = []
    for root, _, files in os.walk(path):
        for f in files:
            try:
                st = os.stat(os.path.join(root, f))
            except OSError:
                continue
            items.append((os.path.relpath(os.path.join(root, f), path), st.st_size, st.st_mtime_ns))
    return tuple(sorted(items))


class LoadedVersion:
    """A servable version in service, counted while requests use it."""

    def __init__(
        self,
        model: str,
        version: int,
        servable: Servable,
        batching: BatchingOptions | None,
        on_batch: Callable[[int], None] | None,
    ):
        self.model = model
        self.version = version
        self.servable = servable
        self.refs = 0
        self.retired = False
        self.fingerprint: tuple = ()  # of its directory when loaded
        self._batcher = None
        if batching is not None:
            self._batcher = MicroBatcher(
                servable.predict, batching.max_batch_size, batching.timeout_s, on_batch
            )
        self._on_batch = on_batch

    @property
    def signature_defs(self):
        return self.servable.signature_defs

    def predict(self, signature_name: str, inputs: dict, rows: int) -> dict[str, np.ndarray]:
        if self._batcher is not None:
            return self._batcher.predict(signature_name, inputs, rows)
        out = self.servable.predict(signature_name, inputs)
        if self._on_batch is not None:
            self._on_batch(rows)
        return out

    def close(self) -> None:
        if self._batcher is not None:
            self._batcher.close()
        self.servable.close()
        log.info("model %s: version %d unloaded", self.model, self.version)


class ModelManager:
    """Serves the versions of one model that its policy selects.

    Args:
        config: name, base path and version policy.
        loader: version directory -> servable (default :func:`load_servable`).
        batching: micro-batching options, or None to run each request on its own.
        on_batch: called with the rows of every model call (metrics).
        on_load_failure: called once per failed load (metrics).
        on_load_attempt: called with (version path, loaded?) after each load (metrics).
    """

    def __init__(
        self,
        config: ModelConfig,
        loader: Callable[[str], Servable] = load_servable,
        batching: BatchingOptions | None = None,
        on_batch: Callable[[int], None] | None = None,
        on_load_failure: Callable[[], None] | None = None,
        on_load_attempt: Callable[[str, bool], None] | None = None,
    ):
        self.config = config
        self.name = config.name
        self._loader = loader
        self._batching = batching
        self._on_batch = on_batch
        self._on_load_failure = on_load_failure
        self._on_load_attempt = on_load_attempt or (lambda path, ok: None)
        self._lock = threading.Lock()
        self._loaded: dict[int, LoadedVersion] = {}
        self._newest = 0  # max(self._loaded), kept with it
        self._failed: dict[int, tuple[tuple, str]] = {}  # version -> (fingerprint, error)
        self._ended: set[int] = set()
        self._poll_lock = threading.Lock()  # one poll at a time
        self._kept_warned: list[int] | None = None
        self._closed = False

    # -- versions on disk --------------------------------------------------------------
    def poll(self) -> None:
        """Decides the versions to serve in one pass, loading before retiring anything.

        The target set comes from what is on disk now: each candidate (newest first) is
        the version already loaded when its files are unchanged, else a fresh load; a
        version that fails to load is skipped (an older one takes its place), and a
        loaded version whose directory changed into something unloadable keeps serving
        its old contents. Only after the target set is loaded is the live map swapped
        and the versions left out retired. When nothing on disk can serve, the versions
        loaded stay (a redeploy that empties the directory drops no request).
        """
        with self._poll_lock:
            if self._closed:
                return
            on_disk = list_versions(self.config.base_path)
            current = self._loaded  # replaced, never mutated: a safe snapshot
            policy = self.config.policy
            target: dict[int, LoadedVersion] = {}
            for v in on_disk:
                if policy.kind == "specific" and v not in policy.versions:
                    continue
                if policy.kind == "latest" and len(target) >= policy.num_versions:
                    break
                loaded = self._current_or_load(v, current.get(v))
                if loaded is not None:
                    target[v] = loaded
            if not target and current:
                if on_disk != self._kept_warned:
                    log.warning(
                        "model %s: no loadable version on disk (%s); keeping %s",
                        self.name,
                        on_disk or "none",
                        sorted(current, reverse=True),
                    )
                    self._kept_warned = on_disk
                return
            self._kept_warned = None
            self._swap(target)

    def _current_or_load(self, version: int, current: LoadedVersion | None):
        """``current`` if its files are unchanged, else a fresh load (None if none)."""
        path = os.path.join(self.config.base_path, str(version))
        fp = _fingerprint(path)
        if current is not None and current.fingerprint == fp:
            return current
        failed = self._failed.get(version)
        if failed is not None and failed[0] == fp:
            return current  # unchanged since it failed
        fresh = self._load(version, path, fp)
        return fresh if fresh is not None else current

    def _load(self, version: int, path: str, fp: tuple) -> LoadedVersion | None:
        """Loads one version; None (logged, recorded) if it fails."""
        try:
            servable = self._loader(path)
        except Exception as e:  # a bad version must never stop the server
            msg = str(e) if isinstance(e, ModelLoadError) else f"{type(e).__name__}: {e}"
            with self._lock:
                self._failed[version] = (fp, msg)
            log.error(
                "model %s: version %d failed to load; still serving %s: %s",
                self.name,
                version,
                sorted(self._loaded) or "nothing",
                msg,
            )
            if self._on_load_failure is not None:
                self._on_load_failure()
            self._on_load_attempt(path, False)
            return None
        with self._lock:
            self._failed.pop(version, None)
        self._on_load_attempt(path, True)
        log.info("model %s: version %d loaded from %s", self.name, version, path)
        loaded = LoadedVersion(self.name, version, servable, self._batching, self._on_batch)
        loaded.fingerprint = fp
        return loaded

    def _swap(self, target: dict[int, LoadedVersion]) -> None:
        """Makes ``target`` the live map; retires every replaced or dropped version."""
        with self._lock:
            old = self._loaded
            self._loaded = target
            self._newest = max(target, default=0)
            retired = [lv for v, lv in old.items() if target.get(v) is not lv]
            idle = []
            for lv in retired:
                lv.retired = True
                if lv.version not in target:
                    self._ended.add(lv.version)
                if lv.refs == 0:
                    idle.append(lv)
            self._ended.difference_update(target)
        for lv in idle:
            lv.close()

    # -- requests ----------------------------------------------------------------------
    @property
    def versions(self) -> list[int]:
        """Versions being served, newest first."""
        return sorted(self._loaded, reverse=True)  # the map is replaced, never mutated

    def resolve_label(self, label: str) -> int:
        """The version a label names (TF Serving's message when it names none).

        Raises:
            InvalidRequest: the label is not in the model's ``version_labels``.
        """
        version = self.config.version_labels.get(label)
        if version is None:
            raise InvalidRequest(
                f"Unrecognized servable version label: {label}; labels of model "
                f"{self.name!r}: {dict(sorted(self.config.version_labels.items()))}"
            )
        return version

    @contextmanager
    def use(self, version: int | None = None) -> Iterator[LoadedVersion]:
        """The requested version (default: the newest served) for one request.

        Raises:
            ServableNotFound: the model has no such version loaded.
        """
        loaded = self.acquire(version)
        try:
            yield loaded
        finally:
            self.release(loaded)

    def acquire(self, version: int | None = None) -> LoadedVersion:
        """:meth:`use` without the generator (the request path's form): the version,
        counted until :meth:`release`.

        Raises:
            ServableNotFound: the model has no such version loaded.
        """
        with self._lock:
            live = self._loaded
            if version is None:
                loaded = live.get(self._newest) if live else None
                if loaded is None:
                    raise ServableNotFound(
                        f"Servable not found for request: Latest({self.name})"
                        f"; no version of model {self.name!r} is loaded"
                    )
            else:
                loaded = live.get(version)
                if loaded is None:
                    raise ServableNotFound(
                        f"Servable not found for request: Specific({self.name}, {version}); "
                        f"serving versions: {self.versions}"
                    )
            loaded.refs += 1
        return loaded

    def release(self, loaded: LoadedVersion) -> None:
        """Ends one request's use of ``loaded`` (closing it if it was retired)."""
        with self._lock:
            loaded.refs -= 1
            close = loaded.retired and loaded.refs == 0
        if close:
            loaded.close()

    def status(self, version: int | None = None) -> list[dict]:
        """TF Serving's ``model_version_status`` entries (newest first).

        Raises:
            ServableNotFound: ``version`` was never seen, or no version is known at all.
        """
        entries: dict[int, dict] = {}
        with self._lock:  # the poller changes these
            for v in self._ended:
                entries[v] = _status(v, "END")
            for v, (_, msg) in self._failed.items():
                entries[v] = _status(v, "END", "UNKNOWN", msg)
            for v in self._loaded:
                entries[v] = _status(v, "AVAILABLE")
        if version is not None:
            if version not in entries:
                raise ServableNotFound(
                    f"Servable not found for request: Specific({self.name}, {version})"
                )
            return [entries[version]]
        if not entries:
            raise ServableNotFound(f"Could not find any versions of model {self.name}")
        return [entries[v] for v in sorted(entries, reverse=True)]

    def close(self) -> None:
        """Retires every version (each closes once its last request ends)."""
        with self._poll_lock:
            self._closed = True
            self._swap({})


def _status(version: int, state: str, code: str = "OK", message: str = "") -> dict:
    return {
        "version": str(version),
        "state": state,
        "status": {"error_code": code, "error_message": message},
    }
