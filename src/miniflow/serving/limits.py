"""What one client may hold of ``miniflow serve``: timeouts and caps (docs/serving.md)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["HTTPLimits", "DEFAULT_MAX_BODY_BYTES"]

DEFAULT_MAX_BODY_BYTES = 64 << 20


@dataclass(frozen=True)
class HTTPLimits:
    """What one client may hold of the server.

    Args:
        read_timeout_s: longest wait for the next bytes of a started request (headers
            or body); the request then fails (body: 400) and the connection closes.
        idle_timeout_s: longest wait for a request on an open keep-alive connection.
        request_timeout_s: longest time to receive one whole body, however slowly it
            trickles in.
        max_connections: open connections; more are answered 503 and closed.
        max_body_bytes: one request body; larger ones are answered 413.
        max_inflight_bytes: request bodies being received or processed at once; a
            request that would exceed it is answered 503.
    """

    read_timeout_s: float = 30.0
    idle_timeout_s: float = 60.0
    request_timeout_s: float = 120.0
    max_connections: int = 1024
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    max_inflight_bytes: int = 4 * DEFAULT_MAX_BODY_BYTES

    def __post_init__(self):
        for name in ("read_timeout_s", "idle_timeout_s", "request_timeout_s"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
        for name in ("max_connections", "max_body_bytes", "max_inflight_bytes"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
