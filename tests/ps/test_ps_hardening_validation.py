"""Issue 17, "validation up front": every bad option or value of a parameter-server job
is one line on stderr and a nonzero exit, before any process starts (or, for bad rows,
before any is trained)."""

import pytest

from miniflow.cli.main import main
from miniflow.ps import PSConfig, PSJob


def _train(ctr, path, *extra):
    return [
        "lr",
        "train",
        "--train",
        str(path),
        "--dims-log2",
        str(ctr.dims_log2),
        "--no-progress",
        "--backend",
        "process",
        *extra,
    ]


@pytest.mark.parametrize(
    "extra, message",
    [
        (
            ["--ps-shards", "2", "--async", "--staleness", "-1"],
            "--staleness must be an integer >= 0, got -1",
        ),
        (
            ["--ps-shards", "0", "--workers", "4"],
            "--ps-shards (num_shards) must be an integer >= 1, got 0",
        ),
        (["--ps-shards", "2", "--workers", "0"], "--workers (num_workers) must be an integer >= 1"),
        (["--ps-shards", "2", "--epochs", "0"], "--epochs must be an integer >= 1, got 0"),
        (["--ps-shards", "2", "--dims-log2", "70"], "--dims-log2 must be an integer <= 62, got 70"),
        (["--ps-shards", "2", "--dims-log2", "0"], "--dims-log2 must be an integer >= 1, got 0"),
        (["--ps-shards", "2", "--staleness", "3"], "--staleness applies to async training only"),
        (["--ps-shards", "2", "--alpha", "nan"], "--alpha must be a finite number > 0, got nan"),
        (["--ps-shards", "2", "--l2", "-1"], "--l2 must be a finite number >= 0"),
        (
            ["--ps-shards", "2", "--checkpoint-every", "-5"],
            "--checkpoint-every must be an integer >= 0",
        ),
        (
            ["--ps-shards", "2", "--max-lost-fraction", "2"],
            "--max-lost-fraction must be a finite number >= 0 and <= 1",
        ),
        (["--ps-shards", "2", "--timeout", "0"], "--timeout must be a finite number > 0"),
        (
            ["--ps-shards", "2", "--worker-timeout", "400"],
            "--worker-timeout (400s) must be below --timeout (300s)",
        ),
        (["--ps-shards", "2", "--ray-cpus", "-1"], "--ray-cpus must be a finite number >= 0"),
        (["--ps-shards", "2", "--ray-cpus", "inf"], "--ray-cpus must be a finite number >= 0"),
    ],
)
def test_bad_options_are_one_line_errors(ctr, capsys, extra, message):
    argv = _train(ctr, ctr.train_path, *extra)
    if "--dims-log2" in extra:
        argv = argv[:4] + argv[6:]  # the case's own --dims-log2 only
    assert main(argv) == 2
    out = capsys.readouterr()
    assert out.out == ""
    assert out.err.startswith(f"miniflow lr train: error: {message}"), out.err  # opens the line
    assert len(out.err.strip().splitlines()) == 1 and "Traceback" not in out.err


@pytest.mark.parametrize(
    "content, pattern",
    [  # the reader (file:line) or the partitioner (row), whichever sees it first
        ("", r"no (data )?rows"),
        (
            "1 3:0.5\n0 5:nan 7:1\n",
            r"(bad.svm:2: .*'nan' is not a finite|row 1: feature value nan)",
        ),
        ("1 3:inf\n", r"(bad.svm:1: .*'inf' is not a finite|row 0: feature value inf)"),
    ],
)
def test_bad_input_rows_are_one_line_errors(ctr, tmp_path, capsys, content, pattern):
    import re

    path = tmp_path / "bad.svm"
    path.write_text(content)
    assert main(_train(ctr, path, "--ps-shards", "2", "--format", "libsvm")) == 2
    out = capsys.readouterr()
    lines = out.err.strip().splitlines()
    assert out.out == "" and len(lines) == 1 and lines[0].startswith("miniflow lr train: error: ")
    assert re.search(pattern, lines[0]), lines[0]


def test_a_missing_input_file_is_named(ctr, tmp_path, capsys):
    assert main(_train(ctr, tmp_path / "nope.svm", "--ps-shards", "2")) == 2
    assert "nope.svm: no such file" in capsys.readouterr().err


def test_api_checks_the_same_options_and_ids_out_of_range(ctr, tmp_path):
    with pytest.raises(ValueError, match="--staleness must be an integer >= 0"):
        PSJob(PSConfig(sync=False, staleness=-1))
    with pytest.raises(ValueError, match="--batch-size must be an integer >= 1, got 0"):
        PSJob(PSConfig(batch_size=0))
    import numpy as np

    from miniflow.ml.data import Batch
    from miniflow.ps.partition import write_partitions

    rows = [Batch(np.array([0, 1, 2]), np.array([5, 1 << 20]), None, np.array([1.0, 0.0]))]
    with pytest.raises(ValueError, match=r"row 1: feature id 1048576 is outside \[0, 2\*\*20\)"):
        write_partitions(rows, tmp_path / "p", 2, 8, dims_log2=20)
    rows = [Batch(np.array([0, 1]), np.array([-1]), None, np.array([1.0]))]
    with pytest.raises(ValueError, match="row 0: feature id -1 is outside"):  # never the bias
        write_partitions(rows, tmp_path / "p", 2, 8, dims_log2=20)
    rows = [Batch(np.array([0, 1]), np.array([3]), None, np.array([2.0]))]
    with pytest.raises(ValueError, match=r"row 0: label 2.0 is not in \[0, 1\]"):
        write_partitions(rows, tmp_path / "p", 2, 8, dims_log2=20)
    assert not list((tmp_path / "p").glob("*.part"))  # a refused input leaves no partials


def test_the_backend_names_checked_are_the_registered_backends():
    from miniflow.ps.backends import BACKENDS
    from miniflow.ps.validation import BACKEND_NAMES

    assert BACKEND_NAMES == tuple(BACKENDS)
    with pytest.raises(ValueError, match="unknown backend 'mpi'"):
        PSJob(PSConfig(backend="mpi"))
