"""Watch-fed caches of the platform's Jobs, Deployments and Pods, one per namespace and kind.

A cache lists the kind once (label ``app.kubernetes.io/managed-by``), then watches from
the list's ``resourceVersion`` with bookmarks on, in a daemon thread. A stream that
drops is resumed from the last version seen (an event or a bookmark), so no event is
missed or applied twice; ``410 Gone`` (the version was compacted away) re-lists and
watches again. After ``FAILURES_BEFORE_POLLING`` failures in a row the cache says it
is not ``usable`` (the executor then reads the API, as without watches) and keeps
retrying with a growing pause; the first event after that makes it usable again.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from miniflow_platform.executors import kube_manifests as km

log = logging.getLogger(__name__)

WATCH_TIMEOUT_S = 240  # the server ends each watch after this; it is resumed at once
FAILURES_BEFORE_POLLING = 3
BACKOFF_S = (0.1, 30.0)  # first pause after a failure, longest pause
FORGOTTEN_UIDS = 4096  # objects this server deleted itself: late events for them are ignored


class WatchCache:
    """The objects of one kind in one namespace, kept current by a watch."""

    def __init__(
        self,
        plural: str,
        namespace: str,
        list_fn: Callable[..., Any],
        selector: str,
        api_exception: type[Exception],
        backoff_s: tuple[float, float] = BACKOFF_S,
    ):
        self.plural = plural
        self.namespace = namespace
        self.selector = selector
        self._list_fn = list_fn
        self._api_exception = api_exception
        self._backoff_s = backoff_s
        self._objects: dict[str, Any] = {}
        self._gone: collections.OrderedDict[str, None] = collections.OrderedDict()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._watch: Any = None
        self._thread: threading.Thread | None = None
        self.resource_version: str | None = None
        self.failures = 0  # in a row
        self.recent: collections.deque[tuple[str, str, str]] = collections.deque(maxlen=256)
        self.events = 0
        self.relists = 0
        self.resumes = 0

    @property
    def usable(self) -> bool:
        """Listed, and the watch has not failed ``FAILURES_BEFORE_POLLING`` times in a row."""
        return self.resource_version is not None and self.failures < FAILURES_BEFORE_POLLING

    def start(self) -> WatchCache:
        """List now (a failure leaves it to the thread), then watch in a daemon thread."""
        try:
            self._relist()
        except Exception as e:  # noqa: BLE001  any failure: the thread retries
            self._failed(e)
        self._thread = threading.Thread(
            target=self._run, name=f"kube-watch-{self.plural}-{self.namespace}", daemon=True
        )
        self._thread.start()
        return self

    def close(self, timeout: float = 10.0) -> None:
        """Stop the thread and wait for it (a read blocked on the stream is cut off)."""
        self._stop.set()
        deadline = time.monotonic() + timeout
        while self._thread is not None and self._thread.is_alive():
            w = self._watch
            if w is not None:
                w.stop()  # shuts the socket down once the request is open
            self._thread.join(0.1)
            if time.monotonic() > deadline:
                log.warning("watch of %s in %s did not stop in %g s", *self._where(), timeout)
                return

    def get(self, name: str) -> Any | None:
        with self._lock:
            return self._objects.get(name)

    def items(self) -> list[Any]:
        with self._lock:
            return list(self._objects.values())

    def forget(self, name: str) -> None:
        """This server deleted the object: drop it now and ignore late events for it."""
        with self._lock:
            obj = self._objects.pop(name, None)
            if obj is not None and obj.metadata.uid:
                self._gone[obj.metadata.uid] = None
                while len(self._gone) > FORGOTTEN_UIDS:
                    self._gone.popitem(last=False)

    # ---- the thread --------------------------------------------------------------------

    def _relist(self) -> None:
        resp = self._list_fn(self.namespace, label_selector=self.selector)
        with self._lock:
            self._objects = {
                o.metadata.name: o for o in resp.items if o.metadata.uid not in self._gone
            }
        self.resource_version = resp.metadata.resource_version
        self.relists += 1

    def _run(self) -> None:
        from kubernetes import watch  # the executor checked the client is there

        pause = self._backoff_s[0]
        relisted = False  # by this turn: a 410 right after a list is a failure
        while not self._stop.is_set():
            try:
                relisted = self.resource_version is None
                if relisted:
                    self._relist()
                self._watch = watch.Watch()
                for event in self._watch.stream(
                    self._list_fn,
                    self.namespace,
                    label_selector=self.selector,
                    resource_version=self.resource_version,
                    allow_watch_bookmarks=True,
                    timeout_seconds=WATCH_TIMEOUT_S,
                ):
                    if self._stop.is_set():
                        return
                    self._apply(event)
                    if self.failures:
                        self._recovered()
                    pause = self._backoff_s[0]
                if not self._stop.is_set():  # the server ended it cleanly: resume
                    self.resumes += 1
                continue
            except self._api_exception as e:
                if getattr(e, "status", None) == 410 and not relisted:  # compacted: list again
                    log.info("watch of %s in %s: 410 Gone, listing again", *self._where())
                    self.resource_version = None
                    continue
                self._failed(e)
            except Exception as e:  # noqa: BLE001  a dropped stream, a refused connection
                if self._stop.is_set():
                    return
                self._failed(e)
            self.resumes += 1
            if self._stop.wait(pause):
                return
            pause = min(pause * 2, self._backoff_s[1])

    def _where(self) -> tuple[str, str]:
        return self.plural, self.namespace

    def _failed(self, e: Exception) -> None:
        # Warn before the count turns ``usable`` false, so a reader never sees the fallback
        # without its warning.
        if self.failures + 1 == FAILURES_BEFORE_POLLING:
            log.warning(
                "watch of %s in %s failed %d times in a row (%s: %s): "
                "status falls back to polling the API until it recovers",
                *self._where(),
                self.failures + 1,
                type(e).__name__,
                e,
            )
        self.failures += 1

    def _recovered(self) -> None:
        if self.failures >= FAILURES_BEFORE_POLLING:
            log.warning("watch of %s in %s recovered: status reads the cache", *self._where())
        self.failures = 0

    def _apply(self, event: dict[str, Any]) -> None:
        self.events += 1
        kind = event["type"]
        if kind == "BOOKMARK":
            rv = (event["raw_object"].get("metadata") or {}).get("resourceVersion")
            if rv:
                self.resource_version = str(rv)
            return
        obj = event["object"]
        self.recent.append((kind, obj.metadata.name, obj.metadata.resource_version))
        with self._lock:
            if obj.metadata.uid in self._gone:
                pass
            elif kind == "DELETED":
                cur = self._objects.get(obj.metadata.name)
                if cur is not None and cur.metadata.uid == obj.metadata.uid:
                    del self._objects[obj.metadata.name]
            else:  # ADDED, MODIFIED
                self._objects[obj.metadata.name] = obj
        self.resource_version = obj.metadata.resource_version


class WatchCaches:
    """One ``WatchCache`` per (kind, namespace), started on first use."""

    def __init__(
        self,
        listers: dict[str, Callable[..., Any]],
        selector: str,
        run_label: str,
        api_exception: type[Exception],
    ):
        self._listers = listers
        self._selector = selector
        self._run_label = run_label
        self._api_exception = api_exception
        self._lock = threading.Lock()
        self._caches: dict[tuple[str, str], WatchCache] = {}
        self.backoff_s = BACKOFF_S

    @classmethod
    def of(cls, ex: Any, api_exception: type[Exception]) -> WatchCaches:
        """The caches of a Kubernetes executor's Jobs, Deployments and Pods."""
        listers = {
            "jobs": ex.batch.list_namespaced_job,
            "deployments": ex.apps.list_namespaced_deployment,
            "pods": ex.core.list_namespaced_pod,
        }
        managed_by = "{}={}".format(*next(iter(km.MANAGED_BY.items())))
        return cls(listers, managed_by, km.RUN_LABEL, api_exception)

    def cache(self, plural: str, ns: str) -> WatchCache | None:
        """The cache of ``plural`` in ``ns`` if it can serve (else the caller polls)."""
        with self._lock:
            cache = self._caches.get((plural, ns))
            new = cache is None
            if cache is None:
                cache = WatchCache(
                    plural,
                    ns,
                    self._listers[plural],
                    self._selector,
                    self._api_exception,
                    self.backoff_s,
                )
                self._caches[(plural, ns)] = cache
        if new:
            cache.start()  # lists before answering: a new cache is current at once
        return cache if cache.usable else None

    def all(self) -> list[WatchCache]:
        with self._lock:
            return list(self._caches.values())

    def get(self, plural: str, ns: str, name: str) -> Any | None:
        cache = self.cache(plural, ns)
        return cache.get(name) if cache is not None else None

    def of_run(self, plural: str, ns: str, run_label: str) -> list[Any] | None:
        """The run's objects of ``plural``; None if the cache cannot serve."""
        cache = self.cache(plural, ns)
        if cache is None:
            return None
        return [
            o for o in cache.items() if (o.metadata.labels or {}).get(self._run_label) == run_label
        ]

    def forget_run(self, run_label: str, ns: str) -> None:
        """This server deleted the run's objects: out of the caches now, without waiting
        for their DELETED events (a ``status`` right after sees them gone)."""
        for cache in self.all():
            if cache.namespace != ns:
                continue
            for obj in cache.items():
                if (obj.metadata.labels or {}).get(self._run_label) == run_label:
                    cache.forget(obj.metadata.name)

    def close(self) -> None:
        with self._lock:
            caches, self._caches = list(self._caches.values()), {}
        for cache in caches:
            cache.close()
