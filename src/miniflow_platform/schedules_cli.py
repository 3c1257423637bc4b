"""Command-line client: ``miniflow schedules ...``: run pipelines or jobs on a cron schedule.

    miniflow schedules create nightly --cron '0 2 * * *' --timezone Europe/Berlin \\
        --pipeline ctr --param serving_auc=0.8 --concurrency forbid --catch-up once
    miniflow schedules create ping --cron '*/30 * * * * *' -- python ping.py
    miniflow schedules create --file schedule.yaml
    miniflow schedules update nightly --cron '30 1 * * *' --param serving_auc=0.82
    miniflow schedules update ping --cpu 0.5 -- python ping.py --verbose
    miniflow schedules list | get nightly | pause nightly | resume nightly
    miniflow schedules history nightly [--limit 20] | delete nightly

Same connection settings as ``miniflow jobs`` ($MINIFLOW_PLATFORM_URL,
$MINIFLOW_PLATFORM_TOKEN or ~/.config/miniflow/platform.json); tables by default,
``--json`` for scripts.
"""

from __future__ import annotations

import argparse
import functools
import sys
from typing import Any

from miniflow_platform.client import ClientError, Subparsers, _main, _sub, call, show
from miniflow_platform.pipelines_cli import _load_definition

COLUMNS = (
    "name",
    "cron",
    "timezone",
    "target",
    "pipeline",
    "paused",
    "concurrency_policy",
    "catch_up",
    "next_fire_at",
    "active_runs",
)
FIRE_COLUMNS = ("scheduled_at", "fired_at", "state", "run_id", "outcome", "count", "reason")


def _pairs(items: list[str], flag: str) -> dict[str, str]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise ClientError(f"{flag} expects NAME=VALUE, got {item!r}")
        out[key] = value
    return out


def _body(a: argparse.Namespace) -> dict[str, Any]:
    if a.file:
        if a.name or a.cron or a.pipeline or a.job_command:
            raise ClientError("give either --file or the schedule's flags, not both")
        return _load_definition(a.file)
    if not a.name or not a.cron:
        raise ClientError("a schedule needs a NAME and --cron (or --file)")
    if (a.pipeline is None) == (not a.job_command):
        raise ClientError("give --pipeline NAME or a command after --, not both")
    body: dict[str, Any] = {"name": a.name, "cron": a.cron, "timezone": a.timezone}
    body.update(concurrency_policy=a.concurrency, catch_up=a.catch_up, paused=a.paused)
    if a.max_catchup is not None:
        body["max_catchup"] = a.max_catchup
    if a.starting_deadline is not None:
        body["starting_deadline_s"] = a.starting_deadline
    if a.pipeline is not None:
        body["pipeline"], body["params"] = a.pipeline, _pairs(a.param, "--param")
        return body
    command = a.job_command
    resources: dict[str, Any] = {"cpu": a.cpu}
    if a.memory_mb is not None:
        resources["memory_mb"] = a.memory_mb
    job: dict[str, Any] = {"command": command, "env": _pairs(a.env, "--env")}
    job["resources"] = resources
    if a.working_dir:
        job["working_dir"] = a.working_dir
    if a.timeout is not None:
        job["timeout_s"] = a.timeout
    body["job"] = job
    return body


JOB_FLAGS = ("cpu", "memory_mb", "env", "working_dir", "timeout")


def _update(a: argparse.Namespace) -> Any:
    """PATCH what the flags name. Params and job fields are merged into the schedule's
    current ones, read first; the version read then goes with the edit, so an edit
    that someone else's lands between is refused (409) instead of undoing theirs."""
    if a.file:
        body = _load_definition(a.file)
        if a.if_version is not None:
            body["version"] = a.if_version
        return call(a, "PATCH", f"/v1/schedules/{a.name}", json=body)
    body: dict[str, Any] = {}
    for flag, key in (
        ("cron", "cron"),
        ("timezone", "timezone"),
        ("description", "description"),
        ("concurrency", "concurrency_policy"),
        ("catch_up", "catch_up"),
        ("max_catchup", "max_catchup"),
        ("starting_deadline", "starting_deadline_s"),
        ("pipeline", "pipeline"),
        ("paused", "paused"),
    ):
        if getattr(a, flag) is not None:
            body[key] = getattr(a, flag)
    if a.no_starting_deadline:
        body["starting_deadline_s"] = None
    job_flags = [f for f in JOB_FLAGS if getattr(a, f) not in (None, [])]
    if a.param or a.unset_param or job_flags or a.job_command:
        current = call(a, "GET", f"/v1/schedules/{a.name}")
        body["version"] = current["version"]
        if a.param or a.unset_param:
            params = {**current["params"], **_pairs(a.param, "--param")}
            body["params"] = {k: v for k, v in params.items() if k not in a.unset_param}
        if job_flags or a.job_command:
            if current["job"] is None:
                raise ClientError(f"schedule {a.name!r} runs a pipeline, not a command")
            body["job"] = _edited_job(a, current["job"])
    if a.if_version is not None:
        body["version"] = a.if_version
    if not set(body) - {"version"}:
        raise ClientError("nothing to change: give the flags of the fields to edit (or --file)")
    return call(a, "PATCH", f"/v1/schedules/{a.name}", json=body)


