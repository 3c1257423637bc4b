"""KubernetesExecutor: every run is a Kubernetes workload in its tenant's namespace.

* ``jobs/...`` (training, batch prediction): a ``batch/v1`` Job; its deadline is
  ``activeDeadlineSeconds``, retries ``backoffLimit``, cancel deletes it with
  ``propagationPolicy=Foreground`` (the pods first);
* ``services/...`` (a model service generation): a Deployment and a Service;
* ``notebooks/...``: a Pod and a Service.

The run's environment goes into a Secret (``envFrom``), never into the pod spec.
Manifests are built by ``kube_manifests``; the state is read from the Job/Pod status
by ``kube_status`` (a run whose objects are gone is LOST). ``status`` reads watch-fed caches (``kube_watch``),
or the API where a cache cannot serve (``watch=False``, a failing watch, an object it
has not seen). Objects are found by the label ``miniflow.io/run-id``,
so a restarted server adopts what still runs. When a run ends, ``release`` copies its
pod log into storage (``<run id>/output.log``) and deletes its objects, so logs outlive
the pods as they do on one machine.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from miniflow_platform.config import Settings
from miniflow_platform.executors import kube_manifests as km, kube_status
from miniflow_platform.executors.base import (
    LOG_CHUNK,
    Endpoint,
    Executor,
    RunSpec,
    RunState,
    RunStatus,
    check_run_id,
)
from miniflow_platform.executors.kube_api import (
    KubernetesError,
    connect,
    kube as _kube,
    message as _message,
    status_of as _status_of,
)
from miniflow_platform.executors.kube_watch import WatchCaches
from miniflow_platform.storage import Storage, open_storage

ISOLATION = "kubernetes"
FINAL_STATUS = "final-status.json"  # storage key under the run id, written by release
DELETE_WAIT_S = 60.0
LOG_CACHE_S = 1.0
FOLLOW_RECONNECT_S = 0.5


class KubernetesExecutor(Executor):
    listen_host = "0.0.0.0"  # noqa: S104  in its own pod; the Service and NetworkPolicy front it
    # Tenants are apart: own namespace, own non-root uid, restricted pods, NetworkPolicy.
    mode = "isolated"

    def __init__(self, settings: Settings, api_client: Any = None, watch: bool = True):
        """``watch=False``: read every status from the API (polling), no watch threads."""
        k = _kube()
        self.settings = settings
        self.cluster = km.Cluster(
            namespace_prefix=settings.kube_namespace_prefix,
            image=settings.kube_image,
            images=dict(settings.kube_images),
            data_dir=settings.data_dir,
            data_pvc=settings.kube_data_pvc,
            platform_namespace=settings.kube_platform_namespace,
            uid_base=settings.tenant_uid_base,
            default_memory_mb=settings.default_job_memory_mb,
            quota_cpu=settings.quota_cpu,
            quota_memory_mb=settings.quota_memory_mb,
            quota_gpu=settings.quota_gpu,
        )
        self.api = api_client if api_client is not None else connect(settings)
        self.core = k.client.CoreV1Api(self.api)
        self.batch = k.client.BatchV1Api(self.api)
        self.apps = k.client.AppsV1Api(self.api)
        self.net = k.client.NetworkingV1Api(self.api)
        self.models = k.client
        self._storage = open_storage(
            settings.storage_url, settings.data_dir, settings.s3_endpoint_url
        )
        self._lock = threading.Lock()
        self._tenants: set[str] = set()
        self._where: dict[str, str] = {}  # run id -> namespace
        self._cancelled: set[str] = set()
        self._log_cache: dict[str, tuple[float, bytes]] = {}
        self._uids: dict[str, str | None] = {}  # run id -> uid of what this server made
        # (plural, namespace) -> watch cache; None: poll the API (the one switch)
        self.caches = WatchCaches.of(self, self._api_exception()) if watch else None

    @property
    def storage(self) -> Storage:
        return self._storage

    @property
    def isolation(self) -> str:
        return ISOLATION

    def close(self) -> None:
        """Stop the watch threads; the runs keep going."""
        if self.caches is not None:
            self.caches.close()

    # ---- helpers -----------------------------------------------------------------------

    def _read(self, plural: str, run_id: str, ns: str) -> Any:
        """The run's object from the watch cache; from the API if the cache has not got
        it (created a moment ago, or gone), has another incarnation than this server
        made or deleted last, or cannot serve. None when it does not exist."""
        name = km.object_name(run_id)
        obj = self.caches.get(plural, ns, name) if self.caches is not None else None
        with self._lock:
            uid = self._uids.get(run_id, obj.metadata.uid if obj is not None else None)
        if obj is not None and obj.metadata.uid == uid:
            return obj
        return self._missing(self._reader(plural), name, ns)

    def _reader(self, plural: str) -> Callable[..., Any]:
        return {
            "jobs": self.batch.read_namespaced_job,
            "deployments": self.apps.read_namespaced_deployment,
            "pods": self.core.read_namespaced_pod,
        }[plural]

    def _forget_run(self, run_label: str, ns: str) -> None:
        if self.caches is not None:
            self.caches.forget_run(run_label, ns)

    def _call(self, what: str, fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
        """Run one API call; an API error becomes KubernetesError naming ``what``."""
        try:
            return fn(*args, **kw)
        except self._api_exception() as e:
            raise KubernetesError(
                f"Kubernetes refused to {what}: {_status_of(e)} {_message(e)}"
            ) from e

    def _api_exception(self) -> type[Exception]:
        return _kube().client.exceptions.ApiException  # type: ignore[no-any-return]

    def _missing(self, fn: Callable[..., Any], *args: Any, **kw: Any) -> Any:
        """The call's result, or None on 404 (the object is gone)."""
        try:
            return fn(*args, **kw)
        except self._api_exception() as e:
            if _status_of(e) == 404:
                return None
            raise KubernetesError(f"Kubernetes API error: {_status_of(e)} {_message(e)}") from e

    @staticmethod
    def workload(run_id: str) -> str:
        kind = check_run_id(run_id).split("/", 1)[0]
        return {"services": "deployment", "notebooks": "pod"}.get(kind, "job")

    def _selector(self, run_id: str) -> str:
        return f"{km.RUN_LABEL}={km.run_label(run_id)}"

    def _create(self, what: str, create: Callable[..., Any], replace: Any, ns: str, body: Any):
        """Create; on 409 replace it (``replace`` None: keep the existing object)."""
        try:
            return create(ns, body)
        except self._api_exception() as e:
            if _status_of(e) != 409:
                raise KubernetesError(
                    f"Kubernetes refused to create {what}: {_status_of(e)} {_message(e)}"
                ) from e
            if replace is not None:
                return self._call(f"replace {what}", replace, body.metadata.name, ns, body)
            return None

    def ensure_tenant(self, tenant: int | None) -> str:
        """The tenant's namespace with its quota, limits and network policy (once per server)."""
        ns = km.namespace(self.cluster, tenant)
        with self._lock:
            if ns in self._tenants:
                return ns
        m = self.models
        for obj in km.tenant_objects(self.cluster, tenant):
            kind = obj["kind"]
            if kind == "Namespace":
                try:
                    self.core.create_namespace(m.V1Namespace.from_dict(obj))
                except self._api_exception() as e:
                    if _status_of(e) != 409:
                        raise KubernetesError(
                            f"Kubernetes refused to create namespace {ns}: {_message(e)}"
                        ) from e
            elif kind == "ResourceQuota":
                self._create(
                    "a ResourceQuota",
                    self.core.create_namespaced_resource_quota,
                    self.core.replace_namespaced_resource_quota,
                    ns,
                    m.V1ResourceQuota.from_dict(obj),
                )
            elif kind == "LimitRange":
                self._create(
                    "a LimitRange",
                    self.core.create_namespaced_limit_range,
                    self.core.replace_namespaced_limit_range,
                    ns,
                    m.V1LimitRange.from_dict(obj),
                )
            else:
                self._create(
                    "a NetworkPolicy",
                    self.net.create_namespaced_network_policy,
                    self.net.replace_namespaced_network_policy,
                    ns,
                    m.V1NetworkPolicy.from_dict(obj),
                )
        with self._lock:
            self._tenants.add(ns)
        return ns

    def _namespace(self, run_id: str) -> str | None:
        """Where the run's objects are: remembered, else found by its label (adoption)."""
        with self._lock:
            if run_id in self._where:
                return self._where[run_id]
        sel = self._selector(run_id)
        for lister in (
            self.batch.list_job_for_all_namespaces,
            self.apps.list_deployment_for_all_namespaces,
            self.core.list_pod_for_all_namespaces,
        ):
            items = self._call("list runs", lister, label_selector=sel).items
            if items:
                ns = items[0].metadata.namespace
                with self._lock:
                    self._where[run_id] = ns
                return str(ns)
        return None

    def _wait_gone(self, read: Callable[..., Any], name: str, ns: str) -> None:
        deadline = time.monotonic() + DELETE_WAIT_S
        while self._missing(read, name, ns) is not None:
            if time.monotonic() > deadline:
                raise KubernetesError(f"{name} in {ns} was not deleted in {DELETE_WAIT_S:g} s")
            time.sleep(0.1)

    # ---- the contract ------------------------------------------------------------------

    def start(self, run_id: str, spec: RunSpec) -> str:
        km.object_name(run_id)  # a valid name, before anything is created
        if self.cluster.data_pvc is not None:
            _open_to_pod(self.settings.data_dir / run_id)
        ns = self.ensure_tenant(spec.tenant)
        m = self.models
        with self._lock:
            self._where[run_id] = ns
            self._cancelled.discard(run_id)
            self._log_cache.pop(run_id, None)
        self.storage.delete(f"{run_id}/{FINAL_STATUS}")  # an earlier attempt's
        self._create(
            "the run's Secret",
            self.core.create_namespaced_secret,
            self.core.replace_namespaced_secret,
            ns,
            m.V1Secret.from_dict(km.env_secret(run_id, spec, self.cluster)),
        )
        kind = self.workload(run_id)
        if kind == "job":
            body = m.V1Job.from_dict(km.job(run_id, spec, self.cluster))
            made = self._create_fresh(
                "Job", self.batch.create_namespaced_job, self._delete_job, ns, body
            )
        elif kind == "deployment":
            body = m.V1Deployment.from_dict(km.deployment(run_id, spec, self.cluster))
            made = self._create(
                "a Deployment",
                self.apps.create_namespaced_deployment,
                self.apps.replace_namespaced_deployment,  # a rolling update
                ns,
                body,
            )
        else:
            body = m.V1Pod.from_dict(km.pod(run_id, spec, self.cluster))
            made = self._create_fresh(
                "Pod", self.core.create_namespaced_pod, self._delete_pod, ns, body
            )
        with self._lock:  # a cached object of another uid is an earlier attempt's
            self._uids[run_id] = made.metadata.uid
        if kind != "job":
            self._create(
                "a Service",
                self.core.create_namespaced_service,
                None,
                ns,
                m.V1Service.from_dict(km.service(run_id, spec, self.cluster)),
            )
        return ISOLATION

    def _create_fresh(
        self, what: str, create: Callable[..., Any], delete: Callable[[str, str], None], ns, body
    ) -> Any:
        """Create; an object left by an earlier attempt of the run (409) is deleted first."""
        try:
            return create(ns, body)
        except self._api_exception() as e:
            if _status_of(e) != 409:
                raise KubernetesError(
                    f"Kubernetes refused to create the {what}: {_status_of(e)} {_message(e)}"
                ) from e
        delete(body.metadata.name, ns)
        self._forget_run(body.metadata.labels[km.RUN_LABEL], ns)
        return self._call(f"create the {what}", create, ns, body)

    def _delete_job(self, name: str, ns: str) -> None:
        self._missing(self.batch.delete_namespaced_job, name, ns, propagation_policy="Foreground")
        self._wait_gone(self.batch.read_namespaced_job, name, ns)

    def _delete_pod(self, name: str, ns: str) -> None:
        self._missing(self.core.delete_namespaced_pod, name, ns, grace_period_seconds=5)
        self._wait_gone(self.core.read_namespaced_pod, name, ns)

    def _pods(self, run_id: str, ns: str, cached: bool = False) -> list[Any]:
        """The run's pods, oldest first; ``cached``: from the watch cache if it can serve."""
        if cached and self.caches is not None:
            pods = self.caches.of_run("pods", ns, km.run_label(run_id))
            if pods is not None:
                return sorted(pods, key=_age)
        pods = self._call(
            "list the run's pods",
            self.core.list_namespaced_pod,
            ns,
            label_selector=self._selector(run_id),
        ).items
        return sorted(pods, key=_age)

    def status(self, run_id: str) -> RunStatus:
        ns = self._namespace(run_id)
        status = self._status_in(run_id, ns) if ns is not None else None
        if status is not None:
            return status
        if run_id in self._cancelled:
            return RunStatus(RunState.EXITED, -15, "cancelled; its objects were deleted")
        with contextlib.suppress(FileNotFoundError, ValueError, KeyError):
            rec = json.loads(self.storage.get(f"{run_id}/{FINAL_STATUS}"))
            return RunStatus(RunState(rec["state"]), rec["exit_code"], rec["reason"])
        return RunStatus(
            RunState.LOST,
            reason="the run's Kubernetes objects are gone (deleted outside the platform)",
        )

    def _status_in(self, run_id: str, ns: str) -> RunStatus | None:
        kind = self.workload(run_id)
        if kind == "job":
            job = self._read("jobs", run_id, ns)
            if job is None:
                return None
            return kube_status.job_status(job, lambda cached: self._pods(run_id, ns, cached))
        if kind == "deployment":
            if self._read("deployments", run_id, ns) is None:
                return None
            return kube_status.pods_status(self._pods(run_id, ns, cached=True))
        pod = self._read("pods", run_id, ns)
        if pod is None:
            return None
        return kube_status.pod_status(pod)

    def cancel(self, run_id: str) -> None:
        ns = self._namespace(run_id)
        with self._lock:
            self._cancelled.add(run_id)
        if ns is None:
            return
        name = km.object_name(run_id)
        kind = self.workload(run_id)
        if kind == "job":
            self._delete_job(name, ns)
        elif kind == "deployment":
            self._missing(
                self.apps.delete_namespaced_deployment, name, ns, propagation_policy="Foreground"
            )
            self._wait_gone(self.apps.read_namespaced_deployment, name, ns)
        else:
            self._delete_pod(name, ns)
        self._missing(self.core.delete_namespaced_service, name, ns)
        self._missing(self.core.delete_namespaced_secret, name + "-env", ns)
        self._forget_run(km.run_label(run_id), ns)
        with self._lock:
            self._uids[run_id] = None  # deleted: whatever a cache still has is stale

    def release(self, run_id: str) -> None:
        """The run ended: keep its log in storage, then delete its objects."""
        ns = self._namespace(run_id)
        if ns is None:
            return
        log = self._pod_log(run_id, ns)
        if log:  # after the logs of earlier attempts, as one file would hold them
            self.storage.put(self._log_key(run_id), self._stored_log(run_id) + log)
        final = self._status_in(run_id, ns)
        if final is not None and final.state != RunState.RUNNING:  # what status says later
            rec = {"state": final.state.value, "exit_code": final.exit_code, "reason": final.reason}
            self.storage.put(f"{run_id}/{FINAL_STATUS}", json.dumps(rec).encode())
        artifacts = self.settings.data_dir / run_id / "artifacts"
        if self.settings.storage_url and artifacts.is_dir():  # an object store: upload
            self.storage.upload_dir(artifacts, self.artifacts_prefix(run_id))
        self.cancel(run_id)
        with self._lock:
            self._where.pop(run_id, None)
            if final is not None and final.state != RunState.RUNNING:
                self._cancelled.discard(run_id)

    def remove(self, run_id: str) -> None:
        self.cancel(run_id)
        self.storage.delete_prefix(check_run_id(run_id) + "/")

    def _log_key(self, run_id: str) -> str:
        return f"{check_run_id(run_id)}/output.log"

    def _stored_log(self, run_id: str) -> bytes:
        """What ended attempts of the run (and platform notes) left in storage."""
        try:
            return self.storage.get(self._log_key(run_id))
        except FileNotFoundError:
            return b""

    def append_log(self, run_id: str, text: str) -> None:
        self.storage.put(self._log_key(run_id), self._stored_log(run_id) + text.encode())
        with self._lock:
            self._log_cache.pop(run_id, None)

    def _pod_log(self, run_id: str, ns: str) -> bytes:
        pods = self._pods(run_id, ns)
        if not pods:
            return b""
        name = pods[-1].metadata.name
        try:
            resp = self.core.read_namespaced_pod_log(
                name, ns, container=km.CONTAINER, _preload_content=False
            )
            return bytes(resp.data)
        except self._api_exception() as e:
            if _status_of(e) in (400, 404):  # not started yet, or gone
                return b""
            raise KubernetesError(f"cannot read the log of {name}: {_message(e)}") from e

    def _full_log(self, run_id: str) -> bytes:
        with self._lock:
            cached = self._log_cache.get(run_id)
        if cached is not None and time.monotonic() - cached[0] < LOG_CACHE_S:
            return cached[1]
        ns = self._namespace(run_id)
        data = self._stored_log(run_id) + (self._pod_log(run_id, ns) if ns is not None else b"")
        with self._lock:
            self._log_cache[run_id] = (time.monotonic(), data)
        return data

    def read_log(self, run_id: str, offset: int = 0, limit: int = LOG_CHUNK) -> bytes:
        data = self._full_log(run_id)
        if offset + limit > len(data):  # maybe more by now
            with self._lock:
                self._log_cache.pop(run_id, None)
            data = self._full_log(run_id)
        return data[offset : offset + limit]

    def log_tail(self, run_id: str, limit: int = 2**20) -> str:
        with self._lock:
            self._log_cache.pop(run_id, None)
        return self._full_log(run_id)[-limit:].decode(errors="replace")

    def logs(self, run_id: str, offset: int = 0, follow: bool = False) -> Iterator[bytes]:
        """With ``follow``, the pod's log stream (``follow=true``); a dropped stream is
        opened again and the bytes already sent are skipped."""
        if not follow:
            yield from super().logs(run_id, offset, follow=False)
            return
        prefix = self._stored_log(run_id)  # earlier attempts: before the pod's own output
        stored = len(prefix)
        pos = offset
        if pos < stored:
            yield prefix[pos:]
            pos = stored
        while True:
            ended = self.status(run_id).state != RunState.RUNNING
            if ended:  # whatever is left, from the pod or the stored log
                with self._lock:
                    self._log_cache.pop(run_id, None)
                while data := self.read_log(run_id, pos):
                    pos += len(data)
                    yield data
                return
            for data in self._follow_once(run_id, pos - stored):
                pos += len(data)
                yield data
            time.sleep(FOLLOW_RECONNECT_S)

    def _follow_once(self, run_id: str, pos: int) -> Iterator[bytes]:
        """One follow stream of the newest pod, from byte ``pos``; ends when it drops."""
        ns = self._namespace(run_id)
        pods = self._pods(run_id, ns) if ns is not None else []
        if not pods:
            return
        seen = 0
        try:
            resp = self.core.read_namespaced_pod_log(
                pods[-1].metadata.name,
                ns,
                container=km.CONTAINER,
                follow=True,
                _preload_content=False,
            )
            try:
                for chunk in resp.stream(LOG_CHUNK, decode_content=False):
                    start = max(0, pos - seen)
                    seen += len(chunk)
                    if start < len(chunk):
                        yield chunk[start:]
            finally:
                resp.release_conn()
        except self._api_exception():
            return  # not started yet, or gone: the caller looks at the state again
        except Exception as e:  # urllib3 ProtocolError etc.: the stream dropped
            if "urllib3" not in type(e).__module__ and not isinstance(e, OSError):
                raise

    def endpoint(self, run_id: str, port: int) -> Endpoint:
        ns = self._namespace(run_id) or km.namespace(self.cluster, None)
        host = self.settings.kube_service_host.format(name=km.object_name(run_id), namespace=ns)
        return Endpoint(host, port)

    def list_runs(self) -> dict[str, str]:
        """Every run this platform has in the cluster: run id -> namespace."""
        found: dict[str, str] = {}
        sel = f"app.kubernetes.io/managed-by={km.MANAGED_BY['app.kubernetes.io/managed-by']}"
        for lister in (
            self.batch.list_job_for_all_namespaces,
            self.apps.list_deployment_for_all_namespaces,
            self.core.list_pod_for_all_namespaces,
        ):
            for item in self._call("list runs", lister, label_selector=sel).items:
                label = (item.metadata.labels or {}).get(km.RUN_LABEL)
                ns = item.metadata.namespace
                if label and ns.startswith(self.cluster.namespace_prefix):
                    found.setdefault(label.replace(".", "/", 1), ns)
        return found


def _age(obj: Any) -> tuple[Any, str]:
    return (obj.metadata.creation_timestamp or 0, obj.metadata.name)


def _open_to_pod(run_dir: Any) -> None:
    """Let the pod's uid (the tenant's, not the platform's) write its run directory.

    The pod mounts only this directory of the data volume (``subPath``), so opening it
    exposes it to no other tenant; the platform's own files stay 0700 above it.
    """
    if not run_dir.is_dir():
        return
    for root, dirs, _files in os.walk(run_dir):
        for d in [root, *(os.path.join(root, x) for x in dirs)]:
            with contextlib.suppress(OSError):
                os.chmod(d, 0o777)  # noqa: S103  see the docstring
