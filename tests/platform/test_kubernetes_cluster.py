"""The executor contract against a real cluster (kind, minikube, or any other).

Runs when ``KUBECONFIG`` is set (``docs/kubernetes.md`` has the steps); skipped
otherwise. Workloads run ``MINIFLOW_TEST_IMAGE`` (default ``python:3.11-slim``: the
contract's runs need only ``python``) in the namespaces ``miniflow-test-*``, which the
teardown deletes.
"""

from __future__ import annotations

import os

import pytest

pytestmark = [
    pytest.mark.kubernetes,
    pytest.mark.skipif(
        not os.environ.get("KUBECONFIG"),
        reason="needs a Kubernetes cluster: set KUBECONFIG (docs/kubernetes.md)",
    ),
]

from executor_contract import ExecutorContract, Harness  # noqa: E402

from miniflow_platform.config import Settings  # noqa: E402

PREFIX = "miniflow-test-"


@pytest.fixture
def harness(tmp_path):
    pytest.importorskip("kubernetes", reason="needs the kubernetes extra")
    from kubernetes import client

    from miniflow_platform.executors.kubernetes import KubernetesExecutor

    settings = Settings(
        data_dir=tmp_path,
        executor="kubernetes",
        kube_context=os.environ.get("MINIFLOW_TEST_KUBE_CONTEXT"),
        kube_namespace_prefix=PREFIX,
        kube_image=os.environ.get("MINIFLOW_TEST_IMAGE", "python:3.11-slim"),
    )
    ex = KubernetesExecutor(settings)
    yield Harness(ex, tmp_path, lambda: KubernetesExecutor(settings), python="python")
    core = client.CoreV1Api(ex.api)
    for ns in core.list_namespace().items:
        if ns.metadata.name.startswith(PREFIX):
            core.delete_namespace(ns.metadata.name)


class TestKubernetesExecutorOnACluster(ExecutorContract):
    @pytest.mark.skip(reason="a Service is reached only from inside the cluster")
    def test_endpoint_reaches_the_server(self, harness):
        pass

    @pytest.mark.skip(reason="artifacts need the data volume shared with this machine")
    def test_artifacts_are_in_storage(self, harness):
        pass
