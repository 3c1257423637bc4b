"""The Kubernetes client library: imported on first use, connected, its errors named.

``kubernetes`` is an optional extra (``miniflow[kubernetes]``), so nothing imports it
at module level; an API error becomes :class:`KubernetesError` with the API server's
own message.
"""

from __future__ import annotations

import contextlib
import json
import os
from typing import Any

from miniflow_platform.config import Settings

__all__ = ["KubernetesError", "kube", "connect", "status_of", "message"]


class KubernetesError(OSError):
    """The API server refused a request; the message carries its status and reason."""


def kube() -> Any:
    """The ``kubernetes`` package, or a RuntimeError saying how to install it."""
    try:
        import kubernetes
    except ImportError as e:
        raise RuntimeError(
            "the Kubernetes executor needs the kubernetes client: "
            "pip install 'miniflow[kubernetes]'"
        ) from e
    return kubernetes


def connect(settings: Settings) -> Any:
    """An ApiClient: in-cluster config inside a pod, else the kubeconfig's context."""
    k = kube()
    try:
        if settings.kube_context is None and os.environ.get("KUBERNETES_SERVICE_HOST"):
            k.config.load_incluster_config()
            return k.client.ApiClient()
        return k.config.new_client_from_config(context=settings.kube_context)
    except (k.config.ConfigException, OSError, TypeError) as e:
        where = f"context {settings.kube_context!r}" if settings.kube_context else "kubeconfig"
        raise RuntimeError(f"cannot connect to Kubernetes ({where}): {e}") from e


def status_of(e: Exception) -> int | None:
    """The HTTP status of an ``ApiException`` (None for other errors)."""
    return getattr(e, "status", None)


def message(e: Exception) -> str:
    """The API server's message from a Status body, else the reason and raw body."""
    body = getattr(e, "body", None)
    with contextlib.suppress(ValueError, TypeError):
        return str(json.loads(body)["message"])
    return f"{getattr(e, 'reason', '')} {body or ''}".strip() or str(e)
