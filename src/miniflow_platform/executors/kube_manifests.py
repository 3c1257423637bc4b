"""The Kubernetes objects of one run and of one tenant, as plain manifests (dicts).

Pure functions, no client calls: the executor sends what they build, the tests
validate every one against the Kubernetes OpenAPI schema and compare it with a
snapshot. Names and labels:

* object name ``mf-<kind>-<name>`` from run id ``<kind>/<name>`` (``mf-jobs-job-3``);
* label ``miniflow.io/run-id: jobs.job-3`` (a label value cannot hold ``/``), which is
  how a restarted server finds its runs again; ``miniflow.io/tenant`` the owner.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from miniflow_platform.executors.base import RunSpec, check_run_id

MANAGED_BY = {"app.kubernetes.io/managed-by": "miniflow-platform"}
RUN_LABEL = "miniflow.io/run-id"
TENANT_LABEL = "miniflow.io/tenant"
CONTAINER = "run"
GPU_RESOURCE = "nvidia.com/gpu"
# Variables that name places on the platform's own machine; the image has its own.
HOST_ONLY_ENV = frozenset({"PATH", "VIRTUAL_ENV", "TMPDIR", "CUDA_VISIBLE_DEVICES"})


@dataclass(frozen=True)
class Cluster:
    """What the manifests need to know about the cluster and the platform."""

    namespace_prefix: str = "miniflow-"
    image: str = "miniflow:latest"
    images: dict[str, str] = field(default_factory=dict)  # environment -> image
    data_dir: Path = Path("/data")
    data_pvc: str | None = None  # mounted at data_dir in every pod (the run's part only)
    platform_namespace: str = "miniflow"
    uid_base: int = 200_000
    default_memory_mb: int = 1024
    quota_cpu: float | None = None
    quota_memory_mb: int | None = None
    quota_gpu: int | None = None
    quota_pods: int | None = None

    def image_for(self, environment: str) -> str:
        return self.images.get(environment, self.image)


def object_name(run_id: str) -> str:
    """``jobs/job-3`` -> ``mf-jobs-job-3`` (a DNS-1123 label, at most 63 characters)."""
    name = "mf-" + check_run_id(run_id).replace("/", "-")
    if len(name) > 63 or run_id.startswith("/"):
        raise ValueError(f"run id {run_id!r} gives no valid Kubernetes name")
    return name


def run_label(run_id: str) -> str:
    return check_run_id(run_id).replace("/", ".")


def namespace(cluster: Cluster, tenant: int | None) -> str:
    return f"{cluster.namespace_prefix}{'shared' if tenant is None else f't{tenant}'}"


def labels(run_id: str, tenant: int | None) -> dict[str, str]:
    out = {**MANAGED_BY, RUN_LABEL: run_label(run_id)}
    if tenant is not None:
        out[TENANT_LABEL] = str(tenant)
    return out


def _meta(run_id: str, spec: RunSpec, cluster: Cluster, suffix: str = "") -> dict[str, Any]:
    return {
        "name": object_name(run_id) + suffix,
        "namespace": namespace(cluster, spec.tenant),
        "labels": labels(run_id, spec.tenant),
    }


def env_secret(run_id: str, spec: RunSpec, cluster: Cluster) -> dict[str, Any]:
    """The run's environment as a Secret: the pod spec names it, never holds a value."""
    data = {k: v for k, v in spec.env.items() if k not in HOST_ONLY_ENV}
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": _meta(run_id, spec, cluster, "-env"),
        "type": "Opaque",
        "stringData": data,
    }


def _quantity_cpu(cpu: float) -> str:
    return f"{max(1, round(cpu * 1000))}m"


def resources(spec: RunSpec, cluster: Cluster) -> dict[str, Any]:
    res = spec.resources
    memory = f"{res.memory_mb or cluster.default_memory_mb}Mi"
    requests: dict[str, str] = {"memory": memory}
    limits: dict[str, str] = {"memory": memory}  # request = limit: the OOM killer's line
    if res.cpu:
        requests["cpu"] = limits["cpu"] = _quantity_cpu(res.cpu)
    if res.gpu_count:
        # Extended resources: the request must equal the limit.
        requests[GPU_RESOURCE] = limits[GPU_RESOURCE] = str(res.gpu_count)
    return {"requests": requests, "limits": limits}


