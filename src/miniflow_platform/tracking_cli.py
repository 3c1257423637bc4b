"""Command-line client: ``miniflow experiments ...``: list experiments, search and
compare their runs, print a metric's history.

    miniflow experiments list
    miniflow experiments runs Default --filter "metrics.auc > 0.7" --order-by "metrics.auc desc"
    miniflow experiments get 12
    miniflow experiments compare 12 13 14
    miniflow experiments metric 12 auc

Same connection settings as ``miniflow jobs`` (``client``); tables by default,
``--json`` for scripts.
"""

from __future__ import annotations

import argparse
from typing import Any
from urllib.parse import quote

from miniflow_platform.client import Subparsers, _main, _sub, call, show

EXPERIMENT_COLUMNS = ("id", "name", "runs", "description", "created_at")
RUN_COLUMNS = ("id", "name", "status", "job_id", "created_at")


def _runs_table(a: argparse.Namespace, data: dict[str, Any]) -> None:
    """Runs with one column per metric (their latest values) after the fixed ones."""
    if a.json:
        show(a, data, RUN_COLUMNS)
        return
    names = sorted({k for r in data["data"] for k in r["metrics"]})[: a.max_metrics]
    rows = [
        {**r, **{f"metric:{k}": _fmt(r["metrics"].get(k)) for k in names}} for r in data["data"]
    ]
    show(a, {"data": rows}, RUN_COLUMNS + tuple(f"metric:{k}" for k in names))


def _fmt(value: float | None) -> str | None:
    return None if value is None else f"{value:.6g}"


def _compare(a: argparse.Namespace) -> None:
    data = call(a, "GET", "/v1/runs/compare", params={"ids": ",".join(map(str, a.runs))})
    if a.json:
        show(a, data, ())
        return
    header = {"field": "run"} | {f"r{i}": str(r["id"]) for i, r in enumerate(data["runs"])}
    rows = [
        header,
        {"field": "status"} | {f"r{i}": r["status"] for i, r in enumerate(data["runs"])},
    ]
    for kind in ("params", "metrics"):
        for key, values in data[kind].items():
            cells = [_fmt(v) if kind == "metrics" else v for v in values]
            rows.append({"field": f"{kind}.{key}"} | {f"r{i}": c for i, c in enumerate(cells)})
    columns = ("field", *(f"r{i}" for i in range(len(data["runs"]))))
    _plain(rows, columns)


def _plain(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> None:
    cells = [[str(r.get(c) if r.get(c) is not None else "-") for c in columns] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(columns))]
    for row in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())


def _experiments_parser(sub: Subparsers) -> None:
    _sub(
        sub,
        "list",
        "list your experiments",
        lambda a: show(a, call(a, "GET", "/v1/experiments"), EXPERIMENT_COLUMNS),
    )
    p = _sub(
        sub,
        "create",
        "create an experiment",
        lambda a: show(
            a,
            call(a, "POST", "/v1/experiments", json={"name": a.name, "description": a.description}),
            EXPERIMENT_COLUMNS,
        ),
    )
    p.add_argument("name")
    p.add_argument("--description", default="")

    def runs(a: argparse.Namespace) -> None:
        params = {"limit": a.limit}
        if a.filter:
            params["filter"] = a.filter
        if a.order_by:
            params["order_by"] = a.order_by
        _runs_table(a, call(a, "GET", f"/v1/experiments/{quote(a.name)}/runs", params=params))

    p = _sub(sub, "runs", "search the runs of an experiment", runs)
    p.add_argument("name", help="experiment name (jobs go to 'Default' unless they name one)")
    p.add_argument("--filter", help="e.g. \"metrics.auc > 0.7 and params.optimizer = 'ftrl'\"")
    p.add_argument("--order-by", help="e.g. 'metrics.auc desc'")
    p.add_argument("--limit", type=int, default=100)
    p.add_argument("--max-metrics", type=int, default=6, help="metric columns in the table")

    def get(a: argparse.Namespace) -> None:
        run = call(a, "GET", f"/v1/runs/{a.run}")
        if a.json:
            show(a, run, ())
            return
        show(a, run, ("id", "experiment", "name", "status", "job_id", "created_at", "finished_at"))
        for kind in ("params", "tags", "metrics"):
            for key, value in run[kind].items():
                print(f"{kind}.{key} = {value}")

    _sub(sub, "get", "show one run: params, tags, latest metrics", get).add_argument(
        "run", type=int
    )
    p = _sub(sub, "compare", "compare runs side by side", _compare)
    p.add_argument("runs", type=int, nargs="+")
    p = _sub(
        sub,
        "metric",
        "a metric's history in one run",
        lambda a: show(
            a,
            call(a, "GET", f"/v1/runs/{a.run}/metrics/{quote(a.key)}"),
            ("step", "value", "timestamp"),
        ),
    )
    p.add_argument("run", type=int)
    p.add_argument("key")


def experiments_main(argv: list[str] | None = None) -> int:
    """``miniflow experiments ...``"""
    return _main("miniflow experiments", _experiments_parser, argv, __doc__)
