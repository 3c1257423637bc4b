"""`miniflow predict` with bad rows: found by bisection (not by re-running the batch row
by row), reported with file and line, and a failed run never leaves an earlier run's
output looking like its own."""

from __future__ import annotations

import json

import numpy as np
import pytest
from serving_helpers import libsvm_line, lr_truth, random_rows, write_lr_model

from miniflow.cli.predict import main
from miniflow.serving.batch_predict import BadRowError, predict_files
from miniflow.serving.sparse_lr import SparseLRServable


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    base = tmp_path_factory.mktemp("model")
    return write_lr_model(base / "1", seed=1)


class CountingServable:
    """The real servable, counting model calls and the rows they carry."""

    def __init__(self, path):
        self.inner = SparseLRServable.load(str(path))
        self.signature_defs = self.inner.signature_defs
        self.dims_log2 = self.inner.dims_log2
        self.calls = self.rows = 0

    def predict(self, name, inputs):
        self.calls += 1
        self.rows += len(inputs["indices"])
        return self.inner.predict(name, inputs)

    def close(self):
        pass


def _file_with_bad_lines(path, n, bad_lines, fmt="libsvm"):
    """n rows; the 1-based lines in ``bad_lines`` are bad: unparsable (libsvm) or with
    a feature id the model refuses (jsonl: out of range, seen only by the model)."""
    rows = random_rows(9, n)
    lines = []
    for k, (idx, val) in enumerate(rows):
        if fmt == "libsvm":
            lines.append(f"1 {k}:x{k}" if k + 1 in bad_lines else libsvm_line(idx, val))
        elif k + 1 in bad_lines:
            lines.append(json.dumps({"indices": [1 << 20, k], "values": [1.0, 1.0]}))
        else:
            lines.append(json.dumps({"indices": idx, "values": val}))
    path.write_text("\n".join(lines) + "\n")
    return [row for k, row in enumerate(rows) if k + 1 not in bad_lines]


@pytest.mark.parametrize("fmt", ["libsvm", "jsonl"])
def test_bad_rows_are_found_without_rerunning_row_by_row(model, tmp_path, fmt):
    bad_lines = {1, 300, 301, 1000, 2048}  # first, adjacent pair, a middle one, last
    src = tmp_path / f"a.{fmt}"
    good = _file_with_bad_lines(src, 2048, bad_lines, fmt)
    servable = CountingServable(model)
    out = tmp_path / "pred.jsonl"
    summary = predict_files(
        servable,
        [str(src)],
        str(out),
        fmt=fmt,
        batch_size=256,
        skip_bad_rows=True,
        progress=False,
    )
    assert (summary.rows, summary.bad_rows) == (2048, 5)
    records = [json.loads(ln) for ln in out.read_text().splitlines()]
    assert len(records) == 2048
    errors = {k + 1: r for k, r in enumerate(records) if isinstance(r, dict)}
    assert set(errors) == bad_lines
    for line, r in errors.items():
        assert r["line"] == line and r["source"] == str(src)
        assert (f"x{line - 1}" if fmt == "libsvm" else "out of range") in r["error"]
        assert "instance" not in r["error"]
    np.testing.assert_allclose(
        [r for r in records if not isinstance(r, dict)], lr_truth(model, good), rtol=1e-6
    )
    # 8 groups, 4 of them with bad rows. Row by row that is over 4 x 255 model calls.
    # libsvm: the line check sends each bad line alone and the runs around it whole
    # (the bad lines never reach the model). jsonl: bisection, about 2 log2(256) calls
    # per bad row.
    if fmt == "libsvm":
        # 4 clean groups + one call per run of good lines: 1 (after line 1) + 2 (around
        # 300-301) + 2 (around 1000) + 1 (before 2048)
        assert servable.calls == 4 + 1 + 2 + 2 + 1 and servable.rows == 2048 - 5
    else:
        assert servable.calls < 8 + 5 * 2 * 8


def test_errors_name_the_file_and_line_across_files(model, tmp_path, capsys):
    _file_with_bad_lines(tmp_path / "a.svm", 10, set())
    (tmp_path / "b.jsonl").write_text(
        '{"indices": [1], "values": [1.0]}\n\n{"indices": [1], "values": [1.0]}\n'
        '{"indices": [1, 2], "values": [1.0]}\n'
    )
    with pytest.raises(BadRowError) as e:
        predict_files(
            CountingServable(model),
            [str(tmp_path / "b.jsonl")],
            str(tmp_path / "o.txt"),
            fmt="jsonl",
            batch_size=3,
            progress=False,
        )
    assert (e.value.source, e.value.line) == (str(tmp_path / "b.jsonl"), 4)
    assert e.value.message.startswith("'indices' and 'values' have different lengths")
    assert "instance" not in e.value.message  # no row number within a chunk


def test_a_failed_run_moves_the_earlier_output_aside(model, tmp_path, capsys):
    good = _file_with_bad_lines(tmp_path / "a.svm", 50, set())
    out = tmp_path / "pred.txt"
    args = ["--model-dir", str(model), "--output", str(out), "--no-progress"]
    assert main([*args, "--input", str(tmp_path / "a.svm")]) == 0
    first = out.read_text()
    np.testing.assert_allclose([float(x) for x in first.split()], lr_truth(model, good), rtol=1e-6)

    _file_with_bad_lines(tmp_path / "b.svm", 50, {20})
    capsys.readouterr()
    assert main([*args, "--input", str(tmp_path / "b.svm"), "--batch-size", "8"]) == 1
    err = capsys.readouterr().err
    assert f"bad row at {tmp_path / 'b.svm'}:20: " in err
    assert f"An earlier run's {out} was moved to {out}.stale" in err
    assert not out.exists()
    assert (tmp_path / "pred.txt.stale").read_text() == first
    assert len((tmp_path / "pred.txt.partial").read_text().splitlines()) == 19

    # a later successful run writes the output again (the stale file stays for the user)
    assert main([*args, "--input", str(tmp_path / "a.svm")]) == 0
    assert out.read_text() == first
