"""A standalone job's loss report (`miniflow ps report`, and `miniflow ps export`, which
applies `--max-lost-fraction`), and FM on hand-laid `miniflow ps` processes."""

from __future__ import annotations

import json
import os
import time

import numpy as np
import pytest
from test_standalone import Processes, split_for_workers

from miniflow.ml.data import concat_batches
from miniflow.ml.fm import FMTrainer
from miniflow.ml.fm_model import load_fm_model
from miniflow.ps.client import ShardClient
from miniflow.ps.standalone import identity_for, shard_addresses
from miniflow.ps.transport import SocketTransport


@pytest.fixture
def procs(tmp_path):
    ps = Processes(tmp_path / "job")
    try:
        yield ps
    finally:
        ps.stop()


def _init(procs, ctr, *extra):
    r = procs.run(
        "init", "--job-dir", procs.job_dir, "--shards", "2", "--workers", "2",
        "--dims-log2", str(ctr.dims_log2), "--batch-size", str(ctr.batch_size), *extra,
    )  # fmt: skip
    return json.loads(r.stdout)["job"]


def _done(p, timeout=240) -> dict:
    out, err = p.communicate(timeout=timeout)
    assert p.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])


def test_a_shard_restarted_without_checkpoint_is_reported_and_export_refuses(ctr, procs, tmp_path):
    job = _init(procs, ctr, "--checkpoint-every", "0", "--timeout", "120")
    inputs = split_for_workers(ctr, tmp_path)
    shards = [procs.shard(i) for i in range(2)]
    workers = [procs.worker(w, inputs[w], "--pace", "0.05") for w in range(2)]
    transport = SocketTransport(
        shard_addresses(procs.job_dir, 2, job), 30, identity=identity_for(procs.job_dir, job)
    )
    client = ShardClient(transport)
    deadline = time.monotonic() + 120
    while client.shard_stats(1)["version"] < 15:  # of ~80 steps of 50 ms
        assert time.monotonic() < deadline and all(w.poll() is None for w in workers)
        time.sleep(0.05)
    client.close()
    shards[1].kill()
    shards[1].wait()
    shards[1] = procs.shard(1)  # registered before: restarts EMPTY and joins the step
    for w in workers:
        _done(w)

    r = procs.run("report", "--job-dir", procs.job_dir, check=False)
    assert r.returncode == 1, r.stderr
    print(r.stderr, r.stdout)  # docs/ps.md quotes it
    report = json.loads(r.stdout)
    lost = report["lost"]
    assert report["job"] == job and report["complete"] and report["exceeded"]
    assert lost["of_rows"] == ctr.rows and lost["of_steps"] == -(-ctr.rows // ctr.batch_size)
    s0, s1 = lost["shards"]
    assert s0["lost_rows"] == 0 and s0["lost_steps"] == 0
    # killed at version >= 15: steps 0-14 applied; the workers' re-sent pushes of the last
    # step can bring that one back, so at least 14 are gone
    assert s1["restored_from"] == "EMPTY state" and s1["lost_steps"] >= 14
    assert s1["lost_rows"] == s1["lost_steps"] * ctr.batch_size  # every lost step was full
    assert lost["fraction"] == pytest.approx(s1["lost_rows"] / ctr.rows) and lost["fraction"] > 0.05
    assert "LOST: shard 1 lost its updates of" in r.stderr
    assert "above --max-lost-fraction 0.05" in r.stderr

    # export applies the same bound: nothing is written
    r = procs.run("export", "--job-dir", procs.job_dir, "--out", str(tmp_path / "m"), check=False)
    assert r.returncode == 1 and json.loads(r.stdout)["error"]
    assert not (tmp_path / "m").exists()
    # ... unless the operator accepts the loss
    r = procs.run("export", "--job-dir", procs.job_dir, "--out", str(tmp_path / "m"),
                  "--max-lost-fraction", "1")  # fmt: skip
    assert json.loads(r.stdout)["lost"]["rows"] == s1["lost_rows"]
    assert (tmp_path / "m" / "model.json").exists()
    assert shard_addresses(procs.job_dir, 2, job)[1] is not None


def test_fm_on_hand_laid_processes_equals_the_single_process_trainer(ctr, procs, tmp_path):
    _init(procs, ctr, "--model", "fm", "--factors", "3", "--checkpoint-every", "5")
    inputs = split_for_workers(ctr, tmp_path)
    for i in range(2):
        procs.shard(i)
    workers = [procs.worker(w, inputs[w]) for w in range(2)]
    assert sum(_done(w)["rows"] for w in workers) == ctr.rows
    r = procs.run("report", "--job-dir", procs.job_dir)
    report = json.loads(r.stdout)
    assert report["complete"] and report["lost"]["rows"] == 0 and not report["exceeded"]
    assert report["lost"]["of_rows"] == ctr.rows == report["train_rows"]
    r = procs.run("export", "--job-dir", procs.job_dir, "--out", str(tmp_path / "fm"))
    assert json.loads(r.stdout)["kind"] == "fm"
    got = load_fm_model(tmp_path / "fm")
    # the reference: FM over the whole input as one stream, global steps of 512 rows
    ref = FMTrainer(ctr.dims_log2, "ftrl", factors=3, batch_size=ctr.batch_size)
    ref.fit([concat_batches(list(ctr.train()))], progress=False)
    want = ref.to_model()
    np.testing.assert_array_equal(got.row_keys, want.row_keys)
    np.testing.assert_allclose(got.factors, want.factors, atol=1e-5)
    assert abs(ctr.auc(got) - ctr.auc(want)) < 1e-4
    assert os.path.exists(os.path.join(procs.job_dir, "shard-0.ckpt.npz"))
