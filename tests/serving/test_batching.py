"""Micro-batching: concurrent requests merged into one model call, in process and over HTTP."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from serving_helpers import instances, lr_truth, random_rows, write_lr_model

from miniflow.serving.batching import MicroBatcher
from miniflow.serving.codec import decode_instances
from miniflow.serving.errors import InvalidRequest
from miniflow.serving.sparse_lr import SparseLRServable


def test_batcher_merges_requests_and_splits_results(tmp_path):
    model_dir = write_lr_model(tmp_path / "1", seed=3)
    servable = SparseLRServable.load(str(model_dir))
    sig = servable.signature_defs["serving_default"]
    calls = []

    def run(name, inputs):
        calls.append(len(inputs["indices"]))
        return servable.predict(name, inputs)

    # A long timeout: the batch is released by filling up to 6 rows, not by the clock.
    batcher = MicroBatcher(run, max_batch_size=6, timeout_s=30.0)
    requests = [random_rows(i, n) for i, n in enumerate([1, 2, 3])]
    try:
        with ThreadPoolExecutor(3) as pool:
            futures = [
                pool.submit(
                    batcher.predict,
                    "serving_default",
                    decode_instances(instances(rows), sig),
                    len(rows),
                )
                for rows in requests
            ]
            results = [f.result(timeout=60) for f in futures]
    finally:
        batcher.close()
    assert calls == [6]
    for rows, out in zip(requests, results, strict=True):
        np.testing.assert_allclose(out["probabilities"], lr_truth(model_dir, rows), rtol=1e-6)


def test_a_bad_request_in_a_batch_fails_alone(tmp_path):
    model_dir = write_lr_model(tmp_path / "1", seed=4)
    servable = SparseLRServable.load(str(model_dir))
    sig = servable.signature_defs["serving_default"]
    batcher = MicroBatcher(servable.predict, max_batch_size=3, timeout_s=30.0)
    good = [random_rows(10, 1), random_rows(11, 1)]
    bad = [([5000], [1.0])]  # id beyond 2^10
    try:
        with ThreadPoolExecutor(3) as pool:
            futures = [
                pool.submit(
                    batcher.predict, "serving_default", decode_instances(instances(r), sig), 1
                )
                for r in (good[0], bad, good[1])
            ]
            errors = [f.exception(timeout=60) for f in futures]
    finally:
        batcher.close()
    assert isinstance(errors[1], InvalidRequest)
    assert str(errors[1]) == (
        "instance 0: feature index 5000 is out of range [0, 1024) (the model has 2^10 features)"
    )
    assert errors[0] is None and errors[2] is None
    for f, rows in ((futures[0], good[0]), (futures[2], good[1])):
        np.testing.assert_allclose(
            f.result()["probabilities"], lr_truth(model_dir, rows), rtol=1e-6
        )


def test_server_batches_concurrent_requests(tmp_path, start_server):
    model_dir = write_lr_model(tmp_path / "1", seed=5)
    server = start_server(
        "--model-dir",
        tmp_path,
        "--name",
        "ctr",
        "--batch-max-size",
        "4",
        "--batch-timeout-ms",
        "30000",
    )
    requests = [random_rows(20 + i, 1) for i in range(4)]
    barrier = threading.Barrier(4)

    def send(rows):
        barrier.wait()
        return server.post("/v1/models/ctr:predict", {"instances": instances(rows)})

    with ThreadPoolExecutor(4) as pool:
        replies = list(pool.map(send, requests))
    for rows, (code, body) in zip(requests, replies, strict=True):
        assert code == 200
        np.testing.assert_allclose(body["predictions"], lr_truth(model_dir, rows), rtol=1e-6)
    _, metrics = server.get("/monitoring/prometheus/metrics")
    lines = metrics.splitlines()
    assert 'miniflow_serving_batch_size_count{model="ctr"} 1' in lines  # one model call
    assert 'miniflow_serving_batch_size_sum{model="ctr"} 4.0' in lines
