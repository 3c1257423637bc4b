"""Classifies every TF1 public name in the inventory and writes ``docs/tf1_api.md``.

    .venv/bin/python tools/tf1_api_table.py            # rewrite docs/tf1_api.md
    .venv/bin/python tools/tf1_api_table.py --update   # also the pending list and floors

Each name of ``tests/compat/tf1_api_inventory.json`` (written by
``benchmarks/tf1_api_inventory.py``) is *implemented* (``miniflow.<path>`` is a real
object), *unsupported* (a stub with a reason from ``miniflow/compat/unsupported.py``),
*pending* (a stub from ``miniflow/compat/pending_names.txt``) or *missing* (an
AttributeError: the pending list is stale). ``--update`` rewrites the pending list as
every name that is neither implemented nor unsupported, and raises the per-namespace
floors of implemented names (never lowers them). Output is sorted: deterministic.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

import miniflow  # noqa: E402
from miniflow.compat import stubs  # noqa: E402
from miniflow.compat.unsupported import (  # noqa: E402
    UNSUPPORTED as UNSUPPORTED_NAMES,
    UNSUPPORTED_NAMESPACES,
)

INVENTORY = ROOT / "tests" / "compat" / "tf1_api_inventory.json"
DOC = ROOT / "docs" / "tf1_api.md"
PENDING = stubs.PENDING_FILE
FLOORS = PENDING.with_name("implemented_floors.json")
COMMAND = ".venv/bin/python tools/tf1_api_table.py --update"

IMPLEMENTED, UNSUPPORTED, PENDING_, MISSING = "implemented", "unsupported", "pending", "missing"
STATUSES = (IMPLEMENTED, UNSUPPORTED, PENDING_, MISSING)


def load_inventory(path: Path = INVENTORY) -> dict:
    return json.loads(path.read_text())


def symbols(inventory: dict) -> dict[str, str]:
    """``tf.ns.name`` -> kind, for every name of the inventory."""
    return {
        f"{ns}.{name}": kind
        for ns, names in inventory["namespaces"].items()
        for name, kind in names.items()
    }


def classify_symbol(symbol: str, root=miniflow) -> tuple[str, str]:
    """(status, reason) of one TF symbol in miniflow. Strict about aliases: only the
    object at exactly this path counts. A name the unsupported table lists is unsupported
    unless implemented, whatever stubs happen to be installed."""
    status, reason = _resolve_status(symbol, root)
    if status in (PENDING_, MISSING):
        reason = unsupported_reason(symbol)
        status = UNSUPPORTED if reason else status
    return status, reason


def unsupported_reason(symbol: str) -> str:
    """The reason the unsupported table gives for ``symbol`` or a namespace above it."""
    if symbol in UNSUPPORTED_NAMES:
        return UNSUPPORTED_NAMES[symbol]
    parts = symbol.split(".")
    for i in range(len(parts) - 1, 0, -1):
        reason = UNSUPPORTED_NAMESPACES.get(".".join(parts[: i + 1]))
        if reason:
            return reason
    return ""


def _resolve_status(symbol: str, root) -> tuple[str, str]:
    obj = root
    parts = symbol.split(".")[1:]
    for i, part in enumerate(parts):  # noqa: B007  (i is read after the break)
        if stubs.is_stub(obj):
            break
        try:
            obj = getattr(obj, part)
        except AttributeError:
            return MISSING, ""
    else:
        i = len(parts)
    info = stubs.stub_info(obj)
    if info is None:
        return IMPLEMENTED, ""
    for part in parts[i:]:
        info = info.child(part)
    return info.status, info.reason


def classify(inventory: dict, root=miniflow) -> dict[str, tuple[str, str]]:
    return {s: classify_symbol(s, root) for s in symbols(inventory)}


def counts(inventory: dict, table: dict) -> dict[str, Counter]:
    out = {}
    for ns, names in inventory["namespaces"].items():
        out[ns] = Counter(table[f"{ns}.{n}"][0] for n in names)
    return out


def pending_text(inventory: dict, table: dict) -> str:
    kinds = symbols(inventory)
    lines = [
        "# TF1 names miniflow does not implement yet: each is a stub that raises",
        "# tf.errors.UnimplementedError when used. Generated, do not edit:",
        f"#     {COMMAND}",
    ]
    lines += [f"{s} {kinds[s]}" for s in sorted(table) if table[s][0] in (PENDING_, MISSING)]
    return "\n".join(lines) + "\n"


def raised_floors(inventory: dict, table: dict, old: dict[str, int]) -> dict[str, int]:
    now = counts(inventory, table)
    return {ns: max(old.get(ns, 0), now[ns][IMPLEMENTED]) for ns in sorted(now)}


def read_floors(path: Path = FLOORS) -> dict[str, int]:
    return json.loads(path.read_text()) if path.is_file() else {}


def _pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "-"


def render(inventory: dict, table: dict) -> str:
    """The text of ``docs/tf1_api.md``."""
    per_ns = counts(inventory, table)
    total = sum(per_ns.values(), Counter())
    out = [
        "# TF1 API coverage",
        "",
        f"Every public name of TensorFlow {inventory['tensorflow_version']}'s "
        "`tf.compat.v1` and its namespaces (listed in",
        "`tests/compat/tf1_api_inventory.json` by `benchmarks/tf1_api_inventory.py`) "
        "resolves in miniflow:",
        "",
        "- **implemented**: a real function, class, constant or namespace;",
        "- **unsupported**: deliberately left out; using it raises "
        "`tf.errors.UnimplementedError` with the reason",
        "  (table in `src/miniflow/compat/unsupported.py`);",
        "- **pending**: computable but not written yet; using it raises "
        "`tf.errors.UnimplementedError`",
        "  (list in `src/miniflow/compat/pending_names.txt`).",
        "",
        "Getting a name never raises `AttributeError` (`hasattr` is true, "
        "`from miniflow.tpu import rewrite` works);",
        "calling, instantiating, subclassing it or reading its attributes does. "
        '"% of computable" leaves the',
        "unsupported names out. Namespaces whose names are not listed one by one: "
        "`tf.compat` (`tf.compat.v1` is miniflow",
        "itself) and, each counted as one unsupported name of `tf`, "
        + ", ".join(f"`{ns}`" for ns in inventory.get("not_walked", {}) if ns != "tf.compat")
        + ".",
        "",
        f"Generated by `tools/tf1_api_table.py`; do not edit. Refresh with `{COMMAND}`.",
        "",
        "| namespace | names | implemented | unsupported | pending | % implemented "
        "| % of computable |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]

    def row(label: str, c: Counter) -> str:
        n = sum(c.values())
        pend = c[PENDING_] + c[MISSING]
        return (
            f"| {label} | {n} | {c[IMPLEMENTED]} | {c[UNSUPPORTED]} | {pend} | "
            f"{_pct(c[IMPLEMENTED], n)} | {_pct(c[IMPLEMENTED], n - c[UNSUPPORTED])} |"
        )

    out += [row(f"`{ns}`", c) for ns, c in per_ns.items()]
    out += [
        row("**total**", total),
        "",
        "## Unsupported names",
        "",
        "| name | reason |",
        "|---|---|",
    ]
    out += [f"| `{s}` | {table[s][1]} |" for s in sorted(table) if table[s][0] == UNSUPPORTED]
    out += ["", "## Pending names", ""]
    for ns, names in inventory["namespaces"].items():
        pend = [n for n in names if table[f"{ns}.{n}"][0] in (PENDING_, MISSING)]
        if pend:
            out += [f"**`{ns}`** ({len(pend)}): " + ", ".join(f"`{n}`" for n in pend), ""]
    return "\n".join(out).rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--update", action="store_true", help="also rewrite the pending list and raise the floors"
    )
    args = parser.parse_args(argv)
    inventory = load_inventory()
    table = classify(inventory)
    if args.update:
        PENDING.write_text(pending_text(inventory, table))
        floors = raised_floors(inventory, table, read_floors())
        FLOORS.write_text(json.dumps(floors, indent=1) + "\n")
    DOC.write_text(render(inventory, table))
    c = Counter(status for status, _ in table.values())
    print(
        f"{DOC.relative_to(ROOT)}: {len(table)} names, {c[IMPLEMENTED]} implemented, "
        f"{c[UNSUPPORTED]} unsupported, {c[PENDING_] + c[MISSING]} pending"
        + ("" if args.update else " (pending list and floors unchanged: --update)")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
