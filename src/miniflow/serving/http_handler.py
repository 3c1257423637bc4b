"""The HTTP/1.1 side of ``miniflow serve``: connections, request heads and bodies,
routing, and JSON answers for every method and path (TF Serving's REST API).

One thread per connection (the standard library's ``ThreadingHTTPServer``), at most
``limits.max_connections``; the request head is parsed by
:mod:`~miniflow.serving.http_head`, the body read as it arrives into a budget of bytes
in flight, and the model work handed to :class:`~miniflow.serving.server.ModelServer`.
"""

from __future__ import annotations

import email.utils
import hmac
import json
import logging
import re
import socket
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

from miniflow import errors as tf_errors
from miniflow.serving.errors import InvalidRequest, ServableNotFound
from miniflow.serving.http_head import BadHead, parse_request_line, read_headers

if TYPE_CHECKING:
    from miniflow.serving.server import ModelServer

__all__ = ["HTTPServer", "Handler", "HTTPError"]

log = logging.getLogger("miniflow.serving")

_CHUNK = 1 << 16
_MAX_REJECTERS = 32  # threads answering 503 to connections over the cap
_MODEL_PATH = re.compile(
    r"^/v1/models/(?P<name>[^/:]+)(?:/versions/(?P<version>\d+)|/labels/(?P<label>[^/:]+))?"
    r"(?:(?P<metadata>/metadata)|:(?P<verb>[A-Za-z]+))?$"
)


class HTTPError(Exception):
    """An answer decided by the HTTP layer: ``code`` and a message for ``{"error": ...}``."""

    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.code = code


class HTTPServer(ThreadingHTTPServer):
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
            reply = _raw_response(
                503,
                {
                    "error": f"Server busy: {limit} connections open (--max-connections); retry later"
                },
            )
            # counted before the answer goes out, so a client that has it sees it counted
            self.app.metrics.observe_request("", "other", 503, time.perf_counter() - start)
            sock.sendall(reply)
            sock.shutdown(socket.SHUT_WR)
        except OSError:
            pass
        finally:
            sock.close()
            with self._conn_lock:
                self._rejecters -= 1


def _raw_response(code: int, payload: dict) -> bytes:
    body = json.dumps(payload).encode()
    head = (
        f"HTTP/1.1 {code} {HTTPStatus(code).phrase}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    return head.encode() + body


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive
    disable_nagle_algorithm = True  # headers and body go out without a 40 ms ACK wait
    server: HTTPServer

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
        """``http.server``'s checks of the request head, with the lean field parser of
        :mod:`~miniflow.serving.http_head` (the ``email`` package's cost ~70 us)."""
        # the request line arrived: the rest of the head within the read timeout
        self.connection.settimeout(self.limits.read_timeout_s)
        self.command = None
        self.request_version = "HTTP/0.9"
        self.close_connection = True
        self.requestline = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
        if not self.requestline.split():
            return False
        try:
            command, path, version, number = parse_request_line(self.raw_requestline)
            if number is not None:
                self.request_version = version
                self.close_connection = number < (1, 1)
            self.command, self.path = command, path
            self.headers = read_headers(self.rfile)
        except BadHead as e:
            self.send_error(e.code, str(e))
            return False
        conntype = self.headers.get("connection", "").lower()
        if conntype == "close":
            self.close_connection = True
        elif conntype == "keep-alive":
            self.close_connection = False
        if (
            self.headers.get("expect", "").lower() == "100-continue"
            and self.request_version >= "HTTP/1.1"
        ):
            return self.handle_expect_100()
        return True

    def send_error(self, code, message=None, explain=None):
        """The base class's errors (bad request line, unknown method, huge headers)
        as JSON, counted like every other answer."""
        self.close_connection = True
        self.request_version = "HTTP/1.1"  # never answer bare HTTP/0.9 (no status line)
        text = message or HTTPStatus(code).phrase
        if code == 501 and self.command:
            code, text = 405, f"Method {self.command} is not allowed on {self.path}"
        # counted before the answer goes out, so a client that has it sees it counted
        self.server.app.metrics.observe_request("", "other", code, 0.0)
        self._send(code, json.dumps({"error": text}).encode())

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
                raise HTTPError(401, "missing or wrong token; send 'Authorization: Bearer TOKEN'")
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
                if app.heartbeat is None:
                    code, payload = 200, self._model_call(app, method, m, version, body)
                else:
                    token = app.heartbeat.begin(self.connection)
                    try:
                        code, payload = 200, self._model_call(app, method, m, version, body)
                    finally:
                        if not app.heartbeat.end(token):  # answered 503 while it ran
                            self.close_connection = True
                            code, payload = 503, None
            elif path == "/monitoring/prometheus/metrics" and get:
                api = "metrics"
                text = app.render_metrics()
                app.metrics.observe_request(model, api, 200, time.perf_counter() - start)
                self._send(200, text, "text/plain; version=0.0.4; charset=utf-8")
                return
            elif path == "/healthz" and get:
                api = "health"
                code, payload = app.health()
            elif path in ("/monitoring/prometheus/metrics", "/healthz"):
                raise HTTPError(405, f"{method} is not allowed on {path}; use GET")
            else:
                raise HTTPError(404, f"Malformed request: {method} {path}")
        except (InvalidRequest, tf_errors.InvalidArgumentError) as e:
            code, payload = 400, {"error": str(e)}
        except RecursionError:
            code, payload = 400, {"error": "JSON Value: arrays or objects nested too deeply"}
        except ServableNotFound as e:
            code, payload = 404, {"error": str(e)}
        except HTTPError as e:
            code, payload = e.code, {"error": str(e)}
        except Exception as e:  # a model failure answers 500; the server keeps running
            log.exception("request %s %s failed", method, path)
            code, payload = 500, {"error": f"{type(e).__name__}: {e}"}
        finally:
            if reserved:
                app.release_body(reserved)
        if body is None and self.headers.get("Content-Length", "0").strip() != "0":
            self.close_connection = True  # its body was never read
        data = json.dumps(payload).encode() if payload is not None else None
        # counted before the answer goes out: a client that has its answer (and then
        # reads the metrics on another connection) always finds it counted
        app.metrics.observe_request(model, api, code, time.perf_counter() - start)
        if data is not None:
            self._send(code, data)

    def _model_call(self, app: ModelServer, method: str, m, version, body) -> dict:
        name = m["name"]
        if m["verb"] is not None:
            if m["verb"] in ("classify", "regress"):
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
            raise HTTPError(411, "Content-Length required (chunked bodies are not supported)")
        try:
            length = int(raw)
            if length < 0:
                raise ValueError(raw)
        except ValueError:
            self.close_connection = True
            raise HTTPError(400, f"invalid Content-Length {raw!r}") from None
        limit = self.limits.max_body_bytes
        if length > limit:
            # the body is left unread, so this connection cannot carry another request
            self.close_connection = True
            raise HTTPError(
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
            raise HTTPError(
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
            raise HTTPError(405, f"{m['verb']} needs POST, got {method}")
    elif not get:
        raise HTTPError(405, f"{method} is not allowed on {path}; use GET")
