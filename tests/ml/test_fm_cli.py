"""`miniflow fm train|eval|predict`, end to end on generated click data."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.metrics import log_loss, roc_auc_score

from miniflow.cli.main import main
from miniflow.ml.datagen import write_ctr
from miniflow.ml.fm_data import read_fm_file
from miniflow.ml.fm_model import load_fm_model

CROSSED = {"fields": 6, "max_vocab": 300, "cross_rank": 3, "cross_sigma": 0.35}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("fmcli")
    for fmt, ext in (("libsvm", "svm"), ("libffm", "ffm")):
        write_ctr(d / f"train.{ext}", 20_000, 16, fmt, seed=1, **CROSSED)
        write_ctr(d / f"test.{ext}", 5_000, 16, fmt, seed=2, **CROSSED)
    return d


def _labels(path, dims, fb=0):
    return np.concatenate([b.labels for b in read_fm_file(path, dims, field_bits=fb)])


@pytest.mark.parametrize("kind, ext", [("fm", "svm"), ("ffm", "ffm")])
def test_train_eval_predict_round_trip(files, tmp_path, capsys, kind, ext):
    model_dir = tmp_path / "model"
    extra = ["--fields", "6"] if kind == "ffm" else []
    rc = main(
        [
            "fm", "train", "--train", str(files / f"train.{ext}"),
            "--test", str(files / f"test.{ext}"), "--dims-log2", "16", "--factors", "4",
            "--model", kind, *extra, "--epochs", "2", "--seed", "3",
            "--cache", str(tmp_path / "train.cache"), "--output", str(model_dir),
            "--no-progress",
        ]
    )  # fmt: skip
    assert rc == 0
    report = json.loads(capsys.readouterr().out)
    assert report["kind"] == kind and report["train_rows"] == 40_000
    assert [e["epoch"] for e in report["epochs"]] == [1, 2]
    assert (tmp_path / "train.cache").exists()  # the second epoch came from the cache
    assert json.loads((model_dir / "metrics.json").read_text()) == report
    assert report["model"]["dir"] == str(model_dir)

    out = tmp_path / "p.txt"
    assert main(["fm", "predict", "--model", str(model_dir), "--data", str(files / f"test.{ext}"),
                 "--out", str(out)]) == 0  # fmt: skip
    p = np.loadtxt(out)
    model = load_fm_model(model_dir)
    fb = model.field_bits
    assert fb == (3 if kind == "ffm" else 0)
    direct = np.concatenate(
        [model.predict_proba(b) for b in read_fm_file(files / f"test.{ext}", 16, field_bits=fb)]
    )
    np.testing.assert_allclose(p, direct, atol=1e-6)  # printed with 6 decimals

    capsys.readouterr()
    assert main(["fm", "eval", "--model", str(model_dir), "--data", str(files / f"test.{ext}"),
                 "--report", str(tmp_path / "eval.json")]) == 0  # fmt: skip
    metrics = json.loads(capsys.readouterr().out)
    y = _labels(files / f"test.{ext}", 16, fb)
    assert metrics["auc"] == pytest.approx(roc_auc_score(y, direct), abs=1e-9)
    assert metrics["log_loss"] == pytest.approx(log_loss(y, direct), rel=1e-6)
    assert metrics["auc"] == pytest.approx(report["test"]["auc"], abs=1e-6)
    assert json.loads((tmp_path / "eval.json").read_text()) == metrics
    assert metrics["auc"] > 0.7


def test_fm_beats_lr_through_the_command_line(files, tmp_path, capsys):
    args = ["--train", str(files / "train.svm"), "--test", str(files / "test.svm"),
            "--dims-log2", "16", "--no-progress"]  # fmt: skip
    assert main(["lr", "train", *args]) == 0
    lr = json.loads(capsys.readouterr().out)["test"]["auc"]
    assert main(["fm", "train", *args, "--factors", "4"]) == 0
    fm = json.loads(capsys.readouterr().out)["test"]["auc"]
    assert fm > lr + 0.03, (fm, lr)


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--model", "ffm"], "--model ffm needs --fields"),
        (["--model", "ffm", "--fields", "6", "--format", "libsvm"], "needs each feature's field"),
        (["--dims-log2", "40"], "dims_log2 must be in 1..32"),
        (["--model", "ffm", "--fields", "4"], "field 4 >= the model's 4 fields"),
    ],
)
def test_bad_usage_is_a_clear_error(files, capsys, argv, message):
    train = files / ("train.ffm" if "ffm" in argv and "libsvm" not in argv else "train.svm")
    rc = main(["fm", "train", "--train", str(train), "--no-progress", *argv])
    assert rc == 2
    assert message in capsys.readouterr().err


def test_missing_input_and_model(tmp_path, capsys):
    assert main(["fm", "train", "--train", str(tmp_path / "nope.svm"), "--no-progress"]) == 2
    assert "nope.svm" in capsys.readouterr().err
    (tmp_path / "d.svm").write_text("1 3:1\n")
    assert main(["fm", "eval", "--model", str(tmp_path), "--data", str(tmp_path / "d.svm")]) == 2
    assert "model.json" in capsys.readouterr().err
    for bad in (["--factors", "0"], ["--epochs", "0"]):
        with pytest.raises(SystemExit):
            main(["fm", "train", "--train", str(tmp_path / "d.svm"), *bad])


def test_gen_ctr_cross_rank_writes_what_the_python_api_writes(tmp_path, capsys):
    argv = ["data", "gen-ctr", "--rows", "3000", "--dims-log2", "16", "--fields", "6",
            "--max-vocab", "300", "--seed", "4", "--format", "libffm"]  # fmt: skip
    assert main([*argv, "--out", str(tmp_path / "plain.ffm")]) == 0
    plain = json.loads(capsys.readouterr().err)
    crossed_argv = [*argv, "--cross-rank", "3", "--cross-sigma", "0.35"]
    assert main([*crossed_argv, "--out", str(tmp_path / "x.ffm")]) == 0
    crossed = json.loads(capsys.readouterr().err)
    want = write_ctr(tmp_path / "api.ffm", 3000, 16, "libffm", seed=4, **CROSSED)
    assert (tmp_path / "x.ffm").read_bytes() == (tmp_path / "api.ffm").read_bytes()
    assert crossed == want
    assert crossed["ground_truth_auc"] != plain["ground_truth_auc"]  # the pairs changed it
    with pytest.raises(SystemExit):
        main([*argv, "--cross-rank", "-1"])
    assert "expected an integer >= 0" in capsys.readouterr().err


def test_ffm_on_vw_namespaces_through_the_command_line(tmp_path, capsys):
    """XOR of two namespaces; the namespaces found in the training file are saved with
    the model and number the fields of the evaluation file (written in another order)."""
    rng = np.random.default_rng(1)
    a, b = rng.integers(2, size=3000), rng.integers(2, size=3000)
    y = 2 * (a ^ b) - 1
    rows = zip(y, a, b, strict=True)
    (tmp_path / "t.vw").write_text("".join(f"{t} |x v{i} |y w{j}\n" for t, i, j in rows))
    rows = zip(y, a, b, strict=True)
    (tmp_path / "e.vw").write_text("".join(f"{t} |y w{j} |x v{i}\n" for t, i, j in rows))
    model = tmp_path / "m"
    argv = ["fm", "train", "--train", str(tmp_path / "t.vw"), "--model", "ffm", "--fields",
            "2", "--dims-log2", "12", "--factors", "2", "--init-std", "0.3", "--epochs", "3",
            "--batch-size", "32", "--model-out", str(model), "--no-progress"]  # fmt: skip
    assert main(argv) == 0
    capsys.readouterr()
    assert load_fm_model(model).meta["namespaces"] == ["x", "y"]
    assert main(["fm", "eval", "--model", str(model), "--data", str(tmp_path / "e.vw")]) == 0
    assert json.loads(capsys.readouterr().out)["auc"] > 0.99
    assert main([*argv[:-3], "--namespaces", "x,z", "--no-progress"]) == 2
    assert "namespace 'y' is not one of the model's fields ['x', 'z']" in capsys.readouterr().err


def test_lr_and_fm_share_the_training_options(files, tmp_path, capsys):
    """One definition of the common options: both commands take both spellings."""
    for cmd, extra in (("lr", []), ("fm", ["--factors", "2"])):
        out = tmp_path / cmd
        argv = [cmd, "train", "--train", str(files / "test.svm"), "--dims-log2", "14",
                "--batch-size", "64", "--output", str(out), "--report", str(out / "r.json"),
                "--no-progress", *extra]  # fmt: skip
        assert main(argv) == 0
        assert json.loads((out / "r.json").read_text())["train_rows"] == 5000
        assert (out / "model.json").exists()
        with pytest.raises(SystemExit):
            main([cmd, "train", "--train", "x", "--batch-size", "0"])
        assert "expected a positive integer or 'auto'" in capsys.readouterr().err
