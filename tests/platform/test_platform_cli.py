"""`miniflow jobs|notebooks|services|predictions|platform` against a real server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent


def cli(server, token, *args, config: Path | None = None, check=True):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINIFLOW_PLATFORM")}
    if config is None:
        env.update(MINIFLOW_PLATFORM_URL=server.url, MINIFLOW_PLATFORM_TOKEN=token)
    else:
        env["MINIFLOW_PLATFORM_CONFIG"] = str(config)
    r = subprocess.run(
        [str(BIN / "miniflow"), *args], env=env, capture_output=True, text=True, timeout=120
    )
    if check:
        assert r.returncode == 0, (args, r.stdout, r.stderr)
    return r


def test_jobs_commands(server):
    token = server.new_user("erin")
    r = cli(
        server,
        token,
        "jobs",
        "submit",
        "--json",
        "--name",
        "cli",
        "--cpu",
        "0.1",
        "--memory-mb",
        "128",
        "--env",
        "X=1",
        "--",
        sys.executable,
        "-c",
        "import os; print('cli job', os.environ['X'])",
    )
    job = json.loads(r.stdout)
    assert job["state"] == "QUEUED" and job["name"] == "cli"
    follow = cli(server, token, "jobs", "logs", "-f", str(job["id"]))
    assert "cli job 1" in follow.stdout
    got = json.loads(cli(server, token, "jobs", "get", str(job["id"]), "--json").stdout)
    assert got["state"] == "SUCCEEDED"
    table = cli(server, token, "jobs", "list").stdout.splitlines()
    assert table[0].split()[:4] == ["ID", "NAME", "USER", "STATE"]
    assert any(line.split()[:2] == [str(job["id"]), "cli"] for line in table[1:])
    again = cli(server, token, "jobs", "cancel", str(job["id"]), check=False)
    assert again.returncode == 1 and "already ended" in again.stderr
    listed = json.loads(cli(server, token, "jobs", "list", "--json", "--state", "SUCCEEDED").stdout)
    assert [j["id"] for j in listed["data"]] == [job["id"]]
    cli(server, token, "jobs", "delete", str(job["id"]))
    assert json.loads(cli(server, token, "jobs", "list", "--json").stdout)["count"] == 0


def test_code_upload_and_other_groups(server, tmp_path):
    token = server.new_user("frank")
    code = tmp_path / "code"
    code.mkdir()
    (code / "train.py").write_text("print('uploaded code ran')\n")
    job = json.loads(
        cli(
            server,
            token,
            "jobs",
            "submit",
            "--json",
            "--cpu",
            "0.1",
            "--memory-mb",
            "128",
            "--code",
            str(code),
            "--",
            "python",
            "train.py",
        ).stdout
    )
    assert "uploaded code ran" in cli(server, token, "jobs", "logs", "-f", str(job["id"])).stdout
    for group in ("predictions", "services", "notebooks"):
        assert json.loads(cli(server, token, group, "list", "--json").stdout)["count"] == 0


def test_config_file_and_platform_users(server, tmp_path):
    config = tmp_path / "platform.json"
    config.write_text(json.dumps({"url": server.url, "token": server.admin_token}))
    r = cli(server, None, "platform", "users", "create", "gina", "--json", config=config)
    gina = json.loads(r.stdout)
    assert gina["user"] == "gina" and gina["token"].startswith("mfp_")
    me = cli(server, gina["token"], "platform", "users", "me", "--json")
    assert json.loads(me.stdout)["name"] == "gina"
    denied = cli(server, gina["token"], "platform", "users", "list", check=False)
    assert denied.returncode == 1 and "HTTP 403" in denied.stderr
    bad = cli(server, "mfp_wrong", "jobs", "list", check=False)
    assert bad.returncode == 1 and "HTTP 401" in bad.stderr
