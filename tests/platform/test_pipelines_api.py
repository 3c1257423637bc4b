"""/v1/pipelines against a real server: outputs between steps, conditions, failures,
cancelling, validation, tenancy and the `miniflow pipelines` CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from platform_helpers import wait_for

RUN_ENDED = {"SUCCEEDED", "FAILED", "CANCELLED"}
SMALL = {"cpu": 0.1, "memory_mb": 128}


def py(code: str, *args: str) -> list[str]:
    return [sys.executable, "-c", code, *args]


def write_outputs(expr: str) -> str:
    """Python code writing ``expr`` (a dict expression) to outputs.json in the cwd."""
    return f"import json, sys, time; json.dump({expr}, open('outputs.json', 'w'))"


def step(name: str, command: list[str], *deps: str, **extra) -> dict:
    return {"name": name, "command": command, "depends_on": list(deps), "resources": SMALL, **extra}


def create(client, name: str, steps: list[dict], **extra) -> dict:
    r = client.post("/v1/pipelines", json={"name": name, "steps": steps, **extra})
    assert r.status_code == 201, r.text
    return r.json()


def start(client, name: str, **params) -> dict:
    r = client.post(f"/v1/pipelines/{name}/runs", json={"params": params})
    assert r.status_code == 201, r.text
    return r.json()


def wait_run(client, name: str, run_id: int, states=RUN_ENDED, timeout: float = 120) -> dict:
    def ended():
        run = client.get(f"/v1/pipelines/{name}/runs/{run_id}").json()
        return run if run["state"] in states else None

    return wait_for(ended, timeout, interval=0.2, what=f"run {run_id} of {name}")


def by_name(run: dict) -> dict[str, dict]:
    return {s["name"]: s for s in run["steps"]}


def test_outputs_and_artifacts_flow_to_later_steps_and_ready_steps_run_in_parallel(alice):
    make = write_outputs("{'x': 21}") + "; open('data.txt', 'w').write('from a')"
    timed = "import time; t0 = time.time(); time.sleep(2); " + write_outputs(
        "{'y': 2 * int(sys.argv[1]), 'start': t0, 'end': time.time()}"
    )
    read = "import sys; print('d read', open(sys.argv[1]).read(), 'y =', sys.argv[2])"
    create(
        alice,
        "flow",
        [
            step("a", py(make)),
            step("b", py(timed, "{{steps.a.outputs.x}}"), "a"),
            step("c", py(timed, "0"), "a"),
            step(
                "d",
                py(read, "{{steps.a.artifacts}}/data.txt", "{{ steps.b.outputs.y }}"),
                "b",
                "c",
                when="steps.b.outputs.y == 42 and steps.a.outputs.x < 100",
            ),
        ],
    )
    run = wait_run(alice, "flow", start(alice, "flow")["id"])
    assert run["state"] == "SUCCEEDED", run["steps"]
    steps = by_name(run)
    assert steps["a"]["outputs"] == {"x": 21}
    assert steps["b"]["outputs"]["y"] == 42
    b, c = steps["b"]["outputs"], steps["c"]["outputs"]
    assert b["start"] < c["end"] and c["start"] < b["end"], "b and c did not overlap"
    assert all(s["state"] == "SUCCEEDED" and s["job_id"] for s in run["steps"])
    assert steps["a"]["artifacts_dir"].endswith(f"job-{steps['a']['job_id']}/artifacts")
    for s in run["steps"]:
        assert s["started_at"] and s["finished_at"] and s["started_at"] <= s["finished_at"]
    logs = alice.get(f"/v1/pipelines/flow/runs/{run['id']}/steps/d/logs")
    assert logs.status_code == 200 and "d read from a y = 42" in logs.text
    job = alice.get(f"/v1/jobs/{steps['d']['job_id']}").json()
    assert job["name"] == f"run-{run['id']}/d" and job["details"]["pipeline"] == "flow"


def test_a_false_condition_skips_the_step_and_what_depends_on_it(alice):
    create(
        alice,
        "gate",
        [
            step("evaluate", py(write_outputs("{'auc': 0.55}"))),
            step(
                "deploy",
                py("print('deployed')"),
                "evaluate",
                when="steps.evaluate.outputs.auc > params.min_auc",
            ),
            step("notify", py("print('told')"), "deploy"),
            step("report", py("print('report')"), "evaluate"),
        ],
        params={"min_auc": 0.7},
    )
    run = wait_run(alice, "gate", start(alice, "gate")["id"])
    steps = by_name(run)
    assert run["state"] == "SUCCEEDED"
    assert steps["deploy"]["state"] == "SKIPPED" and steps["deploy"]["job_id"] is None
    assert "condition is false" in steps["deploy"]["reason"]
    assert (
        steps["notify"]["state"] == "SKIPPED"
        and "'deploy' was skipped" in steps["notify"]["reason"]
    )
    assert steps["report"]["state"] == "SUCCEEDED"
    # The same pipeline with a lower bar (a run's params override the defaults) deploys.
    run = wait_run(alice, "gate", start(alice, "gate", min_auc=0.5)["id"])
    assert run["params"] == {"min_auc": 0.5}
    assert [s["state"] for s in run["steps"]] == ["SUCCEEDED"] * 4


def test_a_failed_step_fails_its_dependants_and_the_run_after_its_retries(alice):
    create(
        alice,
        "failing",
        [
            step(
                "a",
                py("import sys; print('attempting'); sys.exit(3)"),
                max_retries=1,
                retry_backoff_s=0,
            ),
            step("b", py("print('never')"), "a"),
            step("c", py("print('independent')")),
            step("d", py("print('never')"), "b", "c"),
            step("e", py("print(1)"), "c", when="steps.c.outputs.missing > 1"),
        ],
    )
    run = wait_run(alice, "failing", start(alice, "failing")["id"])
    steps = by_name(run)
    assert run["state"] == "FAILED" and run["reason"] == "step 'a' failed"
    assert steps["a"]["state"] == "FAILED" and "exited with code 3" in steps["a"]["reason"]
    job = alice.get(f"/v1/jobs/{steps['a']['job_id']}").json()
    assert job["attempt"] == 2 and len(job["attempts"]) == 1  # retried once, then failed
    assert (
        steps["b"]["state"] == "UPSTREAM_FAILED" and "'a' did not succeed" in steps["b"]["reason"]
    )
    assert steps["c"]["state"] == "SUCCEEDED"  # an independent branch still runs
    assert steps["d"]["state"] == "UPSTREAM_FAILED"
    assert steps["e"]["state"] == "FAILED" and "wrote no output 'missing'" in steps["e"]["reason"]
    assert steps["b"]["job_id"] is None and steps["d"]["job_id"] is None
    logs = alice.get(f"/v1/pipelines/failing/runs/{run['id']}/steps/a/logs").text
    assert logs.count("attempting") == 2


def test_cancelling_a_run_cancels_its_running_steps(alice, tmp_path):
    marker = tmp_path / "after-sleep"
    sleeper = py(f"import time, pathlib; time.sleep(60); pathlib.Path({str(marker)!r}).touch()")
    create(alice, "slow", [step("sleep", sleeper), step("after", py("print(1)"), "sleep")])
    run = start(alice, "slow")
    url = f"/v1/pipelines/slow/runs/{run['id']}"
    wait_for(
        lambda: by_name(alice.get(url).json())["sleep"]["state"] == "RUNNING", 60, what="RUNNING"
    )
    assert alice.delete("/v1/pipelines/slow").status_code == 409  # a run is running
    r = alice.post(url + "/cancel")
    assert r.status_code == 200, r.text
    run = r.json()
    steps = by_name(run)
    assert run["state"] == "CANCELLED" and run["reason"] == "cancelled by alice"
    assert steps["sleep"]["state"] == "CANCELLED" and steps["after"]["state"] == "CANCELLED"
    job = alice.get(f"/v1/jobs/{steps['sleep']['job_id']}").json()
    assert job["state"] == "CANCELLED"
    again = alice.post(url + "/cancel")
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"
    assert not marker.exists()
    assert alice.delete("/v1/pipelines/slow").status_code == 204
    assert alice.get(url).status_code == 404


@pytest.mark.parametrize(
    "steps,message",
    [
        ([step("a", ["x"], "b"), step("b", ["x"], "a")], "cycle: a -> b -> a"),
        ([step("a", ["x"], "ghost")], "unknown steps: ghost"),
        ([step("a", ["x"]), step("a", ["y"])], "duplicate step names: a"),
        ([step(f"s{i}", ["x"]) for i in range(101)], "at most 100"),
        ([step("a", ["x"], when="open('/etc/passwd')")], "Call is not allowed"),
        (
            [step("a", ["x"]), step("b", ["{{steps.a.outputs.k}}"])],
            "not among the steps it depends on",
        ),
        ([step("a", ["x"], resources={"cpu": 64})], "cpu 64.0 > capacity 2.0"),
        ([step("a", ["x"], max_retries=11)], "step 'a': max_retries 11 is over"),
        ([{"name": "Bad-Name", "command": ["x"]}], "steps.0.name"),
        ([{"name": "a", "kind": "rollout", "command": ["x"]}], "steps.0.kind"),
        ([], "steps"),
    ],
)
def test_invalid_definitions_are_refused_with_422_naming_the_problem(alice, steps, message):
    r = alice.post("/v1/pipelines", json={"name": "bad", "steps": steps})
    assert r.status_code == 422, r.text
    assert message in r.json()["error"]["message"]


def test_names_params_and_ownership(alice, bob, admin):
    create(alice, "mine", [step("a", py(write_outputs("{'k': 1}")))], params={"p": 1})
    dup = alice.post("/v1/pipelines", json={"name": "mine", "steps": [step("a", ["x"])]})
    assert dup.status_code == 409
    bad = alice.post("/v1/pipelines/mine/runs", json={"params": {"q": 2}})
    assert bad.status_code == 422 and "unknown params: q" in bad.json()["error"]["message"]
    assert alice.get("/v1/pipelines?bogus=1").status_code == 422
    # bob may use the same name; he sees neither alice's pipeline nor its runs.
    assert bob.get("/v1/pipelines/mine").status_code == 404
    assert bob.post("/v1/pipelines/mine/runs").status_code == 404
    run = wait_run(alice, "mine", start(alice, "mine")["id"])
    assert bob.get(f"/v1/pipelines/mine/runs/{run['id']}").status_code == 404
    create(bob, "mine", [step("a", py("print(1)"))])
    assert bob.get(f"/v1/pipelines/mine/runs/{run['id']}").status_code == 404  # not his run
    assert [p["user"] for p in bob.get("/v1/pipelines").json()["data"]] == ["bob"]
    everyone = {(p["user"], p["name"]) for p in admin.get("/v1/pipelines").json()["data"]}
    assert {("alice", "mine"), ("bob", "mine")} <= everyone
    # A step cannot reach into another user's job dirs through a template or path.
    a_dir = by_name(run)["a"]["artifacts_dir"]
    create(bob, "steal", [step("a", py("print(open('outputs.json').read())"), working_dir=a_dir)])
    stolen = wait_run(bob, "steal", start(bob, "steal")["id"])
    assert stolen["state"] == "FAILED"
    assert "outside your own jobs" in by_name(stolen)["a"]["reason"]


def test_outputs_json_must_be_a_small_json_object_and_is_never_followed(alice):
    link = "import os; os.symlink('/etc/hostname', 'outputs.json')"
    create(
        alice,
        "outputs",
        [
            step("link", py(link)),
            step("list", py("open('outputs.json', 'w').write('[1, 2]')")),
            step("junk", py("open('outputs.json', 'w').write('{nope')")),
            step("big", py("open('outputs.json', 'w').write('{\"a\": \"' + 'x' * 70000 + '\"}')")),
        ],
    )
    run = wait_run(alice, "outputs", start(alice, "outputs")["id"])
    steps = by_name(run)
    assert run["state"] == "FAILED"
    assert all(s["state"] == "FAILED" and s["outputs"] == {} for s in run["steps"])
    assert "outputs.json" in steps["link"]["reason"]
    assert Path("/etc/hostname").read_text().strip() not in json.dumps(run)
    assert "must hold a JSON object, not list" in steps["list"]["reason"]
    assert "not valid JSON" in steps["junk"]["reason"]
    assert "the limit is 65536" in steps["big"]["reason"]


BIN = Path(sys.executable).parent


def cli(server, token, *args, check=True, stdin=None):
    env = {k: v for k, v in os.environ.items() if not k.startswith("MINIFLOW_PLATFORM")}
    env.update(MINIFLOW_PLATFORM_URL=server.url, MINIFLOW_PLATFORM_TOKEN=token)
    r = subprocess.run(
        [str(BIN / "miniflow"), "pipelines", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        input=stdin,
    )
    if check:
        assert r.returncode == 0, (args, r.stdout, r.stderr)
    return r


def test_the_cli_creates_runs_follows_and_cancels(server, tmp_path):
    token = server.new_user("carol")
    definition = tmp_path / "p.yaml"
    definition.write_text(
        f"""