def pod_security(spec: RunSpec, cluster: Cluster) -> dict[str, Any]:
    """The restricted Pod Security Standard, with the tenant's own uid."""
    uid = cluster.uid_base + (spec.tenant or 0)
    return {
        "runAsNonRoot": True,
        "runAsUser": uid,
        "runAsGroup": uid,
        "fsGroup": uid,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


CONTAINER_SECURITY = {
    "allowPrivilegeEscalation": False,
    "privileged": False,
    "runAsNonRoot": True,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}


def _mounts(run_id: str, spec: RunSpec, cluster: Cluster) -> list[dict[str, Any]]:
    """The run's own directory read-write, other data-dir paths it names read-only."""
    if cluster.data_pvc is None or run_id.startswith("/"):
        return []
    data = cluster.data_dir
    mounts = [{"name": "data", "mountPath": str(data / run_id), "subPath": run_id}]
    seen = {run_id}
    for arg in [*spec.command, str(spec.cwd)]:
        path = Path(arg)
        if not path.is_absolute() or data not in path.parents:
            continue
        rel = path.relative_to(data).as_posix()
        if any(rel == s or rel.startswith(s + "/") for s in seen):
            continue
        seen.add(rel)
        mounts.append({"name": "data", "mountPath": str(path), "subPath": rel, "readOnly": True})
    return mounts


def container(run_id: str, spec: RunSpec, cluster: Cluster) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": CONTAINER,
        "image": cluster.image_for(spec.environment),
        "command": list(spec.command),
        "workingDir": str(spec.cwd),
        "envFrom": [{"secretRef": {"name": object_name(run_id) + "-env"}}],
        "resources": resources(spec, cluster),
        "securityContext": CONTAINER_SECURITY,
    }
    mounts = _mounts(run_id, spec, cluster)
    if mounts:
        out["volumeMounts"] = mounts
    if spec.port is not None:
        out["ports"] = [{"name": "http", "containerPort": spec.port}]
    return out


def pod_spec(run_id: str, spec: RunSpec, cluster: Cluster, restart: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "restartPolicy": restart,
        "automountServiceAccountToken": False,  # a workload gets no API credentials
        "enableServiceLinks": False,
        "securityContext": pod_security(spec, cluster),
        "containers": [container(run_id, spec, cluster)],
    }
    if cluster.data_pvc is not None and not run_id.startswith("/"):
        out["volumes"] = [
            {"name": "data", "persistentVolumeClaim": {"claimName": cluster.data_pvc}}
        ]
    if spec.timeout_s is not None and restart == "Never":
        out["activeDeadlineSeconds"] = max(1, math.ceil(spec.timeout_s))
    return out


def job(run_id: str, spec: RunSpec, cluster: Cluster) -> dict[str, Any]:
    """A training or batch prediction run: ``batch/v1`` Job, one pod at a time."""
    meta = _meta(run_id, spec, cluster)
    body: dict[str, Any] = {
        "backoffLimit": spec.max_retries,
        "completions": 1,
        "parallelism": 1,
        "template": {
            "metadata": {"labels": meta["labels"]},
            "spec": pod_spec(run_id, spec, cluster, "Never"),
        },
    }
    if spec.timeout_s is not None:  # the Job's deadline covers all its pods
        body["activeDeadlineSeconds"] = max(1, math.ceil(spec.timeout_s))
        body["template"]["spec"].pop("activeDeadlineSeconds")
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": meta, "spec": body}


def _need_port(spec: RunSpec, what: str) -> int:
    if spec.port is None:
        raise ValueError(f"a {what} needs the port its server listens on (RunSpec.port)")
    return spec.port


def _probe(spec: RunSpec) -> dict[str, Any]:
    # The health endpoints answer only requests that carry the backend token, which must
    # not appear in a pod spec: the kubelet checks the port; the platform checks HTTP.
    return {"tcpSocket": {"port": spec.port}, "periodSeconds": 2, "failureThreshold": 3}


