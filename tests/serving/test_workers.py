"""`miniflow serve --workers N`: a supervisor and N worker processes on one port, the
model memory-mapped once for all of them, and adaptive micro-batching.

Real subprocesses throughout; every process started here is stopped in teardown (the
``start_server`` fixture, plus a SIGKILL for any worker pid a test saw still running)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from serving_helpers import (
    child_env,
    http as http_call,
    instances,
    lr_truth,
    random_rows,
    write_lr_model,
)

from miniflow.ml.sparse_lr import SparseLinearModel
from miniflow.serving import model_files
from miniflow.serving.batching import MicroBatcher
from miniflow.serving.codec import decode_instances
from miniflow.serving.errors import ModelLoadError
from miniflow.serving.servable import load_servable
from miniflow.serving.sparse_lr import SparseLRServable

ROWS = random_rows(7, 3)


def _alive(pid: int) -> bool:
    """True while ``pid`` runs (a zombie, exited but not reaped, counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _children(pid: int) -> list[int]:
    out = []
    for task in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{task}/children") as f:
            out += [int(c) for c in f.read().split()]
    return [c for c in out if _alive(c)]


def _wait(predicate, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


def _predict_fresh_connection(url: str, body: dict):
    """One request on a new connection (each may land on another worker)."""
    return http_call("POST", url + "/v1/models/lr:predict", body)


def _answering_pid(url: str) -> int:
    """The pid of the worker that answers a fresh connection (from its metrics)."""
    _, text = http_call("GET", url + "/monitoring/prometheus/metrics")
    line = next(ln for ln in text.splitlines() if ln.startswith("miniflow_serving_worker{"))
    return int(line.split('pid="', 1)[1].split('"', 1)[0])


@pytest.fixture
def workers(start_server):
    """Starts ``miniflow serve --workers N ...``; returns (server, worker pids)."""
    seen: list[int] = []

    def start(*args):
        s = start_server(*args)
        pids = [int(p) for p in s.first_line.split("pids=", 1)[1].split()[0].split(",")]
        seen.extend(pids)
        s.seen = seen
        return s, pids

    yield start
    for pid in seen:
        if _alive(pid):
            os.kill(pid, signal.SIGKILL)


def test_workers_share_the_port_and_answer_like_the_model(tmp_path, workers):
    write_lr_model(tmp_path / "lr" / "1", seed=1)
    server, pids = workers("--model-dir", tmp_path / "lr", "--name", "lr", "--workers", "2")
    assert len(pids) == 2 and all(_alive(p) for p in pids)
    assert sorted(_children(server.proc.pid)) == sorted(pids)
    want = lr_truth(tmp_path / "lr" / "1", ROWS)
    answered = set()
    for _ in range(200):  # fresh connections until both workers have answered
        answered.add(_answering_pid(server.url))
        code, body = _predict_fresh_connection(server.url, {"instances": instances(ROWS)})
        assert code == 200
        np.testing.assert_allclose(body["predictions"], want, rtol=1e-5)
        if answered == set(pids):
            break
    assert answered == set(pids)


def test_a_killed_worker_is_restarted_and_the_others_keep_serving(tmp_path, workers):
    write_lr_model(tmp_path / "lr" / "1", seed=2)
    server, pids = workers(
        "--model-dir", tmp_path / "lr", "--name", "lr", "--workers", "2", "--poll-seconds", "0.2"
    )
    os.kill(pids[0], signal.SIGKILL)
    _wait(lambda: not _alive(pids[0]), "the killed worker to exit")
    # while it is down, new connections are accepted by the other worker
    for _ in range(5):
        code, _ = _predict_fresh_connection(server.url, {"instances": instances(ROWS)})
        assert code == 200
    sup = server.proc.pid
    _wait(lambda: len(_children(sup)) == 2, "the supervisor to start a new worker")
    new = set(_children(sup)) - set(pids)
    assert len(new) == 1
    server.seen.extend(new)
    _wait(lambda: _answering_pid(server.url) in new, "the new worker to answer", timeout=90)
    # the supervisor's report reaches stderr_lines through the test's reader thread
    server.wait_for(
        lambda: any("worker 0 (pid" in ln and "SIGKILL" in ln for ln in server.stderr_lines),
        "the supervisor to report the SIGKILL",
    )


def test_sigterm_to_the_supervisor_stops_every_worker(tmp_path, workers):
    write_lr_model(tmp_path / "lr" / "1", seed=3)
    server, pids = workers("--model-dir", tmp_path / "lr", "--name", "lr", "--workers", "2")
    server.proc.send_signal(signal.SIGTERM)
    assert server.proc.wait(timeout=30) == 0
    assert not any(_alive(p) for p in pids)


def test_workers_exit_when_the_supervisor_is_killed(tmp_path, workers):
    write_lr_model(tmp_path / "lr" / "1", seed=4)
    server, pids = workers("--model-dir", tmp_path / "lr", "--workers", "2")
    cache = os.path.dirname(next(iter(_mapping_of(pids[0], ".npy")["paths"])))
    server.proc.kill()  # no chance to stop them: they notice the closed pipe
    server.proc.wait(timeout=10)
    _wait(lambda: not any(_alive(p) for p in pids), "orphaned workers to exit", timeout=30)
    assert not os.path.exists(cache)  # the last worker out removed the cache directory


def test_bad_worker_count_is_refused(tmp_path):
    write_lr_model(tmp_path / "lr" / "1", seed=5)
    cmd = [sys.executable, "-m", "miniflow.cli.main", "serve", "--model-dir", str(tmp_path / "lr")]
    r = subprocess.run(
        [*cmd, "--workers", "0"], capture_output=True, text=True, env=child_env(), timeout=60
    )
    assert r.returncode == 2 and "--workers must be >= 1, got 0" in r.stderr


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


def test_workers_map_one_copy_of_the_model(tmp_path, workers):
    n = 1 << 21  # 16 MiB of keys + 8 MiB of weights
    rng = np.random.default_rng(0)
    SparseLinearModel(np.arange(n), rng.normal(size=n), 0.5, 21).save(tmp_path / "big" / "1")
    size_kib = (tmp_path / "big" / "1" / "weights.npz").stat().st_size / 1024
    server, pids = workers("--model-dir", tmp_path / "big", "--name", "big", "--workers", "2")
    maps = [_mapping_of(p, ".npy") for p in pids]
    for m in maps:
        # the model's pages are those of its arrays extracted to the cache, not the heap
        assert len(m["paths"]) == 2  # keys and values
        assert not any(p.startswith(str(tmp_path)) for p in m["paths"])
        assert m["Rss"] >= 0.9 * size_kib
    assert maps[0]["paths"] == maps[1]["paths"]
    total_pss = sum(m["Pss"] for m in maps)
    assert 0.9 * size_kib <= total_pss <= 1.1 * size_kib  # one copy, split between them
    cache = os.path.dirname(next(iter(maps[0]["paths"])))
    server.proc.send_signal(signal.SIGTERM)
    assert server.proc.wait(timeout=30) == 0
    assert not os.path.exists(cache)  # the supervisor removes its cache directory


def test_overwriting_a_served_file_in_place_does_not_crash_the_server(tmp_path, start_server):
    """The worker maps a private copy: truncating the original (as ``cp`` over it does)
    cannot SIGBUS it; the broken version fails to load and the copy keeps serving."""
    write_lr_model(tmp_path / "lr" / "1", seed=6)
    want = lr_truth(tmp_path / "lr" / "1", ROWS)
    server = start_server(
        "--model-dir", tmp_path / "lr", "--name", "lr", "--poll-seconds", "0.1",
        "--model-cache-dir", tmp_path / "cache",
    )  # fmt: skip
    weights = tmp_path / "lr" / "1" / "weights.npz"
    with open(weights, "r+b") as f:  # same inode, truncated and rewritten
        f.truncate(0)
        f.write(b"PK\x03\x04 not a zip any more")
    server.wait_for(
        lambda: any("failed to load" in ln for ln in server.stderr_lines), "the load failure"
    )
    code, body = server.post("/v1/models/lr:predict", {"instances": instances(ROWS)})
    assert code == 200
    np.testing.assert_allclose(body["predictions"], want, rtol=1e-5)


def test_every_worker_follows_version_changes_under_load(tmp_path, workers):
    base = tmp_path / "lr"
    write_lr_model(base / "1", seed=10)
    server, _ = workers(
        "--model-dir", base, "--name", "lr", "--workers", "2", "--poll-seconds", "0.1"
    )
    truths = {1: lr_truth(base / "1", ROWS)}
    failures, answers = [], []
    stop = threading.Event()

    def client():
        while not stop.is_set():
            try:  # a new connection per request, so both workers get traffic
                status, body = http_call(
                    "POST", server.url + "/v1/models/lr:predict", {"instances": instances(ROWS)}
                )
            except Exception as e:  # noqa: BLE001  a dropped connection is a failure too
                failures.append(repr(e))
                continue
            if status != 200:
                failures.append((status, body))
            else:
                answers.append(body["predictions"])

    threads = [threading.Thread(target=client) for _ in range(3)]
    for t in threads:
        t.start()
    try:

        def serving_everywhere(truth) -> bool:
            seen = []
            for _ in range(8):
                _, body = http_call(
                    "POST", server.url + "/v1/models/lr:predict", {"instances": instances(ROWS)}
                )
                seen.append(np.allclose(body["predictions"], truth, rtol=1e-5))
            return all(seen)

        write_lr_model(base / "2", seed=11)
        truths[2] = lr_truth(base / "2", ROWS)
        _wait(lambda: serving_everywhere(truths[2]), "every worker to serve version 2")
        shutil.rmtree(base / "2")  # the served version vanishes: back to 1, no gap
        _wait(lambda: serving_everywhere(truths[1]), "every worker to fall back to 1")
        write_lr_model(base / "3", seed=12)
        truths[3] = lr_truth(base / "3", ROWS)
        _wait(lambda: serving_everywhere(truths[3]), "every worker to serve version 3")
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)
    assert failures == []
    assert len(answers) > 20
    for a in answers:
        assert any(np.allclose(a, t, rtol=1e-5) for t in truths.values()), a


# -- in process: the mapped model files and adaptive batching ---------------------------
def _save(path, **arrays) -> str:
    np.savez(path, **arrays)
    return str(path)


def test_load_npz_maps_every_member_aligned(tmp_path):
    keys = np.arange(0, 3000, 3, dtype=np.int64)
    vals = np.linspace(-1, 1, len(keys)).astype(np.float32)
    np.savez(tmp_path / "plain.npz", keys=keys, values=vals)
    np.savez_compressed(tmp_path / "packed.npz", keys=keys, values=vals)
    model_files.configure(str(tmp_path / "cache"))
    try:
        plain, files = model_files.load_npz(str(tmp_path / "plain.npz"))
        assert isinstance(plain["keys"], np.memmap) and len(files) == 2
        assert all(f.startswith(str(tmp_path / "cache")) for f in files)
        assert plain["keys"].flags.aligned and plain["values"].flags.aligned
        np.testing.assert_array_equal(plain["keys"], keys)
        np.testing.assert_array_equal(plain["values"], vals)
        packed, files2 = model_files.load_npz(str(tmp_path / "packed.npz"))
        assert isinstance(packed["keys"], np.memmap)  # extracted, so mapped too
        np.testing.assert_array_equal(packed["values"], vals)
        model_files.release(files)
        assert not any(os.path.exists(f) for f in files)
        np.testing.assert_array_equal(plain["keys"], keys)  # the mapping outlives the file
        empty, _ = model_files.load_npz(_save(tmp_path / "empty.npz", keys=keys[:0]))
        assert empty["keys"].shape == (0,)
        (tmp_path / "bad.npz").write_bytes(b"not a zip")
        with pytest.raises(ValueError, match=r"bad\.npz: not a readable \.npz"):
            model_files.load_npz(str(tmp_path / "bad.npz"))
        objects = _save(tmp_path / "obj.npz", keys=np.array([{"a": 1}], dtype=object))
        with pytest.raises(ValueError, match="Python objects"):
            model_files.load_npz(objects)
    finally:
        model_files.configure(None)


def test_unsorted_or_duplicate_keys(tmp_path):
    model = tmp_path / "1"
    write_lr_model(model, seed=20)
    with np.load(model / "weights.npz") as z:
        keys, vals = z["keys"], z["values"]
    rows = [([int(keys[0]), int(keys[5])], [1.0, 2.0])]
    want = lr_truth(model, rows)
    np.savez(model / "weights.npz", keys=keys[::-1], values=vals[::-1])
    servable = SparseLRServable.load(str(model))  # sorted in memory, same answers
    sig = servable.signature_defs["serving_default"]
    out = servable.predict("serving_default", decode_instances(instances(rows), sig))
    np.testing.assert_allclose(out["probabilities"], want, rtol=1e-6)
    np.savez(model / "weights.npz", keys=np.r_[keys, keys[:1]], values=np.r_[vals, vals[:1]])
    with pytest.raises(ModelLoadError, match="failed to load sparse_lr model.*appears twice"):
        load_servable(str(model))


def test_adaptive_batching_merges_only_what_queued_while_busy(tmp_path):
    model = write_lr_model(tmp_path / "1", seed=21)
    servable = SparseLRServable.load(str(model))
    sig = servable.signature_defs["serving_default"]
    release, calls = threading.Event(), []

    def run(name, inputs):
        calls.append(len(inputs["indices"]))
        if len(calls) == 1:
            release.wait(30)  # the first call is busy while two more requests queue
        return servable.predict(name, inputs)

    batcher = MicroBatcher(run, max_batch_size=8, timeout_s=0.0)
    rows = [random_rows(30 + i, 1) for i in range(3)]
    try:
        with ThreadPoolExecutor(3) as pool:
            first = pool.submit(
                batcher.predict, "serving_default", decode_instances(instances(rows[0]), sig), 1
            )
            _wait(lambda: calls == [1], "the first call to start")
            rest = [
                pool.submit(
                    batcher.predict, "serving_default", decode_instances(instances(r), sig), 1
                )
                for r in rows[1:]
            ]
            _wait(lambda: len(batcher._queue) == 2, "two requests to queue")
            release.set()
            results = [first.result(30)] + [f.result(30) for f in rest]
    finally:
        batcher.close()
    assert calls == [1, 2]  # no wait for the first; the two queued ones merged
    for r, out in zip(rows, results, strict=True):
        np.testing.assert_allclose(out["probabilities"], lr_truth(model, r), rtol=1e-6)


def test_workers_without_mapping_read_the_model_into_memory(tmp_path, workers):
    """``--model-cache-dir none`` reads the model into each worker (no mapping)."""
    write_lr_model(tmp_path / "lr" / "1", seed=22)
    server, pids = workers(
        "--model-dir",
        tmp_path / "lr",
        "--name",
        "lr",
        "--workers",
        "2",
        "--model-cache-dir",
        "none",
    )
    assert all(not _mapping_of(p, ".npy")["paths"] for p in pids)
    code, body = server.post("/v1/models/lr:predict", {"instances": instances(ROWS)})
    assert code == 200
    np.testing.assert_allclose(body["predictions"], lr_truth(tmp_path / "lr" / "1", ROWS), 1e-5)
