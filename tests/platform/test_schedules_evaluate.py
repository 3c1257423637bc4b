"""The evaluation workload (no server): a sparse LR model trained by the real `miniflow`
CLI, evaluated on the same rows as libsvm, CSV and TFRecord; metrics against sklearn.
Thresholds and the metric series (``model_metrics``) on a real SQLite database."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from sklearn.datasets import load_svmlight_file
from sklearn.metrics import accuracy_score, log_loss, roc_auc_score

from miniflow_platform.auth import service as auth_service
from miniflow_platform.config import Settings
from miniflow_platform.main import build_platform
from miniflow_platform.model_metrics import service as model_metrics

BIN = Path(sys.executable).parent
DIMS = 8


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    r = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, (args, r.stdout[-2000:], r.stderr[-2000:])
    return r


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A model and a test file; the model's own predictions (`miniflow lr predict`)."""
    d = tmp_path_factory.mktemp("eval")
    gen = [str(BIN / "miniflow"), "data", "gen-ctr", "--dims-log2", str(DIMS), "--model-seed", "3"]
    run(*gen, "--rows", "2000", "--seed", "1", "--out", "train.svm", cwd=d)
    run(*gen, "--rows", "400", "--seed", "2", "--out", "test.svm", cwd=d)
    run(
        str(BIN / "miniflow"),
        *("lr", "train", "--train", "train.svm", "--dims-log2", str(DIMS)),
        *("--model-out", "model/1", "--no-progress"),
        cwd=d,
    )
    r = run(
        str(BIN / "miniflow"),
        *("lr", "predict", "--model", "model/1", "--data", "test.svm"),
        cwd=d,
    )
    preds = np.array([float(x) for x in r.stdout.split()])
    X, y = load_svmlight_file(str(d / "test.svm"), n_features=2**DIMS)
    return d, X.toarray(), y, preds


def evaluate(d: Path, data: str, *extra: str) -> dict:
    out = d / f"metrics-{Path(data).name}.json"
    run(
        sys.executable,
        *("-m", "miniflow_platform.workloads.evaluate", "--model-dir", "model"),
        *("--data", data, "--metrics-out", str(out), *extra),
        cwd=d,
    )
    return json.loads(out.read_text())


def test_libsvm_metrics_match_sklearn(trained):
    d, _, y, preds = trained
    m = evaluate(d, "test.svm", "--predictions-out", "p.txt")
    kept = np.loadtxt(d / "p.txt")
    np.testing.assert_allclose(kept, preds, atol=1e-6)  # the served model's predictions
    assert m["rows"] == 400 and m["model_version"] == "1"  # the newest version of model/
    assert m["auc"] == pytest.approx(roc_auc_score(y, kept), abs=1e-12)
    assert m["log_loss"] == pytest.approx(log_loss(y, kept), rel=1e-9)
    assert m["accuracy"] == pytest.approx(accuracy_score(y, kept >= 0.5))
    assert m["calibration"] == pytest.approx(kept.mean() / y.mean())
    assert m["mean_prediction"] == pytest.approx(kept.mean())
    assert m["observed_rate"] == pytest.approx(y.mean())
    assert 0.6 < m["auc"] < 1


def test_csv_and_tfrecord_give_the_same_metrics(trained):
    import miniflow as tf

    d, X, y, _ = trained
    header = "label," + ",".join(f"f{i}" for i in range(X.shape[1]))
    rows = np.column_stack([y, X])
    # a header with "label" first; then the same with the label as the last column
    np.savetxt(d / "test.csv", rows, delimiter=",", fmt="%g", header=header, comments="")
    moved = np.column_stack([X, y])
    header_last = ",".join(f"f{i}" for i in range(X.shape[1])) + ",label"
    np.savetxt(d / "last.csv", moved, delimiter=",", fmt="%g", header=header_last, comments="")
    with tf.io.TFRecordWriter(str(d / "test.tfrecord")) as w:
        for label, row in zip(y, X, strict=True):
            ids = np.flatnonzero(row)
            feature = {
                "label": tf.train.Feature(float_list=tf.train.FloatList(value=[label])),
                "indices": tf.train.Feature(int64_list=tf.train.Int64List(value=ids.tolist())),
                "values": tf.train.Feature(float_list=tf.train.FloatList(value=row[ids].tolist())),
            }
            example = tf.train.Example(features=tf.train.Features(feature=feature))
            w.write(example.SerializeToString())
    base = evaluate(d, "test.svm")
    for name in ("test.csv", "last.csv", "test.tfrecord"):
        m = evaluate(d, name)
        for key in ("rows", "auc", "log_loss", "accuracy", "calibration"):
            assert m[key] == pytest.approx(base[key], rel=1e-6), (name, key)


