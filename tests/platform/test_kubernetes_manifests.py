"""Every manifest the Kubernetes executor builds: valid against the official OpenAPI
schema of a pinned Kubernetes version (``kubernetes-validate``, strict: unknown fields
are errors), equal to its snapshot, and carrying the settings that matter.

Snapshots live in ``kubernetes_snapshots/``; after an intended change, regenerate them
with ``MINIFLOW_UPDATE_SNAPSHOTS=1`` and review the diff.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from miniflow_platform.executors import kube_manifests as km
from miniflow_platform.executors.base import Resources, RunSpec

kv = pytest.importorskip("kubernetes_validate", reason="needs kubernetes-validate (test extra)")

KUBERNETES_VERSION = "1.33.0"  # pinned: the schema the manifests must satisfy
SNAPSHOTS = Path(__file__).parent / "kubernetes_snapshots"
CLUSTER = km.Cluster(
    namespace_prefix="mf-",
    image="registry.example/miniflow:1.0",
    images={"gpu": "registry.example/miniflow-cuda:1.0"},
    data_dir=Path("/data"),
    data_pvc="miniflow-data",
    platform_namespace="miniflow",
    uid_base=200000,
    default_memory_mb=1024,
    quota_cpu=8,
    quota_memory_mb=16384,
    quota_gpu=2,
    quota_pods=20,
)
JOB = RunSpec(
    ["python", "train.py", "--init-from", "/data/jobs/job-2/artifacts/model"],
    Path("/data/jobs/job-3"),
    Path("/data/jobs/job-3/code"),
    {"PATH": "/host/venv/bin", "MINIFLOW_JOB_ID": "3", "AWS_SECRET_ACCESS_KEY": "s3cr3t"},
    Resources(cpu=1.5, memory_mb=2048, gpu_devices=("0",)),
    timeout_s=3600.5,
    tenant=7,
    environment="gpu",
    max_retries=2,
)
SERVE = RunSpec(
    ["miniflow", "serve", "--model-dir", "/data/jobs/job-3/artifacts/model", "--port", "9000"],
    Path("/data/services/svc-1-g2"),
    Path("/data/services/svc-1-g2/work"),
    {"MINIFLOW_SERVE_TOKEN": "backend-token"},
    Resources(cpu=0.5, memory_mb=512),
    tenant=7,
    port=9000,
    health_path="/v1/models/m",
)
NOTEBOOK = RunSpec(
    ["python", "-m", "jupyter_server", "--ServerApp.port=9100"],
    Path("/data/notebooks/nb-4"),
    Path("/data/notebooks/nb-4/work"),
    {"JUPYTER_TOKEN": "t"},
    Resources(cpu=1, memory_mb=1024),
    tenant=None,
    port=9100,
)

MANIFESTS = {
    "job": lambda: km.job("jobs/job-3", JOB, CLUSTER),
    "job-secret": lambda: km.env_secret("jobs/job-3", JOB, CLUSTER),
    "service-deployment": lambda: km.deployment("services/svc-1-g2", SERVE, CLUSTER),
    "service-service": lambda: km.service("services/svc-1-g2", SERVE, CLUSTER),
    "notebook-pod": lambda: km.pod("notebooks/nb-4", NOTEBOOK, CLUSTER),
    "notebook-service": lambda: km.service("notebooks/nb-4", NOTEBOOK, CLUSTER),
    "tenant": lambda: km.tenant_objects(CLUSTER, 7),
    "tenant-no-quota": lambda: km.tenant_objects(km.Cluster(), None),
}


def _objects(manifest):
    return manifest if isinstance(manifest, list) else [manifest]


@pytest.mark.parametrize("name", sorted(MANIFESTS))
def test_manifest_is_valid_and_matches_its_snapshot(name):
    manifest = MANIFESTS[name]()
    for obj in _objects(manifest):
        kv.validate(obj, KUBERNETES_VERSION, strict=True)  # raises with the field path
    path = SNAPSHOTS / f"{name}.json"
    text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    if os.environ.get("MINIFLOW_UPDATE_SNAPSHOTS") == "1":
        path.write_text(text)
    assert path.exists(), f"no snapshot {path}: run with MINIFLOW_UPDATE_SNAPSHOTS=1"
    assert text == path.read_text(), f"{name} differs from {path}; regenerate if intended"


def test_the_validator_rejects_what_the_api_would():
    job = km.job("jobs/job-3", JOB, CLUSTER)
    job["spec"]["backoffLimit"] = "two"
    with pytest.raises(kv.ValidationError):
        kv.validate(job, KUBERNETES_VERSION, strict=True)
    job = km.job("jobs/job-3", JOB, CLUSTER)
    job["spec"]["template"]["spec"]["containers"][0]["cmd"] = ["typo"]
    with pytest.raises(kv.ValidationError):
        kv.validate(job, KUBERNETES_VERSION, strict=True)


def test_job_settings():
    job = km.job("jobs/job-3", JOB, CLUSTER)
    assert job["metadata"]["name"] == "mf-jobs-job-3"
    assert job["metadata"]["namespace"] == "mf-t7"
    assert job["metadata"]["labels"][km.RUN_LABEL] == "jobs.job-3"
    spec = job["spec"]
    assert spec["activeDeadlineSeconds"] == 3601  # rounded up: never shorter than asked
    assert spec["backoffLimit"] == 2
    pod = spec["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    assert pod["automountServiceAccountToken"] is False
    (c,) = pod["containers"]
    assert c["image"] == "registry.example/miniflow-cuda:1.0"  # the "gpu" environment's
    assert c["resources"]["limits"] == {"memory": "2048Mi", "cpu": "1500m", "nvidia.com/gpu": "1"}
    assert c["resources"]["requests"]["nvidia.com/gpu"] == "1"


def test_secrets_never_appear_in_the_pod_spec():
    job = km.job("jobs/job-3", JOB, CLUSTER)
    text = json.dumps(job)
    assert "s3cr3t" not in text and "AWS_SECRET_ACCESS_KEY" not in text
    c = job["spec"]["template"]["spec"]["containers"][0]
    assert c["envFrom"] == [{"secretRef": {"name": "mf-jobs-job-3-env"}}]
    secret = km.env_secret("jobs/job-3", JOB, CLUSTER)
    assert secret["stringData"] == {"MINIFLOW_JOB_ID": "3", "AWS_SECRET_ACCESS_KEY": "s3cr3t"}
    assert "PATH" not in secret["stringData"]  # the host's PATH means nothing in the image


@pytest.mark.parametrize("name", ["job", "service-deployment", "notebook-pod"])
def test_restricted_security_context(name):
    manifest = MANIFESTS[name]()
    pod = manifest["spec"] if manifest["kind"] == "Pod" else manifest["spec"]["template"]["spec"]
    sec = pod["securityContext"]
    assert sec["runAsNonRoot"] is True and sec["runAsUser"] >= 200000
    assert sec["seccompProfile"] == {"type": "RuntimeDefault"}
    for c in pod["containers"]:
        assert c["securityContext"]["allowPrivilegeEscalation"] is False
        assert c["securityContext"]["capabilities"] == {"drop": ["ALL"]}


def test_data_mounts_give_the_run_its_own_dir_and_inputs_read_only():
    mounts = km.job("jobs/job-3", JOB, CLUSTER)["spec"]["template"]["spec"]["containers"][0][
        "volumeMounts"
    ]
    assert mounts == [
        {"name": "data", "mountPath": "/data/jobs/job-3", "subPath": "jobs/job-3"},
        {
            "name": "data",
            "mountPath": "/data/jobs/job-2/artifacts/model",
            "subPath": "jobs/job-2/artifacts/model",
            "readOnly": True,
        },
    ]


def test_tenant_quota_and_isolation():
    objs = {o["kind"]: o for o in km.tenant_objects(CLUSTER, 7)}
    assert objs["Namespace"]["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == (
        "restricted"
    )
    assert objs["ResourceQuota"]["spec"]["hard"] == {
        "requests.cpu": "8000m",
        "limits.cpu": "8000m",
        "requests.memory": "16384Mi",
        "limits.memory": "16384Mi",
        "requests.nvidia.com/gpu": "2",
        "pods": "20",
    }
    rule = objs["NetworkPolicy"]["spec"]["ingress"][0]["from"]
    assert {"podSelector": {}} in rule  # the tenant's own pods
    assert rule[1]["namespaceSelector"]["matchLabels"] == {
        "kubernetes.io/metadata.name": "miniflow"
    }
    assert "ResourceQuota" not in {o["kind"] for o in km.tenant_objects(km.Cluster(), 1)}


@pytest.mark.parametrize("bad", ["jobs/" + "x" * 60, "/tmp/run", "a/b/c"])
def test_names_that_kubernetes_cannot_take_are_refused(bad):
    with pytest.raises(ValueError):
        km.object_name(bad)


def test_a_service_needs_a_port():
    with pytest.raises(ValueError, match="needs the port"):
        km.deployment("services/svc-1-g1", JOB, CLUSTER)
