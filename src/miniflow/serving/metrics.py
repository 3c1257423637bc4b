"""Prometheus text-format metrics (counters, gauges, histograms with labels).

Small and dependency-free: the server needs a handful of series, and each update is
one dict operation under a lock.
"""

from __future__ import annotations

import bisect
import threading

__all__ = ["Metrics", "LATENCY_BUCKETS", "BATCH_BUCKETS"]

LATENCY_BUCKETS = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)


def _labels(names: tuple[str, ...], values: tuple) -> str:
    if not names:
        return ""
    inner = ",".join(f'{n}="{_escape(str(v))}"' for n, v in zip(names, values, strict=True))
    return "{" + inner + "}"


def _escape(s: str) -> str:
    return s.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _num(x: float) -> str:
    return repr(float(x)) if x != int(x) else str(int(x))


# our api label -> TF Serving's API label; HTTP status -> TF's status code name
_TF_API = {
    "predict": "Predict",
    "classify": "Classify",
    "regress": "Regress",
    "metadata": "GetModelMetadata",
    "status": "GetModelStatus",
}
_TF_STATUS = {
    200: "OK",
    400: "INVALID_ARGUMENT",
    404: "NOT_FOUND",
    405: "UNIMPLEMENTED",
    413: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


class _Metric:
    def __init__(self, name: str, help_: str, kind: str, labels: tuple[str, ...]):
        self.name, self.help, self.kind, self.labels = name, help_, kind, labels
        self.values: dict[tuple, object] = {}

    def header(self) -> list[str]:
        return [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} {self.kind}"]


class _Histogram(_Metric):
    def __init__(self, name, help_, labels, buckets):
        super().__init__(name, help_, "histogram", labels)
        self.buckets = tuple(buckets)

    def observe(self, key: tuple, value: float) -> None:
        counts = self.values.get(key)
        if counts is None:
            # per-bucket counts (cumulated when rendered), then sum and count
            counts = self.values[key] = [0] * (len(self.buckets) + 1) + [0.0, 0]
        counts[bisect.bisect_left(self.buckets, value)] += 1
        counts[-2] += value
        counts[-1] += 1

    def render(self) -> list[str]:
        lines = self.header()
        names = self.labels + ("le",)
        for key, counts in sorted(self.values.items()):
            cum = 0
            for bound, c in zip(self.buckets + (float("inf"),), counts[:-2], strict=True):
                cum += c
                le = "+Inf" if bound == float("inf") else _num(bound)
                lines.append(f"{self.name}_bucket{_labels(names, key + (le,))} {cum}")
            lines.append(f"{self.name}_sum{_labels(self.labels, key)} {counts[-2]!r}")
            lines.append(f"{self.name}_count{_labels(self.labels, key)} {counts[-1]}")
        return lines


class Metrics:
    """The server's metric registry. Every method is thread-safe."""

    def __init__(self, prefix: str = "miniflow_serving"):
        self._lock = threading.Lock()
        p = prefix
        self._requests = _Metric(
            f"{p}_requests_total",
            "HTTP requests by model, API and status code.",
            "counter",
            ("model", "api", "code"),
        )
        self._errors = _Metric(
            f"{p}_request_errors_total",
            "Requests answered with an error status (4xx/5xx).",
            "counter",
            ("model", "api", "code"),
        )
        self._latency = _Histogram(
            f"{p}_request_latency_seconds",
            "Time from request received to response written.",
            ("model", "api"),
            LATENCY_BUCKETS,
        )
        self._batch = _Histogram(
            f"{p}_batch_size",
            "Rows per model call (after micro-batching).",
            ("model",),
            BATCH_BUCKETS,
        )
        self._version = _Metric(
            f"{p}_model_version", "Newest version being served (0 = none).", "gauge", ("model",)
        )
        self._load_failures = _Metric(
            f"{p}_model_load_failures_total",
            "Version directories that failed to load.",
            "counter",
            ("model",),
        )
        self._connections = _Metric(f"{p}_connections", "Open client connections.", "gauge", ())
        self._conn_events = _Metric(
            f"{p}_connections_closed_total",
            "Connections the server closed: rejected over --max-connections, or timed out.",
            "counter",
            ("reason",),
        )
        # TF Serving's own series, so its dashboards and alerts work unchanged
        self._tf_count = _Metric(
            ":tensorflow:serving:request_count",
            "The total number of requests.",
            "counter",
            ("model_name", "status"),
        )
        self._tf_latency = _Histogram(
            ":tensorflow:serving:request_latency",
            "Distribution of wall time (in microseconds) for Tensorflow Serving request.",
            ("model_name", "API", "entrypoint"),
            tuple(b * 1e6 for b in LATENCY_BUCKETS),
        )
        self._tf_load = _Metric(
            ":tensorflow:core:load_attempt_count",
            "The number of times a servable load was attempted, by status.",
            "counter",
            ("model_path", "status"),
        )
        self._all = (
            self._requests,
            self._errors,
            self._latency,
            self._batch,
            self._version,
            self._load_failures,
            self._connections,
            self._conn_events,
            self._tf_count,
            self._tf_latency,
            self._tf_load,
        )

    def observe_request(self, model: str, api: str, code: int, seconds: float) -> None:
        with self._lock:
            key = (model, api, str(code))
            self._requests.values[key] = self._requests.values.get(key, 0) + 1
            if code >= 400:
                self._errors.values[key] = self._errors.values.get(key, 0) + 1
            self._latency.observe((model, api), seconds)
            tf_api = _TF_API.get(api)
            if model and tf_api is not None:
                status = (model, _TF_STATUS.get(code, "UNKNOWN"))
                self._tf_count.values[status] = self._tf_count.values.get(status, 0) + 1
                self._tf_latency.observe((model, tf_api, "REST"), seconds * 1e6)

    def load_attempt(self, model_path: str, ok: bool) -> None:
        """TF Serving's ``:tensorflow:core:load_attempt_count``."""
        key = (model_path, "OK" if ok else "UNKNOWN")
        with self._lock:
            self._tf_load.values[key] = self._tf_load.values.get(key, 0) + 1

    def observe_batch(self, model: str, rows: int) -> None:
        with self._lock:
            self._batch.observe((model,), rows)

    def set_version(self, model: str, version: int) -> None:
        with self._lock:
            self._version.values[(model,)] = version

    def load_failed(self, model: str) -> None:
        with self._lock:
            self._load_failures.values[(model,)] = self._load_failures.values.get((model,), 0) + 1

    def set_connections(self, n: int) -> None:
        with self._lock:
            self._connections.values[()] = n

    def connection_event(self, reason: str) -> None:
        """Counts a connection closed by the server ("rejected" or "timeout")."""
        with self._lock:
            self._conn_events.values[(reason,)] = self._conn_events.values.get((reason,), 0) + 1

    def render(self) -> str:
        """The Prometheus text exposition format (version 0.0.4)."""
        lines: list[str] = []
        with self._lock:
            for m in self._all:
                if isinstance(m, _Histogram):
                    lines += m.render()
                    continue
                lines += m.header()
                lines += [
                    f"{m.name}{_labels(m.labels, k)} {v}" for k, v in sorted(m.values.items())
                ]
        return "\n".join(lines) + "\n"
