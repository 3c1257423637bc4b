"""Serving errors; the HTTP layer maps each class to one status code."""

from __future__ import annotations

__all__ = ["ServingError", "InvalidRequest", "ServableNotFound", "ModelLoadError"]


class ServingError(Exception):
    """Base of the errors raised by :mod:`miniflow.serving`."""


class InvalidRequest(ServingError, ValueError):
    """A request the model cannot run: malformed JSON, an unknown input name, a wrong
    shape or dtype, an out-of-range feature index, a body over the size limit (HTTP 400)."""


class ServableNotFound(ServingError, LookupError):
    """No such model, version or signature is being served (HTTP 404)."""


class ModelLoadError(ServingError, RuntimeError):
    """A version directory does not hold a model this process can load."""