def test_bad_inputs_fail_with_the_reason(trained):
    d = trained[0]
    (d / "bad.svm").write_text("1 3:1\nyes 4:1\n")
    for args, message in (
        (("--data", "bad.svm"), "bad.svm:2: the label 'yes' is not a number"),
        (("--data", "missing.svm"), "cannot read missing.svm"),
    ):
        r = subprocess.run(
            [sys.executable, "-m", "miniflow_platform.workloads.evaluate", "--model-dir", "model"]
            + [*args, "--metrics-out", "m.json"],
            cwd=d,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert r.returncode == 2 and message in r.stderr, r.stderr
    r = subprocess.run(
        [sys.executable, "-m", "miniflow_platform.workloads.evaluate", "--model-dir", "nope"]
        + ["--data", "test.svm", "--metrics-out", "m.json"],
        cwd=d,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 2 and "model directory nope does not exist" in r.stderr


def test_thresholds_and_the_metric_series(tmp_path):
    outputs = {"auc": 0.71, "log_loss": 0.52, "accuracy": 0.8, "calibration": None, "rows": 9}
    assert model_metrics.crossed(outputs, {"min_auc": 0.7, "max_log_loss": 0.6}) == {}
    assert model_metrics.crossed(outputs, {"min_auc": 0.75, "max_log_loss": 0.5}) == {
        "auc": "auc 0.71 < min_auc 0.75",
        "log_loss": "log_loss 0.52 > max_log_loss 0.5",
    }
    assert model_metrics.crossed(outputs, {"min_calibration": 0.9}) == {
        "calibration": "calibration is undefined (None); min_calibration is 0.9"
    }
    p = build_platform(Settings(data_dir=tmp_path / "data"))
    try:
        with p.sessions() as session:
            alice, _ = auth_service.create_user(session, "alice")
            bob, _ = auth_service.create_user(session, "bob")
            for i, auc in enumerate((0.8, 0.6)):
                bad = model_metrics.record(
                    session,
                    alice.id,
                    "ctr",
                    {**outputs, "auc": auc, "model_version": str(i + 1)},
                    {"min_auc": 0.7},
                    at=datetime(2026, 1, 1 + i),
                    run_id=10 + i,
                    step="evaluate",
                )
                session.commit()
                assert model_metrics.latest_degraded(session, alice, "ctr") == bool(bad)
            aucs = model_metrics.series(session, alice, "ctr", "auc", 100)
            assert [(r.version, r.value, r.degraded) for r in aucs] == [
                ("1", 0.8, False),
                ("2", 0.6, True),
            ]
            assert aucs[1].threshold == "min_auc 0.7"
            assert model_metrics.series(session, bob, "ctr", None, 100) == []  # per owner
            every = model_metrics.series(session, alice, "ctr", None, 100)
            assert {r.metric for r in every} == {
                "auc",
                "log_loss",
                "accuracy",
                "calibration",
                "rows",
            }
    finally:
        p.executor.close()


@pytest.mark.parametrize(
    ("step", "message"),
    [
        ({}, "needs data, model_dir"),
        ({"data": "/d", "service": "s", "model_dir": "/m"}, "model_dir or service, not both"),
        ({"data": "/d", "model_dir": "/m", "thresholds": {"min_speed": 1}}, "unknown threshold"),
        ({"data": "/d", "model_dir": "/m", "thresholds": {"min_auc": "nan"}}, "finite number"),
        ({"data": "/d", "model_dir": "/m", "format": "jsonl"}, "reads libsvm, csv or tfrecord"),
        ({"data": "/d", "service": "Bad Name"}, "should match pattern"),
        ({"data": "/d", "model_dir": "/m", "model": "x/y"}, "should match pattern"),
    ],
)
def test_bad_evaluate_steps_are_refused(step, message):
    from pydantic import ValidationError

    from miniflow_platform.pipelines.schemas import PipelineCreate

    with pytest.raises(ValidationError, match=message):
        PipelineCreate.model_validate(
            {"name": "p", "steps": [{"name": "e", "kind": "evaluate", **step}]}
        )
    with pytest.raises(ValidationError, match="does not take thresholds"):
        PipelineCreate.model_validate(
            {"name": "p", "steps": [{"name": "c", "command": ["x"], "thresholds": {}}]}
        )


def test_evaluating_a_service_that_is_not_yours_or_not_there_fails_the_step(tmp_path):
    from miniflow_platform.pipelines import service as pipelines
    from miniflow_platform.pipelines.schemas import PipelineCreate, RunCreate

    p = build_platform(Settings(data_dir=tmp_path / "data"))
    try:
        with p.sessions() as session:
            alice, _ = auth_service.create_user(session, "alice")
            session.commit()
            body = PipelineCreate.model_validate(
                {
                    "name": "ev",
                    "steps": [
                        {"name": "e", "kind": "evaluate", "service": "ghost", "data": "/tmp/x"}
                    ],
                }
            )
            pipeline = pipelines.create_pipeline(p, session, alice, body)
            run = pipelines.create_run(p, session, alice, pipeline, RunCreate())
            (step,) = run.steps
            assert (step.state, step.reason) == (
                "FAILED",
                "could not submit: model service 'ghost' not found",
            )
            assert run.state == "FAILED" and run.degraded is False
    finally:
        p.executor.close()