def _edited_job(a: argparse.Namespace, job: dict[str, Any]) -> dict[str, Any]:
    job = {k: v for k, v in job.items() if v is not None}
    job.pop("name", None)  # each run's job is named after its fire
    if a.job_command:
        job["command"] = a.job_command
    resources = dict(job.get("resources") or {})
    if a.cpu is not None:
        resources["cpu"] = a.cpu
    if a.memory_mb is not None:
        resources["memory_mb"] = a.memory_mb
    job["resources"] = resources
    if a.env:
        job["env"] = {**job.get("env", {}), **_pairs(a.env, "--env")}
    if a.working_dir is not None:
        job["working_dir"] = a.working_dir
    if a.timeout is not None:
        job["timeout_s"] = a.timeout
    return job


def _update_parser(sub: Subparsers, job_command: list[str]) -> None:
    p = _sub(
        sub,
        "update",
        "edit a schedule in place (a new cron or zone sets the next time from now)",
        lambda a: show(a, _update(a), (*COLUMNS, "version", "upcoming")),
    )
    p.add_argument("name")
    p.add_argument("--file", help="the fields to change (.json, .yaml; - for stdin)")
    p.add_argument("--cron", help="5 fields, or 6 with seconds first; or @daily, @hourly ...")
    p.add_argument("--timezone", help="IANA zone")
    p.add_argument("--description")
    p.add_argument("--concurrency", choices=("allow", "forbid", "replace"))
    p.add_argument("--catch-up", choices=("none", "once", "all"))
    p.add_argument("--max-catchup", type=int)
    deadline = p.add_mutually_exclusive_group()
    deadline.add_argument("--starting-deadline", type=float, help="seconds")
    deadline.add_argument("--no-starting-deadline", action="store_true")
    paused = p.add_mutually_exclusive_group()
    paused.add_argument("--pause", dest="paused", action="store_const", const=True)
    paused.add_argument("--resume", dest="paused", action="store_const", const=False)
    p.add_argument("--pipeline", help="run another of your pipelines")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE", help="set")
    p.add_argument("--unset-param", action="append", default=[], metavar="NAME")
    p.add_argument("--cpu", type=float, help="job: CPUs")
    p.add_argument("--memory-mb", type=int, help="job: memory")
    p.add_argument("--env", action="append", default=[], metavar="KEY=VALUE", help="job env")
    p.add_argument("--working-dir", help="job: working directory")
    p.add_argument("--timeout", type=float, help="job: seconds before it is stopped")
    p.add_argument("--if-version", type=int, help="edit only if the schedule is at this version")
    p.set_defaults(job_command=job_command, paused=None)


def _schedules_parser(sub: Subparsers, job_command: list[str]) -> None:
    p = _sub(
        sub,
        "create",
        "run a pipeline or a command on a cron schedule",
        lambda a: show(a, call(a, "POST", "/v1/schedules", json=_body(a)), COLUMNS),
    )
    p.add_argument("name", nargs="?", help="unique among your schedules")
    p.add_argument("--file", help="a definition (.json, .yaml; - for stdin) instead of flags")
    p.add_argument("--cron", help="5 fields, or 6 with seconds first; or @daily, @hourly ...")
    p.add_argument("--timezone", default="UTC", help="IANA zone (default UTC)")
    p.add_argument("--pipeline", help="one of your pipelines")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE")
    p.add_argument("--concurrency", default="allow", choices=("allow", "forbid", "replace"))
    p.add_argument("--catch-up", default="once", choices=("none", "once", "all"))
    p.add_argument("--max-catchup", type=int, help="catch-up all: at most this many")
    p.add_argument("--starting-deadline", type=float, help="seconds a late time may still run")
    p.add_argument("--paused", action="store_true", help="create it paused")
    p.add_argument("--cpu", type=float, default=1.0, help="job: CPUs")
    p.add_argument("--memory-mb", type=int, help="job: memory")
    p.add_argument("--env", action="append", default=[], metavar="KEY=VALUE", help="job env")
    p.add_argument("--working-dir", help="job: working directory")
    p.add_argument("--timeout", type=float, help="job: seconds before it is stopped")
    p.set_defaults(job_command=job_command)  # what follows "--": the job's command
    _update_parser(sub, job_command)
    _sub(
        sub,
        "list",
        "list your schedules",
        lambda a: show(a, call(a, "GET", "/v1/schedules"), COLUMNS),
    )
    for name, help_, method, suffix in (
        ("get", "show a schedule and its next times", "GET", ""),
        ("pause", "stop firing (runs already started go on)", "POST", "/pause"),
        ("resume", "fire again from the next time after now", "POST", "/resume"),
    ):
        _sub(
            sub,
            name,
            help_,
            lambda a, m=method, s=suffix: show(
                a, call(a, m, f"/v1/schedules/{a.name}{s}"), (*COLUMNS, "upcoming")
            ),
        ).add_argument("name")
    p = _sub(
        sub,
        "history",
        "each scheduled time, newest first: its run and outcome, or why it was skipped",
        lambda a: show(
            a, call(a, "GET", f"/v1/schedules/{a.name}/history?limit={a.limit}"), FIRE_COLUMNS
        ),
    )
    p.add_argument("name")
    p.add_argument("--limit", type=int, default=50)
    _sub(
        sub, "delete", "delete a schedule", lambda a: call(a, "DELETE", f"/v1/schedules/{a.name}")
    ).add_argument("name")


def schedules_main(argv: list[str] | None = None) -> int:
    """``miniflow schedules ...``"""
    argv = sys.argv[1:] if argv is None else list(argv)
    cut = argv.index("--") if "--" in argv else len(argv)
    build = functools.partial(_schedules_parser, job_command=argv[cut + 1 :])
    return _main("miniflow schedules", build, argv[:cut], __doc__)
