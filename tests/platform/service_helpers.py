"""Helpers of the model service tests: real sparse LR models, waits, the DB's view."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
from platform_helpers import wait_for

# logit = bias + 0.5 * x[1] + 0.25 * x[2]; the instance below gives bias + 1.0.
INSTANCE = {"indices": [1, 2], "values": [1.0, 2.0]}
PREDICT = {"signature_name": "predict", "instances": [INSTANCE]}


def make_model(base: Path, bias: float) -> Path:
    """A TF-Serving-style base dir holding version 1 of a real miniflow sparse LR model."""
    from miniflow.ml.sparse_lr import SparseLinearModel

    model = SparseLinearModel(
        np.array([1, 2], np.int64), np.array([0.5, 0.25], np.float32), bias, 4, {}
    )
    model.save(base / "1")
    return base


def logit(response_json: dict) -> float:
    return response_json["predictions"][0]["logits"]


def wait_service(client, name, states, timeout=60):
    def done():
        svc = client.get(f"/v1/services/{name}").json()
        assert svc["state"] != "FAILED", svc["reason"]
        return svc if svc["state"] in states else None

    return wait_for(done, timeout, interval=0.2, what=f"service {name} in {states}")


def db_row(data_dir: Path, query: str, *args) -> tuple:
    """One row straight from the platform's SQLite file (what an attacker would read)."""
    with sqlite3.connect(data_dir / "platform.db") as db:
        row = db.execute(query, args).fetchone()
    assert row is not None, query
    return row
