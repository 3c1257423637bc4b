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
(``benchmarks/bench_serving.py`` measures it).
"""

from __future__ import annotations

import email.utils
import hmac
import json
import logging
import os
import re
import socket
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from miniflow import errors as tf_errors
from miniflow.serving.codec import (
    decode_examples,
    decode_predict,
    encode_classify,
    encode_predict,
    encode_regress,
    parse_json,
)
from miniflow.serving.config import load_model_config
from miniflow.serving.errors import InvalidRequest, ServableNotFound
from miniflow.serving.limits import DEFAULT_MAX_BODY_BYTES, HTTPLimits
from miniflow.serving.manager import BatchingOptions, ModelConfig, ModelManager
from miniflow.serving.metrics import Metrics
from miniflow.serving.signature import CLASSIFY_METHOD, REGRESS_METHOD

_VERBS = {
    "classify": (CLASSIFY_METHOD, encode_classify),
    "regress": (REGRESS_METHOD, encode_regress),
}

__all__ = ["ModelServer", "HTTPLimits", "DEFAULT_MAX_BODY_BYTES"]

log = logging.getLogger("miniflow.serving")

_CHUNK = 1 << 16
_MAX_REJECTERS = 32  # threads answering 503 to connections over the cap
_MODEL_PATH = re.compile(
    r"^/v1/models/(?P<name>[^/:]+)(?:/versions/(?P<version>\d+)|/labels/(?P<label>[^/:]+))?"
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
        limits: timeouts and caps on connections and request bytes (:class:`HTTPLimits`).
        config_file: the model config file ``models`` came from, re-read every
            ``config_poll_seconds`` (> 0) to add, remove or change models while serving.
        auth_token: when set, every request must carry ``Authorization: Bearer <token>``
            (else 401): on a shared machine every local user can reach a loopback port.
        listen_fd: accept from this already listening socket (inherited from the
            ``--workers`` supervisor) instead of binding ``host:port``.
        worker_index: this process's index among the supervisor's workers (metrics).

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
    ):
        self.metrics = Metrics()
        self.worker_index = worker_index
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
            self.httpd = _HTTPServer((host, port), _Handler)
        else:
            self.httpd = _HTTPServer((host, port), _Handler, bind_and_activate=False)
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
        raise _HTTPError(
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
        with self.manager(name).use(version) as loaded:
            request = decode_predict(doc, loaded.signature_defs)
            outputs = loaded.predict(request.signature_name, request.inputs, request.rows)
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
        return text.encode()

    def health(self) -> tuple[int, dict]:
        models = {n: m.versions for n, m in self.managers.items()}
        ok = all(models.values())
        return (200 if ok else 503), {"status": "ok" if ok else "unavailable", "models": models}


class _HTTPServer(ThreadingHTTPServer):
    """A thread per connection, at most ``limits.max_connections`` of them."""

    daemon_threads = True
    request_queue_size = 128
    app: ModelServer

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._conn_lock = threading.Lock()
        self.active = 0
        self._rejecters = 0

    def process_request(self, request, client_address):
        with self._conn_lock:
            over = self.active >= self.app.limits.max_connections
            if not over:
                self.active += 1
            elif self._rejecters < _MAX_REJECTERS:
                self._rejecters += 1
            else:
                over = None  # too many to even answer: just close
        if over is None:
            self.app.metrics.connection_event("rejected")
            self.shutdown_request(request)
        elif over:
            self.app.metrics.connection_event("rejected")
            threading.Thread(target=self._reject, args=(request,), daemon=True).start()
        else:
            self.app.metrics.set_connections(self.active)
            super().process_request(request, client_address)

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._conn_lock:
                self.active -= 1
            self.app.metrics.set_connections(self.active)

    def _reject(self, sock: socket.socket) -> None:
        """503 JSON to a connection over the cap (its request head read first, so that
        the client sees the answer rather than a reset)."""
        start = time.perf_counter()
        try:
            sock.settimeout(1.0)
            head = b""
            try:
                while b"\r\n\r\n" not in head and len(head) < _CHUNK:
                    chunk = sock.recv(_CHUNK)
                    if not chunk:
                        break
                    head += chunk
            except OSError:
                pass
            limit = self.app.limits.max_connections
            sock.sendall(
                _raw_response(
                    503,
                    {
                        "error": f"Server busy: {limit} connections open (--max-connections); retry later"
                    },
                )
            )
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        finally:
            sock.close()
            with self._conn_lock:
                self._rejecters -= 1
            self.app.metrics.observe_request("", "other", 503, time.perf_counter() - start)


def _raw_response(code: int, payload: dict) -> bytes:
    body = json.dumps(payload).encode()
    head = (
        f"HTTP/1.1 {code} {HTTPStatus(code).phrase}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    disable_nagle_algorithm = True  # headers and body go out without a 40 ms ACK wait
    server: _HTTPServer

    def setup(self):
        super().setup()
        self.limits = self.server.app.limits

    def log_message(self, format, *args):  # noqa: A002  BaseHTTPRequestHandler's signature
        log.debug("%s " + format, self.address_string(), *args)

    def log_error(self, format, *args):  # noqa: A002
        if format.startswith("Request timed out"):  # the base class's TimeoutError handler
            self.server.app.metrics.connection_event("timeout")
        log.debug("%s " + format, self.address_string(), *args)

    def handle_one_request(self):
        # waiting for a request on a kept-alive connection: the idle timeout
        self.connection.settimeout(self.limits.idle_timeout_s)
        super().handle_one_request()

    def parse_request(self):
        # the request line arrived: the rest of the head within the read timeout
        self.connection.settimeout(self.limits.read_timeout_s)
        return super().parse_request()

    def send_error(self, code, message=None, explain=None):
        """The base class's errors (bad request line, unknown method, huge headers)
        as JSON, counted like every other answer."""
        self.close_connection = True
        self.request_version = "HTTP/1.1"  # never answer bare HTTP/0.9 (no status line)
        text = message or HTTPStatus(code).phrase
        if code == 501 and self.command:
            code, text = 405, f"Method {self.command} is not allowed on {self.path}"
        self._send(code, json.dumps({"error": text}).encode())
        self.server.app.metrics.observe_request("", "other", code, 0.0)

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_HEAD(self):
        self._dispatch("HEAD")  # as GET, without the body (see _send)

    def do_PUT(self):
        self._dispatch("PUT")

    def do_DELETE(self):
        self._dispatch("DELETE")

    def do_OPTIONS(self):
        self._dispatch("OPTIONS")

    def do_PATCH(self):
        self._dispatch("PATCH")

    def _dispatch(self, method: str) -> None:
        start = time.perf_counter()
        app = self.server.app
        model, api = "", "other"
        path = self.path.split("?", 1)[0]
        body = None
        reserved = 0
        get = method in ("GET", "HEAD")
        try:
            if app.auth_token is not None and not self._authorized(app.auth_token):
                self.close_connection = True  # a body, if any, stays unread
                raise _HTTPError(401, "missing or wrong token; send 'Authorization: Bearer TOKEN'")
            m = _MODEL_PATH.match(path)
            if m is not None:
                model = m["name"] if m["name"] in app.managers else ""
                api = m["verb"] or ("metadata" if m["metadata"] else "status")
                if api not in ("predict", "classify", "regress", "metadata", "status"):
                    api = "other"
                _check_method(m, get, method, self.path)
            if method == "POST":
                reserved = self._content_length()
                app.reserve_body(reserved)
                body = self._read_body(reserved)
            if m is not None:
                version = int(m["version"]) if m["version"] else None
                if m["label"] is not None:
                    version = app.manager(m["name"]).resolve_label(m["label"])
                code, payload = 200, self._model_call(app, method, m, version, body)
            elif path == "/monitoring/prometheus/metrics" and get:
                api = "metrics"
                self._send(200, app.render_metrics(), "text/plain; version=0.0.4; charset=utf-8")
                app.metrics.observe_request(model, api, 200, time.perf_counter() - start)
                return
            elif path == "/healthz" and get:
                api = "health"
                code, payload = app.health()
            elif path in ("/monitoring/prometheus/metrics", "/healthz"):
                raise _HTTPError(405, f"{method} is not allowed on {path}; use GET")
            else:
                raise _HTTPError(404, f"Malformed request: {method} {path}")
        except (InvalidRequest, tf_errors.InvalidArgumentError) as e:
            code, payload = 400, {"error": str(e)}
        except RecursionError:
            code, payload = 400, {"error": "JSON Value: arrays or objects nested too deeply"}
        except ServableNotFound as e:
            code, payload = 404, {"error": str(e)}
        except _HTTPError as e:
            code, payload = e.code, {"error": str(e)}
        except Exception as e:  # a model failure answers 500; the server keeps running
            log.exception("request %s %s failed", method, path)
            code, payload = 500, {"error": f"{type(e).__name__}: {e}"}
        finally:
            if reserved:
                app.release_body(reserved)
        if body is None and self.headers.get("Content-Length", "0").strip() != "0":
            self.close_connection = True  # its body was never read
        self._send(code, json.dumps(payload).encode())
        app.metrics.observe_request(model, api, code, time.perf_counter() - start)

    def _model_call(self, app: ModelServer, method: str, m, version, body) -> dict:
        name = m["name"]
        if m["verb"] is not None:
            if m["verb"] in _VERBS:
                return app.run_examples(m["verb"], name, version, body)
            if m["verb"] != "predict":
                raise InvalidRequest(
                    f"API {m['verb']!r} is not supported; use :predict, :classify or :regress"
                )
            return app.predict(name, version, body)
        if m["metadata"]:
            return app.model_metadata(name, version)
        return app.model_status(name, version)

    def _authorized(self, token: str) -> bool:
        given = self.headers.get("Authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())

    def _content_length(self) -> int:
        """The declared body length, checked against ``max_body_bytes`` (413)."""
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
        limit = self.limits.max_body_bytes
        if length > limit:
            # the body is left unread, so this connection cannot carry another request
            self.close_connection = True
            raise _HTTPError(
                413,
                f"Request body of {length} bytes exceeds the limit of {limit} "
                "bytes (--max-body-bytes)",
            )
        return length

    def _read_body(self, length: int) -> bytes:
        """Exactly ``length`` bytes, read as they arrive; a body cut short (the client
        closed, stalled past the read timeout, or trickled past the request timeout) is
        never processed: 400, and the connection closes."""
        deadline = time.monotonic() + self.limits.request_timeout_s
        parts, got = [], 0
        try:
            while got < length:
                if time.monotonic() > deadline:
                    raise TimeoutError
                chunk = self.rfile.read1(min(_CHUNK, length - got))
                if not chunk:
                    break
                parts.append(chunk)
                got += len(chunk)
        except TimeoutError:
            self.server.app.metrics.connection_event("timeout")
        except OSError:
            pass
        if got < length:
            self.close_connection = True
            raise _HTTPError(
                400,
                f"Request body incomplete: received {got} of {length} bytes "
                "(Content-Length) before the client stopped sending",
            )
        return b"".join(parts)

    def _send(self, code: int, body: bytes, content_type: str = "application/json") -> None:
        """Head and body in one write: one segment on the wire for small answers (two
        writes cost a second syscall and wake the client twice)."""
        if log.isEnabledFor(logging.DEBUG):
            self.log_request(code)
        head = (
            f"HTTP/1.1 {code} {_PHRASES[code]}\r\nServer: {_SERVER}\r\nDate: {_http_date()}"
            f"\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
        )
        if self.close_connection:
            head += "Connection: close\r\n"
        data = (head + "\r\n").encode("latin-1")
        if self.command != "HEAD":
            data += body
        try:
            self.wfile.write(data)
        except OSError:  # the client went away (reset, broken pipe, timeout)
            self.close_connection = True


_PHRASES = {s.value: s.phrase for s in HTTPStatus}
_SERVER = BaseHTTPRequestHandler.server_version + " " + BaseHTTPRequestHandler.sys_version
_date = (0, "")


def _http_date() -> str:
    """The ``Date`` header, formatted once a second (formatting costs ~10 us)."""
    global _date
    now = int(time.time())
    if _date[0] != now:
        _date = (now, email.utils.formatdate(now, usegmt=True))
    return _date[1]


def _check_method(m, get: bool, method: str, path: str) -> None:
    """405 before any body is read: model verbs take POST, the rest GET (or HEAD)."""
    if m["verb"] is not None:
        if method != "POST":
            raise _HTTPError(405, f"{m['verb']} needs POST, got {method}")
    elif not get:
        raise _HTTPError(405, f"{method} is not allowed on {path}; use GET")
