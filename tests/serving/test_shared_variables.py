"""SavedModel variables shared by `miniflow serve --workers N` (issue 19): each large
variable is mapped copy-on-write from one cache file, so N workers hold one copy.

The in-process tests configure the cache directory the way a worker does; the
subprocess test reads the workers' /proc/PID/smaps (Pss: shared pages divided among
the processes that map them)."""

from __future__ import annotations

import os
import shutil
import signal

import numpy as np
import pytest
from serving_helpers import http as http_call

import miniflow as tf
from miniflow.serving import load_servable, model_files

RNG = np.random.default_rng(5)


def export(path, w: np.ndarray, fmt: str | None = None) -> None:
    """y = x @ W + b, with W large (shared) and b small (not worth a mapping)."""
    graph = tf.Graph()
    with graph.as_default():
        x = tf.placeholder(tf.float32, [None, w.shape[0]], name="x")
        wv = tf.Variable(w, name="w")
        b = tf.Variable(np.float32([0.5] * w.shape[1]), name="b")
        y = tf.add(tf.matmul(x, wv), b, name="y")
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            kwargs = {"format": fmt} if fmt else {}
            tf.saved_model.simple_save(sess, str(path), {"x": x}, {"y": y}, **kwargs)


@pytest.fixture
def cache(tmp_path):
    model_files.configure(str(tmp_path / "cache"))
    try:
        yield tmp_path / "cache"
    finally:
        model_files.configure(None)


@pytest.mark.parametrize("fmt", [None, "tf"])
def test_large_variables_are_mapped_from_the_cache(tmp_path, cache, fmt):
    w = RNG.normal(size=(512, 1024)).astype(np.float32)  # 2 MiB
    export(tmp_path / "m" / "1", w, fmt)
    x = RNG.normal(size=(3, 512)).astype(np.float32)
    want = x.astype(np.float64) @ w + 0.5
    servable = load_servable(tmp_path / "m" / "1")
    try:
        files = sorted(os.listdir(cache))
        assert len(files) == 1 and files[0].endswith("-var.npy")  # w only; b is 4 KiB
        out = servable.predict("serving_default", {"x": x})["y"]
        np.testing.assert_allclose(out, want, rtol=1e-4, atol=1e-4)
        again = load_servable(tmp_path / "m" / "1")  # a second worker: same file
        np.testing.assert_allclose(again.predict("serving_default", {"x": x})["y"], out)
        assert sorted(os.listdir(cache)) == files
        again.close()  # unlinks it; the first one's mapping stays valid
        np.testing.assert_allclose(servable.predict("serving_default", {"x": x})["y"], out)
    finally:
        servable.close()
    assert os.listdir(cache) == []


def test_a_changed_version_gets_its_own_file(tmp_path, cache):
    w = RNG.normal(size=(512, 1024)).astype(np.float32)
    export(tmp_path / "m" / "1", w)
    first = load_servable(tmp_path / "m" / "1")
    export(tmp_path / "m2", w * 2)
    shutil.rmtree(tmp_path / "m" / "1")  # the version replaced in place
    shutil.copytree(tmp_path / "m2", tmp_path / "m" / "1")
    second = load_servable(tmp_path / "m" / "1")
    try:
        assert len(os.listdir(cache)) == 2
        x = np.ones((1, 512), np.float32)
        a = first.predict("serving_default", {"x": x})["y"]
        b = second.predict("serving_default", {"x": x})["y"]
        np.testing.assert_allclose(b - 0.5, 2 * (a - 0.5), rtol=1e-4, atol=1e-3)
    finally:
        first.close()
        second.close()


def test_without_a_cache_variables_stay_in_memory(tmp_path):
    w = RNG.normal(size=(512, 1024)).astype(np.float32)
    export(tmp_path / "m" / "1", w)
    servable = load_servable(tmp_path / "m" / "1")
    try:
        assert servable._mapped_files == []
    finally:
        servable.close()


def _mapping_of(pid: int, suffix: str) -> dict:
    """Rss/Pss (KiB) of the mappings of files whose path ends with ``suffix``."""
    out = {"Rss": 0, "Pss": 0, "paths": set()}
    current = None
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            head = line.split()
            if "-" in head[0] and len(head) >= 5 and not head[0].endswith(":"):
                current = head[5] if len(head) > 5 and head[5].endswith(suffix) else None
                if current:
                    out["paths"].add(current)
            elif current and head[0] in ("Rss:", "Pss:"):
                out[head[0][:-1]] += int(head[1])
    return out


def test_two_workers_hold_one_copy_of_the_variables(tmp_path, start_server):
    w = RNG.normal(size=(1024, 6144)).astype(np.float32)  # 24 MiB
    export(tmp_path / "big" / "1", w)
    server = start_server("--model-dir", tmp_path / "big", "--name", "big", "--workers", "2")
    pids = [int(p) for p in server.first_line.split("pids=", 1)[1].split()[0].split(",")]
    try:
        x = RNG.normal(size=(1, 1024)).round(3)
        for _ in range(6):  # fresh connections reach both workers
            code, body = http_call(
                "POST", server.url + "/v1/models/big:predict", {"instances": x.tolist()}
            )
            assert code == 200
            np.testing.assert_allclose(body["predictions"], x @ w + 0.5, rtol=1e-3, atol=1e-3)
        size_kib = w.nbytes / 1024
        maps = [_mapping_of(p, "-var.npy") for p in pids]
        for m in maps:
            assert len(m["paths"]) == 1  # the one large variable, from the cache
            assert m["Rss"] >= 0.9 * size_kib  # resident in each worker...
        assert maps[0]["paths"] == maps[1]["paths"]
        total_pss = sum(m["Pss"] for m in maps)
        assert 0.9 * size_kib <= total_pss <= 1.1 * size_kib  # ...but one copy in all
    finally:
        server.proc.send_signal(signal.SIGTERM)
        assert server.proc.wait(timeout=30) == 0
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
