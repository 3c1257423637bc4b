"""Tracking's parsers on their own: TensorBoard event files (checked against TensorBoard's
own writer and reader), ``metrics.json`` of ``miniflow lr train``, command-line params,
and the filter/order_by language."""

from __future__ import annotations

import json
import struct

import pytest
from tensorboard.backend.event_processing import event_accumulator
from tensorboard.compat.proto import event_pb2, summary_pb2, tensor_pb2, tensor_shape_pb2
from tensorboard.summary.writer.event_file_writer import EventFileWriter

from miniflow_platform.errors import InvalidRequest
from miniflow_platform.tracking import ingest, query, tfevents


def _write_events(logdir, rows):
    """rows: (tag, step, value, style) with style 'simple' (TF1) or 'tensor' (TF2)."""
    writer = EventFileWriter(str(logdir))
    for tag, step, value, style in rows:
        if style == "simple":
            v = summary_pb2.Summary.Value(tag=tag, simple_value=value)
        else:
            tensor = tensor_pb2.TensorProto(
                dtype=1 if style == "tensor" else 2,
                tensor_shape=tensor_shape_pb2.TensorShapeProto(),
                **({"float_val": [value]} if style == "tensor" else {"double_val": [value]}),
            )
            meta = summary_pb2.SummaryMetadata(
                plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="scalars")
            )
            v = summary_pb2.Summary.Value(tag=tag, tensor=tensor, metadata=meta)
        writer.add_event(
            event_pb2.Event(
                wall_time=1000.0 + step, step=step, summary=summary_pb2.Summary(value=[v])
            )
        )
    # a non-scalar (histogram-like 2x3 tensor) and a text summary: both ignored
    big = tensor_pb2.TensorProto(dtype=1, float_val=[1, 2, 3, 4, 5, 6])
    text = tensor_pb2.TensorProto(dtype=7, string_val=[b"hello"])
    writer.add_event(
        event_pb2.Event(
            step=99,
            summary=summary_pb2.Summary(
                value=[
                    summary_pb2.Summary.Value(tag="hist", tensor=big),
                    summary_pb2.Summary.Value(tag="text", tensor=text),
                ]
            ),
        )
    )
    writer.close()
    return next(logdir.glob("*tfevents*"))


def test_event_file_scalars_match_tensorboard(tmp_path):
    rows = [("loss", s, 1.0 / (s + 1), "simple") for s in range(5)]
    rows += [("eval/auc", s, 0.5 + 0.1 * s, "tensor") for s in range(3)]
    rows += [("lr", 7, 0.125, "double")]
    path = _write_events(tmp_path, rows)
    got = list(tfevents.read_scalars(path, 2**20))
    mine = {(t, s): v for t, s, v, _ in got}
    assert {k for k in mine} == {(t, s) for t, s, _, _ in rows}
    # TensorBoard's own reader is the truth for the TF1-style scalars
    acc = event_accumulator.EventAccumulator(str(tmp_path))
    acc.Reload()
    for e in acc.Scalars("loss"):
        assert mine[("loss", e.step)] == pytest.approx(e.value, rel=1e-7)
        assert [w for t, s, _, w in got if (t, s) == ("loss", e.step)] == [e.wall_time]
    tensors = acc.Tensors("eval/auc")
    assert [mine[("eval/auc", e.step)] for e in tensors] == pytest.approx(
        [e.tensor_proto.float_val[0] for e in tensors]
    )
    assert mine[("lr", 7)] == 0.125


def test_truncated_and_garbage_event_files(tmp_path):
    path = _write_events(tmp_path, [("a", 1, 2.0, "simple"), ("a", 2, 3.0, "simple")])
    data = path.read_bytes()
    cut = tmp_path / "cut.tfevents"
    cut.write_bytes(data[:-7])  # the last record half written, as by a running writer
    assert [(t, s) for t, s, _, _ in tfevents.read_scalars(cut, 2**20)] == [("a", 1), ("a", 2)]
    bad = tmp_path / "bad.tfevents"
    payload = b"\x0f\xff\xff"  # field 1 with wire type 7: not an Event
    bad.write_bytes(struct.pack("<Q", len(payload)) + b"\0" * 4 + payload + b"\0" * 4)
    with pytest.raises(tfevents.WireError):
        list(tfevents.read_scalars(bad, 2**20))
    found = ingest.collect(tmp_path, [])
    assert any("bad.tfevents: skipped" in n for n in found.notes)


