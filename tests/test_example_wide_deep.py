"""examples/wide_deep_ctr.py end to end: gen-ctr click data -> TFRecord Examples -> feature
columns -> DNNLinearCombinedClassifier via train_and_evaluate -> parsing export ->
`miniflow serve` subprocess -> REST with b64 Examples, equal to estimator.predict."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import numpy as np
import pytest

import miniflow as tf

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "wide_deep_ctr.py"


def load():
    spec = importlib.util.spec_from_file_location("example_wide_deep_ctr", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    work = tmp_path_factory.mktemp("wide_deep")
    example = load()
    lines: list[str] = []
    result = example.main(
        rows=3000, eval_rows=1000, steps=150, queries=40, workdir=str(work), log=lines.append
    )
    result["log"] = lines
    return example, result, work


def test_rest_answers_equal_estimator_predict(run):
    _, r, _ = run
    assert len(r["served"]) == len(r["local"]) == 40
    np.testing.assert_allclose(r["served"], r["local"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(r["served_scores"], r["local"], rtol=0, atol=1e-6)
    assert r["max_abs_diff"] <= 1e-6
    assert len(set(np.round(r["local"], 6))) > 5  # distinct inputs give distinct answers


def test_server_process_was_stopped(run):
    _, r, _ = run
    assert r["server_returncode"] is not None
    with pytest.raises(ProcessLookupError):
        os.kill(r["server_pid"], 0)


def test_training_learned_something(run):
    _, r, _ = run
    m = r["metrics"]
    assert m["global_step"] == 150
    assert 0.52 < m["auc"] <= r["truth"]["ground_truth_auc"] + 0.02
    assert np.isfinite(m["loss"])


def test_tfrecords_hold_the_generated_rows(run):
    example, _, work = run
    lines = (work / "eval.vw").read_bytes().splitlines()
    records = list(tf.io.tf_record_iterator(str(work / "eval.tfrecord")))
    assert len(records) == len(lines) == 1000
    for line, rec in zip(lines[:20], records[:20], strict=True):
        label, tokens = line.split(b" |f ")
        feats = tf.train.Example.FromString(rec).features.feature
        assert feats["label"].int64_list.value == [1 if label == b"1" else 0]
        for i, tok in enumerate(tokens.split()):
            assert tok.startswith(b"f%d_" % i)
            assert feats[f"f{i}"].bytes_list.value == [tok]
        assert len(feats) == example.FIELDS + 1


def test_export_is_a_parsing_saved_model(run):
    _, r, _ = run
    assert any(n.startswith("saved_model.") for n in os.listdir(r["export_dir"]))


def test_progress_is_shown_stage_by_stage(run):
    _, r, _ = run
    stages = [line.split("]")[0] + "]" for line in r["log"]]
    assert stages == ["[data]"] * 4 + ["[train]"] * 2 + ["[export]", "[serve]", "[serve]", "[done]"]
    assert "eval AUC" in r["log"][5] and "max |REST - estimator.predict|" in r["log"][8]