name: cli-demo
params: {{greeting: hello}}
steps:
  - name: hello
    command: [{sys.executable}, -c, "print('{{{{params.greeting}}}} from the cli')"]
    resources: {{cpu: 0.1, memory_mb: 128}}
  - name: wait
    depends_on: [hello]
    command: [{sys.executable}, -c, "import time; time.sleep(60)"]
    resources: {{cpu: 0.1, memory_mb: 128}}
"""
    )
    created = json.loads(cli(server, token, "create", str(definition), "--json").stdout)
    assert created["name"] == "cli-demo" and [s["name"] for s in created["steps"]] == [
        "hello",
        "wait",
    ]
    assert "cli-demo" in cli(server, token, "list").stdout
    run = json.loads(
        cli(server, token, "run", "cli-demo", "--param", "greeting=hi", "--json").stdout
    )
    rid = str(run["id"])

    with server.client(token) as api:  # poll over HTTP: each CLI call starts a Python
        url = f"/v1/pipelines/cli-demo/runs/{rid}"
        wait_for(lambda: by_name(api.get(url).json())["wait"]["state"] == "RUNNING", 120)
    assert "hi from the cli" in cli(server, token, "logs", "cli-demo", rid, "hello").stdout
    table = cli(server, token, "get", "cli-demo", rid).stdout
    assert "hello" in table and "SUCCEEDED" in table and "RUNNING" in table
    cancelled = cli(server, token, "cancel", "cli-demo", rid).stdout
    assert "CANCELLED" in cancelled
    runs = json.loads(cli(server, token, "list", "cli-demo", "--json").stdout)
    assert [r["state"] for r in runs["data"]] == ["CANCELLED"]
    bad = cli(server, token, "create", "-", check=False, stdin="name: x\nsteps: [{name: a}]\n")
    assert bad.returncode == 1 and "needs command" in bad.stderr
    bad = cli(server, token, "run", "cli-demo", "--param", "nope=1", check=False)
    assert bad.returncode == 1 and "unknown params: nope" in bad.stderr
