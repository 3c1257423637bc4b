"""The authenticated reverse proxy in front of notebooks and model services.

Managed processes listen where their executor puts them (127.0.0.1 locally, a
Service on Kubernetes; ``Executor.endpoint``) and refuse requests without their backend
token (see ``managed``). Clients never see that token: they authenticate to the
platform, and the proxy forwards their request with the token added. Bodies are
streamed both ways; websockets (Jupyter kernel channels) are relayed message by
message. A backend that does not answer gets 502 JSON; the callers answer 503 for a
process that is not running.

``Routes`` is where model service traffic goes: the generation each request uses is
chosen and counted under one lock, so an update can switch traffic to a new
generation and stop the old one only once no request still uses it.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from urllib.parse import urlencode

import httpx
from fastapi import Request, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.background import BackgroundTask
from starlette.requests import HTTPConnection
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from miniflow_platform.errors import error_body

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
    }
)
# Never forwarded to a backend: the platform's credentials, and the browser headers a
# backend would use for its own CSRF checks (the proxy does those, see notebooks).
PRIVATE = frozenset({"authorization", "cookie", "origin", "referer"})
BODILESS = frozenset({"GET", "HEAD"})
MAX_BUFFERED_BODY = 64 << 20  # a body without Content-Length is buffered up to this
TIMEOUT = httpx.Timeout(connect=5.0, read=300.0, write=60.0, pool=10.0)


@dataclass(frozen=True)
class Backend:
    """One process to forward to: its address (the executor's endpoint) and the headers
    it requires."""

    port: int
    headers: dict[str, str]
    generation: int = 0
    host: str = "127.0.0.1"
    scheme: str = "http"

    def url(self, path: str) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}/{path}"


def bad_gateway(message: str, status: int = 502) -> JSONResponse:
    code = {502: "bad_gateway", 504: "gateway_timeout"}.get(status, "unavailable")
    return JSONResponse(error_body(status, message, code=code), status_code=status)


def _client(request: Request) -> httpx.AsyncClient:
    # One pooled client per app, created on first use in the app's event loop.
    client = getattr(request.app.state, "proxy_client", None)
    if client is None:
        client = httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False)
        request.app.state.proxy_client = client
    return client


async def close_client(state: object) -> None:
    """Close the app's pooled client, if a request made one (at shutdown)."""
    client = getattr(state, "proxy_client", None)
    if client is not None:
        await client.aclose()


def request_headers(
    request: Request, backend: Backend, keep_cookies: Callable[[str], bool]
) -> dict:
    headers = {k: v for k, v in request.headers.items() if k not in HOP_BY_HOP and k not in PRIVATE}
    cookies = "; ".join(f"{k}={v}" for k, v in request.cookies.items() if keep_cookies(k))
    if cookies:
        headers["cookie"] = cookies
    headers.update(backend.headers)
    return headers


async def forward(
    request: Request,
    backend: Backend,
    path: str,
    what: str,
    keep_cookies: Callable[[str], bool] = lambda _name: False,
    on_done: Callable[[], None] | None = None,
) -> Response:
    """Send ``request`` to ``backend`` at ``/path`` and stream the answer back.

    The query is kept but for ``token`` (the proxy replaces credentials). ``on_done``
    runs once the answer is fully sent, or at once if the backend failed.
    """
    url = backend.url(f"{path}{_query(request)}")
    headers = request_headers(request, backend, keep_cookies)
    body: object = request.stream()
    if request.method in BODILESS:
        # A body here would stay unread by the backend and be parsed as the next request
        # on the pooled connection (a desync between callers): never forward one.
        headers.pop("content-length", None)
        body = b""
    elif "content-length" not in request.headers:
        body = await _buffered(request)
        if isinstance(body, Response):
            _finish(on_done)
            return body
        headers["content-length"] = str(len(body))  # model servers refuse chunked bodies
    client = _client(request)
    try:
        upstream = await client.send(
            client.build_request(request.method, url, headers=headers, content=body), stream=True
        )
    except httpx.TimeoutException as e:
        _finish(on_done)
        return bad_gateway(f"{what} did not answer in time: {type(e).__name__}", status=504)
    except httpx.HTTPError as e:
        _finish(on_done)
        return bad_gateway(f"{what} did not answer: {type(e).__name__}")

    closed = False

    async def close() -> None:  # after the last byte, or when the client went away
        nonlocal closed
        if not closed:
            closed = True
            await upstream.aclose()
            _finish(on_done)

    async def answer() -> AsyncIterator[bytes]:
        try:
            async for chunk in upstream.aiter_raw():
                yield chunk
        finally:
            await close()

    out = [
        (k, v)
        for k, v in upstream.headers.multi_items()
        if k.lower() not in HOP_BY_HOP and k.lower() not in ("date", "server")  # ours count
    ]
    response = StreamingResponse(
        answer(), status_code=upstream.status_code, background=BackgroundTask(close)
    )
    response.raw_headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in out]
    return response


