"""The HTTP front end: TensorFlow Serving's REST API over :class:`ModelManager` s.

Endpoints (``NAME`` is a model name, ``N`` a version number)::

    GET  /v1/models/NAME[/versions/N]             version status
    GET  /v1/models/NAME[/versions/N]/metadata    signatures (names, dtypes, shapes)
    POST /v1/models/NAME[/versions/N]:predict     row or columnar predict
    GET  /healthz                                 200 when every model serves a version
    GET  /monitoring/prometheus/metrics           Prometheus text format

Errors answer ``{"error": "..."}``: 400 for a request the model cannot run, 404 for an
unknown model, version or path, 500 for a failure inside the model. None of them stops
the server.

Built on the standard library's ``ThreadingHTTPServer`` (one thread per connection,
HTTP/1.1 keep-alive): the request work is JSON decoding and NumPy, so a thread per
connection is as fast as an event loop here and needs no dependency
(``benchmarks/bench_serving.py`` measures it).
"""

from __future__ import annotations

import hmac
import json
import logging
import re
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from miniflow import errors as tf_errors
from miniflow.serving.codec import decode_predict, encode_predict, parse_json
from miniflow.serving.errors import InvalidRequest, ServableNotFound
from miniflow.serving.manager import BatchingOptions, ModelConfig, ModelManager
from miniflow.serving.metrics import Metrics

__all__ = ["ModelServer", "DEFAULT_MAX_BODY_BYTES"]

log = logging.getLogger("miniflow.serving")

DEFAULT_MAX_BODY_BYTES = 64 << 20
_MODEL_PATH = re.compile(
    r"^/v1/models/(?P<name>[^/:]+)(?:/versions/(?P<version>\d+))?"
    r"(?:(?P<metadata>/metadata)|:(?P<verb>[A-Za-z]+))?$"
)


class _HTTPError(Exception):
    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code


