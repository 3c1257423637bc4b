"""A fake Kubernetes API server: a real HTTP server on 127.0.0.1 that speaks the REST
paths the Kubernetes executor uses, with a small kubelet and Job controller behind it.

Bodies are parsed into the official client's models (``V1Job.from_dict``: a manifest
the client cannot model is refused with 422) and answered with
``ApiClient.sanitize_for_serialization``, so the executor talks to what it would talk
to in a cluster. The kubelet and controllers (``kubernetes_fake_kubelet.py``) run each
pod's command as a real local subprocess; its output is served by the pod log endpoint,
``follow=true`` included.

Watches: a list answers with the global ``resourceVersion`` (every change bumps it and
stamps the object); ``?watch=true`` streams ``ADDED``/``MODIFIED``/``DELETED`` events
(chunked, one JSON object a line, objects as the client's models serialize them) from
the history after the given version, ``BOOKMARK`` events every ``bookmark_s`` with
``allowWatchBookmarks``, and ends cleanly after ``timeoutSeconds``. ``compact()``
forgets the history, so a watch from an older version gets a ``410 Expired`` ERROR
event, as from a real API server.

Faults for tests: ``fail_next(method, path_part, status)`` answers the next matching
request with that status; ``fail_watches(n, status)`` the next ``n`` watch requests;
``drop_follow_after`` closes a log follow stream after that many bytes;
``drop_watch(plural, after)`` cuts the next watch stream of ``plural`` after ``after``
more events (no terminating chunk, as a broken connection), ``drop_watches()`` every
open one now; ``vanish(plural, ns, name)`` deletes an object behind the executor's back
and ``modify(plural, ns, name, fn)`` changes one as a controller would.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import json
import re
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from kubernetes import client as k8s
from kubernetes_fake_kubelet import Kubelet, Proc, now, owned

MODELS = {
    "namespaces": ("Namespace", "V1Namespace", "v1"),
    "secrets": ("Secret", "V1Secret", "v1"),
    "resourcequotas": ("ResourceQuota", "V1ResourceQuota", "v1"),
    "limitranges": ("LimitRange", "V1LimitRange", "v1"),
    "services": ("Service", "V1Service", "v1"),
    "pods": ("Pod", "V1Pod", "v1"),
    "jobs": ("Job", "V1Job", "batch/v1"),
    "deployments": ("Deployment", "V1Deployment", "apps/v1"),
    "networkpolicies": ("NetworkPolicy", "V1NetworkPolicy", "networking.k8s.io/v1"),
}
PATH = re.compile(
    r"^/(?:api/v1|apis/(?P<group>[^/]+)/v1)"
    r"(?:/namespaces/(?P<ns>[^/]+))?/(?P<plural>[a-z]+)(?:/(?P<name>[^/]+))?(?:/(?P<sub>log))?$"
)
NS_PATH = re.compile(r"^/api/v1/namespaces(?:/(?P<name>[^/]+))?$")
WATCH_TIMEOUT_S = 1800.0  # when the request gives no timeoutSeconds


def _status(code: int, reason: str, message: str) -> dict[str, Any]:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure" if code >= 400 else "Success",
        "message": message,
        "reason": reason,
        "code": code,
    }


def _matches(obj: dict[str, Any], selector: str | None) -> bool:
    if not selector:
        return True
    have = obj.get("metadata", {}).get("labels") or {}
    for term in selector.split(","):
        key, _, value = term.partition("=")
        if have.get(key) != value:
            return False
    return True


class FakeKube:
    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.api = k8s.ApiClient()
        self.objects: dict[tuple[str, str, str], dict[str, Any]] = {}
        self.kubelet = Kubelet(self)
        self.lock = threading.RLock()
        self.version = 0
        self.changed = threading.Condition(self.lock)
        # (resourceVersion, event type, plural, namespace, the object then)
        self.history: list[tuple[int, str, str, str, dict[str, Any]]] = []
        self.compacted = 0  # history at or below this version is forgotten
        self.bookmark_s = 0.5
        self.watch_faults: list[tuple[int, str | None]] = []
        self.drop_after: dict[str, int] = {}  # plural -> events until the cut
        self.streams: list[dict[str, Any]] = []  # open watch streams: {"plural", "drop"}
        self.stopping = False
        self.faults: list[tuple[str, str, int]] = []
        self.drop_follow_after: int | None = None
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> FakeKube:
        self.thread.start()
        return self

    def stop(self) -> None:
        with self.lock:
            procs = list(self.kubelet.procs.values())
            self.stopping = True
            self.changed.notify_all()
        for proc in procs:
            self.kubelet.kill(proc)
        self.server.shutdown()
        self.server.server_close()

    def client(self) -> k8s.ApiClient:
        config = k8s.Configuration(host=self.url)
        return k8s.ApiClient(config)

    # ---- faults and inspection -------------------------------------------------------

    def fail_next(self, method: str, path_part: str, status: int) -> None:
        with self.lock:
            self.faults.append((method, path_part, status))

    def fail_watches(self, n: int, status: int = 500, plural: str | None = None) -> None:
        """Answer the next ``n`` watch requests (of ``plural``, or any) with ``status``."""
        with self.lock:
            self.watch_faults.extend([(status, plural)] * n)

    def drop_watch(self, plural: str, after: int = 0) -> None:
        """Cut the next watch stream of ``plural`` after it has sent ``after`` more events."""
        with self.lock:
            self.drop_after[plural] = after
            self.changed.notify_all()

    def drop_watches(self) -> None:
        """Cut every open watch stream now."""
        with self.lock:
            for stream in self.streams:
                stream["drop"] = True
            self.changed.notify_all()

    def compact(self) -> None:
        """Forget the event history (etcd compaction): older versions get 410."""
        with self.lock:
            self.compacted = self.version
            self.history.clear()
            self.changed.notify_all()

    def modify(self, plural: str, ns: str, name: str, fn: Any) -> None:
        """Change an object in place with ``fn(obj)``, as a controller would (an event)."""
        with self.lock:
            obj = self.objects[(plural, ns, name)]
            fn(obj)
            self._stamp(obj, plural)

    def get(self, plural: str, ns: str, name: str) -> dict[str, Any] | None:
        with self.lock:
            return self.objects.get((plural, ns, name))

    def all(self, plural: str) -> list[dict[str, Any]]:
        with self.lock:
            return [o for (p, _, _), o in self.objects.items() if p == plural]

    def vanish(self, plural: str, ns: str, name: str) -> None:
        """Delete an object (and a pod's process) as someone outside the platform would."""
        with self.lock:
            obj = self.objects.pop((plural, ns, name), None)
            if obj is not None:
                self._stamp(obj, plural, "DELETED")
            if plural == "pods":
                proc = self.kubelet.procs.pop((ns, name), None)
            else:
                proc = None
        if proc is not None:
            self.kubelet.kill(proc)

    # ---- HTTP ------------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, code: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _body(self) -> dict[str, Any]:
                n = int(self.headers.get("Content-Length") or 0)
                return json.loads(self.rfile.read(n) or b"{}")

            def _any(self, method: str) -> None:
                url = urlparse(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                body = self._body() if method in ("POST", "PUT", "DELETE") else {}
                with fake.lock:
                    fake.requests.append((method, url.path, query))
                    for i, (m, part, code) in enumerate(fake.faults):
                        if m == method and part in url.path:
                            del fake.faults[i]
                            return self._send(code, _status(code, "Injected", "injected fault"))
                try:
                    code, out = fake.route(method, url.path, query, body, self)
                except ValueError as e:  # a body the client's models refuse
                    code, out = 422, _status(422, "Invalid", str(e))
                if out is not None:
                    self._send(code, out)

            def do_GET(self) -> None:
                self._any("GET")

            def do_POST(self) -> None:
                self._any("POST")

            def do_PUT(self) -> None:
                self._any("PUT")

            def do_DELETE(self) -> None:
                self._any("DELETE")

        return Handler

    def route(
        self, method: str, path: str, query: dict[str, str], body: dict[str, Any], handler: Any
    ) -> tuple[int, dict[str, Any] | None]:
        m = NS_PATH.match(path)
        if m:
            plural, ns, name, sub = "namespaces", "", m["name"], None
        else:
            m = PATH.match(path)
            if m is None or m["plural"] not in MODELS:
                return 404, _status(404, "NotFound", f"no route {path}")
            plural, ns, name, sub = m["plural"], m["ns"] or "", m["name"], m["sub"]
        kind = MODELS[plural][0]
        key = (plural, ns, name or "")
        if method == "GET" and name is None and query.get("watch") == "true":
            return self._watch(plural, ns, query, handler)
        with self.lock:
            if sub == "log":
                return self._log(ns, name, query, handler)
            if method == "GET" and name is None:
                items = [
                    o
                    for (p, n, _), o in sorted(self.objects.items())
                    if p == plural
                    and (not ns or n == ns)
                    and _matches(o, query.get("labelSelector"))
                ]
                meta = {"resourceVersion": str(self.version)}
                return 200, {
                    "kind": f"{kind}List",
                    "apiVersion": MODELS[plural][2],
                    "metadata": meta,
                    "items": items,
                }
            if method == "POST":
                return self._create(plural, ns, body)
            if key not in self.objects:
                return 404, _status(404, "NotFound", f'{plural} "{name}" not found')
            if method == "GET":
                return 200, self.objects[key]
            if method == "PUT":
                obj = self._model(plural, body)
                obj["metadata"].update(
                    {k: self.objects[key]["metadata"][k] for k in ("uid", "creationTimestamp")}
                )
                self.objects[key] = obj
                self._stamp(obj, plural)
                return 200, obj
            if method == "DELETE":
                obj = self.objects[key]
                self._delete(plural, ns, name or "", query)
                # As the API: the object itself for pods and services, else a Status.
                return 200, obj if plural in ("pods", "services") else _status(200, "", "deleted")
        return 405, _status(405, "MethodNotAllowed", method)

    def _model(self, plural: str, body: dict[str, Any]) -> dict[str, Any]:
        cls = getattr(k8s, MODELS[plural][1])
        model = cls.from_dict(body)  # pydantic: raises ValueError for what the API refuses
        out: dict[str, Any] = self.api.sanitize_for_serialization(model)
        if plural == "secrets" and "stringData" in out:  # the API server stores data only
            data = {
                k: base64.b64encode(v.encode()).decode() for k, v in out.pop("stringData").items()
            }
            out["data"] = {**out.get("data", {}), **data}
        return out

    def _stamp(self, obj: dict[str, Any], plural: str, event: str = "MODIFIED") -> None:
        """A change: the next resourceVersion, and an event for the watches."""
        self.version += 1
        obj["metadata"]["resourceVersion"] = str(self.version)
        ns = obj["metadata"].get("namespace", "")
        self.history.append((self.version, event, plural, ns, copy.deepcopy(obj)))
        self.changed.notify_all()

    def _create(self, plural: str, ns: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        obj = self._model(plural, body)
        meta = obj.setdefault("metadata", {})
        name = meta.get("name")
        if not name:
            return 422, _status(422, "Invalid", "metadata.name: Required value")
        if plural != "namespaces":
            if ("namespaces", "", ns) not in self.objects:
                return 404, _status(404, "NotFound", f'namespaces "{ns}" not found')
            meta["namespace"] = ns
        if (plural, ns, name) in self.objects:
            return 409, _status(409, "AlreadyExists", f'{plural} "{name}" already exists')
        meta.update({"uid": secrets.token_hex(8), "creationTimestamp": now()})
        self.objects[(plural, ns, name)] = obj
        if plural == "jobs":
            obj["status"] = {"active": 1, "failed": 0, "succeeded": 0, "startTime": now()}
            self._stamp(obj, plural, "ADDED")
            self.kubelet.job_pod(obj)
            deadline = obj["spec"].get("activeDeadlineSeconds")
            if deadline:
                threading.Timer(deadline, self.kubelet.job_deadline, (ns, name)).start()
        elif plural == "deployments":
            self._stamp(obj, plural, "ADDED")
            tmpl = obj["spec"]["template"]
            self.kubelet.pod(
                ns, f"{name}-{secrets.token_hex(3)}", tmpl, owner=("deployments", name)
            )
        elif plural == "pods":
            self.kubelet.run(ns, name, obj)
            self._stamp(obj, plural, "ADDED")
        else:
            self._stamp(obj, plural, "ADDED")
        return 201, obj

    def _delete(self, plural: str, ns: str, name: str, query: dict[str, str]) -> None:
        with self.lock:
            obj = self.objects.pop((plural, ns, name), None)
            if obj is not None:
                self._stamp(obj, plural, "DELETED")
            dependents = [
                k
                for k, o in self.objects.items()
                if k[0] == "pods" and k[1] == ns and owned(o, plural, name)
            ]
            proc = self.kubelet.procs.pop((ns, name), None) if plural == "pods" else None
        if proc is not None:
            self.kubelet.kill(proc)
        if obj is not None and plural != "pods":
            for key in dependents:  # Foreground and Background both delete the pods
                self._delete("pods", key[1], key[2], {})

    def _watch(self, plural: str, ns: str, query: dict[str, str], handler: Any):
        """A watch stream: events after ``resourceVersion`` (all objects as ADDED without
        one), bookmarks, a 410 ERROR event for a compacted version."""
        selector = query.get("labelSelector")
        bookmarks = query.get("allowWatchBookmarks") == "true"
        timeout = float(query.get("timeoutSeconds") or WATCH_TIMEOUT_S)
        rv = query.get("resourceVersion") or "0"
        if not rv.isdigit():
            return 400, _status(400, "BadRequest", f"invalid resource version: {rv!r}")
        with self.lock:
            for i, (code, only) in enumerate(self.watch_faults):
                if only in (None, plural):
                    del self.watch_faults[i]
                    return code, _status(code, "Injected", "injected watch fault")
            pending: list[dict[str, Any]] = []
            pos = int(rv)
            if pos == 0:  # "any version": the current objects first
                pending = [
                    {"type": "ADDED", "object": copy.deepcopy(o)}
                    for (p, n, _), o in sorted(self.objects.items())
                    if p == plural and (not ns or n == ns) and _matches(o, selector)
                ]
                pos = self.version
            stream = {"plural": plural, "drop": False}
            self.streams.append(stream)
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        end = time.monotonic() + timeout
        next_bookmark = time.monotonic() + self.bookmark_s
        try:
            while True:
                with self.changed:
                    if pos < self.compacted:
                        msg = f"too old resource version: {pos} ({self.compacted})"
                        pending.append({"type": "ERROR", "object": _status(410, "Expired", msg)})
                        end = 0.0
                    else:
                        pending += [
                            {"type": t, "object": o}
                            for v, t, p, n, o in self.history
                            if v > pos
                            and p == plural
                            and (not ns or n == ns)
                            and _matches(o, selector)
                        ]
                        pos = self.version
                    now = time.monotonic()
                    if bookmarks and now >= next_bookmark and not pending:
                        meta = {"resourceVersion": str(pos)}
                        bookmark = {"kind": MODELS[plural][0], "apiVersion": MODELS[plural][2]}
                        pending.append(
                            {"type": "BOOKMARK", "object": {**bookmark, "metadata": meta}}
                        )
                        next_bookmark = now + self.bookmark_s
                    cut = stream["drop"] or self.stopping
                    if cut:  # cut off now: what is pending is never sent
                        pending = []
                    if not cut and plural in self.drop_after:
                        left = self.drop_after[plural]
                        events = [e for e in pending if e["type"] != "BOOKMARK"]
                        if len(events) >= left:  # send ``left`` of them, then cut
                            if len(events) > left:
                                pending = pending[: _index(pending, events[left])]
                            del self.drop_after[plural]
                            cut = True
                        elif events:
                            self.drop_after[plural] = left - len(events)
                    if not pending and not cut and now < end:
                        self.changed.wait(min(end, next_bookmark if bookmarks else end) - now)
                        continue
                out, pending = pending, []
                for event in out:
                    line = json.dumps(event).encode() + b"\n"
                    handler.wfile.write(b"%x\r\n%s\r\n" % (len(line), line))
                handler.wfile.flush()
                if cut:  # as a broken connection: no terminating chunk
                    handler.close_connection = True
                    with contextlib.suppress(OSError):
                        handler.connection.shutdown(2)
                    return 200, None
                if time.monotonic() >= end:
                    handler.wfile.write(b"0\r\n\r\n")
                    handler.wfile.flush()
                    return 200, None
        except OSError:  # the client went away
            handler.close_connection = True
            return 200, None
        finally:
            with self.lock:
                self.streams.remove(stream)

    def _log(self, ns: str, name: str | None, query: dict[str, str], handler: Any):
        proc = self.kubelet.procs.get((ns, name or ""))
        if ("pods", ns, name) not in self.objects:
            return 404, _status(404, "NotFound", f'pods "{name}" not found')
        if proc is None:
            return 400, _status(
                400, "BadRequest", f'container "run" in pod "{name}" is waiting to start'
            )
        if query.get("follow") != "true":
            data = proc.log.read_bytes()
            handler.send_response(200)
            handler.send_header("Content-Type", "text/plain")
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
            return 200, None
        self.lock.release()  # stream without holding the lock
        try:
            self._follow(proc, handler)
        finally:
            self.lock.acquire()
        return 200, None

    def _follow(self, proc: Proc, handler: Any) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/plain")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        sent = 0
        drop = self.drop_follow_after
        with proc.log.open("rb") as f:
            while True:
                done = proc.popen is None or proc.popen.poll() is not None
                data = f.read(65536)
                if drop is not None and sent + len(data) > drop:
                    data = data[: drop - sent]
                    self.drop_follow_after = None
                    handler.wfile.write(b"%x\r\n%s\r\n" % (len(data), data) if data else b"")
                    handler.wfile.flush()
                    handler.close_connection = True
                    with contextlib.suppress(OSError):
                        handler.connection.shutdown(2)
                    return
                if data:
                    sent += len(data)
                    handler.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                    handler.wfile.flush()
                elif done:
                    break
                else:
                    time.sleep(0.05)
        handler.wfile.write(b"0\r\n\r\n")
        handler.wfile.flush()


@contextlib.contextmanager
def executors(fake: FakeKube) -> Any:
    """``make(settings, **kw)`` -> a KubernetesExecutor on the fake; all closed (their
    watch threads stopped) when the block ends."""
    from miniflow_platform.executors.kubernetes import KubernetesExecutor

    made: list[KubernetesExecutor] = []

    def make(settings: Any, **kw: Any) -> KubernetesExecutor:
        ex = KubernetesExecutor(settings, api_client=fake.client(), **kw)
        made.append(ex)
        return ex

    try:
        yield make
    finally:
        for ex in made:
            ex.close()


def _index(items: list[Any], item: Any) -> int:
    return next(i for i, x in enumerate(items) if x is item)
