"""Capacity and quota arithmetic of the platform (usage.py), at its boundaries: a request
exactly at capacity or quota fits, one unit more does not; GPUs are handed out only when
free; disk usage counts sparse files, tiny files and directories without following
symlinks."""

from __future__ import annotations

import os

import pytest

from miniflow_platform.config import Settings
from miniflow_platform.errors import InvalidRequest
from miniflow_platform.usage import (
    Held,
    Usage,
    allocate,
    check_possible,
    over_quota,
    tree_bytes,
)


def _settings(tmp_path, **kw):
    base = {"capacity_cpu": 4.0, "capacity_memory_mb": 1000, "gpus": ["0", "1", "2"]}
    return Settings(data_dir=tmp_path, **{**base, **kw})


def test_held_sums_what_runs_and_counts_only_jobs():
    held = Held()
    held.add(1.5, 100, ["0"], is_job=True)
    held.add(0.5, 50, ["0", "2"], is_job=False)
    assert (held.cpu, held.memory_mb, held.gpus, held.running_jobs) == (2.0, 150, {"0", "2"}, 1)
    usage = Usage(Held(), {})
    usage.user(7).add(1.0, 10, [], is_job=True)
    assert usage.user(7).running_jobs == 1 and usage.user(8).cpu == 0.0


def test_check_possible_accepts_the_exact_capacity_and_names_every_excess(tmp_path):
    s = _settings(tmp_path, quota_cpu=2.0, quota_memory_mb=500, quota_gpu=1)
    check_possible(s, 2.0, 500, 1)  # exactly the quotas (below capacity)
    check_possible(_settings(tmp_path), 4.0, 1000, 3)  # exactly the capacity, no quotas
    with pytest.raises(InvalidRequest) as info:
        check_possible(s, 4.5, 1001, 4)
    msg = str(info.value)
    for part in (
        "cpu 4.5 > capacity 4.0",
        "memory_mb 1001 > capacity 1000",
        "gpu 4 > 3 GPUs configured",
        "cpu 4.5 > per-user quota 2.0",
        "memory_mb 1001 > per-user quota 500",
        "gpu 4 > per-user quota 1",
    ):
        assert part in msg
    for cpu, mem, gpu, part in (
        (2.5, 10, 0, "cpu 2.5 > per-user quota 2.0"),
        (1.0, 501, 0, "memory_mb 501 > per-user quota 500"),
        (1.0, 10, 2, "gpu 2 > per-user quota 1"),
    ):
        with pytest.raises(InvalidRequest, match=part) as info:
            check_possible(s, cpu, mem, gpu)
        assert "capacity" not in str(info.value)


@pytest.mark.parametrize(
    "quota, held, ask, why",
    [
        ({"quota_cpu": 2.0}, (1.5, 0, [], 0), (0.5, 0, 0, False), None),  # exactly full
        ({"quota_cpu": 2.0}, (1.5, 0, [], 0), (0.6, 0, 0, False), "cpu quota 2.0 reached"),
        ({"quota_cpu": 0.3}, (0.1, 0, [], 0), (0.2, 0, 0, False), None),  # 0.1 + 0.2 > 0.3
        ({"quota_cpu": 2.0}, (2.0, 0, [], 0), (1e-9, 0, 0, False), None),  # at the tolerance
        ({"quota_cpu": 2.0}, (2.0, 0, [], 0), (2e-9, 0, 0, False), "cpu quota 2.0"),
        ({"quota_memory_mb": 100}, (0, 60, [], 0), (0, 40, 0, False), None),
        ({"quota_memory_mb": 100}, (0, 60, [], 0), (0, 41, 0, False), "memory quota 100"),
        ({"quota_gpu": 2}, (0, 0, ["0"], 0), (0, 0, 1, False), None),
        ({"quota_gpu": 2}, (0, 0, ["0"], 0), (0, 0, 2, False), "gpu quota 2 reached"),
        ({"quota_running_jobs": 2}, (0, 0, [], 1), (0, 0, 0, True), None),
        ({"quota_running_jobs": 2}, (0, 0, [], 2), (0, 0, 0, True), "running-jobs quota 2"),
        ({"quota_running_jobs": 2}, (0, 0, [], 2), (0, 0, 0, False), None),  # not a job
        ({}, (100.0, 10**6, ["0", "1"], 50), (8.0, 10**6, 3, True), None),  # no quotas
    ],
)
def test_over_quota_at_the_boundary(tmp_path, quota, held, ask, why):
    h = Held(held[0], held[1], set(held[2]), held[3])
    got = over_quota(_settings(tmp_path, **quota), h, *ask)
    if why is None:
        assert got is None
    else:
        assert got is not None and got.startswith(why)


def test_allocate_hands_out_free_gpus_only_when_everything_fits(tmp_path):
    s = _settings(tmp_path)
    assert allocate(s, Held(3.0, 900, {"1"}, 1), 1.0, 100, 2) == ["0", "2"]  # exactly full
    assert allocate(s, Held(0.0, 0, set(), 0), 0.0, 0, 0) == []
    assert allocate(s, Held(3.0, 900, {"1"}, 1), 1.1, 100, 0) is None  # cpu
    assert allocate(s, Held(3.0, 900, {"1"}, 1), 1.0, 101, 0) is None  # memory
    assert allocate(s, Held(0.0, 0, {"1"}, 1), 1.0, 1, 3) is None  # only two GPUs free
    assert allocate(s, Held(0.1, 0, set(), 0), 3.9, 0, 1) == ["0"]  # float sum at capacity
    assert allocate(s, Held(4.0, 0, set(), 0), 1e-9, 0, 0) == []  # at the tolerance
    assert allocate(s, Held(4.0, 0, set(), 0), 2e-9, 0, 0) is None


def test_tree_bytes_counts_files_and_blocks_and_skips_symlinks(tmp_path):
    root = tmp_path / "job"
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / "a.bin").write_bytes(b"x" * 10_000)
    (root / "sub" / "deeper" / "b.txt").write_bytes(b"y" * 3)
    sparse = root / "sparse.img"
    with open(sparse, "wb") as f:
        f.truncate(50_000_000)  # apparent size, almost no blocks
    outside = tmp_path / "outside.bin"
    outside.write_bytes(b"z" * 1_000_000)
    os.symlink(outside, root / "link")
    (tmp_path / "outside_dir").mkdir()
    (tmp_path / "outside_dir" / "big.bin").write_bytes(b"w" * 2_000_000)
    os.symlink(tmp_path / "outside_dir", root / "dirlink")
    want = 0
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            st = os.lstat(os.path.join(dirpath, name))
            want += max(st.st_size, st.st_blocks * 512)
    assert tree_bytes(root) == want
    assert 50_000_000 + 10_000 <= want < 50_000_000 + 1_000_000  # not the link's target
    assert tree_bytes(tmp_path / "missing") == 0
