"""Workers read their own input (issue 17): `miniflow lr train --ps-shards` writes no
partition files and reads no rows centrally, and a sync job still equals single-process
training, because every worker cuts the same global steps and keeps its own slice."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np

from miniflow.ml.data import read_libsvm
from miniflow.ml.source import DataSource
from miniflow.ps import PSConfig, PSJob
from miniflow.ps.partition import (
    Partitions,
    StreamedInput,
    open_input,
    read_partition,
    write_partitions,
)


def _lr(*args, timeout=300):
    cmd = [sys.executable, "-m", "miniflow", "lr", "train", "--no-progress", *map(str, args)]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def test_each_workers_slices_are_exactly_its_partition_file(ctr, tmp_path):
    """The streamed cut equals the coordinator's partitioning, step by step and row by
    row (so the two ways to feed workers train the same model)."""
    parts = write_partitions(ctr.train(), tmp_path / "p", 3, 700, dims_log2=ctr.dims_log2)
    streamed = StreamedInput([str(ctr.train_path)], "auto", ctr.dims_log2, 3, 700)
    for w in range(3):
        want = list(read_partition(parts.path(w)))
        got = list(open_input(json.loads(json.dumps(streamed.path(w))))())  # via JSON
        assert len(got) == len(want) == parts.steps
        for a, b in zip(got, want, strict=True):
            np.testing.assert_array_equal(a.indptr - a.indptr[0], b.indptr)
            np.testing.assert_array_equal(a.indices, b.indices)
            np.testing.assert_array_equal(a.labels, b.labels)


def test_a_file_source_is_read_by_the_workers_and_any_other_stream_is_partitioned(
    ctr, reference, tmp_path
):
    cfg = dict(num_shards=2, num_workers=2, dims_log2=ctr.dims_log2, batch_size=ctr.batch_size)
    streamed = PSJob(PSConfig(**cfg, job_dir=str(tmp_path / "a"))).run(
        DataSource(ctr.train_path, ctr.dims_log2), progress=False
    )
    assert isinstance(streamed.partitions, StreamedInput)
    assert not (tmp_path / "a" / "partitions").exists()
    parted = PSJob(PSConfig(**cfg, job_dir=str(tmp_path / "b"))).run(ctr.train(), progress=False)
    assert isinstance(parted.partitions, Partitions)
    assert (tmp_path / "b" / "partitions" / "worker-0.frames").exists()
    for r in (streamed, parted):
        assert reference.max_weight_diff(r.model) < 1e-5
        assert r.lost["of_rows"] == ctr.rows and r.lost["rows"] == 0
    # the workers told the shards what their input held: 40,000 rows, 79 steps of 512
    inputs = streamed.shard_stats[0]["inputs"]
    assert sorted(inputs) == ["0", "1"] and sum(r for r, _ in inputs.values()) == ctr.rows
    assert streamed.lost["of_steps"] == parted.partitions.steps


def test_cli_process_job_writes_no_partitions_and_equals_single_process(ctr, tmp_path):
    common = ["--train", ctr.train_path, "--test", ctr.test_path,
              "--dims-log2", ctr.dims_log2, "--batch-size", ctr.batch_size]  # fmt: skip
    single = _lr(*common)
    sharded = _lr(*common, "--ps-shards", 2, "--workers", 3, "--backend", "process",
                  "--job-dir", tmp_path / "job")  # fmt: skip
    assert single.returncode == 0 and sharded.returncode == 0, sharded.stderr
    a, b = json.loads(single.stdout), json.loads(sharded.stdout)
    assert abs(a["test"]["auc"] - b["test"]["auc"]) < 1e-4
    assert b["train_rows"] == ctr.rows
    assert not (tmp_path / "job" / "partitions").exists()
    # every worker read the input itself: each logged its own finish
    for w in range(3):
        assert "finished" in (tmp_path / "job" / f"worker-{w}.log").read_text()


def test_a_bad_row_deep_in_the_input_fails_the_job_in_one_line_without_retries(ctr, tmp_path):
    """The coordinator checks only the first block; a worker that meets a bad row later
    exits 2 with the file and line, and the job fails at once (a replacement would read
    the same row)."""
    lines = ctr.train_path.read_text().splitlines()
    bad_at = len(lines) - 3
    k = lines[bad_at].split()
    lines[bad_at] = " ".join([k[0], k[1].split(":")[0] + ":nan", *k[2:]])
    path = tmp_path / "bad.svm"
    path.write_text("\n".join(lines) + "\n")
    assert path.stat().st_size > 2 << 20  # beyond the first 1 MiB block
    out = _lr("--train", path, "--dims-log2", ctr.dims_log2, "--batch-size", 4096,
              "--ps-shards", 2, "--workers", 2, "--backend", "process",
              "--job-dir", tmp_path / "job")  # fmt: skip
    assert out.returncode == 2 and out.stdout == ""
    err = out.stderr.strip().splitlines()
    assert len(err) == 1, out.stderr
    assert err[0].startswith("miniflow lr train: error: ")
    assert f"bad.svm:{bad_at + 1}" in err[0] and "nan" in err[0], err[0]


def test_an_empty_or_missing_input_is_refused_before_anything_starts(ctr, tmp_path):
    (tmp_path / "empty.svm").write_text("")
    for path in (tmp_path / "empty.svm", tmp_path / "missing.svm"):
        out = _lr("--train", path, "--dims-log2", 20, "--batch-size", 64, "--ps-shards", 2,
                  "--backend", "process", "--job-dir", tmp_path / "job")  # fmt: skip
        assert out.returncode == 2 and out.stdout == "", out.stderr
        assert len(out.stderr.strip().splitlines()) == 1, out.stderr
        assert path.name in out.stderr
        assert not (tmp_path / "job" / "shards.json").exists()  # nothing was started


def test_streamed_input_reads_several_files_in_order(ctr, tmp_path):
    text = ctr.train_path.read_text().splitlines(keepends=True)
    (tmp_path / "a.svm").write_text("".join(text[:15_000]))
    (tmp_path / "b.svm").write_text("".join(text[15_000:]))
    two = StreamedInput([str(tmp_path / "a.svm"), str(tmp_path / "b.svm")], "libsvm", 20, 1, 10**9)
    got = np.concatenate([b.labels for b in two.source()])
    want = np.concatenate([b.labels for b in read_libsvm(ctr.train_path, 20)])
    np.testing.assert_array_equal(got, want)
