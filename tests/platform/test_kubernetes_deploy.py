"""deploy/kubernetes: every manifest valid against the pinned Kubernetes schema, the
RBAC exactly what the executor uses (measured on the fake API server), restricted
pods, and the platform's arguments accepted by the real CLI.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

kv = pytest.importorskip("kubernetes_validate", reason="needs kubernetes-validate (test extra)")
pytest.importorskip("kubernetes", reason="needs the kubernetes extra")

from executor_contract import Harness, free_port, wait_done  # noqa: E402
from kubernetes_fake import PATH, FakeKube  # noqa: E402
from test_kubernetes_manifests import KUBERNETES_VERSION  # noqa: E402

from miniflow_platform.config import Settings  # noqa: E402
from miniflow_platform.executors.kubernetes import KubernetesExecutor  # noqa: E402

DEPLOY = Path(__file__).resolve().parents[2] / "deploy" / "kubernetes"
GROUPS = {"jobs": "batch", "deployments": "apps", "networkpolicies": "networking.k8s.io"}


def documents() -> list[dict]:
    docs = []
    for path in sorted(DEPLOY.glob("*.yaml")):
        if path.name != "kustomization.yaml":
            docs += [d for d in yaml.safe_load_all(path.read_text()) if d]
    return docs


@pytest.mark.parametrize("doc", documents(), ids=lambda d: f"{d['kind']}-{d['metadata']['name']}")
def test_every_install_manifest_is_valid(doc):
    kv.validate(doc, KUBERNETES_VERSION, strict=True)


def test_kustomization_lists_every_manifest():
    kust = yaml.safe_load((DEPLOY / "kustomization.yaml").read_text())
    files = {p.name for p in DEPLOY.glob("*.yaml")} - {"kustomization.yaml"}
    assert set(kust["resources"]) == files


def test_pods_are_restricted():
    for doc in documents():
        if doc["kind"] not in ("Deployment", "StatefulSet"):
            continue
        pod = doc["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        for c in pod["containers"]:
            assert c["securityContext"]["allowPrivilegeEscalation"] is False
            assert c["securityContext"]["capabilities"] == {"drop": ["ALL"]}
            assert "memory" in c["resources"]["limits"]


def _rbac_rules() -> set[tuple[str, str, str]]:
    (role,) = [d for d in documents() if d["kind"] == "ClusterRole"]
    return {
        (group, resource, verb)
        for rule in role["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }


def _used(fake: FakeKube) -> set[tuple[str, str, str]]:
    used = set()
    for method, path, query in fake.requests:
        m = PATH.match(path)
        plural = m["plural"] if m else "namespaces"
        named = m["name"] if m else path.rstrip("/") != "/api/v1/namespaces"
        if m and m["sub"] == "log":
            used.add(("", "pods/log", "get"))
            continue
        verb = {"POST": "create", "PUT": "update", "DELETE": "delete"}.get(
            method, "get" if named else "watch" if query.get("watch") == "true" else "list"
        )
        used.add((GROUPS.get(plural, ""), plural, verb))
    return used


def test_rbac_grants_exactly_what_the_executor_uses(tmp_path):
    (tmp_path / "kubelet").mkdir()
    (tmp_path / "data").mkdir()
    fake = FakeKube(tmp_path / "kubelet").start()
    made: list[KubernetesExecutor] = []  # closed at the end: their watch threads stop

    def new() -> KubernetesExecutor:
        made.append(KubernetesExecutor(s, api_client=fake.client()))
        return made[-1]

    try:
        s = Settings(data_dir=tmp_path / "data", kube_service_host="127.0.0.1", quota_cpu=2)
        h = Harness(new(), s.data_dir, new)
        ex = h.executor
        ex.start("jobs/job-1", h.spec("jobs/job-1", "print(1)"))
        wait_done(ex, "jobs/job-1")
        list(ex.logs("jobs/job-1", follow=True))
        ex.release("jobs/job-1")
        for rid in ("services/svc-1-g1", "notebooks/nb-1"):
            ex.start(rid, h.spec(rid, "import time; time.sleep(30)", port=free_port()))
            ex.status(rid)
            ex.start(rid, h.spec(rid, "import time; time.sleep(30)", port=free_port()))
            ex.cancel(rid)
        again = h.reopen()  # adoption, and tenant objects that exist already
        again.list_runs()
        again.status("jobs/job-1")
        again.start("jobs/job-2", h.spec("jobs/job-2", "print(2)"))
        again.remove("jobs/job-2")
        used = _used(fake)
    finally:
        for ex in made:
            ex.close()
        fake.stop()
    granted = _rbac_rules()
    assert used <= granted, f"the executor needs more than rbac.yaml grants: {used - granted}"
    assert granted <= used, f"rbac.yaml grants what the executor never uses: {granted - used}"


def test_the_platform_arguments_are_accepted_by_the_cli(monkeypatch, tmp_path):
    from miniflow_platform import cli

    (platform,) = [
        d
        for d in documents()
        if d["metadata"]["name"] == "miniflow-platform" and d["kind"] == "Deployment"
    ]
    container = platform["spec"]["template"]["spec"]["containers"][0]
    args = [re.sub(r"\$\(POSTGRES_PASSWORD\)", "pw", a) for a in container["args"]]
    args = [a.replace("--data-dir=/data", f"--data-dir={tmp_path}") for a in args]
    captured = {}

    def fake_build(settings, executor=None):
        captured["settings"] = settings
        raise RuntimeError("stop here")

    monkeypatch.setattr("miniflow_platform.main.build_platform", fake_build)
    assert cli.main(args) == 2  # parsed, validated, then stopped before connecting
    s = captured["settings"]
    assert s.executor == "kubernetes" and s.kube_data_pvc == "miniflow-data"
    assert s.kube_image == container["image"]  # workloads run the platform's own image
    assert s.database_url.startswith("postgresql+psycopg://miniflow:pw@postgres:5432/")
