"""Command-line client: ``miniflow jobs|notebooks|services|predictions ...``.

Talks to the API at ``$MINIFLOW_PLATFORM_URL`` (default http://127.0.0.1:8080) with
the token from ``$MINIFLOW_PLATFORM_TOKEN`` or from the config file
``~/.config/miniflow/platform.json`` (``{"url": ..., "token": ...}``, path overridable
with ``$MINIFLOW_PLATFORM_CONFIG``). Tables by default, ``--json`` for scripts.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeAlias

import httpx

DEFAULT_URL = "http://127.0.0.1:8080"
Subparsers: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


class ClientError(Exception):
    """The server answered with an error, or could not be reached."""


def config_path() -> Path:
    return Path(
        os.environ.get(
            "MINIFLOW_PLATFORM_CONFIG", Path.home() / ".config" / "miniflow" / "platform.json"
        )
    )


def connection(args: argparse.Namespace) -> tuple[str, str | None]:
    conf: dict[str, str] = {}
    if config_path().is_file():
        conf = json.loads(config_path().read_text())
    url = args.url or os.environ.get("MINIFLOW_PLATFORM_URL") or conf.get("url") or DEFAULT_URL
    token = args.token or os.environ.get("MINIFLOW_PLATFORM_TOKEN") or conf.get("token")
    return url.rstrip("/"), token


def call(args: argparse.Namespace, method: str, path: str, **kwargs: Any) -> Any:
    url, token = connection(args)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    headers.update(kwargs.pop("headers", {}))
    try:
        r = httpx.request(method, url + path, headers=headers, timeout=120, **kwargs)
    except httpx.HTTPError as e:
        raise ClientError(f"cannot reach the platform at {url}: {e}") from e
    if r.status_code >= 400:
        try:
            error = r.json().get("error") or {}
            detail = error.get("message") or r.text
        except (ValueError, AttributeError):
            detail = r.text
        raise ClientError(f"HTTP {r.status_code}: {detail}")
    if r.status_code == 204:
        return None
    return r.json() if "json" in r.headers.get("content-type", "") else r.text


def stream(args: argparse.Namespace, path: str, out: io.TextIOBase | Any = None) -> None:
    url, token = connection(args)
    out = out or sys.stdout
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with httpx.stream("GET", url + path, headers=headers, timeout=None) as r:
        if r.status_code >= 400:
            r.read()
            raise ClientError(f"HTTP {r.status_code}: {r.text}")
        for chunk in r.iter_text():
            out.write(chunk)
            out.flush()


# ---- output -----------------------------------------------------------------------------


def show(args: argparse.Namespace, data: Any, columns: Sequence[str]) -> None:
    if args.json:
        print(json.dumps(data, indent=2, default=str))
        return
    if data is None:
        return
    rows = data["data"] if isinstance(data, dict) and "data" in data else [data]
    cells = [[_cell(row, c) for c in columns] for row in rows]
    widths = [
        max(len(c), *(len(r[i]) for r in cells)) if cells else len(c) for i, c in enumerate(columns)
    ]
    print("  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
    for r in cells:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())


def _cell(row: dict[str, Any], column: str) -> str:
    value: Any = row
    for part in column.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if isinstance(value, list):
        return " ".join(map(str, value))
    return "" if value is None else str(value)


JOB_COLUMNS = (
    "id",
    "name",
    "user",
    "state",
    "exit_code",
    "priority",
    "resources.cpu",
    "resources.memory_mb",
    "created_at",
)
NB_COLUMNS = ("id", "name", "user", "state", "url", "token", "last_activity")
SVC_COLUMNS = ("name", "user", "state", "url", "generation", "model_dir")


# ---- parsers ----------------------------------------------------------------------------


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--url", default=None, help=f"API URL (default {DEFAULT_URL})")
    p.add_argument("--token", default=None, help="API token (default $MINIFLOW_PLATFORM_TOKEN)")


def _resources(p: argparse.ArgumentParser) -> None:
    p.add_argument("--cpu", type=float, default=1.0)
    p.add_argument("--memory-mb", type=int, default=None)
    p.add_argument("--gpu", type=int, default=0)
    p.add_argument("--pids", type=int, default=None, help="most processes at once")


def _job_options(p: argparse.ArgumentParser) -> None:
    _resources(p)
    p.add_argument("--name", default="")
    p.add_argument("--priority", type=int, default=0)
    p.add_argument("--timeout", type=float, default=None, help="seconds")
    p.add_argument("--env", action="append", default=[], metavar="KEY=VALUE")
    p.add_argument("--python-env", default=None, help="virtualenv dir to run in")
    p.add_argument("--retries", type=int, default=0, help="run again after a failure, N times")
    p.add_argument("--retry-backoff", type=float, default=10.0, help="seconds, doubled per retry")


def _model_options(p: argparse.ArgumentParser, required: bool = True) -> None:
    g = p.add_mutually_exclusive_group(required=required)
    g.add_argument("--model-dir", default=None)
    g.add_argument("--job", type=int, default=None, help="use a training job's output")
    p.add_argument("--model-path", default="model", help="with --job: path in its artifacts")


def _sub(
    sub: Subparsers, name: str, help_: str, func: Callable[[argparse.Namespace], Any]
) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(name, help=help_)
    _common(p)
    p.set_defaults(func=func)
    return p


def _action(method: str, path: str, columns: Sequence[str]) -> Callable[[argparse.Namespace], None]:
    """A command that calls ``method path`` (formatted with the parsed args) and shows it."""

    def run(args: argparse.Namespace) -> None:
        show(args, call(args, method, path.format(**vars(args))), columns)

    return run


def _job_body(args: argparse.Namespace) -> dict[str, Any]:
    env = {}
    for item in args.env:
        key, sep, value = item.partition("=")
        if not sep:
            raise ClientError(f"--env expects KEY=VALUE, got {item!r}")
        env[key] = value
    resources = {"cpu": args.cpu, "gpu": args.gpu}
    if args.memory_mb:
        resources["memory_mb"] = args.memory_mb
    if getattr(args, "pids", None):
        resources["pids"] = args.pids
    return {
        "name": args.name,
        "priority": args.priority,
        "timeout_s": args.timeout,
        "env": env,
        "resources": resources,
        "python_env": args.python_env,
        "max_retries": args.retries,
        "retry_backoff_s": args.retry_backoff,
    }


def _model_body(args: argparse.Namespace) -> dict[str, Any]:
    if args.job is not None:
        return {"model_job_id": args.job, "model_path": args.model_path}
    return {"model_dir": str(Path(args.model_dir).resolve())}


def upload(args: argparse.Namespace, path: Path) -> int:
    """Send a directory (as .tar.gz) or an archive file to POST /v1/uploads; its id."""
    if path.is_file():
        return int(_post_file(args, path)["id"])
    with tempfile.TemporaryDirectory() as tmp:
        packed = Path(tmp) / "code.tar.gz"
        with tarfile.open(packed, mode="w:gz") as tf:
            tf.add(path, arcname=".")
        return int(_post_file(args, packed)["id"])


def _post_file(args: argparse.Namespace, path: Path) -> Any:
    with path.open("rb") as f:  # streamed: the file is never read into memory whole
        headers = {"Content-Type": "application/octet-stream"}
        return call(args, "POST", "/v1/uploads", content=f, headers=headers)


def _jobs_parser(sub: Subparsers, prefix: str) -> None:
    def submit(a: argparse.Namespace) -> Any:
        body = _job_body(a)
        command = a.cmd[1:] if a.cmd[:1] == ["--"] else a.cmd
        if not command:
            raise ClientError("give the command after '--', e.g. jobs submit -- python train.py")
        body["command"] = command
        if a.code:
            body["code_upload_id"] = upload(a, Path(a.code))
        elif a.workdir:
            body["working_dir"] = str(Path(a.workdir).resolve())
        if a.experiment:
            body["experiment"] = a.experiment
        show(a, call(a, "POST", prefix, json=body), JOB_COLUMNS)

    p = _sub(sub, "submit", "submit a training job: submit [options] -- CMD ARGS...", submit)
    _job_options(p)
    p.add_argument("--experiment", default=None, help="tracking experiment (default: Default)")
    p.add_argument("--workdir", default=None, help="working directory on the server machine")
    p.add_argument("--code", default=None, help="directory or .tar.gz/.zip to upload")
    p.add_argument("cmd", nargs=argparse.REMAINDER)
    _job_common_commands(sub, prefix)


def _job_common_commands(sub: Subparsers, prefix: str) -> None:
    p = _sub(
        sub,
        "list",
        "list jobs",
        lambda a: show(
            a,
            call(
                a,
                "GET",
                prefix,
                params={k: v for k, v in (("state", a.state), ("user_name", a.user)) if v},
            ),
            JOB_COLUMNS,
        ),
    )
    p.add_argument("--state", default=None)
    p.add_argument("--user", default=None, help="admin only")
    _sub(
        sub,
        "get",
        "show one job",
        lambda a: show(a, call(a, "GET", f"{prefix}/{a.id}"), JOB_COLUMNS),
    ).add_argument("id", type=int)
    p = _sub(
        sub,
        "logs",
        "print a job's logs",
        lambda a: stream(a, f"{prefix}/{a.id}/logs" + ("?follow=true" if a.follow else "")),
    )
    p.add_argument("id", type=int)
    p.add_argument("-f", "--follow", action="store_true", help="stream until the job ends")
    _sub(
        sub,
        "cancel",
        "cancel a job",
        lambda a: show(a, call(a, "POST", f"{prefix}/{a.id}/cancel"), JOB_COLUMNS),
    ).add_argument("id", type=int)
    _sub(
        sub, "delete", "delete an ended job", lambda a: call(a, "DELETE", f"{prefix}/{a.id}")
    ).add_argument("id", type=int)
    _sub(
        sub,
        "artifacts",
        "list a job's artifacts",
        lambda a: show(
            a,
            {"data": [{"file": f} for f in call(a, "GET", f"{prefix}/{a.id}/artifacts")["files"]]},
            ("file",),
        ),
    ).add_argument("id", type=int)


def _predictions_parser(sub: Subparsers) -> None:
    def submit(a: argparse.Namespace) -> Any:
        body = {
            **_job_body(a),
            **_model_body(a),
            "inputs": [str(Path(i).resolve()) for i in a.input],
            "format": a.format,
        }
        if a.output:
            body["output"] = str(Path(a.output).resolve())
        show(a, call(a, "POST", "/v1/predictions", json=body), JOB_COLUMNS)

    p = _sub(sub, "submit", "submit a batch prediction job", submit)
    _job_options(p)
    _model_options(p)
    p.add_argument("--input", action="append", required=True)
    p.add_argument("--output", default=None)
    p.add_argument("--format", choices=["libsvm", "csv", "jsonl"], default=None)
    _job_common_commands(sub, "/v1/predictions")


def _notebooks_parser(sub: Subparsers) -> None:
    def create(a: argparse.Namespace) -> Any:
        body: dict[str, Any] = {"name": a.name, "resources": {"cpu": a.cpu, "gpu": a.gpu}}
        if a.memory_mb:
            body["resources"]["memory_mb"] = a.memory_mb
        if a.idle_timeout:
            body["idle_timeout_s"] = a.idle_timeout
        show(a, call(a, "POST", "/v1/notebooks", json=body), NB_COLUMNS)

    p = _sub(sub, "create", "start a Jupyter server", create)
    _resources(p)
    p.add_argument("--name", default="")
    p.add_argument("--idle-timeout", type=float, default=None, help="seconds")
    _sub(
        sub,
        "list",
        "list notebooks",
        lambda a: show(a, call(a, "GET", "/v1/notebooks"), NB_COLUMNS),
    )
    for name, method, suffix in (("get", "GET", ""), ("stop", "POST", "/stop")):
        _sub(
            sub,
            name,
            f"{name} a notebook",
            _action(method, "/v1/notebooks/{id}" + suffix, NB_COLUMNS),
        ).add_argument("id", type=int)
    _sub(
        sub,
        "delete",
        "stop and delete a notebook",
        lambda a: call(a, "DELETE", f"/v1/notebooks/{a.id}"),
    ).add_argument("id", type=int)


def _services_parser(sub: Subparsers) -> None:
    def create(a: argparse.Namespace) -> Any:
        body: dict[str, Any] = {
            "name": a.name,
            **_model_body(a),
            "resources": {"cpu": a.cpu, "gpu": a.gpu},
        }
        if a.memory_mb:
            body["resources"]["memory_mb"] = a.memory_mb
        show(a, call(a, "POST", "/v1/services", json=body), SVC_COLUMNS)

    def predict(a: argparse.Namespace) -> Any:
        payload = json.loads(Path(a.data).read_text() if a.data else a.instances)
        if isinstance(payload, list):
            payload = {"instances": payload}
        print(json.dumps(call(a, "POST", f"/v1/services/{a.name}:predict", json=payload)))

    p = _sub(sub, "create", "serve a model", create)
    p.add_argument("name")
    _model_options(p)
    _resources(p)
    _sub(
        sub,
        "list",
        "list model services",
        lambda a: show(a, call(a, "GET", "/v1/services"), SVC_COLUMNS),
    )
    for name, method, suffix in (("get", "GET", ""), ("stop", "POST", "/stop")):
        _sub(
            sub,
            name,
            f"{name} a model service",
            _action(method, "/v1/services/{name}" + suffix, SVC_COLUMNS),
        ).add_argument("name")

    def update(a: argparse.Namespace) -> Any:
        svc = call(a, "PATCH", f"/v1/services/{a.name}", json=_model_body(a))
        while a.wait and svc["update"]["state"] == "UPDATING":  # bounded by the server's
            time.sleep(0.5)  # start timeout: the new generation is healthy or FAILED
            svc = call(a, "GET", f"/v1/services/{a.name}")
        show(a, svc, SVC_COLUMNS)
        if svc["update"]["state"] == "FAILED":
            raise ClientError(
                f"update failed, generation {svc['generation']} serves on: "
                + svc["update"]["reason"]
            )

    p = _sub(sub, "update", "serve another model (new generation, zero downtime)", update)
    p.add_argument("name")
    _model_options(p)
    p.add_argument(
        "--no-wait",
        dest="wait",
        action="store_false",
        help="return at once instead of waiting for traffic to switch",
    )
    _sub(
        sub,
        "delete",
        "stop and delete a model service",
        lambda a: call(a, "DELETE", f"/v1/services/{a.name}"),
    ).add_argument("name")
    p = _sub(sub, "predict", "send a predict request through the platform", predict)
    p.add_argument("name")
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument("--instances", help="JSON, e.g. '[[1.0, 2.0]]'")
    g.add_argument("--data", help="file with a JSON request body")


def add_users_parser(sub: Subparsers) -> None:
    users = sub.add_parser("users", help="manage users and tokens (talks to the server)")
    usub = users.add_subparsers(dest="users_command", required=True)
    p = _sub(
        usub,
        "create",
        "create a user (admin); prints its token once",
        lambda a: show(
            a,
            call(a, "POST", "/v1/users", json={"name": a.name, "admin": a.admin}),
            ("user", "token"),
        ),
    )
    p.add_argument("name")
    p.add_argument("--admin", action="store_true")
    _sub(
        usub,
        "list",
        "list users (admin)",
        lambda a: show(a, call(a, "GET", "/v1/users"), ("id", "name", "is_admin", "created_at")),
    )
    _sub(
        usub,
        "me",
        "who am I",
        lambda a: show(a, call(a, "GET", "/v1/users/me"), ("id", "name", "is_admin")),
    )
    _sub(
        usub,
        "token",
        "issue another token",
        lambda a: show(a, call(a, "POST", f"/v1/users/{a.name}/tokens"), ("id", "user", "token")),
    ).add_argument("name")
    p = _sub(
        usub,
        "revoke",
        "revoke a token by id",
        lambda a: call(a, "DELETE", f"/v1/users/{a.name}/tokens/{a.token_id}"),
    )
    p.add_argument("name")
    p.add_argument("token_id", type=int)


def dispatch(args: argparse.Namespace) -> int:
    try:
        args.func(args)
    except ClientError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


def _main(
    prog: str,
    build: Callable[[Subparsers], None],
    argv: list[str] | None,
    description: str | None = __doc__,
) -> int:
    parser = argparse.ArgumentParser(
        prog=prog, description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    build(parser.add_subparsers(dest="command", required=True))
    return dispatch(parser.parse_args(sys.argv[1:] if argv is None else argv))


def jobs_main(argv: list[str] | None = None) -> int:
    """``miniflow jobs ...``"""
    return _main("miniflow jobs", lambda s: _jobs_parser(s, "/v1/jobs"), argv)


def predictions_main(argv: list[str] | None = None) -> int:
    """``miniflow predictions ...``"""
    return _main("miniflow predictions", _predictions_parser, argv)


def notebooks_main(argv: list[str] | None = None) -> int:
    """``miniflow notebooks ...``"""
    return _main("miniflow notebooks", _notebooks_parser, argv)


def services_main(argv: list[str] | None = None) -> int:
    """``miniflow services ...``"""
    return _main("miniflow services", _services_parser, argv)
