"""`miniflow predict`: streamed offline prediction equals in-process prediction; bad rows."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys

import numpy as np
import pytest
from serving_helpers import (
    DIMS_LOG2,
    child_env,
    libsvm_line,
    lr_truth,
    random_rows,
    write_lr_model,
)

from miniflow.cli.predict import main


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    base = tmp_path_factory.mktemp("model")
    write_lr_model(base / "1", seed=1)
    write_lr_model(base / "3", seed=3)  # the newest: used when --model-dir is the base
    return base


def _libsvm(rows, label=1):
    return "".join(libsvm_line(idx, val, label) + "\n" for idx, val in rows)


def _read_txt(path):
    return [float(x) for x in path.read_text().splitlines()]


def test_libsvm_files_and_glob_in_order(model, tmp_path):
    parts = [random_rows(10 + k, 7) for k in range(3)]
    for k, rows in enumerate(parts):
        (tmp_path / f"part-{k}.svm").write_text(_libsvm(rows))
    out = tmp_path / "pred.txt"
    rc = main(
        [
            "--model-dir",
            str(model),
            "--input",
            str(tmp_path / "part-*.svm"),
            "--output",
            str(out),
            "--batch-size",
            "3",
            "--no-progress",
        ]
    )
    assert rc == 0
    want = [p for rows in parts for p in lr_truth(model / "3", rows)]
    np.testing.assert_allclose(_read_txt(out), want, rtol=1e-6)
    assert not (tmp_path / "pred.txt.partial").exists()


def test_gzip_comments_blank_lines_and_version_dir(model, tmp_path):
    rows = random_rows(5, 6)
    text = "# header comment\n" + _libsvm(rows[:3]) + "\n" + _libsvm(rows[3:])
    src = tmp_path / "in.svm.gz"
    src.write_bytes(gzip.compress(text.encode()))
    out = tmp_path / "pred.txt"
    assert (
        main(
            [
                "--model-dir",
                str(model / "1"),
                "--input",
                str(src),
                "--output",
                str(out),
                "--no-progress",
            ]
        )
        == 0
    )
    np.testing.assert_allclose(_read_txt(out), lr_truth(model / "1", rows), rtol=1e-6)


def test_csv_dense_rows(model, tmp_path):
    rng = np.random.default_rng(0)
    X = np.where(rng.random((9, 40)) < 0.2, np.round(rng.normal(size=(9, 40)), 3), 0.0)
    lines = ["c" + ",c".join(str(j) for j in range(40))]  # a header line
    lines += [",".join(repr(float(x)) for x in row) for row in X]
    (tmp_path / "x.csv").write_text("\n".join(lines) + "\n")
    out = tmp_path / "pred.jsonl"
    assert (
        main(
            [
                "--model-dir",
                str(model),
                "--input",
                str(tmp_path / "x.csv"),
                "--format",
                "csv",
                "--output",
                str(out),
                "--no-progress",
            ]
        )
        == 0
    )
    rows = [(np.flatnonzero(r).tolist(), r[np.flatnonzero(r)].tolist()) for r in X]
    got = [json.loads(line) for line in out.read_text().splitlines()]
    np.testing.assert_allclose(got, lr_truth(model / "3", rows), rtol=1e-6)


def test_jsonl_instances_with_two_outputs(model, tmp_path):
    rows = random_rows(7, 5)
    (tmp_path / "x.jsonl").write_text(
        "".join(json.dumps({"indices": i, "values": v}) + "\n" for i, v in rows)
    )
    out = tmp_path / "pred.jsonl"
    assert (
        main(
            [
                "--model-dir",
                str(model),
                "--input",
                str(tmp_path / "x.jsonl"),
                "--format",
                "jsonl",
                "--signature-name",
                "predict",
                "--output",
                str(out),
                "--no-progress",
            ]
        )
        == 0
    )
    got = [json.loads(line) for line in out.read_text().splitlines()]
    np.testing.assert_allclose(
        [g["probabilities"] for g in got], lr_truth(model / "3", rows), rtol=1e-6
    )
    np.testing.assert_allclose(
        [g["logits"] for g in got], lr_truth(model / "3", rows, True), rtol=1e-5, atol=1e-6
    )


def _with_bad_rows(tmp_path):
    rows = random_rows(8, 8)
    lines = _libsvm(rows).splitlines()
    lines.insert(2, "1 4:1 oops:2")  # line 3
    lines.insert(6, "0 7:abc")  # line 7
    (tmp_path / "a.svm").write_text("\n".join(lines) + "\n")
    return rows


def test_bad_row_stops_with_line_number_and_leaves_only_a_partial_file(model, tmp_path, capsys):
    rows = _with_bad_rows(tmp_path)
    out = tmp_path / "pred.txt"
    rc = main(
        [
            "--model-dir",
            str(model),
            "--input",
            str(tmp_path / "a.svm"),
            "--output",
            str(out),
            "--batch-size",
            "4",
            "--no-progress",
        ]
    )
    assert rc == 1
    err = capsys.readouterr().err
    assert f"bad row at {tmp_path / 'a.svm'}:3: " in err
    assert "oops" in err and "--skip-bad-rows" in err
    assert not out.exists()
    partial = tmp_path / "pred.txt.partial"
    np.testing.assert_allclose(_read_txt(partial), lr_truth(model / "3", rows[:2]), rtol=1e-6)


def test_skip_bad_rows_writes_error_records_and_continues(model, tmp_path, capsys):
    rows = _with_bad_rows(tmp_path)
    out = tmp_path / "pred.jsonl"
    rc = main(
        [
            "--model-dir",
            str(model),
            "--input",
            str(tmp_path / "a.svm"),
            "--output",
            str(out),
            "--batch-size",
            "4",
            "--skip-bad-rows",
            "--no-progress",
        ]
    )
    assert rc == 0
    assert "10 rows (2 bad, skipped)" in capsys.readouterr().err
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == 10
    src = str(tmp_path / "a.svm")
    assert records[2]["line"] == 3 and records[2]["source"] == src
    assert "oops" in records[2]["error"]
    assert records[6]["line"] == 7 and records[6]["source"] == src
    assert "abc" in records[6]["error"]
    good = [r for k, r in enumerate(records) if k not in (2, 6)]
    np.testing.assert_allclose(good, lr_truth(model / "3", rows), rtol=1e-6)


def test_text_output_error_record(model, tmp_path):
    (tmp_path / "a.jsonl").write_text(
        f'{{"indices": [1], "values": [2.0]}}\n{{"indices": [{1 << DIMS_LOG2}], "values": [1.0]}}\n'
    )
    out = tmp_path / "pred.txt"
    assert (
        main(
            [
                "--model-dir",
                str(model),
                "--input",
                str(tmp_path / "a.jsonl"),
                "--format",
                "jsonl",
                "--output",
                str(out),
                "--skip-bad-rows",
                "--no-progress",
            ]
        )
        == 0
    )
    first, second = out.read_text().splitlines()
    assert float(first) == pytest.approx(lr_truth(model / "3", [([1], [2.0])])[0], rel=1e-6)
    assert second == (
        f"ERROR\t{tmp_path / 'a.jsonl'}:2: feature index 1024 is out "
        "of range [0, 1024) (the model has 2^10 features)"
    )


def test_usage_errors(model, tmp_path, capsys):
    assert (
        main(
            [
                "--model-dir",
                str(model),
                "--input",
                str(tmp_path / "none-*.svm"),
                "--output",
                str(tmp_path / "o.txt"),
            ]
        )
        == 2
    )
    assert "matches no file" in capsys.readouterr().err
    assert (
        main(
            [
                "--model-dir",
                str(tmp_path),
                "--input",
                str(tmp_path),
                "--output",
                str(tmp_path / "o.txt"),
            ]
        )
        == 2
    )
    assert "no model found" in capsys.readouterr().err


def test_through_the_miniflow_command_with_progress(model, tmp_path):
    rows = random_rows(9, 4)
    (tmp_path / "a.svm").write_text(_libsvm(rows))
    out = tmp_path / "pred.txt"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "miniflow.cli.main",
            "predict",
            "--model-dir",
            str(model),
            "--input",
            str(tmp_path / "a.svm"),
            "--output",
            str(out),
        ],
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "rows/s" in proc.stderr
    np.testing.assert_allclose(_read_txt(out), lr_truth(model / "3", rows), rtol=1e-6)


def test_model_trained_by_miniflow_lr_predicts_like_its_weights(tmp_path, capsys):
    from sklearn.datasets import load_svmlight_file

    from miniflow.cli.main import main as miniflow

    data = tmp_path / "d.svm"
    assert (
        miniflow(
            [
                "data",
                "gen-ctr",
                "--rows",
                "3000",
                "--dims-log2",
                "12",
                "--fields",
                "6",
                "--max-vocab",
                "500",
                "--out",
                str(data),
            ]
        )
        == 0
    )
    assert (
        miniflow(
            [
                "lr",
                "train",
                "--train",
                str(data),
                "--dims-log2",
                "12",
                "--model-out",
                str(tmp_path / "ctr" / "1"),
                "--no-progress",
            ]
        )
        == 0
    )
    out = tmp_path / "pred.txt"
    assert (
        main(
            [
                "--model-dir",
                str(tmp_path / "ctr"),
                "--input",
                str(data),
                "--output",
                str(out),
                "--batch-size",
                "512",
                "--no-progress",
            ]
        )
        == 0
    )
    capsys.readouterr()
    X, _ = load_svmlight_file(str(data), n_features=1 << 12, zero_based=True)
    rows = [
        (
            X.indices[X.indptr[i] : X.indptr[i + 1]].tolist(),
            X.data[X.indptr[i] : X.indptr[i + 1]].tolist(),
        )
        for i in range(X.shape[0])
    ]
    np.testing.assert_allclose(_read_txt(out), lr_truth(tmp_path / "ctr" / "1", rows), rtol=1e-6)
