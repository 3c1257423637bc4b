"""``python -m miniflow_platform.workloads.evaluate``: a model's metrics on a labelled file.

The model (a version directory, or a base directory whose newest or ``--version``
version is used) predicts every row through ``miniflow predict``, so any model the
serving library loads can be evaluated; the labels come from the file itself:

* ``libsvm``: the first token of each line;
* ``csv``: the column named ``label`` when the first line is a header, else the first
  column; the other columns are the model's input;
* ``tfrecord``: ``tf.train.Example`` records with a ``label`` feature and either
  ``indices`` (+ optional ``values``; sparse models) or ``x`` (a dense float list).

Writes ``--metrics-out`` (JSON): rows, auc, log_loss, accuracy (threshold 0.5),
calibration (mean prediction / mean label), mean_prediction, observed_rate, precision,
recall, the evaluated ``model_version`` and ``data``. Values that are undefined (AUC of
one class) are null.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import math
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

FORMATS = ("libsvm", "csv", "tfrecord")


def guess_format(path: str) -> str:
    name = path.lower().removesuffix(".gz")
    if name.endswith(".csv"):
        return "csv"
    if name.endswith((".tfrecord", ".tfrecords", ".tfr")):
        return "tfrecord"
    return "libsvm"


def model_version_dir(model_dir: Path, version: str | None) -> Path:
    """``model_dir/version`` when given and present, else the newest numeric version
    directory, else ``model_dir`` itself (already a version directory)."""
    if version and (model_dir / version).is_dir():
        return model_dir / version
    versions = [d for d in model_dir.iterdir() if d.is_dir() and d.name.isdigit()]
    return max(versions, key=lambda d: int(d.name)) if versions else model_dir


def _open_text(path: str) -> io.TextIOBase:
    with open(path, "rb") as f:
        magic = f.read(2)
    if magic == b"\x1f\x8b":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8")
    return open(path, encoding="utf-8")  # noqa: SIM115 (the caller closes it)


def libsvm_labels(path: str) -> np.ndarray:
    labels = []
    with _open_text(path) as f:
        for number, line in enumerate(f, 1):
            head = line.split(None, 1)
            if not head:
                continue
            try:
                labels.append(float(head[0]))
            except ValueError:
                raise ValueError(
                    f"{path}:{number}: the label {head[0]!r} is not a number"
                ) from None
    return np.asarray(labels)


def csv_split(path: str, features_out: Path) -> np.ndarray:
    """The label column of a CSV file; the other columns go to ``features_out``."""
    with _open_text(path) as f:
        lines = [line for line in f if line.strip()]
    if not lines:
        return np.zeros(0)
    column = 0
    first = [c.strip() for c in lines[0].split(",")]
    try:
        [float(c) for c in first]
    except ValueError:  # a header
        column = first.index("label") if "label" in first else 0
        lines = lines[1:]
    table = np.loadtxt(io.StringIO("".join(lines)), delimiter=",", ndmin=2, dtype=np.float64)
    features = np.delete(table, column, axis=1)
    np.savetxt(features_out, features, delimiter=",", fmt="%.17g")
    return table[:, column]


def tfrecord_split(path: str, instances_out: Path) -> np.ndarray:
    """Labels of ``tf.train.Example`` records; their inputs go to ``instances_out`` (jsonl)."""
    import miniflow as tf

    labels = []
    with instances_out.open("w") as out:
        for number, record in enumerate(tf.io.tf_record_iterator(path), 1):
            feature = tf.train.Example.FromString(record).features.feature
            if "label" not in feature:
                raise ValueError(f"{path}: record {number} has no 'label' feature")
            labels.append(_values(feature["label"])[0])
            if "indices" in feature:
                instance: object = {"indices": [int(i) for i in _values(feature["indices"])]}
                if "values" in feature:
                    instance["values"] = [float(v) for v in _values(feature["values"])]  # type: ignore[index]
                else:
                    instance["values"] = [1.0] * len(instance["indices"])  # type: ignore[index]
            elif "x" in feature:
                instance = [float(v) for v in _values(feature["x"])]
            else:
                raise ValueError(
                    f"{path}: record {number} has neither 'indices' nor 'x' as the model input"
                )
            out.write(json.dumps(instance) + "\n")
    return np.asarray(labels, np.float64)


def _values(feature) -> list:
    kind = feature.WhichOneof("kind")
    if kind is None:
        return [0.0]
    return list(getattr(feature, kind).value)


def predict(model_dir: Path, data: str, fmt: str, out: Path) -> np.ndarray:
    code = subprocess.call(
        [
            "miniflow",
            "predict",
            "--model-dir",
            str(model_dir),
            "--input",
            data,
            "--output",
            str(out),
            "--format",
            fmt,
            "--output-format",
            "txt",
            "--no-progress",
        ]
    )
    if code != 0:
        raise SystemExit(f"evaluate: miniflow predict failed with exit code {code}")
    preds = np.loadtxt(out, ndmin=2, dtype=np.float64)
    if preds.size == 0:
        return np.zeros(0)
    return preds[:, -1]  # one score per row; of two (softmax), the positive class's


def metrics(labels: np.ndarray, probs: np.ndarray) -> dict[str, float | int | None]:
    from miniflow.ml import metrics as m

    if len(labels) != len(probs):
        raise SystemExit(f"evaluate: {len(labels)} labels but {len(probs)} predictions")
    if not len(labels):
        raise SystemExit("evaluate: the data has no rows")
    out = m.summary(labels, probs)
    out["calibration"] = out.pop("ratio")
    return {
        k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in out.items()
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="evaluate", description=__doc__)
    parser.add_argument("--model-dir", required=True)
    parser.add_argument("--version", help="evaluate MODEL_DIR/VERSION (a served version)")
    parser.add_argument("--data", required=True)
    parser.add_argument("--format", choices=FORMATS, help="default: by the file's extension")
    parser.add_argument("--metrics-out", required=True)
    parser.add_argument("--predictions-out", help="keep the predictions (one per row) here")
    args = parser.parse_args(argv)
    fmt = args.format or guess_format(args.data)
    if not Path(args.model_dir).is_dir():
        print(f"evaluate: model directory {args.model_dir} does not exist", file=sys.stderr)
        return 2
    model = model_version_dir(Path(args.model_dir), args.version)
    with tempfile.TemporaryDirectory(prefix="evaluate-", dir=".") as tmp:
        work = Path(tmp)
        try:
            if fmt == "libsvm":
                labels, data, predict_format = libsvm_labels(args.data), args.data, "libsvm"
            elif fmt == "csv":
                labels, data, predict_format = (
                    csv_split(args.data, work / "x.csv"),
                    str(work / "x.csv"),
                    "csv",
                )
            else:
                labels = tfrecord_split(args.data, work / "x.jsonl")
                data, predict_format = str(work / "x.jsonl"), "jsonl"
        except (OSError, ValueError) as e:
            print(f"evaluate: cannot read {args.data}: {e}", file=sys.stderr)
            return 2
        out = Path(args.predictions_out) if args.predictions_out else work / "predictions.txt"
        probs = predict(model, data, predict_format, out)
    result = metrics(labels, probs)
    result["model_version"] = model.name if model.name.isdigit() else ""
    result["model_dir"] = str(model)
    result["data"] = args.data
    text = json.dumps(result, indent=2, sort_keys=True)
    print(text)
    Path(args.metrics_out).write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
