"""The JSON report of a training run (`miniflow lr train`, sharded or not): printed, and
written next to the saved model (or to ``--metrics-out``)."""

from __future__ import annotations

import json
import os


def finish_training(report: dict, model, model_out: str | None, metrics_out: str | None) -> None:
    """Saves ``model`` to ``model_out`` (if given, noted in the report), then prints the
    report and writes it to ``metrics_out`` (default: ``model_out/metrics.json``)."""
    if model_out:
        model.save(model_out)
        report["model"] = {"dir": model_out, "nnz": model.nnz}
    path = metrics_out or (os.path.join(model_out, "metrics.json") if model_out else None)
    write_json(report, path)


def write_json(obj: dict, path: str | None) -> None:
    """Prints ``obj`` as JSON and, with a ``path``, writes it there too."""
    text = json.dumps(obj, indent=2, sort_keys=True, default=float)
    print(text)
    if path:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "w") as f:
            f.write(text + "\n")
