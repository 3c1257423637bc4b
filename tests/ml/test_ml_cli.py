"""`miniflow data gen-ctr` and `miniflow lr train|eval|predict`, end to end."""

import json

import numpy as np
import pytest
from sklearn.datasets import load_svmlight_file
from sklearn.metrics import roc_auc_score

from miniflow.cli.main import main


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    common = ["--dims-log2", "18", "--fields", "10", "--max-vocab", "5000"]
    assert (
        main(
            [
                "data",
                "gen-ctr",
                "--rows",
                "20000",
                "--seed",
                "1",
                "--out",
                str(d / "train.svm"),
                *common,
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "data",
                "gen-ctr",
                "--rows",
                "5000",
                "--seed",
                "2",
                "--out",
                str(d / "test.svm"),
                "--truth-out",
                str(d / "truth.npy"),
                *common,
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "data",
                "gen-ctr",
                "--rows",
                "5000",
                "--seed",
                "2",
                "--format",
                "vw",
                "--out",
                str(d / "test.vw"),
                *common,
            ]
        )
        == 0
    )
    return d


def test_generated_files_are_valid_libsvm_and_vw(files):
    X, y = load_svmlight_file(str(files / "test.svm"), n_features=1 << 18, zero_based=True)
    assert X.shape[0] == 5000 and set(np.unique(y)) == {0.0, 1.0}
    assert np.allclose(X.sum(axis=1), 10)  # one feature per field (hash collisions aside)
    vw_lines = (files / "test.vw").read_bytes().splitlines()
    assert len(vw_lines) == 5000 and vw_lines[0].split(b"|")[0].strip() in (b"1", b"-1")
    truth = np.load(files / "truth.npy")
    assert roc_auc_score(y, truth) > 0.7


def test_train_eval_predict(files, capsys):
    model = files / "model"
    rc = main(
        [
            "lr",
            "train",
            "--train",
            str(files / "train.svm"),
            "--test",
            str(files / "test.svm"),
            "--dims-log2",
            "18",
            "--epochs",
            "2",
            "--model-out",
            str(model),
            "--no-progress",
        ]
    )
    assert rc == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["epochs"]) == 2 and out["train_rows"] == 40_000
    assert (files / "train.svm.mfcache").exists()  # second epoch came from the cache
    saved = json.loads((model / "metrics.json").read_text())
    truth_auc = roc_auc_score(
        load_svmlight_file(str(files / "test.svm"), n_features=1 << 18)[1],
        np.load(files / "truth.npy"),
    )
    assert saved["test"]["auc"] == out["test"]["auc"] > truth_auc - 0.1

    preds = files / "p.txt"
    assert (
        main(
            [
                "lr",
                "predict",
                "--model",
                str(model),
                "--data",
                str(files / "test.svm"),
                "--out",
                str(preds),
            ]
        )
        == 0
    )
    p = np.loadtxt(preds)
    _, y = load_svmlight_file(str(files / "test.svm"), n_features=1 << 18, zero_based=True)
    assert len(p) == 5000
    capsys.readouterr()
    assert main(["lr", "eval", "--model", str(model), "--data", str(files / "test.svm")]) == 0
    ev = json.loads(capsys.readouterr().out)
    assert ev["auc"] == pytest.approx(roc_auc_score(y, p), abs=1e-4)  # p rounded to 6 digits
    assert ev["auc"] == pytest.approx(out["test"]["auc"], abs=1e-6)
    # The VW text of the same rows hashes to the same features: same AUC.
    assert main(["lr", "eval", "--model", str(model), "--data", str(files / "test.vw")]) == 0
    assert json.loads(capsys.readouterr().out)["auc"] == pytest.approx(ev["auc"], abs=1e-9)


def test_bad_arguments_exit_with_usage(capsys):
    with pytest.raises(SystemExit):
        main(["lr", "train", "--train", "x", "--optimizer", "lbfgs"])
    assert "invalid choice" in capsys.readouterr().err
