"""``/`` and ``/ui/...``: the web UI's files, with a strict Content-Security-Policy.

The UI is plain HTML, CSS and JavaScript modules shipped in ``static/`` (no Node
toolchain, nothing to build). It signs in with an API token kept in the tab's
sessionStorage and calls the same JSON API as the CLI, so every page shows only what
that token may see. The policy allows scripts, styles and requests from this origin
only (no inline script, no eval), and the pages build the DOM with ``textContent``.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, RedirectResponse

from miniflow_platform.errors import NotFound

STATIC = Path(__file__).parent / "static"
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
    "form-action 'self'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-cache",
}
TYPES = {
    ".html": "text/html",
    ".js": "text/javascript",
    ".css": "text/css",
    ".svg": "image/svg+xml",
}

router = APIRouter(include_in_schema=False)


@router.get("/")
def index() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html", headers=HEADERS)


@router.get("/ui")
def ui_root() -> RedirectResponse:
    return RedirectResponse("/", status_code=307)


@router.get("/ui/{path:path}")
def static_file(path: str) -> FileResponse:
    """A file of ``static/`` (no directory listing, nothing outside it)."""
    target = (STATIC / path).resolve()
    if (
        not target.is_relative_to(STATIC.resolve())
        or not target.is_file()
        or target.suffix not in TYPES
    ):
        raise NotFound(f"no UI file {path!r}")
    return FileResponse(target, media_type=TYPES[target.suffix], headers=HEADERS)
