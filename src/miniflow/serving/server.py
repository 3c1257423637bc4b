"""The HTTP front end: TensorFlow Serving's REST API over :class:`ModelManager` s.

Endpoints (``NAME`` is a model name, ``N`` a version number)::

    GET  /v1/models/NAME[/versions/N]             version status
    GET  /v1/models/NAME[/versions/N]/metadata    signatures (names, dtypes, shapes)
    POST /v1/models/NAME[/versions/N]:predict     row or columnar predict
    POST /v1/models/NAME[/versions/N]:classify    TF Serving's classify (examples)
    POST /v1/models/NAME[/versions/N]:regress     TF Serving's regress (examples)
    (/labels/LABEL may stand wherever /versions/N does)
    GET  /healthz                                 200 when every model serves a version
    GET  /monitoring/prometheus/metrics           Prometheus text format

Errors answer ``{"error": "..."}``: 400 for a request the model cannot run, 404 for an
unknown model, version or path, 500 for a failure inside the model. None of them stops
the server.

Built on the standard library's ``ThreadingHTTPServer`` (one thread per connection,
HTTP/1.1 keep-alive): the request work is JSON decoding and NumPy, so a thread per
connection is as fast as an event loop here and needs no dependency
(``benchmarks/bench_serving.py`` measures it). The HTTP side (connections, heads,
bodies, routing) is :mod:`~miniflow.serving.http_handler`; this module holds the models.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
import time

from miniflow.serving.codec import (
    decode_examples,
    decode_predict,
    encode_classify,
    encode_predict,
    encode_regress,
    parse_json,
)
from miniflow.serving.config import load_model_config
from miniflow.serving.errors import ServableNotFound
from miniflow.serving.http_handler import Handler, HTTPError, HTTPServer
from miniflow.serving.limits import DEFAULT_MAX_BODY_BYTES, HTTPLimits
from miniflow.serving.liveness import Heartbeat
from miniflow.serving.manager import BatchingOptions, ModelConfig, ModelManager
from miniflow.serving.metrics import Metrics
from miniflow.serving.signature import CLASSIFY_METHOD, REGRESS_METHOD

_VERBS = {
    "classify": (CLASSIFY_METHOD, encode_classify),
    "regress": (REGRESS_METHOD, encode_regress),
}

__all__ = ["ModelServer", "HTTPLimits", "DEFAULT_MAX_BODY_BYTES"]

log = logging.getLogger("miniflow.serving")


class ModelServer:
    """Serves ``models`` over HTTP on ``host:port`` (port 0: any free port).

    Args:
        models: one :class:`ModelConfig` per served model (unique names).
        batching: micro-batching of concurrent requests, or None.
        poll_seconds: how often base directories are scanned for new versions.
        limits: timeouts and caps on connections and request bytes (:class:`HTTPLimits`).
        config_file: the model config file ``models`` came from, re-read every
            ``config_poll_seconds`` (> 0) to add, remove or change models while serving.
        auth_token: when set, every request must carry ``Authorization: Bearer <token>``
            (else 401): on a shared machine every local user can reach a loopback port.
        listen_fd: accept from this already listening socket (inherited from the
            ``--workers`` supervisor) instead of binding ``host:port``.
        worker_index: this process's index among the supervisor's workers (metrics).
        heartbeat: the ``--workers`` supervisor's liveness pipe (started with the server).
        supervisor_stats: the supervisor's counters file, added to the metrics.

    Example:
        >>> server = ModelServer([ModelConfig("ctr", "/models/ctr")], port=0)  # doctest: +SKIP
        >>> server.start(); print(server.port); server.stop()                 # doctest: +SKIP
    """

    def __init__(
        self,
        models: list[ModelConfig],
        host: str = "127.0.0.1",
        port: int = 8501,
        batching: BatchingOptions | None = None,
        poll_seconds: float = 1.0,
        limits: HTTPLimits | None = None,
        auth_token: str | None = None,
        config_file: str | None = None,
        config_poll_seconds: float = 0.0,
        listen_fd: int | None = None,
        worker_index: int | None = None,
        heartbeat: Heartbeat | None = None,
        supervisor_stats: str | None = None,
    ):
        self.metrics = Metrics()
        self.worker_index = worker_index
        self.heartbeat = heartbeat
        self.supervisor_stats = supervisor_stats
        self._batching = batching
        self.managers: dict[str, ModelManager] = {}  # replaced, never mutated, once serving
        for cfg in models:
            if cfg.name in self.managers:
                raise ValueError(f"model name {cfg.name!r} is configured twice")
            self.managers[cfg.name] = self._manager_for(cfg)
        self.config_file = config_file
        self.config_poll_seconds = config_poll_seconds
        self._config_seen: tuple | None = None  # the file's last (mtime, size) read
        if config_file:
            st = os.stat(config_file)
            self._config_seen = (st.st_mtime_ns, st.st_size)
        self._poll_lock = threading.Lock()
        self.poll_seconds = poll_seconds
        self.limits = limits or HTTPLimits()
        self.auth_token = auth_token
        self._stop = threading.Event()
        self._poller: threading.Thread | None = None
        self._serving: threading.Thread | None = None
        self._budget_lock = threading.Lock()
        self._inflight_bytes = 0
        if listen_fd is None:
            self.httpd = HTTPServer((host, port), Handler)
        else:
            self.httpd = HTTPServer((host, port), Handler, bind_and_activate=False)
            self.httpd.socket.close()
            self.httpd.socket = socket.socket(fileno=listen_fd)
            # several processes accept from it: the losers of a race must not block
            self.httpd.socket.setblocking(False)
            self.httpd.server_address = self.httpd.socket.getsockname()
        self.httpd.app = self

    def reserve_body(self, length: int) -> None:
        """Counts ``length`` body bytes in flight, or raises 503 when over the cap."""
        with self._budget_lock:
            if self._inflight_bytes + length > self.limits.max_inflight_bytes:
                busy = self._inflight_bytes
            else:
                self._inflight_bytes += length
                return
        raise HTTPError(
            503,
            f"Server busy: {busy} bytes of request bodies in flight; this request's "
            f"{length} would exceed the limit of {self.limits.max_inflight_bytes} "
            "(--max-inflight-bytes); retry later",
        )

    def release_body(self, length: int) -> None:
        with self._budget_lock:
            self._inflight_bytes -= length

    @property
    def port(self) -> int:
        return self.httpd.server_address[1]

    def _manager_for(self, cfg: ModelConfig) -> ModelManager:
        return ModelManager(
            cfg,
            batching=self._batching,
            on_batch=lambda rows, n=cfg.name: self.metrics.observe_batch(n, rows),
            on_load_failure=lambda n=cfg.name: self.metrics.load_failed(n),
            on_load_attempt=self.metrics.load_attempt,
        )

    def poll(self) -> None:
        """Scans every model's base directory once (load new versions, retire old)."""
        with self._poll_lock:
            for m in self.managers.values():
                m.poll()
                self.metrics.set_version(m.name, max(m.versions, default=0))

    def reload_config(self) -> bool:
        """Re-reads ``config_file`` if it changed: new models are loaded before they are
        routed to, removed ones retired after; a model whose base path or policy changed
        is a new manager, one whose labels changed keeps its loaded versions. A file
        that does not parse is logged and the running configuration stays."""
        try:
            st = os.stat(self.config_file)
            seen = (st.st_mtime_ns, st.st_size)
            if seen == self._config_seen:
                return False
            self._config_seen = seen
            configs = load_model_config(self.config_file)
        except (OSError, ValueError) as e:
            log.error(
                "model config %s not reloaded; keeping the running one: %s", self.config_file, e
            )
            return False
        with self._poll_lock:
            new = {}
            for cfg in configs:
                old = self.managers.get(cfg.name)
                if old is not None and (old.config.base_path, old.config.policy) == (
                    cfg.base_path,
                    cfg.policy,
                ):
                    old.config = cfg
                    new[cfg.name] = old
                else:
                    new[cfg.name] = m = self._manager_for(cfg)
                    m.poll()
                    self.metrics.set_version(m.name, max(m.versions, default=0))
            retired = [m for n, m in self.managers.items() if new.get(n) is not m]
            self.managers = new
        for m in retired:
            m.close()
        log.info("model config %s reloaded: models %s", self.config_file, sorted(new))
        return True

    def start(self) -> None:
        """Loads the current versions, then serves and polls in background threads."""
        self.poll()
        self._poller = threading.Thread(target=self._poll_loop, name="version-poller", daemon=True)
        self._poller.start()
        self._serving = threading.Thread(target=self.httpd.serve_forever, name="http", daemon=True)
        self._serving.start()
        if self.heartbeat is not None:
            self.heartbeat.start()

    def stop(self) -> None:
        """Stops accepting requests, stops polling, and unloads every model."""
        self._stop.set()
        if self.heartbeat is not None:
            self.heartbeat.stop()
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._poller is not None:
            self._poller.join()
        for m in self.managers.values():
            m.close()

    def _poll_loop(self) -> None:
        next_config = time.monotonic() + self.config_poll_seconds
        while not self._stop.wait(self.poll_seconds):
            try:
                if self.config_file and self.config_poll_seconds > 0:
                    if time.monotonic() >= next_config:
                        next_config = time.monotonic() + self.config_poll_seconds
                        self.reload_config()
                self.poll()
            except Exception:  # a scan error (e.g. permissions) must not end polling
                log.exception("version poll failed")

    # -- request handling (called from handler threads) ---------------------------------
    def manager(self, name: str) -> ModelManager:
        m = self.managers.get(name)
        if m is None:
            raise ServableNotFound(
                f"Servable not found for request: Latest({name}); "
                f"served models: {sorted(self.managers)}"
            )
        return m

    def model_status(self, name: str, version: int | None) -> dict:
        return {"model_version_status": self.manager(name).status(version)}

    def model_metadata(self, name: str, version: int | None) -> dict:
        with self.manager(name).use(version) as loaded:
            sigs = {k: s.to_json() for k, s in loaded.signature_defs.items()}
            return {
                "model_spec": {"name": name, "signature_name": "", "version": str(loaded.version)},
                "metadata": {"signature_def": {"signature_def": sigs}},
            }

    def predict(self, name: str, version: int | None, body: bytes) -> dict:
        doc = parse_json(body)
        manager = self.manager(name)
        loaded = manager.acquire(version)
        try:
            request = decode_predict(doc, loaded.signature_defs)
            outputs = loaded.predict(request.signature_name, request.inputs, request.rows)
        finally:
            manager.release(loaded)
        return encode_predict(outputs, request.columnar)

    def run_examples(self, verb: str, name: str, version: int | None, body: bytes) -> dict:
        """``:classify`` or ``:regress`` (TF Serving's examples request and result)."""
        method, encode = _VERBS[verb]
        doc = parse_json(body)
        with self.manager(name).use(version) as loaded:
            request = decode_examples(doc, loaded.signature_defs, method)
            outputs = loaded.predict(request.signature_name, request.inputs, request.rows)
        return encode(outputs)

    def render_metrics(self) -> bytes:
        """This process's metrics; a ``--workers`` worker adds which one answered."""
        text = self.metrics.render()
        if self.worker_index is not None:
            text += (
                "# HELP miniflow_serving_worker The worker process that answered this scrape.\n"
                "# TYPE miniflow_serving_worker gauge\n"
                f'miniflow_serving_worker{{worker="{self.worker_index}",pid="{os.getpid()}"}} 1\n'
            )
        if self.supervisor_stats is not None:
            text += _restart_metrics(self.supervisor_stats)
        return text.encode()

    def health(self) -> tuple[int, dict]:
        models = {n: m.versions for n, m in self.managers.items()}
        ok = all(models.values())
        return (200 if ok else 503), {"status": "ok" if ok else "unavailable", "models": models}


def _restart_metrics(path: str) -> str:
    """The supervisor's worker restart counters (``--workers``), from its stats file."""
    try:
        with open(path) as f:
            restarts = json.load(f)["restarts"]
    except (OSError, ValueError, KeyError):
        return ""
    lines = [
        "# HELP miniflow_serving_worker_restarts_total Workers the supervisor replaced, "
        "by reason (exited, or hung: no heartbeat or a stuck model call).",
        "# TYPE miniflow_serving_worker_restarts_total counter",
    ]
    lines += [
        f'miniflow_serving_worker_restarts_total{{reason="{r}"}} {int(n)}'
        for r, n in sorted(restarts.items())
    ]
    return "\n".join(lines) + "\n"
