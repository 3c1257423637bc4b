"""core/atomic_file.py: a failed or killed write leaves the old file intact and no
temporary file behind; its four former hand-written copies (PS checkpoints, the ML
cache, PS partitions, batch prediction) now go through it."""

import os
import signal
import stat
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from miniflow.core.atomic_file import AtomicFile, atomic_write


def _entries(directory):
    return sorted(os.listdir(directory))


def test_bytes_and_callable_writes_replace_the_file(tmp_path):
    path = tmp_path / "f.bin"
    atomic_write(path, b"first")
    atomic_write(path, lambda fh: fh.write(b"second"))
    assert path.read_bytes() == b"second"
    assert _entries(tmp_path) == ["f.bin"]


def test_a_failure_mid_write_leaves_the_old_file_and_no_temp(tmp_path):
    path = tmp_path / "f.bin"
    path.write_bytes(b"old")

    def half(fh):
        fh.write(b"new, but only half")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        atomic_write(path, half)
    assert path.read_bytes() == b"old"
    assert _entries(tmp_path) == ["f.bin"]
    with pytest.raises(KeyboardInterrupt), AtomicFile(path) as fh:  # Ctrl-C mid-write
        fh.write(b"partial")
        raise KeyboardInterrupt
    assert path.read_bytes() == b"old"
    assert _entries(tmp_path) == ["f.bin"]


def test_a_failed_rename_removes_the_temp(tmp_path):
    target = tmp_path / "dir_in_the_way"
    (target / "child").mkdir(parents=True)  # os.replace(file, non-empty dir) fails
    with pytest.raises(OSError):
        atomic_write(target, b"data")
    assert _entries(tmp_path) == ["dir_in_the_way"]


def test_streaming_writer_with_a_named_temp_kept_on_error(tmp_path):
    path, temp = tmp_path / "out.txt", tmp_path / "out.txt.partial"
    path.write_text("earlier run")
    with (
        pytest.raises(ValueError, match="bad row"),
        AtomicFile(path, "w", temp=temp, keep_on_error=True) as fh,
    ):
        fh.write("row 1\n")
        raise ValueError("bad row")
    assert path.read_text() == "earlier run"
    assert temp.read_text() == "row 1\n"  # kept, as the caller asked
    with AtomicFile(path, "w", temp=temp, keep_on_error=True) as fh:
        fh.write("row 1\nrow 2\n")
    assert path.read_text() == "row 1\nrow 2\n"
    assert not temp.exists()


def test_commit_abort_protocol_and_bad_arguments(tmp_path):
    f = AtomicFile(tmp_path / "a")
    f.write(b"x")
    f.abort()
    f.abort()  # idempotent
    with pytest.raises(ValueError, match="already committed or aborted"):
        f.commit()
    assert _entries(tmp_path) == []
    with pytest.raises(ValueError, match="must be in the directory"):
        AtomicFile(tmp_path / "a", temp=tmp_path / "sub" / "a.tmp")
    with pytest.raises(ValueError, match="mode must be"):
        AtomicFile(tmp_path / "a", "ab")
    with pytest.raises(FileNotFoundError):
        AtomicFile(tmp_path / "missing_dir" / "a")


def test_the_file_and_its_directory_are_fsynced(tmp_path, monkeypatch):
    kinds = []
    real = os.fsync

    def spy(fd):
        kinds.append("dir" if stat.S_ISDIR(os.fstat(fd).st_mode) else "file")
        real(fd)

    monkeypatch.setattr(os, "fsync", spy)
    atomic_write(tmp_path / "f", b"data")
    assert kinds == ["file", "dir"]  # the data before the rename, the rename after it


def test_a_killed_writer_leaves_the_old_file_intact(tmp_path):
    path = tmp_path / "model.bin"
    path.write_bytes(b"old model")
    child = textwrap.dedent(
        f"""
        import sys, time
        from miniflow.core.atomic_file import AtomicFile
        with AtomicFile({str(path)!r}) as fh:
            fh.write(b"new model, first half")
            fh.flush()
            print("writing", flush=True)
            time.sleep(60)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", child], stdout=subprocess.PIPE)
    try:
        assert proc.stdout.readline() == b"writing\n"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
    assert path.read_bytes() == b"old model"
    # the killed process could not clean up: its temp is hidden beside the file
    leftovers = [e for e in _entries(tmp_path) if e != "model.bin"]
    assert len(leftovers) == 1 and leftovers[0].startswith(".model.bin.")


# -- the former hand-written copies ------------------------------------------------------
class _Unserialisable:
    def __array__(self, dtype=None, copy=None):
        raise RuntimeError("cannot serialise")


def test_ps_checkpoint_failing_mid_write_keeps_the_previous_checkpoint(tmp_path):
    from miniflow.ps import checkpoint

    path = str(tmp_path / "shard.ckpt")
    checkpoint.write_atomic(path, {"keys": np.arange(3)}, {"version": 1})
    with pytest.raises(RuntimeError, match="cannot serialise"):
        checkpoint.write_atomic(path, {"keys": np.arange(5), "bad": _Unserialisable()}, {})
    arrays, meta = checkpoint.load(path)
    np.testing.assert_array_equal(arrays["keys"], np.arange(3))
    assert meta == {"version": 1}
    assert _entries(tmp_path) == ["shard.ckpt"]


def test_ml_cache_failing_mid_write_leaves_no_partial_and_keeps_the_old_cache(tmp_path):
    from miniflow.ml import cache
    from miniflow.ml.data import parse_libsvm

    path = tmp_path / "c.bin"
    good = parse_libsvm(b"1 3:1\n0 4:1\n")
    cache.write_cache(path, [good], dims_log2=8)
    before = path.read_bytes()

    def batches():
        yield good
        raise OSError("input vanished")

    with pytest.raises(OSError, match="input vanished"):
        cache.write_cache(path, batches(), dims_log2=8)
    assert path.read_bytes() == before
    assert cache.is_complete_cache(path, 8)
    assert _entries(tmp_path) == ["c.bin"]


def test_ps_partitions_interrupted_leave_no_partial_files(tmp_path):
    from miniflow.ml.data import parse_libsvm
    from miniflow.ps.partition import load_partitions, write_partitions

    good = parse_libsvm(b"1 3:1\n0 4:1\n1 5:1\n")
    write_partitions([good], tmp_path / "p", num_workers=2, batch_size=2)
    before = {e: (tmp_path / "p" / e).read_bytes() for e in _entries(tmp_path / "p")}

    def batches():
        yield good
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_partitions(batches(), tmp_path / "p", num_workers=2, batch_size=2)
    after = {e: (tmp_path / "p" / e).read_bytes() for e in _entries(tmp_path / "p")}
    assert after == before  # the complete earlier partitions, nothing else
    assert load_partitions(tmp_path / "p").rows == 3
