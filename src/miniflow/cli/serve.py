"""`miniflow serve`: serve models over HTTP with TensorFlow Serving's REST API.

    miniflow serve --model-dir /models/ctr --name ctr --port 8501
    miniflow serve --model-config-file models.config --port 8501 --workers 4 \\
                   --batch-max-size 64

A model directory holds numbered versions (1/, 2/, ...); the newest one that loads is
served, and a newer one is picked up while serving. --workers N runs N processes on
the port under a supervisor, sharing memory-mapped model arrays. See docs/serving.md.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import signal
import sys
import tempfile
import threading


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="miniflow serve",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--model-dir", help="base directory with numbered version directories")
    p.add_argument("--name", help="model name in URLs (default: the directory's name)")
    p.add_argument("--model-config-file", help="several models (TF Serving text format or JSON)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback)")
    p.add_argument("--port", type=int, default=8501, help="port (0 = any free port)")
    p.add_argument(
        "--batch-max-size",
        type=int,
        default=0,
        help="merge concurrent requests into model calls of up to N rows (0 = off)",
    )
    p.add_argument(
        "--batch-timeout-ms",
        type=float,
        default=0.0,
        help="longest wait for a batch to fill (with --batch-max-size; 0 = adaptive: "
        "never wait, merge only requests that queued while the model was busy)",
    )
    p.add_argument(
        "--poll-seconds", type=float, default=1.0, help="how often to look for new versions"
    )
    p.add_argument(
        "--model-config-file-poll-wait-seconds",
        type=float,
        default=0.0,
        help="re-read --model-config-file this often, applying changes (0 = never)",
    )
    p.add_argument("--max-body-bytes", type=int, default=None, help="largest request body")
    p.add_argument(
        "--max-inflight-bytes",
        type=int,
        default=None,
        help="request bytes received or processed at once (beyond: 503; default 4x body)",
    )
    p.add_argument(
        "--max-connections", type=int, default=1024, help="open connections (beyond: 503)"
    )
    p.add_argument(
        "--read-timeout-s",
        type=float,
        default=30.0,
        help="longest silence within a request (headers, body)",
    )
    p.add_argument(
        "--idle-timeout-s",
        type=float,
        default=60.0,
        help="longest wait for the next request on a keep-alive connection",
    )
    p.add_argument(
        "--request-timeout-s",
        type=float,
        default=120.0,
        help="longest time to receive one request body",
    )
    p.add_argument(
        "--auth-token-env",
        metavar="VAR",
        help="require 'Authorization: Bearer <$VAR>' on every request (the token stays out of argv)",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        help="server processes sharing the port (a supervisor restarts any that dies)",
    )
    p.add_argument(
        "--model-cache-dir",
        help="where model arrays are extracted to be memory-mapped, shared by the workers "
        "(default with --workers > 1: a temporary directory, removed at exit; with one "
        "process: none; 'none': read into memory)",
    )
    p.add_argument(
        "--worker-timeout-s",
        type=float,
        default=60.0,
        help="with --workers > 1: a worker silent this long, or with a model call running "
        "this long, is answered 503 for, killed and replaced (0 = never)",
    )
    p.add_argument("--log-level", default="INFO")
    # set by the --workers supervisor for each worker
    p.add_argument("--listen-fd", type=int, help=argparse.SUPPRESS)
    p.add_argument("--parent-fd", type=int, help=argparse.SUPPRESS)
    p.add_argument("--worker-index", type=int, help=argparse.SUPPRESS)
    p.add_argument("--heartbeat-fd", type=int, help=argparse.SUPPRESS)
    p.add_argument("--supervisor-stats", help=argparse.SUPPRESS)
    return p


def _configs(args, parser):
    from miniflow.serving.config import load_model_config
    from miniflow.serving.manager import ModelConfig

    if args.model_config_file:
        if args.model_dir:
            parser.error("give --model-dir or --model-config-file, not both")
        return load_model_config(args.model_config_file)
    if not args.model_dir:
        parser.error("--model-dir (or --model-config-file) is required")
    base = os.path.abspath(args.model_dir)
    return [ModelConfig(args.name or os.path.basename(base.rstrip(os.sep)), base)]


def main(argv: list[str]) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(),
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    from miniflow.serving import model_files
    from miniflow.serving.manager import BatchingOptions
    from miniflow.serving.server import DEFAULT_MAX_BODY_BYTES, HTTPLimits

    try:
        configs = _configs(args, parser)
    except (OSError, ValueError) as e:
        print(f"miniflow serve: {e}", file=sys.stderr)
        return 2
    from miniflow.serving.servable import servable_kind

    for c in configs:
        if not os.path.isdir(c.base_path):
            print(
                f"miniflow serve: model {c.name!r}: base directory {c.base_path} does not exist",
                file=sys.stderr,
            )
            return 2
        if servable_kind(c.base_path) is not None:
            print(
                f"miniflow serve: model {c.name!r}: {c.base_path} is a model version itself; "
                "pass its parent, a base directory of numbered versions (e.g. put the model "
                "in DIR/1/ and serve DIR)",
                file=sys.stderr,
            )
            return 2
    token = None
    if args.auth_token_env:
        token = os.environ.get(args.auth_token_env)
        if not token:
            print(f"miniflow serve: ${args.auth_token_env} is unset or empty", file=sys.stderr)
            return 2
    batching = None
    if args.batch_max_size > 0:
        batching = BatchingOptions(args.batch_max_size, args.batch_timeout_ms / 1000.0)
    body = args.max_body_bytes or DEFAULT_MAX_BODY_BYTES
    try:
        limits = HTTPLimits(
            read_timeout_s=args.read_timeout_s,
            idle_timeout_s=args.idle_timeout_s,
            request_timeout_s=args.request_timeout_s,
            max_connections=args.max_connections,
            max_body_bytes=body,
            max_inflight_bytes=args.max_inflight_bytes or 4 * body,
        )
    except ValueError as e:
        print(f"miniflow serve: {e}", file=sys.stderr)
        return 2
    if args.workers < 1:
        print(f"miniflow serve: --workers must be >= 1, got {args.workers}", file=sys.stderr)
        return 2
    if not args.worker_timeout_s >= 0:
        print(
            f"miniflow serve: --worker-timeout-s must be >= 0, got {args.worker_timeout_s}",
            file=sys.stderr,
        )
        return 2
    if args.workers > 1 and args.listen_fd is None:
        return _supervise(argv, args)
    cache, own_cache = _cache_dir(args)
    model_files.configure(cache)
    try:
        return _serve(args, configs, batching, limits, token)
    finally:
        if own_cache:
            shutil.rmtree(cache, ignore_errors=True)


_CACHE_PREFIX = "miniflow-serve-models-"  # the supervisor's own cache directories


def _cache_dir(args) -> tuple[str | None, bool]:
    """(directory for mapped model arrays or None, whether this process removes it).

    Workers map from the supervisor's directory; a single process reads arrays into
    memory (mapping saves nothing there) unless ``--model-cache-dir`` names one."""
    if args.model_cache_dir == "none":
        return None, False
    if args.model_cache_dir:
        return args.model_cache_dir, False
    if args.workers > 1:
        return tempfile.mkdtemp(prefix=_CACHE_PREFIX), True
    return None, False


def _supervise(argv, args) -> int:
    from miniflow.serving.workers import Supervisor

    cache, own = _cache_dir(args)
    try:
        sup = Supervisor(
            argv,
            args.host,
            args.port,
            args.workers,
            cache or "none",
            own,
            hang_timeout_s=args.worker_timeout_s,
        )
    except OSError as e:
        print(f"miniflow serve: cannot listen on {args.host}:{args.port}: {e}", file=sys.stderr)
        return 2
    sup.handle_signals()
    try:
        first = sup.start()
    except RuntimeError as e:
        print(f"miniflow serve: {e}", file=sys.stderr)
        return 2
    models = first.split(" models=", 1)[1] if " models=" in first else ""
    print(
        f"miniflow serve: listening on http://{args.host}:{sup.port} models={models} "
        f"workers={args.workers} pids={','.join(map(str, sup.pids()))}",
        flush=True,
    )
    return sup.run()


def _serve(args, configs, batching, limits, token) -> int:
    from miniflow.serving.liveness import Heartbeat
    from miniflow.serving.server import ModelServer

    heartbeat = None
    if args.heartbeat_fd is not None:
        heartbeat = Heartbeat(args.heartbeat_fd, args.worker_timeout_s)
    try:
        server = ModelServer(
            configs,
            args.host,
            args.port,
            batching,
            args.poll_seconds,
            limits,
            auth_token=token,
            config_file=args.model_config_file,
            config_poll_seconds=args.model_config_file_poll_wait_seconds,
            listen_fd=args.listen_fd,
            worker_index=args.worker_index,
            heartbeat=heartbeat,
            supervisor_stats=args.supervisor_stats,
        )
    except OSError as e:
        print(f"miniflow serve: cannot listen on {args.host}:{args.port}: {e}", file=sys.stderr)
        return 2
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    if args.parent_fd is not None:
        from miniflow.serving.workers import watch_parent

        watch_parent(args.parent_fd, stop.set)
    server.start()
    for c in configs:
        versions = server.managers[c.name].versions
        if not versions:
            logging.getLogger("miniflow.serving").warning(
                "model %s: no loadable version in %s yet; waiting for one", c.name, c.base_path
            )
    # One machine-readable line: tests and scripts read the port from it.
    try:
        print(
            f"miniflow serve: listening on http://{args.host}:{server.port} models="
            + ",".join(f"{c.name}@{server.managers[c.name].versions}" for c in configs),
            flush=True,
        )
    except BrokenPipeError:  # a worker whose supervisor is already gone
        stop.set()
    if args.listen_fd is not None:  # the supervisor read that line and closed the pipe
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    stop.wait()
    server.stop()  # unloads every version, which unlinks its mapped files
    if args.parent_fd is not None and os.path.basename(args.model_cache_dir or "").startswith(
        _CACHE_PREFIX
    ):
        try:  # the last worker out removes the directory if the supervisor could not
            os.rmdir(args.model_cache_dir)
        except OSError:
            pass
    return 0
