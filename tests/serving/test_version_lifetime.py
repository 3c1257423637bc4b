"""A retired model version is closed only after the last request using it finishes, and
exactly once: a fake servable records every `predict` and `close` call."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from miniflow.serving.errors import ServableNotFound
from miniflow.serving.manager import BatchingOptions, ModelConfig, ModelManager, VersionPolicy


class RecordingServable:
    """Answers with its version; ``gate`` (if set) holds `predict` until released."""

    signature_defs: dict = {}

    def __init__(self, path, log, gate=None):
        self.version = int(path.rsplit("/", 1)[-1])
        self.log = log
        self.gate = gate
        self.closed = 0

    def predict(self, signature_name, inputs):
        self.log.append(("predict", self.version, self.closed))
        if self.gate is not None:
            self.gate.entered.set()
            assert self.gate.release.wait(10), "test never released the request"
        return {"version": np.full(len(inputs["x"]), self.version)}

    def close(self):
        self.closed += 1
        self.log.append(("close", self.version))


class Gate:
    def __init__(self):
        self.entered = threading.Event()
        self.release = threading.Event()


@pytest.fixture
def models(tmp_path):
    def make(*versions):
        for v in versions:
            (tmp_path / str(v)).mkdir()
        return tmp_path

    return make


def _manager(base, log, gate=None, batching=None, policy=None):
    servables = {}

    def loader(path):
        s = servables[path] = RecordingServable(path, log, gate)
        return s

    mgr = ModelManager(
        ModelConfig("m", str(base), policy or VersionPolicy("latest", 1)),
        loader=loader,
        batching=batching,
    )
    return mgr, servables


def test_a_version_retired_during_a_request_closes_when_the_request_ends(models):
    base = models(1)
    log: list = []
    mgr, servables = _manager(base, log)
    mgr.poll()
    with mgr.use() as old:
        assert old.version == 1
        (base / "2").mkdir()
        mgr.poll()  # version 2 replaces 1 while the request still holds 1
        assert mgr.versions == [2]
        assert {e["version"]: e["state"] for e in mgr.status()} == {"2": "AVAILABLE", "1": "END"}
        assert servables[str(base / "1")].closed == 0
        out = old.predict("serving_default", {"x": np.zeros(3)}, 3)
        np.testing.assert_array_equal(out["version"], [1, 1, 1])
        assert servables[str(base / "1")].closed == 0
    assert servables[str(base / "1")].closed == 1  # the last user closed it, once
    assert ("predict", 1, 0) in log  # the request ran on an open servable
    mgr.close()
    assert servables[str(base / "2")].closed == 1
    assert servables[str(base / "1")].closed == 1


def test_idle_retired_versions_close_at_once_and_only_once(models, caplog):
    caplog.set_level("INFO", logger="miniflow.serving")
    base = models(1, 2)
    log: list = []
    mgr, servables = _manager(base, log, policy=VersionPolicy("all"))
    mgr.poll()
    assert mgr.versions == [2, 1]
    (base / "1").rmdir()
    mgr.poll()
    mgr.poll()
    assert servables[str(base / "1")].closed == 1
    assert servables[str(base / "2")].closed == 0
    assert "model m: version 1 unloaded" in caplog.text  # what an operator sees
    assert "version 2 unloaded" not in caplog.text
    with pytest.raises(ServableNotFound, match=r"Specific\(m, 1\)"):
        with mgr.use(1):
            pass


@pytest.mark.parametrize("batching", [None, BatchingOptions(max_batch_size=4, timeout_s=0.01)])
def test_a_request_in_flight_on_another_thread_keeps_its_version_open(models, batching):
    base = models(1)
    log: list = []
    gate = Gate()
    mgr, servables = _manager(base, log, gate, batching)
    mgr.poll()
    result: dict = {}

    def request():
        with mgr.use() as lv:
            result["out"] = lv.predict("serving_default", {"x": np.zeros(2)}, 2)

    t = threading.Thread(target=request)
    t.start()
    try:
        assert gate.entered.wait(10)  # the request is inside predict of version 1
        (base / "2").mkdir()
        mgr.poll()
        assert mgr.versions == [2]
        assert servables[str(base / "1")].closed == 0
        mgr.close()  # shutting down while the request runs: still not closed
        assert servables[str(base / "1")].closed == 0
    finally:
        gate.release.set()
        t.join(10)
    assert not t.is_alive()
    np.testing.assert_array_equal(result["out"]["version"], [1, 1])
    assert servables[str(base / "1")].closed == 1
    assert servables[str(base / "2")].closed == 1
    assert log.index(("predict", 1, 0)) < log.index(("close", 1))


def test_a_served_version_stays_open_between_requests_and_reports_its_rows(models):
    base = models(3)
    log: list = []
    rows: list = []
    mgr = ModelManager(
        ModelConfig("m", str(base)),
        loader=lambda path: RecordingServable(path, log),
        on_batch=rows.append,
    )
    mgr.poll()
    for n in (2, 5):
        with mgr.use(3) as lv:
            assert lv.signature_defs is RecordingServable.signature_defs
            out = lv.predict("serving_default", {"x": np.zeros(n)}, n)
            np.testing.assert_array_equal(out["version"], [3] * n)
        assert lv.servable.closed == 0  # not retired: the end of a request closes nothing
    assert rows == [2, 5]
    mgr.close()
    assert lv.servable.closed == 1


def test_closing_a_batched_version_stops_its_batching_thread(models):
    base = models(1)
    mgr, servables = _manager(base, [], batching=BatchingOptions(max_batch_size=8, timeout_s=0.01))
    mgr.poll()
    with mgr.use() as lv:
        out = lv.predict("serving_default", {"x": np.zeros(2)}, 2)
    np.testing.assert_array_equal(out["version"], [1, 1])
    thread = lv._batcher._thread
    assert thread.is_alive()
    mgr.close()
    assert not thread.is_alive() and servables[str(base / "1")].closed == 1


def test_a_closed_manager_loads_nothing_more_and_a_returning_version_is_available(models):
    base = models(1, 2)
    log: list = []
    mgr, servables = _manager(base, log, policy=VersionPolicy("all"))
    mgr.poll()
    (base / "1").rename(base / "tmp")
    mgr.poll()
    assert mgr.versions == [2] and mgr.status(1)[0]["state"] == "END"
    (base / "tmp").rename(base / "1")  # the same version comes back
    mgr.poll()
    assert mgr.versions == [2, 1] and mgr.status(1)[0]["state"] == "AVAILABLE"
    mgr.close()
    (base / "3").mkdir()
    mgr.poll()  # after close: nothing is loaded again
    assert mgr.versions == [] and str(base / "3") not in servables
