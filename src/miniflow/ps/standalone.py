"""Shards and workers as standalone processes, laid out by hand, a platform or Kubernetes.

A job directory (on storage every machine sees) is the only thing they share:

``JOB_DIR/job.json``
    the job's id and options, written once by :func:`init_job` (``miniflow ps init``);
``JOB_DIR/secret``
    the job secret (hex, mode 0600); a process elsewhere may get it from
    ``MINIFLOW_PS_SECRET`` or ``--secret-file`` instead;
``JOB_DIR/shards/shard-I.json``
    where shard I listens, written atomically by the shard when it starts (again, on
    a new port maybe, when it is restarted): workers wait for every shard's file and
    re-read them when a shard is unreachable;
``JOB_DIR/shard-I.ckpt.npz`` (+ deltas)
    shard I's checkpoints; a shard started when its checkpoint exists restores it.

Workers read their own input files (no central partitioning): worker w cuts its input
into steps of ``batch_size // num_workers`` rows, so when each worker's file holds its
slice of every global minibatch, a sync job equals single-process training exactly.
A worker that runs out of input sends ``done``; later sync steps complete without it.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict

from miniflow.core.atomic_file import atomic_write
from miniflow.core.job_auth import SECRET_ENV, JobIdentity, new_identity
from miniflow.ml.batch import concat_batches
from miniflow.ml.data import Batch
from miniflow.ps.shard import ShardConfig

__all__ = [
    "init_job",
    "load_job",
    "identity_for",
    "address_path",
    "shard_addresses",
    "wait_for_shards",
    "parse_bind",
    "rebatch",
    "WILDCARD_WARNING",
    "export_job",
    "job_report",
]

JOB_FILE = "job.json"
WILDCARD_WARNING = (
    "warning: shard {index} listens on every interface ({bind}); the job secret is the "
    "only protection: keep JOB_DIR/secret private and the port behind a firewall"
)


def init_job(job_dir: str, config, force: bool = False) -> JobIdentity:
    """Writes ``job.json`` and a new secret for ``config`` (a ``PSConfig``, checked).

    Raises ``FileExistsError`` when the directory already holds a job (its shards'
    checkpoints would be restored into the new one) unless ``force``.
    """
    from miniflow.ps.validation import check_config

    check_config(config)
    path = os.path.join(job_dir, JOB_FILE)
    if os.path.exists(path) and not force:
        raise FileExistsError(f"{path} exists: {job_dir} already holds a job (pass --force)")
    os.makedirs(os.path.join(job_dir, "shards"), exist_ok=True)
    if force:
        for name in os.listdir(job_dir):  # a new job must not restore the old one's state
            if name.startswith("shard-") and ".ckpt.npz" in name:
                os.remove(os.path.join(job_dir, name))
        for name in os.listdir(os.path.join(job_dir, "shards")):
            os.remove(os.path.join(job_dir, "shards", name))
    identity = new_identity()
    identity.write_secret(os.path.join(job_dir, "secret"))
    options = {k: v for k, v in asdict(config).items() if k not in ("job_dir", "address")}
    data = {"job": identity.job_id, "config": options}
    atomic_write(path, json.dumps(data, indent=1).encode())
    return identity


def load_job(job_dir: str):
    """(job id, ``PSConfig``, the shards' ``ShardConfig`` list) of a job directory."""
    from miniflow.ps.job import PSConfig

    path = os.path.join(job_dir, JOB_FILE)
    try:
        with open(path) as f:
            data = json.load(f)
        config = PSConfig(**data["config"], job_dir=job_dir)
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no such file; run `miniflow ps init` first") from None
    except (ValueError, KeyError, TypeError) as e:
        raise ValueError(f"{path}: not a miniflow.ps job file ({e})") from None
    return data["job"], config, config.shard_configs(job_dir)


def identity_for(job_dir: str, job_id: str, secret_file: str | None = None) -> JobIdentity:
    """The job's identity from ``secret_file``, else ``MINIFLOW_PS_SECRET``, else
    ``JOB_DIR/secret``."""
    if secret_file:
        return JobIdentity.from_file(job_id, secret_file)
    if os.environ.get(SECRET_ENV):
        return JobIdentity.from_env(job_id)
    path = os.path.join(job_dir, "secret")
    if not os.path.exists(path):
        raise ValueError(f"no job secret: {path} is missing; set {SECRET_ENV} or --secret-file")
    return JobIdentity.from_file(job_id, path)


def address_path(job_dir: str, index: int) -> str:
    return os.path.join(job_dir, "shards", f"shard-{index}.json")


def write_address(job_dir: str, index: int, address: str, job_id: str) -> None:
    data = {"job": job_id, "shard": index, "address": address, "pid": os.getpid()}
    atomic_write(address_path(job_dir, index), json.dumps(data).encode())


def shard_addresses(job_dir: str, num_shards: int, job_id: str) -> list[str | None]:
    """Each shard's registered ``host:port`` (None: not registered, or for another job)."""
    out: list[str | None] = []
    for i in range(num_shards):
        try:
            with open(address_path(job_dir, i)) as f:
                data = json.load(f)
            out.append(data["address"] if data.get("job") == job_id else None)
        except (OSError, ValueError, KeyError):
            out.append(None)
    return out


def wait_for_shards(job_dir: str, num_shards: int, job_id: str, timeout: float) -> list[str]:
    """Every shard's address, waiting up to ``timeout`` seconds for them to register."""
    deadline = time.monotonic() + timeout
    while True:
        found = shard_addresses(job_dir, num_shards, job_id)
        if all(found):
            return found  # type: ignore[return-value]
        if time.monotonic() > deadline:
            missing = [i for i, a in enumerate(found) if a is None]
            raise TimeoutError(
                f"shards {missing} of job {job_id!r} did not register in "
                f"{os.path.join(job_dir, 'shards')} within {timeout:g}s"
            )
        time.sleep(0.1)


def parse_bind(bind: str) -> tuple[str, int]:
    """``HOST:PORT`` (port 0: any free one) -> (host, port), or ValueError."""
    host, sep, port = str(bind).rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ValueError(f"--bind {bind!r}: expected HOST:PORT (port 0: any free port)")
    return host, int(port)


def run_shard(
    job_dir: str,
    index: int,
    bind: str = "127.0.0.1:0",
    advertise: str | None = None,
    secret_file: str | None = None,
) -> int:
    """Serves shard ``index`` of the job until killed (SIGTERM ends it cleanly).

    Restores the shard's checkpoint when there is one. Registers ``advertise`` (default:
    the bound address; this host's name when bound to every interface) in the job dir.
    """
    from miniflow.ps.shard import Shard
    from miniflow.ps.transport import listen, serve_shard

    job_id, config, shards = load_job(job_dir)
    if not 0 <= index < len(shards):
        raise ValueError(f"--index {index}: job {job_id!r} has shards 0..{len(shards) - 1}")
    identity = identity_for(job_dir, job_id, secret_file)
    host, port = parse_bind(bind)
    if host in ("0.0.0.0", "::"):
        print(WILDCARD_WARNING.format(index=index, bind=bind), file=sys.stderr, flush=True)
    server = listen(host, port)
    cfg: ShardConfig = shards[index]
    restore = bool(cfg.checkpoint_path) and os.path.exists(cfg.checkpoint_path)
    # registered before: a restart, even without a checkpoint (then it restarts EMPTY,
    # joins the workers' step and reports what it lost, instead of refusing their pushes)
    restarted = shard_addresses(job_dir, len(shards), job_id)[index] is not None
    shard = Shard(cfg, restore=restore or restarted)
    if advertise is None:
        shown = socket.gethostname() if host in ("0.0.0.0", "::") else host
        advertise = f"{shown}:{server.getsockname()[1]}"
    write_address(job_dir, index, advertise, job_id)
    state = (
        f"restored from {cfg.checkpoint_path}"
        if restore
        else "restarted EMPTY: it had no checkpoint"
        if restarted
        else "empty"
    )
    print(f"shard {index} of job {job_id} listening on {advertise} ({state})", flush=True)
    serve_shard(shard, server, identity)
    return 0


def rebatch(batches: Iterable[Batch], rows: int) -> Iterator[Batch]:
    """The rows of ``batches`` in consecutive batches of exactly ``rows`` (the last may
    be shorter)."""
    carry: list[Batch] = []
    held = 0
    for b in batches:
        carry.append(b)
        held += len(b)
        if held < rows:
            continue
        block = concat_batches(carry) if len(carry) > 1 else carry[0]
        start = 0
        while held - start >= rows:
            yield block.slice(start, start + rows)
            start += rows
        carry = [block.slice(start, len(block))] if start < len(block) else []
        held = len(block) - start
    if held:
        yield concat_batches(carry) if len(carry) > 1 else carry[0]


def run_worker_process(
    job_dir: str,
    index: int,
    inputs: list[str],
    fmt: str = "auto",
    secret_file: str | None = None,
    pace: float = 0.0,
):
    """Trains worker ``index`` on its own ``inputs`` against the job's shards."""
    from miniflow.ps.client import ShardClient
    from miniflow.ps.partition import StreamedInput
    from miniflow.ps.transport import SocketTransport
    from miniflow.ps.validation import check_batch
    from miniflow.ps.worker import run_worker

    job_id, config, shards = load_job(job_dir)
    if not 0 <= index < config.num_workers:
        raise ValueError(f"--index {index}: job {job_id!r} has workers 0..{config.num_workers - 1}")
    for path in inputs:
        if not os.path.isfile(path):
            raise FileNotFoundError(f"{path}: no such file")
    identity = identity_for(job_dir, job_id, secret_file)
    addresses = wait_for_shards(job_dir, len(shards), job_id, config.timeout)
    rows = max(1, config.batch_size // config.num_workers)
    spec = config.factor_spec()
    fb, fields = (spec.field_bits, spec.fields) if spec is not None else (0, 0)
    files = StreamedInput(list(inputs), fmt, config.dims_log2, config.num_workers,
                          config.batch_size, config.model, fb, fields)  # fmt: skip

    def steps() -> Iterator[Batch]:
        seen = 0
        for b in files.source():
            check_batch(b, config.dims_log2, seen)
            seen += len(b)
            yield b

    def reload() -> list[str]:
        return [a or "" for a in shard_addresses(job_dir, len(shards), job_id)]

    transport = SocketTransport(addresses, config.timeout, reload, identity)
    client = ShardClient(transport, index)
    try:
        return run_worker(
            client, lambda: rebatch(steps(), rows), config.epochs, pace, factors=shards[0].factors
        )
    finally:
        client.close()


def job_report(
    job_dir: str, secret_file: str | None = None, max_lost_fraction: float | None = None
) -> dict:
    """What a standalone job did and lost, from its live shards: the coordinator's loss
    report (:func:`~miniflow.ps.job.lost_report`) against the rows and steps every
    worker's ``done`` told the shards it read. ``exceeded`` is true when the job is
    complete and some shard lost more than ``max_lost_fraction`` (default: the job's)
    of the rows; ``complete`` when every worker has finished."""
    from miniflow.ps.client import ShardClient
    from miniflow.ps.job import input_totals, lost_report
    from miniflow.ps.partition import StreamedInput
    from miniflow.ps.transport import SocketTransport
    from miniflow.ps.validation import check_fraction

    job_id, config, shards = load_job(job_dir)
    bound = config.max_lost_fraction if max_lost_fraction is None else max_lost_fraction
    check_fraction(bound)
    identity = identity_for(job_dir, job_id, secret_file)
    addresses = wait_for_shards(job_dir, len(shards), job_id, min(config.timeout, 30.0))
    client = ShardClient(SocketTransport(addresses, config.timeout, identity=identity))
    try:
        stats = client.stats()
    finally:
        client.close()
    unknown = StreamedInput([], "auto", config.dims_log2, config.num_workers, config.batch_size)
    rows, steps = input_totals(unknown, stats, 1)
    lost = lost_report(stats, rows, steps)
    complete = all(stats[0]["finished"]) and len(stats[0]["inputs"]) == config.num_workers
    return {
        "job": job_id,
        "complete": complete,
        "workers_done": [i for i, f in enumerate(stats[0]["finished"]) if f],
        "train_rows": stats[0]["rows"],
        "shard_keys": [s["keys"] for s in stats],
        "lost": lost,
        "max_lost_fraction": bound,
        "exceeded": complete and lost["fraction"] > bound,
    }


def export_job(job_dir: str, out: str, secret_file: str | None = None) -> dict:
    """Asks every live shard of a standalone job to write its part into ``out``; an
    FM/FFM job's model is gathered and saved as one ``FMModel`` (its format has no
    sharded layout yet)."""
    from miniflow.ps.client import ShardClient
    from miniflow.ps.export import write_manifest
    from miniflow.ps.shard import optimizer_hyperparameters
    from miniflow.ps.transport import SocketTransport

    job_id, config, shards = load_job(job_dir)
    identity = identity_for(job_dir, job_id, secret_file)
    addresses = wait_for_shards(job_dir, len(shards), job_id, min(config.timeout, 30.0))
    out = os.path.abspath(out)
    hp = optimizer_hyperparameters(config.optimizer, config.alpha, config.beta, config.lr)
    meta = {
        "optimizer": {"name": config.optimizer, "l1": config.l1, "l2": config.l2, **hp},
        "batch_size": config.batch_size,
        "parameter_server": {"job": job_id, "num_shards": len(shards)},
    }
    client = ShardClient(SocketTransport(addresses, config.timeout, identity=identity))
    try:
        if config.model != "lr":
            from miniflow.ml.sparse_lr import SparseLinearModel
            from miniflow.ps.job import fm_model

            keys, weights, bias = client.dump()
            linear = SparseLinearModel(keys, weights, bias, config.dims_log2, meta)
            model = fm_model(config, linear, *client.dump_factors(), meta)
            model.save(out)
            return {
                "format": "miniflow.sparse_fm",
                "kind": model.kind,
                "nnz": model.nnz,
                "dir": out,
            }
        parts = client.export(out)
    finally:
        client.close()
    return write_manifest(out, parts, config.dims_log2, meta)
