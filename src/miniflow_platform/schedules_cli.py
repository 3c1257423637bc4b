"""Command-line client: ``miniflow schedules ...``: run pipelines or jobs on a cron schedule.

    miniflow schedules create nightly --cron '0 2 * * *' --timezone Europe/Berlin \\
        --pipeline ctr --param serving_auc=0.8 --concurrency forbid --catch-up once
    miniflow schedules create ping --cron '*/30 * * * * *' -- python ping.py
    miniflow schedules create --file schedule.yaml
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
