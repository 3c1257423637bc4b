"""Version changes under continuous load: removing, replacing or corrupting the served
version never answers a valid request with anything but 200 and a correct prediction."""

from __future__ import annotations

import shutil
import threading

import numpy as np
from serving_helpers import instances, lr_truth, random_rows, write_lr_model

from miniflow.serving.manager import ModelConfig, ModelManager, VersionPolicy


def _status(server):
    code, body = server.get("/v1/models/ctr")
    if code != 200:
        return {}
    return {int(e["version"]): e["state"] for e in body["model_version_status"]}


class _Load:
    """Client threads posting the same rows until stopped; every reply is kept."""

    def __init__(self, server, rows, threads=2):
        self.server, self.body = server, {"instances": instances(rows)}
        self.results: list = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run) for _ in range(threads)]
        for t in self._threads:
            t.start()

    def _run(self):
        while not self._stop.is_set():
            self.results.append(self.server.post("/v1/models/ctr:predict", self.body))

    def latest_matches(self, truth):
        return bool(self.results) and np.allclose(
            self.results[-1][1].get("predictions", []), truth, rtol=1e-6
        )

    def stop(self):
        self._stop.set()
        for t in self._threads:
            t.join()


def test_remove_replace_and_corrupt_under_load_answer_only_200(tmp_path, start_server):
    write_lr_model(tmp_path / "1", seed=1)
    write_lr_model(tmp_path / "2", seed=2)
    server = start_server("--model-dir", tmp_path, "--name", "ctr", "--poll-seconds", "0.05")
    rows = random_rows(3, 6)
    truths = {"v1": lr_truth(tmp_path / "1", rows), "v2": lr_truth(tmp_path / "2", rows)}
    load = _Load(server, rows)
    try:
        # 1. The served (newest) version's directory disappears: version 1 takes over.
        server.wait_for(lambda: load.latest_matches(truths["v2"]), "version 2 answering")
        shutil.rmtree(tmp_path / "2")
        server.wait_for(lambda: _status(server).get(1) == "AVAILABLE", "fallback to 1")
        server.wait_for(lambda: load.latest_matches(truths["v1"]), "version 1 answering")
        assert _status(server)[2] == "END"

        # 2. Version 1 is replaced in place (removed, then a new model renamed in).
        shutil.rmtree(tmp_path / "1")
        write_lr_model(tmp_path / "1", seed=11)
        truths["v1b"] = lr_truth(tmp_path / "1", rows)
        server.wait_for(lambda: load.latest_matches(truths["v1b"]), "replaced 1 answering")

        # 3. A new version 3, then its weights are overwritten with garbage: the loaded
        # copy keeps serving; a corrupt version 4 is never served.
        write_lr_model(tmp_path / "3", seed=3)
        truths["v3"] = lr_truth(tmp_path / "3", rows)
        server.wait_for(lambda: load.latest_matches(truths["v3"]), "version 3 answering")
        (tmp_path / "3" / "weights.npz").write_bytes(b"not a zip file")
        corrupt = tmp_path / ".tmp-4"
        corrupt.mkdir()
        (corrupt / "model.json").write_text("{broken")
        corrupt.rename(tmp_path / "4")
        server.wait_for(
            lambda: (
                any("version 3 failed to load" in ln for ln in server.stderr_lines)
                and any("version 4 failed to load" in ln for ln in server.stderr_lines)
            ),
            "both corrupt directories to be tried",
        )
        n = len(load.results)
        server.wait_for(lambda: len(load.results) > n + 20, "more requests after corruption")
        assert _status(server)[3] == "AVAILABLE"
    finally:
        load.stop()
    bad = [r for r in load.results if r[0] != 200]
    assert not bad, f"{len(bad)} of {len(load.results)} requests failed, e.g. {bad[:3]}"
    for _, body in load.results:
        assert any(np.allclose(body["predictions"], t, rtol=1e-6) for t in truths.values())
    assert load.latest_matches(truths["v3"])


def test_emptying_the_base_directory_keeps_the_last_version_serving(tmp_path, start_server):
    write_lr_model(tmp_path / "1", seed=5)
    server = start_server("--model-dir", tmp_path, "--name", "ctr", "--poll-seconds", "0.05")
    rows = random_rows(4, 3)
    truth = lr_truth(tmp_path / "1", rows)
    shutil.rmtree(tmp_path / "1")
    server.wait_for(
        lambda: any("no loadable version on disk" in ln for ln in server.stderr_lines),
        "the poller to notice",
    )
    code, body = server.post("/v1/models/ctr:predict", {"instances": instances(rows)})
    assert code == 200
    np.testing.assert_allclose(body["predictions"], truth, rtol=1e-6)
    write_lr_model(tmp_path / "2", seed=6)
    server.wait_for(lambda: _status(server).get(2) == "AVAILABLE", "version 2")
    assert _status(server)[1] == "END"


class _Servable:
    signature_defs: dict = {}

    def __init__(self, path):
        self.closed = 0

    def predict(self, signature_name, inputs):
        return {}

    def close(self):
        self.closed += 1


def test_reading_versions_while_polls_swap_them_never_fails(tmp_path):
    """`versions`, `status` and `use` run on request threads while the poller swaps."""
    for v in range(1, 6):
        (tmp_path / str(v)).mkdir()
    mgr = ModelManager(ModelConfig("m", str(tmp_path), VersionPolicy("all")), loader=_Servable)
    mgr.poll()
    errors: list = []
    stop = threading.Event()

    def reader():
        while not stop.is_set():
            try:
                assert mgr.versions
                mgr.status()
                with mgr.use() as lv:
                    assert lv.version in range(1, 6)
            except Exception as e:  # noqa: BLE001  collected and asserted below
                errors.append(e)

    t = threading.Thread(target=reader)
    t.start()
    try:
        for i in range(200):
            v = 1 + i % 4  # version 5 always stays
            (tmp_path / str(v)).rmdir()
            mgr.poll()
            (tmp_path / str(v)).mkdir()
            mgr.poll()
    finally:
        stop.set()
        t.join()
    assert errors == []
    assert mgr.versions == [5, 4, 3, 2, 1]
    mgr.close()
