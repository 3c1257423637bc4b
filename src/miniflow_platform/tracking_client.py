"""Log params, metrics and tags from inside a platform job, from any framework.

    from miniflow_platform import tracking_client as tracking

    tracking.log_params({"lr": 0.1, "layers": 3})
    for step in range(100):
        tracking.log_metric("loss", loss, step=step)
    tracking.set_tag("dataset", "2024-06-01")

The platform sets ``$MINIFLOW_TRACKING_URI``, ``$MINIFLOW_TRACKING_TOKEN`` (a token
that may log to this job's own run only, and only while the job runs) and
``$MINIFLOW_RUN_ID`` in every job. Standard library only (urllib), so it works in any
Python environment that can import this one file. Errors raise ``TrackingError`` with
the server's message.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

TIMEOUT_S = 30.0
BATCH = 1000  # the server's most entries per request


class TrackingError(RuntimeError):
    """Not inside a platform job, or the server refused what was logged."""


class Run:
    """A run of the platform: ``Run()`` is the job's own (from the environment)."""

    def __init__(self, uri: str | None = None, token: str | None = None, run_id: int | None = None):
        env = os.environ
        self.uri = (uri or env.get("MINIFLOW_TRACKING_URI") or "").rstrip("/")
        self.token = token or env.get("MINIFLOW_TRACKING_TOKEN") or ""
        raw = run_id if run_id is not None else env.get("MINIFLOW_RUN_ID")
        if not self.uri or not self.token or raw in (None, ""):
            raise TrackingError(
                "no tracking run: this is not a platform job (MINIFLOW_TRACKING_URI, "
                "MINIFLOW_TRACKING_TOKEN and MINIFLOW_RUN_ID are set in jobs); outside a job "
                "pass uri, token and run_id"
            )
        if not self.uri.startswith(("http://", "https://")):
            raise TrackingError(f"MINIFLOW_TRACKING_URI must be an http(s) URL, got {self.uri!r}")
        try:
            self.run_id = int(raw)  # type: ignore[arg-type]
        except ValueError as e:
            raise TrackingError(f"MINIFLOW_RUN_ID is not a number: {raw!r}") from e

    def _request(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.uri + path, data=data, method=method)
        req.add_header("Authorization", f"Bearer {self.token}")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=TIMEOUT_S) as r:  # noqa: S310  http(s) only
                raw = r.read()
        except urllib.error.HTTPError as e:
            try:
                message = json.loads(e.read())["error"]["message"]
            except (ValueError, KeyError, TypeError):
                message = e.reason
            raise TrackingError(f"HTTP {e.code}: {message}") from None
        except (urllib.error.URLError, OSError) as e:
            raise TrackingError(f"cannot reach the platform at {self.uri}: {e}") from e
        return json.loads(raw) if raw else None

    def log_batch(
        self,
        metrics: list[dict[str, Any]] | None = None,
        params: Mapping[str, Any] | None = None,
        tags: Mapping[str, Any] | None = None,
    ) -> None:
        """Metrics (``{"key", "value", "step"[, "timestamp"]}``), params and tags at once;
        sent in requests of at most ``BATCH`` entries of each kind."""
        metrics = list(metrics or [])
        params = {k: str(v) for k, v in (params or {}).items()}
        tags = {k: str(v) for k, v in (tags or {}).items()}
        while True:
            chunk_m, metrics = metrics[:BATCH], metrics[BATCH:]
            keys_p, keys_t = list(params)[:BATCH], list(tags)[:BATCH]
            body = {
                "metrics": chunk_m,
                "params": {k: params.pop(k) for k in keys_p},
                "tags": {k: tags.pop(k) for k in keys_t},
            }
            self._request("POST", f"/v1/runs/{self.run_id}/log", body)
            if not (metrics or params or tags):
                return

    def log_metric(self, key: str, value: float, step: int = 0) -> None:
        self.log_metrics({key: value}, step)

    def log_metrics(self, values: Mapping[str, float], step: int = 0) -> None:
        now = time.time()
        self.log_batch(
            [
                {"key": k, "value": float(v), "step": step, "timestamp": now}
                for k, v in values.items()
            ]
        )

    def log_param(self, key: str, value: Any) -> None:
        self.log_batch(params={key: value})

    def log_params(self, values: Mapping[str, Any]) -> None:
        self.log_batch(params=values)

    def set_tag(self, key: str, value: Any) -> None:
        self.log_batch(tags={key: value})

    def set_tags(self, values: Mapping[str, Any]) -> None:
        self.log_batch(tags=values)

    def info(self) -> dict[str, Any]:
        """The run as the server has it (params, tags, latest metrics)."""
        return self._request("GET", f"/v1/runs/{self.run_id}")  # type: ignore[no-any-return]


_current: Run | None = None


def active_run() -> Run:
    """The job's own run (made from the environment on first use)."""
    global _current
    if _current is None:
        _current = Run()
    return _current


def log_metric(key: str, value: float, step: int = 0) -> None:
    active_run().log_metric(key, value, step)


def log_metrics(values: Mapping[str, float], step: int = 0) -> None:
    active_run().log_metrics(values, step)


def log_param(key: str, value: Any) -> None:
    active_run().log_param(key, value)


def log_params(values: Mapping[str, Any]) -> None:
    active_run().log_params(values)


def set_tag(key: str, value: Any) -> None:
    active_run().set_tag(key, value)


def set_tags(values: Mapping[str, Any]) -> None:
    active_run().set_tags(values)
