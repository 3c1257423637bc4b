"""`miniflow jobs|notebooks|services|predictions|platform` against a real server.

A `miniflow` process imports the whole library before it runs a platform command (about
1.5 s of CPU, 10-20 s on the loaded test machine), so each test runs its first command
as a real process (the entry point, environment and config file as a user has them) and
the rest in-process through the same ``main(argv)`` functions the entry points name.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path
from types import SimpleNamespace

from miniflow_platform import cli as platform_cli, client, pipelines_cli

BIN = Path(sys.executable).parent
IN_PROCESS = {
    "jobs": client.jobs_main,
    "predictions": client.predictions_main,
    "notebooks": client.notebooks_main,
    "services": client.services_main,
    "pipelines": pipelines_cli.pipelines_main,
    "platform": platform_cli.main,
}


def cli(server, token, *args, config: Path | None = None, check=True, process=False):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINIFLOW_PLATFORM")}
    if config is None:
        env.update(MINIFLOW_PLATFORM_URL=server.url, MINIFLOW_PLATFORM_TOKEN=token)
    else:
        env["MINIFLOW_PLATFORM_CONFIG"] = str(config)
    if process:
        r = subprocess.run(
            [str(BIN / "miniflow"), *args], env=env, capture_output=True, text=True, timeout=300
        )
    else:
        r = _in_process(env, list(args))
    if check:
        assert r.returncode == 0, (args, r.stdout, r.stderr)
    return r


def _in_process(env: dict[str, str], args: list[str]) -> SimpleNamespace:
    saved = dict(os.environ)
    out, err = io.StringIO(), io.StringIO()
    try:
        os.environ.clear()
        os.environ.update(env)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = IN_PROCESS[args[0]](args[1:])
            except SystemExit as e:  # argparse
                code = e.code if isinstance(e.code, int) else 1
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return SimpleNamespace(returncode=code, stdout=out.getvalue(), stderr=err.getvalue())


def test_entry_points_name_the_functions_run_in_process():
    found = {ep.name: ep.value for ep in entry_points(group="miniflow.commands")}
    for name, func in IN_PROCESS.items():
        assert found[name] == f"{func.__module__}:{func.__name__}", name


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
        process=True,
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
    r = cli(
        server, None, "platform", "users", "create", "gina", "--json", config=config, process=True
    )
    gina = json.loads(r.stdout)
    assert gina["user"] == "gina" and gina["token"].startswith("mfp_")
    me = cli(server, gina["token"], "platform", "users", "me", "--json")
    assert json.loads(me.stdout)["name"] == "gina"
    denied = cli(server, gina["token"], "platform", "users", "list", check=False)
    assert denied.returncode == 1 and "HTTP 403" in denied.stderr
    bad = cli(server, "mfp_wrong", "jobs", "list", check=False)
    assert bad.returncode == 1 and "HTTP 401" in bad.stderr
