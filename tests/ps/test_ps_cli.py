"""`miniflow lr train --ps-shards ...` trains like `miniflow lr train` and exports a model
that `miniflow lr eval` reads."""

import json

from miniflow.cli.main import main


def test_cli_ps_train_matches_single_process_and_exports_the_same_format(ctr, tmp_path, capsys):
    common = [
        "lr",
        "train",
        "--train",
        str(ctr.train_path),
        "--test",
        str(ctr.test_path),
        "--dims-log2",
        str(ctr.dims_log2),
        "--batch-size",
        str(ctr.batch_size),
        "--no-progress",
    ]
    assert main([*common, "--model-out", str(tmp_path / "single")]) == 0
    capsys.readouterr()
    assert (
        main(
            [
                *common,
                "--model-out",
                str(tmp_path / "ps"),
                "--ps-shards",
                "2",
                "--workers",
                "2",
                "--backend",
                "process",
                "--sync",
            ]
        )
        == 0
    )
    out = capsys.readouterr()
    ps = json.loads(out.out)
    single = json.loads((tmp_path / "single" / "metrics.json").read_text())
    assert "holdout auc" in out.err and "2 shards x 2 workers sync" in out.err
    assert ps["train_rows"] == single["train_rows"] == ctr.rows
    assert abs(ps["test"]["auc"] - single["test"]["auc"]) < 0.001
    assert ps["parameter_server"]["backend"] == "process"
    assert ps["model"]["nnz"] == single["model"]["nnz"]
    assert main(["lr", "eval", "--model", str(tmp_path / "ps"), "--data", str(ctr.test_path)]) == 0
    evaluated = json.loads(capsys.readouterr().out)
    assert abs(evaluated["auc"] - ps["test"]["auc"]) < 1e-9


def test_cli_async_with_staleness_on_local(ctr, tmp_path, capsys):
    assert (
        main(
            [
                "lr",
                "train",
                "--train",
                str(ctr.train_path),
                "--test",
                str(ctr.test_path),
                "--dims-log2",
                str(ctr.dims_log2),
                "--no-progress",
                "--ps-shards",
                "3",
                "--workers",
                "2",
                "--async",
                "--staleness",
                "2",
                "--metrics-out",
                str(tmp_path / "m.json"),
            ]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out["parameter_server"]["sync"] is False
    assert len(out["parameter_server"]["shard_keys"]) == 3
    assert out["test"]["auc"] > 0.7
    assert json.loads((tmp_path / "m.json").read_text()) == out
