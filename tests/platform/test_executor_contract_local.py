"""The executor contract against the local executor, with real processes."""

from __future__ import annotations

import pytest
from executor_contract import ExecutorContract, Harness

from miniflow_platform.config import Settings
from miniflow_platform.executors import get_executor


@pytest.fixture(params=["auto", "rlimits"])
def harness(request, tmp_path):
    settings = Settings(data_dir=tmp_path, isolation=request.param)
    ex = get_executor("local", settings)
    yield Harness(ex, tmp_path, lambda: get_executor("local", settings))
    from platform_helpers import kill_all_runs

    kill_all_runs(tmp_path)
    ex.close()


class TestLocalExecutor(ExecutorContract):
    pass
