"""``miniflow-platform`` / ``miniflow platform``: start the server, manage users.

    miniflow-platform serve [--port 8080] [--data-dir DIR] [--db URL] [--cpu N] ...
    miniflow-platform users create NAME [--admin]      (talks to a running server)
    miniflow-platform users list

The admin token is printed once, on the first start of a fresh data dir.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(os.environ.get("MINIFLOW_PLATFORM_DATA", Path(base) / "miniflow-platform"))


def _serve_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("serve", help="start the API server")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--data-dir", type=Path, default=None)
    p.add_argument("--db", default=None, help="SQLAlchemy URL (default: SQLite in data dir)")
    p.add_argument("--executor", default="local", help="local or kubernetes")
    k = p.add_argument_group("kubernetes executor (docs/kubernetes.md)")
    k.add_argument("--kube-context", default=None, help="kubeconfig context (default: in-cluster)")
    k.add_argument("--namespace-prefix", default="miniflow-", help="tenant namespaces' prefix")
    k.add_argument("--image", default="miniflow:latest", help="image of every workload")
    k.add_argument(
        "--environment-image",
        action="append",
        default=[],
        metavar="ENV=IMAGE",
        help="the image of one environment (repeatable)",
    )
    k.add_argument("--data-pvc", default=None, help="PVC of the data dir, mounted in pods")
    k.add_argument("--platform-namespace", default="miniflow", help="where the platform runs")
    p.add_argument("--storage-url", default=None, help="artifacts: s3://BUCKET/PREFIX")
    p.add_argument("--s3-endpoint-url", default=None, help="a non-AWS S3 server")
    p.add_argument(
        "--isolation", choices=["auto", "isolated", "cgroups", "rlimits", "none"], default="auto"
    )
    p.add_argument(
        "--single-tenant",
        action="store_true",
        default=os.environ.get("MINIFLOW_PLATFORM_SINGLE_TENANT") == "1",
        help="allow serving without job isolation (jobs run as the server's user)",
    )
    p.add_argument("--cpu", type=float, default=None, help="CPU capacity (default: all)")
    p.add_argument("--memory-mb", type=int, default=None, help="memory capacity")
    p.add_argument("--gpus", default="", help="comma-separated GPU ids, e.g. 0,1")
    p.add_argument("--quota-cpu", type=float, default=None)
    p.add_argument("--quota-memory-mb", type=int, default=None)
    p.add_argument("--quota-gpu", type=int, default=None)
    p.add_argument("--quota-running-jobs", type=int, default=None)
    p.add_argument(
        "--quota-disk-mb",
        default=None,
        help="per-user disk quota in MiB, or 'none' (default 10240)",
    )
    p.add_argument(
        "--limit",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="any server limit, e.g. max_body_bytes=1048576 (see docs/platform.md, Limits)",
    )
    p.add_argument("--default-job-memory-mb", type=int, default=1024)
    p.add_argument("--poll-interval", type=float, default=0.5)
    p.add_argument("--notebook-idle-timeout", type=float, default=3600.0)
    p.add_argument(
        "--admin-token-file",
        type=Path,
        default=None,
        help="also write the first-start admin token here (mode 0600)",
    )
    p.add_argument("--log-level", default="warning")
    p.add_argument(
        "--clock-file",
        type=Path,
        default=None,
        help="schedules read the time from this file (ISO 8601) instead of the system "
        "clock: for tests and drills of catch-up",
    )


def serve(args: argparse.Namespace) -> int:
    import uvicorn

    from miniflow_platform.config import Settings
    from miniflow_platform.limits import Limits, parse_assignments
    from miniflow_platform.main import build_platform, create_app, ensure_admin

    fields = {
        "data_dir": args.data_dir or default_data_dir(),
        "db_url": args.db,
        "host": args.host,
        "port": args.port,
        "executor": args.executor,
        "isolation": args.isolation,
        "single_tenant": args.single_tenant,
        "gpus": [g for g in args.gpus.split(",") if g],
        "quota_cpu": args.quota_cpu,
        "quota_memory_mb": args.quota_memory_mb,
        "quota_gpu": args.quota_gpu,
        "quota_running_jobs": args.quota_running_jobs,
        "default_job_memory_mb": args.default_job_memory_mb,
        "poll_interval_s": args.poll_interval,
        "notebook_idle_timeout_s": args.notebook_idle_timeout,
        "clock_file": args.clock_file,
        "storage_url": args.storage_url,
        "s3_endpoint_url": args.s3_endpoint_url,
        "kube_context": args.kube_context,
        "kube_namespace_prefix": args.namespace_prefix,
        "kube_image": args.image,
        "kube_images": dict(pair.partition("=")[::2] for pair in args.environment_image),
        "kube_data_pvc": args.data_pvc,
        "kube_platform_namespace": args.platform_namespace,
    }
    if args.cpu is not None:
        fields["capacity_cpu"] = args.cpu
    if args.memory_mb is not None:
        fields["capacity_memory_mb"] = args.memory_mb
    limits = parse_assignments(args.limit)
    if args.quota_disk_mb is not None:
        quota = args.quota_disk_mb
        limits["disk_quota_bytes"] = None if quota == "none" else str(int(quota) * 2**20)
    fields["limits"] = Limits(**limits)  # type: ignore[arg-type]
    try:
        settings = Settings(**fields)
        platform = build_platform(settings)
    except (RuntimeError, OSError, ValueError) as e:  # e.g. --isolation isolated on a
        # machine that cannot, a bad --namespace-prefix, no kubeconfig context
        print(f"miniflow-platform: {e}", file=sys.stderr)
        return 2
    mode = getattr(platform.executor, "mode", "none")
    if mode != "isolated" and not settings.single_tenant:
        from miniflow_platform.executors.modes import refusal

        reason = getattr(getattr(platform.executor, "capability", None), "reason", "")
        print(refusal(reason or "this executor does not isolate jobs"), file=sys.stderr)
        return 2
    token = ensure_admin(platform)
    if token is not None:
        print(f"admin token (shown once, store it): {token}", flush=True)
        if args.admin_token_file:
            fd = os.open(args.admin_token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(token + "\n")
    print(
        f"miniflow platform on http://{settings.host}:{settings.port} "
        f"(data: {settings.data_dir}, jobs: {mode}"
        f"{', single-tenant' if settings.single_tenant else ''}, "
        f"limits: {getattr(platform.executor, 'isolation', '?')})",
        flush=True,
    )
    app = create_app(settings, platform=platform)
    uvicorn.run(app, host=settings.host, port=settings.port, log_level=args.log_level)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(
        prog="miniflow-platform",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    _serve_parser(sub)
    from miniflow_platform import client

    client.add_users_parser(sub)
    args = parser.parse_args(argv)
    if args.command == "serve":
        return serve(args)
    return client.dispatch(args)


if __name__ == "__main__":
    sys.exit(main())
