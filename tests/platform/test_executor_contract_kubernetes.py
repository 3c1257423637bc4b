"""The executor contract against the Kubernetes executor, on the fake API server."""

from __future__ import annotations

import pytest

pytest.importorskip("kubernetes", reason="needs the kubernetes extra")

from executor_contract import ExecutorContract, Harness  # noqa: E402
from kubernetes_fake import FakeKube, executors  # noqa: E402

from miniflow_platform.config import Settings  # noqa: E402


@pytest.fixture
def fake(tmp_path):
    kube = FakeKube(tmp_path / "kubelet").start()
    (tmp_path / "kubelet").mkdir()
    try:
        yield kube
    finally:
        kube.stop()


def kube_settings(data_dir) -> Settings:
    # The fake's "pods" are local processes: their Services are reached on loopback.
    return Settings(data_dir=data_dir, executor="kubernetes", kube_service_host="127.0.0.1")


@pytest.fixture(params=["watch", "poll"])
def harness(request, fake, tmp_path):
    """The executor reading status from its watch caches, and with watches off."""
    data = tmp_path / "data"
    data.mkdir()
    settings = kube_settings(data)
    watch = request.param == "watch"
    with executors(fake) as make:
        yield Harness(make(settings, watch=watch), data, lambda: make(settings, watch=watch))


class TestKubernetesExecutorOnTheFake(ExecutorContract):
    pass