def deployment(run_id: str, spec: RunSpec, cluster: Cluster) -> dict[str, Any]:
    """A model service generation: one replica, rolled without a gap in service."""
    _need_port(spec, "model service")
    meta = _meta(run_id, spec, cluster)
    pod = pod_spec(run_id, spec, cluster, "Always")
    pod["containers"][0]["readinessProbe"] = _probe(spec)
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta,
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {RUN_LABEL: meta["labels"][RUN_LABEL]}},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxUnavailable": 0, "maxSurge": 1},
            },
            "template": {"metadata": {"labels": meta["labels"]}, "spec": pod},
        },
    }


def pod(run_id: str, spec: RunSpec, cluster: Cluster) -> dict[str, Any]:
    """A notebook: a bare Pod (ended for good when it exits, like the local process)."""
    _need_port(spec, "notebook")
    body = pod_spec(run_id, spec, cluster, "Never")
    body["containers"][0]["readinessProbe"] = _probe(spec)
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": _meta(run_id, spec, cluster),
        "spec": body,
    }


def service(run_id: str, spec: RunSpec, cluster: Cluster) -> dict[str, Any]:
    """The stable address of a service or notebook pod, for the platform's proxy."""
    _need_port(spec, "Service")
    meta = _meta(run_id, spec, cluster)
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": meta,
        "spec": {
            "type": "ClusterIP",
            "selector": {RUN_LABEL: meta["labels"][RUN_LABEL]},
            "ports": [{"name": "http", "port": spec.port, "targetPort": spec.port}],
        },
    }


def tenant_objects(cluster: Cluster, tenant: int | None) -> list[dict[str, Any]]:
    """Namespace, ResourceQuota, LimitRange and NetworkPolicy of one tenant."""
    ns = namespace(cluster, tenant)
    meta_labels = {**MANAGED_BY, TENANT_LABEL: "shared" if tenant is None else str(tenant)}
    hard: dict[str, str] = {}
    if cluster.quota_cpu is not None:
        hard["requests.cpu"] = hard["limits.cpu"] = _quantity_cpu(cluster.quota_cpu)
    if cluster.quota_memory_mb is not None:
        hard["requests.memory"] = hard["limits.memory"] = f"{cluster.quota_memory_mb}Mi"
    if cluster.quota_gpu is not None:
        hard[f"requests.{GPU_RESOURCE}"] = str(cluster.quota_gpu)
    if cluster.quota_pods is not None:
        hard["pods"] = str(cluster.quota_pods)
    memory = f"{cluster.default_memory_mb}Mi"
    objects: list[dict[str, Any]] = [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": ns,
                "labels": {
                    **meta_labels,
                    "pod-security.kubernetes.io/enforce": "restricted",
                    "pod-security.kubernetes.io/enforce-version": "latest",
                },
            },
        },
        {
            "apiVersion": "v1",
            "kind": "LimitRange",
            "metadata": {"name": "miniflow-defaults", "namespace": ns, "labels": meta_labels},
            "spec": {
                "limits": [
                    {
                        "type": "Container",
                        "default": {"memory": memory, "cpu": "1"},
                        "defaultRequest": {"memory": memory, "cpu": "100m"},
                    }
                ]
            },
        },
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {
                "name": "miniflow-tenant-isolation",
                "namespace": ns,
                "labels": meta_labels,
            },
            "spec": {
                # Every pod of the tenant: traffic in only from the tenant's own pods and
                # from the platform (its proxy and health checks); no other tenant.
                "podSelector": {},
                "policyTypes": ["Ingress"],
                "ingress": [
                    {
                        "from": [
                            {"podSelector": {}},
                            {
                                "namespaceSelector": {
                                    "matchLabels": {
                                        "kubernetes.io/metadata.name": cluster.platform_namespace
                                    }
                                }
                            },
                        ]
                    }
                ],
            },
        },
    ]
    if hard:
        objects.insert(
            1,
            {
                "apiVersion": "v1",
                "kind": "ResourceQuota",
                "metadata": {"name": "miniflow-quota", "namespace": ns, "labels": meta_labels},
                "spec": {"hard": hard},
            },
        )
    return objects
