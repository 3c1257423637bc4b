"""Backends by name: ``local`` (threads), ``process`` (loopback TCP), ``ray`` (actors)."""

from __future__ import annotations

import importlib

from miniflow.ps.backends.base import Backend, JobSpec

__all__ = ["BACKENDS", "make_backend", "Backend", "JobSpec"]

BACKENDS = {
    "local": "miniflow.ps.backends.local:LocalBackend",
    "process": "miniflow.ps.backends.process:ProcessBackend",
    "ray": "miniflow.ps.backends.ray:RayBackend",
}


def make_backend(name: str, spec: JobSpec) -> Backend:
    """The backend called ``name`` for ``spec`` (imported on use: Ray is optional)."""
    try:
        module, _, cls = BACKENDS[name].partition(":")
    except KeyError:
        raise ValueError(f"unknown backend {name!r}; expected one of {sorted(BACKENDS)}") from None
    return getattr(importlib.import_module(module), cls)(spec)