def test_lr_train_metrics_json(tmp_path):
    # the shape `miniflow lr train` writes (trimmed from a real run)
    report = {
        "epochs": [
            {"epoch": 1, "rows": 2000, "progressive_log_loss": 0.57, "interrupted": False,
             "holdout": {"auc": 0.68, "log_loss": 0.54, "rows": 500}},
            {"epoch": 2, "rows": 2000, "progressive_log_loss": 0.36, "interrupted": False,
             "holdout": {"auc": 0.67, "log_loss": 0.55, "rows": 500}},
        ],
        "model": {"dir": "model", "nnz": 3769},
        "test": {"auc": 0.67, "log_loss": 0.55, "rows": 500},
        "train_rows": 4000,
    }  # fmt: skip
    path = tmp_path / "model" / "metrics.json"
    path.parent.mkdir()
    path.write_text(json.dumps(report))
    points = {(k, s): v for k, s, v, _ in ingest.collect(tmp_path, []).points}
    assert points == {
        ("rows", 1): 500.0, ("auc", 1): 0.68, ("log_loss", 1): 0.54,
        ("progressive_log_loss", 1): 0.57,
        ("rows", 2): 500.0, ("auc", 2): 0.67, ("log_loss", 2): 0.55,
        ("progressive_log_loss", 2): 0.36,
        ("model.nnz", 2): 3769.0, ("train_rows", 2): 4000.0,
    }  # fmt: skip
    # `lr eval` writes a flat dict: step 0
    path.write_text(json.dumps({"auc": 0.7, "log_loss": float("nan")}))
    assert [(k, s, v) for k, s, v, _ in ingest.collect(tmp_path, []).points] == [("auc", 0, 0.7)]
    path.write_text("[1, 2")
    assert "metrics.json: skipped" in ingest.collect(tmp_path, []).notes[0]
    # a report named on the command line (`fm train --report r.json`), not outside the dir
    (tmp_path / "r.json").write_text(json.dumps({"auc": 0.75}))
    (tmp_path.parent / "outside.json").write_text(json.dumps({"auc": 0.1}))
    argv = ["miniflow", "fm", "train", "--report", "r.json"]
    assert ("auc", 0, 0.75) in [p[:3] for p in ingest.collect(tmp_path, argv).points]
    argv = ["miniflow", "fm", "train", "--report", "../outside.json"]
    assert ("auc", 0, 0.1) not in [p[:3] for p in ingest.collect(tmp_path, argv).points]


def test_command_params():
    argv = ["/venv/bin/miniflow", "lr", "train", "--train", "a.svm", "--epochs=3",
            "--no-progress", "--dims-log2", "12"]  # fmt: skip
    assert ingest.command_params(argv) == {
        "command": "lr train", "train": "a.svm", "epochs": "3", "no_progress": "true",
        "dims_log2": "12",
    }  # fmt: skip
    assert ingest.command_params(["python", "train.py", "--lr", "1"]) == {}


RUNS = [
    {"id": 1, "name": "a", "status": "SUCCEEDED", "metrics": {"auc": 0.8}, "params": {"opt": "ftrl"}, "tags": {}},
    {"id": 2, "name": "b", "status": "FAILED", "metrics": {"auc": 0.6}, "params": {"opt": "sgd"}, "tags": {}},
    {"id": 3, "name": "c", "status": "SUCCEEDED", "metrics": {}, "params": {"opt": "ftrl"}, "tags": {"x": "y"}},
    {"id": 4, "name": "d", "status": "SUCCEEDED", "metrics": {"auc": 0.9, "loss/train": 0.1}, "params": {}, "tags": {}},
]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "ids"),
    [
        ("metrics.auc > 0.7", [1, 4]),
        ("metrics.auc>=0.6 AND params.opt = 'ftrl'", [1]),
        ('params.opt != "sgd"', [1, 3]),  # run 4 has no opt: never matches
        ("run.status = 'FAILED'", [2]),
        ("run.id <= 2", [1, 2]),
        ("metrics.loss/train < 1e-0", [4]),
        ("metrics.`loss/train` = .1", [4]),
        ("tags.x = 'y'", [3]),
        ("", [1, 2, 3, 4]),
    ],
)
def test_filter(text, ids):
    clauses = query.parse_filter(text)
    assert [r["id"] for r in RUNS if query.matches(r, clauses)] == ids


@pytest.mark.parametrize(
    ("text", "ids"),
    [
        ("metrics.auc desc", [4, 1, 2, 3]),  # missing last either way
        ("metrics.auc", [2, 1, 4, 3]),
        ("params.opt asc, metrics.auc desc", [1, 3, 2, 4]),
        ("run.name DESC", [4, 3, 2, 1]),
    ],
)
def test_order(text, ids):
    assert [r["id"] for r in query.sort_rows(RUNS, query.parse_order(text))] == ids


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("metrics.auc > 'x'", "compares with a number"),
        ("params.opt = ftrl", "is not a number; quote text"),
        ("params.opt > 'a'", "use = or !="),
        ("metrics.auc > 0.7 or metrics.auc < 0.1", "expected 'and'"),
        ("__import__('os').system('x')", "cannot parse at character 0"),
        ("run.owner = 'x'", "unknown field run.owner"),
        ("metrics.auc > 1; drop table runs", "expected 'and'"),
        (" and ".join(["metrics.a > 1"] * 21), "more than 20 clauses"),
        ("x" * 1001, "the limit is 1000"),
    ],
)
def test_filter_errors_name_the_problem(text, message):
    with pytest.raises(InvalidRequest, match=message.replace("(", r"\(").replace("'", "'")):
        query.parse_filter(text)


def test_order_errors():
    with pytest.raises(InvalidRequest, match="at most 3"):
        query.parse_order("run.id, run.id, run.id, run.id")
    with pytest.raises(InvalidRequest, match="cannot parse"):
        query.parse_order("metrics.auc sideways")
