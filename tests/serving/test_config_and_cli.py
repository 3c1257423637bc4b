"""Model config files, and `miniflow serve` start-up errors."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from serving_helpers import child_env, write_lr_model

from miniflow.serving.config import load_model_config
from miniflow.serving.manager import ModelConfig, VersionPolicy


def test_json_config_with_every_version_policy(tmp_path):
    cfg = tmp_path / "models.json"
    cfg.write_text(
        json.dumps(
            {
                "model_config_list": {
                    "config": [
                        {"name": "a", "base_path": "/m/a"},
                        {
                            "name": "b",
                            "base_path": "rel/b",
                            "model_version_policy": {"latest": {"num_versions": 3}},
                        },
                        {
                            "name": "c",
                            "base_path": "/m/c",
                            "model_version_policy": {"specific": {"versions": [4, 2]}},
                        },
                        {"name": "d", "base_path": "/m/d", "model_version_policy": {"all": {}}},
                    ]
                }
            }
        )
    )
    assert load_model_config(cfg) == [
        ModelConfig("a", "/m/a"),
        ModelConfig("b", str(tmp_path / "rel" / "b"), VersionPolicy("latest", 3)),
        ModelConfig("c", "/m/c", VersionPolicy("specific", versions=(4, 2))),
        ModelConfig("d", "/m/d", VersionPolicy("all")),
    ]


@pytest.mark.parametrize(
    "text, message",
    [
        ("model_config_list { config { name: 'a' } }", "model config: missing field 'base_path'"),
        (
            "model_config_list { config { name: 'a' base_path: '/x' }",
            "model config: unbalanced '{'",
        ),
        (
            "model_config_list { config { name: 'a' base_path: '/x' } config { name: 'a' "
            "base_path: '/y' } }",
            "model name 'a' appears twice",
        ),
        ("model_config_list { }", "no models"),
        (
            "model_config_list { config { name: 'a' base_path: '/x' model_version_policy "
            "{ newest {} } } }",
            "model config: unknown model_version_policy ['newest']",
        ),
        (
            "model_config_list { config { name: 'a' base_path: '/x' model_version_policy "
            "{ latest { num_versions: 0 } } } }",
            "latest num_versions must be >= 1, got 0",
        ),
    ],
)
def test_bad_config_files_name_the_problem(tmp_path, text, message):
    cfg = tmp_path / "models.config"
    cfg.write_text(text)
    with pytest.raises(ValueError) as info:
        load_model_config(cfg)
    assert message in str(info.value)


def _serve(*args):
    return subprocess.run(
        [sys.executable, "-m", "miniflow.cli.main", "serve", "--port", "0", *map(str, args)],
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_serve_refuses_a_missing_directory_and_a_bad_config(tmp_path):
    proc = _serve("--model-dir", tmp_path / "nope", "--name", "x")
    assert proc.returncode == 2
    assert f"model 'x': base directory {tmp_path / 'nope'} does not exist" in proc.stderr
    (tmp_path / "bad.config").write_text("model_config_list { config { name: 'a' } }")
    proc = _serve("--model-config-file", tmp_path / "bad.config")
    assert proc.returncode == 2
    assert "missing field 'base_path'" in proc.stderr
    proc = _serve()
    assert proc.returncode == 2
    assert "--model-dir (or --model-config-file) is required" in proc.stderr
    write_lr_model(tmp_path / "version", seed=1)
    proc = _serve("--model-dir", tmp_path / "version")
    assert proc.returncode == 2
    assert "is a model version itself; pass its parent" in proc.stderr
