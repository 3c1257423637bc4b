"""Request body size limit, checked against Content-Length and against the bytes read.

A declared length over the limit is answered with 413 before any byte is read; a body
that grows past the limit while streaming (chunked, or a lying Content-Length) stops
at the first chunk over it. Uploads (``/v1/uploads``) have their own, larger limit.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from miniflow_platform.errors import error_body
from miniflow_platform.limits import Limits


class BodyTooLarge(HTTPException):
    """Raised from ``receive``: an HTTPException, so FastAPI's body parser re-raises it."""

    def __init__(self, limit: int, what: str):
        super().__init__(413, f"{what} is larger than the server's limit of {limit} bytes")
        self.code = "too_large"
        self.details = {"limit_bytes": limit}


class BodyLimit:
    """ASGI middleware; ``limits()`` is read per request, so tests may change limits live."""

    def __init__(self, app: ASGIApp, limits: Callable[[], Limits], upload_prefix: str):
        self.app = app
        self.limits = limits
        self.upload_prefix = upload_prefix

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limits = self.limits()
        upload = scope["path"].startswith(self.upload_prefix)
        limit = limits.max_upload_bytes if upload else limits.max_body_bytes
        what = "upload" if upload else "request body"
        declared = Headers(scope=scope).get("content-length")
        if declared is not None:
            if not declared.isdigit():
                body = error_body(400, f"invalid Content-Length {declared[:40]!r}")
                await JSONResponse(body, status_code=400)(scope, receive, send)
                return
            if int(declared) > limit:
                exc = BodyTooLarge(limit, f"{what} (Content-Length {declared})")
                body = error_body(413, exc.detail, exc.code, exc.details)
                await JSONResponse(body, status_code=413)(scope, receive, send)
                return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise BodyTooLarge(limit, what)
            return message

        await self.app(scope, limited, send)
