"""The run search language: ``filter`` and ``order_by`` of ``GET .../runs``.

    filter   = clause { "and" clause }
    clause   = field op value
    field    = ("metrics" | "params" | "tags") "." key  |  "run." ("id"|"job_id"|"name"|"status")
    op       = "=" | "==" | "!=" | "<" | "<=" | ">" | ">="
    value    = number | 'text' | "text"
    order_by = field ["asc" | "desc"] { "," field ["asc" | "desc"] }

e.g. ``metrics.auc > 0.7 and params.optimizer = 'ftrl'``, ``metrics.auc desc``. Parsed
with a tokenizer into plain tuples (never evaluated as code); metrics compare as numbers,
params, tags and run names as text (``=``/``!=`` only). A run without the field never
matches a clause and sorts last.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from miniflow_platform.errors import InvalidRequest

MAX_QUERY = 1000
MAX_CLAUSES = 20
MAX_ORDER = 3

_FIELD = r"(metrics|params|tags|run)\.([A-Za-z0-9_][A-Za-z0-9_\-./]*|`[^`]{1,250}`)"
_CLAUSE = re.compile(
    r"\s*" + _FIELD + r"\s*(<=|>=|!=|==|=|<|>)\s*"
    r"('(?:[^'])*'|\"(?:[^\"])*\"|[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|[A-Za-z_][\w.\-]*)\s*"
)
_AND = re.compile(r"and\s+", re.IGNORECASE)
_ORDER = re.compile(r"^\s*" + _FIELD + r"(?:\s+(asc|desc))?\s*$", re.IGNORECASE)
RUN_FIELDS = {"id": "number", "job_id": "number", "name": "text", "status": "text"}
TEXT_OPS = {"=", "==", "!="}


@dataclass(frozen=True)
class Clause:
    kind: str  # metrics, params, tags or run
    key: str
    op: str
    value: float | str


@dataclass(frozen=True)
class Order:
    kind: str
    key: str
    descending: bool


def _key(kind: str, raw: str, where: str) -> str:
    key = raw[1:-1] if raw.startswith("`") else raw
    if kind == "run" and key not in RUN_FIELDS:
        raise InvalidRequest(
            f"{where}: unknown field run.{key}; run fields are {', '.join(sorted(RUN_FIELDS))}"
        )
    return key


def parse_filter(text: str | None) -> list[Clause]:
    if not text or not text.strip():
        return []
    if len(text) > MAX_QUERY:
        raise InvalidRequest(f"filter is {len(text)} characters; the limit is {MAX_QUERY}")
    clauses = []
    pos = 0
    while True:
        m = _CLAUSE.match(text, pos)
        if m is None:
            raise InvalidRequest(
                f"filter: cannot parse at character {pos}: {text[pos : pos + 40]!r}; expected "
                "e.g. metrics.auc > 0.7 or params.optimizer = 'ftrl'"
            )
        kind, raw_key, op, raw_value = m.groups()
        key = _key(kind, raw_key, "filter")
        quoted = raw_value[0] in "'\""
        if not quoted and not re.match(r"[-+.\d]", raw_value):
            raise InvalidRequest(
                f"filter: {raw_value!r} is not a number; quote text: {kind}.{raw_key} {op} "
                f"'{raw_value}'"
            )
        numeric = kind == "metrics" or (kind == "run" and RUN_FIELDS[key] == "number")
        if numeric and quoted:
            raise InvalidRequest(f"filter: {kind}.{key} compares with a number, got {raw_value}")
        if not numeric and not quoted:
            raise InvalidRequest(
                f"filter: {kind}.{key} is text; quote the value: {kind}.{key} {op} '{raw_value}'"
            )
        if not numeric and op not in TEXT_OPS:
            raise InvalidRequest(f"filter: {kind}.{key} is text; use = or !=, not {op}")
        value: float | str = raw_value[1:-1] if quoted else float(raw_value)
        clauses.append(Clause(kind, key, "=" if op == "==" else op, value))
        if len(clauses) > MAX_CLAUSES:
            raise InvalidRequest(f"filter has more than {MAX_CLAUSES} clauses")
        pos = m.end()
        if pos == len(text):
            return clauses
        joined = _AND.match(text, pos)
        if joined is None:
            raise InvalidRequest(
                f"filter: expected 'and' at character {pos}: {text[pos : pos + 40]!r}"
            )
        pos = joined.end()


def parse_order(text: str | None) -> list[Order]:
    if not text or not text.strip():
        return []
    if len(text) > MAX_QUERY:
        raise InvalidRequest(f"order_by is {len(text)} characters; the limit is {MAX_QUERY}")
    parts = text.split(",")
    if len(parts) > MAX_ORDER:
        raise InvalidRequest(f"order_by takes at most {MAX_ORDER} fields")
    orders = []
    for part in parts:
        m = _ORDER.match(part)
        if m is None:
            raise InvalidRequest(
                f"order_by: cannot parse {part.strip()!r}; expected e.g. 'metrics.auc desc'"
            )
        kind, raw_key, direction = m.groups()
        key = _key(kind, raw_key, "order_by")
        orders.append(Order(kind, key, (direction or "asc").lower() == "desc"))
    return orders


_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def field_value(row: dict[str, Any], kind: str, key: str) -> Any:
    """The value of ``kind.key`` in a run's public dict, or None."""
    if kind == "run":
        return row.get(key)
    return row.get(kind, {}).get(key)


def matches(row: dict[str, Any], clauses: list[Clause]) -> bool:
    for c in clauses:
        value = field_value(row, c.kind, c.key)
        if value is None or not _COMPARE[c.op](value, c.value):
            return False
    return True


def sort_rows(rows: list[dict[str, Any]], orders: list[Order]) -> list[dict[str, Any]]:
    """Stable sort by each order, last first; rows missing a field go last either way."""
    for o in reversed(orders):
        present = [r for r in rows if field_value(r, o.kind, o.key) is not None]
        missing = [r for r in rows if field_value(r, o.kind, o.key) is None]
        present.sort(key=lambda r, o=o: field_value(r, o.kind, o.key), reverse=o.descending)
        rows = present + missing
    return rows
