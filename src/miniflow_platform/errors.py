"""Domain errors and the API's one error shape.

Services raise these; the handlers in ``main.py`` turn them (and FastAPI's own 404,
405 and 422) into ``{"error": {"code": ..., "message": ..., "details": ...}}``.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class PlatformError(Exception):
    """Base of every error the platform reports to a client."""

    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, details: Any = None):
        super().__init__(message)
        self.details = details


class NotFound(PlatformError, LookupError):
    """The resource does not exist, or belongs to another user (never say which)."""

    status_code = 404
    code = "not_found"


class Conflict(PlatformError):
    """The request clashes with the resource's state (e.g. deleting a running job)."""

    status_code = 409
    code = "conflict"


class InvalidRequest(PlatformError, ValueError):
    """The request is well-formed JSON but asks for something impossible."""

    status_code = 422
    code = "invalid_request"


class TooLarge(PlatformError, ValueError):
    """A body, upload or archive is over one of the server's limits."""

    status_code = 413
    code = "too_large"


class QuotaExceeded(TooLarge):
    """Storing this would take the user over their disk quota."""

    code = "quota_exceeded"


class Unauthorized(PlatformError, PermissionError):
    """No token, or a token the server does not know."""

    status_code = 401
    code = "unauthorized"


class Forbidden(PlatformError, PermissionError):
    """A valid token without the right (e.g. a non-admin calling an admin endpoint)."""

    status_code = 403
    code = "forbidden"


class Unavailable(PlatformError):
    """A managed process (model service, notebook) cannot answer right now."""

    status_code = 503
    code = "unavailable"


# Codes for errors raised by the framework rather than by a service.
HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    500: "internal",
    503: "unavailable",
}


class ErrorBody(BaseModel):
    code: str = Field(description="stable machine-readable code, e.g. not_found, too_large")
    message: str = Field(description="what went wrong, for people")
    details: Any = Field(
        default=None, description="structured extras: validation errors, limits, usage"
    )


class ErrorResponse(BaseModel):
    """Every 4xx and 5xx answer of the API has this shape."""

    error: ErrorBody


def error_body(status: int, message: str, code: str | None = None, details: Any = None) -> dict:
    code = code or HTTP_CODES.get(status, "error")
    return {"error": {"code": code, "message": message, "details": details}}


_DESCRIPTIONS = {
    400: "malformed request (a body that is not JSON, a bad Content-Length)",
    401: "missing, unknown or revoked token",
    403: "the token's user may not do this",
    404: "no such resource (or it belongs to another user)",
    409: "the resource's state does not allow this",
    413: "over a size limit or the disk quota",
    422: "invalid request",
}


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries declaring the error shape for ``statuses``."""
    return {s: {"model": ErrorResponse, "description": _DESCRIPTIONS[s]} for s in statuses}
