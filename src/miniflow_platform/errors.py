"""Domain errors. Services raise these; one handler in ``main.py`` maps them to HTTP."""

from __future__ import annotations


class PlatformError(Exception):
    """Base of every error the platform reports to a client."""

    status_code = 400


class NotFound(PlatformError, LookupError):
    """The resource does not exist, or belongs to another user (never say which)."""

    status_code = 404


class Conflict(PlatformError):
    """The request clashes with the resource's state (e.g. deleting a running job)."""

    status_code = 409


class InvalidRequest(PlatformError, ValueError):
    """The request is well-formed JSON but asks for something impossible."""

    status_code = 422


class Unauthorized(PlatformError, PermissionError):
    """No token, or a token the server does not know."""

    status_code = 401


class Forbidden(PlatformError, PermissionError):
    """A valid token without the right (e.g. a non-admin calling an admin endpoint)."""

    status_code = 403


class Unavailable(PlatformError):
    """A managed process (model service, notebook) cannot answer right now."""

    status_code = 503