def _query(conn: HTTPConnection) -> str:
    kept = [(k, v) for k, v in conn.query_params.multi_items() if k != "token"]
    return "?" + urlencode(kept) if kept else ""


async def _buffered(request: Request) -> bytes | Response:
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > MAX_BUFFERED_BODY:
            message = (
                f"a request body without Content-Length may be at most {MAX_BUFFERED_BODY} "
                "bytes; send Content-Length to stream a larger one"
            )
            return JSONResponse(error_body(413, message), status_code=413)
    return bytes(data)


def _finish(on_done: Callable[[], None] | None) -> None:
    if on_done is not None:
        on_done()


async def relay_websocket(ws: WebSocket, backend: Backend, path: str, what: str) -> None:
    """Connect to the backend's websocket at ``/path``, accept the client, relay both ways."""
    url = "ws" + backend.url(f"{path}{_query(ws)}")[4:]  # http -> ws, https -> wss
    offered = list(ws.scope.get("subprotocols") or [])
    try:
        upstream = await ws_connect(
            url,
            additional_headers=backend.headers,
            subprotocols=offered or None,  # type: ignore[arg-type]
            max_size=None,
            open_timeout=10,
            compression=None,
        )
    except (OSError, InvalidHandshake, TimeoutError) as e:
        code = 4404 if isinstance(e, InvalidStatus) and e.response.status_code == 404 else 1011
        await ws.close(code=code, reason=f"{what} did not accept the websocket")
        return
    await ws.accept(subprotocol=upstream.subprotocol)

    async def client_to_backend() -> None:
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                return
            if message.get("text") is not None:
                await upstream.send(message["text"])
            elif message.get("bytes") is not None:
                await upstream.send(message["bytes"])

    async def backend_to_client() -> None:
        with contextlib.suppress(ConnectionClosed):
            async for message in upstream:
                if isinstance(message, str):
                    await ws.send_text(message)
                else:
                    await ws.send_bytes(message)

    tasks = [asyncio.create_task(client_to_backend()), asyncio.create_task(backend_to_client())]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await upstream.close()
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):  # the client left first
            await ws.close()


class Routes:
    """Current backend per model service, and the requests each generation is serving."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._current: dict[int, Backend] = {}
        self._in_flight: Counter[tuple[int, int]] = Counter()

    def acquire(self, key: int, fallback: Callable[[], Backend]) -> Backend:
        """The backend for one request; counted until ``release``. ``fallback`` builds
        it from the database when this server has not routed the service yet."""
        with self._lock:
            backend = self._current.get(key)
            if backend is None:
                backend = self._current[key] = fallback()
            self._in_flight[key, backend.generation] += 1
            return backend

    def release(self, key: int, backend: Backend) -> None:
        with self._lock:
            self._in_flight[key, backend.generation] -= 1
            if self._in_flight[key, backend.generation] <= 0:
                del self._in_flight[key, backend.generation]

    def switch(self, key: int, backend: Backend) -> None:
        """From now on requests go to ``backend``; those in flight finish where they are."""
        with self._lock:
            self._current[key] = backend

    def forget(self, key: int) -> None:
        with self._lock:
            self._current.pop(key, None)

    def in_flight(self, key: int, generation: int) -> int:
        with self._lock:
            return self._in_flight[key, generation]


_routes: dict[str, Routes] = {}
_routes_lock = threading.Lock()


def routes_for(server_key: str) -> Routes:
    """The routing table of one platform server (keyed by its data dir)."""
    with _routes_lock:
        return _routes.setdefault(server_key, Routes())