class ModelServer:
    """Serves ``models`` over HTTP on ``host:port`` (port 0: any free port).

    Args:
        models: one :class:`ModelConfig` per served model (unique names).
        batching: micro-batching of concurrent requests, or None.
        poll_seconds: how often base directories are scanned for new versions.
        max_body_bytes: larger request bodies are refused with 400.
        auth_token: when set, every request must carry ``Authorization: Bearer <token>``
            (else 401): on a shared machine every local user can reach a loopback port.

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
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        auth_token: str | None = None,
    ):
        self.metrics = Metrics()
        self.managers: dict[str, ModelManager] = {}
        for cfg in models:
            if cfg.name in self.managers:
                raise ValueError(f"model name {cfg.name!r} is configured twice")
            self.managers[cfg.name] = ModelManager(
                cfg,
                batching=batching,
                on_batch=lambda rows, n=cfg.name: self.metrics.observe_batch(n, rows),
                on_load_failure=lambda n=cfg.name: self.metrics.load_failed(n),
            )
        self.poll_seconds = poll_seconds
        self.max_body_bytes = max_body_bytes
        self.auth_token = auth_token
        self._stop = threading.Event()
        self._poller: threading.Thread | None = None
        self._serving: threading.Thread | None = None
        self.httpd = _HTTPServer((host, port), _Handler)
        self.httpd.app = self

    @property
    def port(self) -> int:
        return self.httpd.server_address[1]

    def poll(self) -> None:
        """Scans every model's base directory once (load new versions, retire old)."""
        for m in self.managers.values():
            m.poll()
            self.metrics.set_version(m.name, max(m.versions, default=0))

    def start(self) -> None:
        """Loads the current versions, then serves and polls in background threads."""
        self.poll()
        self._poller = threading.Thread(target=self._poll_loop, name="version-poller", daemon=True)
        self._poller.start()
        self._serving = threading.Thread(target=self.httpd.serve_forever, name="http", daemon=True)
        self._serving.start()

    def stop(self) -> None:
        """Stops accepting requests, stops polling, and unloads every model."""
        self._stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._poller is not None:
            self._poller.join()
        for m in self.managers.values():
            m.close()

    def _poll_loop(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            try:
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
        with self.manager(name).use(version) as loaded:
            request = decode_predict(doc, loaded.signature_defs)
            outputs = loaded.predict(request.signature_name, request.inputs, request.rows)
        return encode_predict(outputs, request.columnar)

    def health(self) -> tuple[int, dict]:
        models = {n: m.versions for n, m in self.managers.items()}
        ok = all(models.values())
        return (200 if ok else 503), {"status": "ok" if ok else "unavailable", "models": models}


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128
    app: ModelServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    disable_nagle_algorithm = True  # headers and body go out without a 40 ms ACK wait
    server: _HTTPServer

    def log_message(self, format, *args):  # noqa: A002  BaseHTTPRequestHandler's signature
        log.debug("%s " + format, self.address_string(), *args)

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        start = time.perf_counter()
        app = self.server.app
        model, api = "", "other"
        path = self.path.split("?", 1)[0]
        body = b""
        try:
            if app.auth_token is not None and not self._authorized(app.auth_token):
                self.close_connection = True  # a body, if any, stays unread
                raise _HTTPError(401, "missing or wrong token; send 'Authorization: Bearer TOKEN'")
            if method == "POST":
                body = self._read_body(app.max_body_bytes)
            m = _MODEL_PATH.match(path)
            if m is not None:
                model = m["name"] if m["name"] in app.managers else ""
                version = int(m["version"]) if m["version"] else None
                api = "predict" if m["verb"] else "metadata" if m["metadata"] else "status"
                code, payload = 200, self._model_call(app, method, m, version, body)
            elif path == "/monitoring/prometheus/metrics" and method == "GET":
                api = "metrics"
                self._send(
                    200, app.metrics.render().encode(), "text/plain; version=0.0.4; charset=utf-8"
                )
                app.metrics.observe_request(model, api, 200, time.perf_counter() - start)
                return
            elif path == "/healthz" and method == "GET":
                api = "health"
                code, payload = app.health()
            else:
                raise _HTTPError(404, f"Malformed request: {method} {path}")
        except (InvalidRequest, tf_errors.InvalidArgumentError) as e:
            code, payload = 400, {"error": str(e)}
        except ServableNotFound as e:
            code, payload = 404, {"error": str(e)}
        except _HTTPError as e:
            code, payload = e.code, {"error": str(e)}
        except Exception as e:  # a model failure answers 500; the server keeps running
            log.exception("request %s %s failed", method, path)
            code, payload = 500, {"error": f"{type(e).__name__}: {e}"}
        self._send(code, json.dumps(payload).encode())
        app.metrics.observe_request(model, api, code, time.perf_counter() - start)

    def _model_call(self, app: ModelServer, method: str, m, version, body: bytes) -> dict:
        name = m["name"]
        if m["verb"] is not None:
            if method != "POST":
                raise _HTTPError(405, f"{m['verb']} needs POST, got {method}")
            if m["verb"] != "predict":
                raise InvalidRequest(f"API {m['verb']!r} is not supported; use :predict")
            return app.predict(name, version, body)
        if method != "GET":
            raise _HTTPError(405, f"{method} is not allowed on {self.path}; use GET")
        if m["metadata"]:
            return app.model_metadata(name, version)
        return app.model_status(name, version)

    def _authorized(self, token: str) -> bool:
        given = self.headers.get("Authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())

    def _read_body(self, limit: int) -> bytes:
        raw = self.headers.get("Content-Length")
        if raw is None:
            self.close_connection = True
            raise _HTTPError(411, "Content-Length required (chunked bodies are not supported)")
        try:
            length = int(raw)
            if length < 0:
                raise ValueError(raw)
        except ValueError:
            self.close_connection = True
            raise _HTTPError(400, f"invalid Content-Length {raw!r}") from None
        if length > limit:
            # the body is left unread, so this connection cannot carry another request
            self.close_connection = True
            raise InvalidRequest(
                f"Request body of {length} bytes exceeds the limit of {limit} "
                "bytes (--max-body-bytes)"
            )
        return self.rfile.read(length)

    def _send(self, code: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(code, HTTPStatus(code).phrase)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        try:
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):  # the client went away
            self.close_connection = True
