"""Command-line client: ``miniflow pipelines ...``: define pipelines, start, follow and
cancel their runs.

Built on ``client``'s helpers: the same connection settings ($MINIFLOW_PLATFORM_URL,
$MINIFLOW_PLATFORM_TOKEN or ~/.config/miniflow/platform.json), tables by default and
``--json`` for scripts, as ``miniflow jobs``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from miniflow_platform.client import ClientError, Subparsers, _main, _sub, call, show, stream

PIPELINE_COLUMNS = ("id", "name", "user", "description", "created_at")
RUN_COLUMNS = ("id", "pipeline", "state", "reason", "created_at", "finished_at")
STEP_COLUMNS = ("name", "kind", "state", "job_id", "reason", "started_at", "finished_at")


def _load_definition(path: str) -> Any:
    """A pipeline definition from a .json or .yaml/.yml file ('-': JSON or YAML on stdin)."""
    text = sys.stdin.read() if path == "-" else Path(path).read_text()
    try:
        return json.loads(text)
    except ValueError:
        pass
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise ClientError(f"{path} is neither JSON nor YAML: {e}") from e


def _show_run(args: argparse.Namespace, run: Any) -> None:
    show(args, run, RUN_COLUMNS)
    if not args.json:
        print()
        show(args, {"data": run["steps"]}, STEP_COLUMNS)


def _pipelines_parser(sub: Subparsers) -> None:
    def run(a: argparse.Namespace) -> None:
        params = {}
        for item in a.param:
            key, sep, value = item.partition("=")
            if not sep:
                raise ClientError(f"--param expects NAME=VALUE, got {item!r}")
            params[key] = value
        _show_run(a, call(a, "POST", f"/v1/pipelines/{a.name}/runs", json={"params": params}))

    def get(a: argparse.Namespace) -> None:
        if a.run is None:
            show(a, call(a, "GET", f"/v1/pipelines/{a.name}"), PIPELINE_COLUMNS)
        else:
            _show_run(a, call(a, "GET", f"/v1/pipelines/{a.name}/runs/{a.run}"))

    p = _sub(
        sub,
        "create",
        "define a pipeline from a JSON or YAML file",
        lambda a: show(
            a, call(a, "POST", "/v1/pipelines", json=_load_definition(a.file)), PIPELINE_COLUMNS
        ),
    )
    p.add_argument("file", help="definition file (.json, .yaml), or - for stdin")
    p = _sub(sub, "run", "start a run of a pipeline", run)
    p.add_argument("name")
    p.add_argument("--param", action="append", default=[], metavar="NAME=VALUE")
    p = _sub(
        sub,
        "list",
        "list pipelines, or the runs of one",
        lambda a: show(
            a,
            call(a, "GET", "/v1/pipelines" + (f"/{a.name}/runs" if a.name else "")),
            RUN_COLUMNS if a.name else PIPELINE_COLUMNS,
        ),
    )
    p.add_argument("name", nargs="?", default=None, help="list this pipeline's runs")
    p = _sub(sub, "get", "show a pipeline, or one run with its steps", get)
    p.add_argument("name")
    p.add_argument("run", nargs="?", type=int, default=None)
    p = _sub(
        sub,
        "logs",
        "print a step's logs",
        lambda a: stream(
            a,
            f"/v1/pipelines/{a.name}/runs/{a.run}/steps/{a.step}/logs"
            + ("?follow=true" if a.follow else ""),
        ),
    )
    p.add_argument("name")
    p.add_argument("run", type=int)
    p.add_argument("step")
    p.add_argument("-f", "--follow", action="store_true", help="stream until the step ends")
    p = _sub(
        sub,
        "cancel",
        "cancel a run and its running steps",
        lambda a: _show_run(a, call(a, "POST", f"/v1/pipelines/{a.name}/runs/{a.run}/cancel")),
    )
    p.add_argument("name")
    p.add_argument("run", type=int)
    _sub(
        sub, "delete", "delete a pipeline", lambda a: call(a, "DELETE", f"/v1/pipelines/{a.name}")
    ).add_argument("name")


def pipelines_main(argv: list[str] | None = None) -> int:
    """``miniflow pipelines ...``"""
    return _main("miniflow pipelines", _pipelines_parser, argv, __doc__)
