"""Mutation testing of selected modules: does the test suite notice a one-token bug?

For each module in `TARGETS`, every *mutant* (one change: an arithmetic or comparison
operator swapped, ``and``/``or`` swapped, a ``not`` dropped, a number or bool constant
changed, a returned value replaced by None, a call statement deleted) is run against the
module's mapped test files. A mutant is *killed* when a test fails (or the run times out)
and *survives* when every test passes. Score = killed / (mutants - equivalent ones);
equivalent mutants (no behaviour can tell them apart) are listed with a reason in
``tools/mutation_equivalents.txt``.

How a mutant runs: the parent process imports the library and collects the tests once,
then forks one child per mutant. The child executes the mutated module source into the module
object, rebinds every other loaded module's reference to the module's old functions and
classes, and runs pytest in-process. The source tree is never written (other people and
processes use it), and a child costs a fork instead of a fresh interpreter.
Tests that start subprocesses would run the unmutated code there, so only in-process
tests are mapped.

Usage: ``python tools/mutation.py [--only metrics,codec] [--report PATH] [--list]``
(``make mutation``).
"""

from __future__ import annotations

import argparse
import ast
import importlib
import importlib.util
import json
import os
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EQUIVALENTS = ROOT / "tools" / "mutation_equivalents.txt"
REPORT = ROOT / "tools" / "mutation_report.json"

# module -> (the in-process test files that cover it, the definitions to mutate — `f`,
# `Class` or `Class.method` — or None for all). Core, ml, serving and platform modules.
TARGETS = {
    "miniflow.core.codegen": (["tests/core/test_codegen.py"], None),
    "miniflow.ml.metrics": (
        ["tests/ml/test_metrics.py", "tests/ml/test_metrics_boundaries.py"],
        None,
    ),
    "miniflow.serving.codec": (["tests/serving/test_codec_ranges.py"], ["_as_array", "_ints_of"]),
    # a version's lifetime: loading and status are covered by the server process tests
    "miniflow.serving.manager": (
        ["tests/serving/test_version_lifetime.py"],
        ["LoadedVersion", "ModelManager.use", "ModelManager._swap", "ModelManager.close"],
    ),
    # the database-backed functions (current_usage, disk_usage) run in the platform's
    # process-level tests only
    "miniflow_platform.usage": (
        ["tests/platform/test_usage.py"],
        ["Held", "Usage", "check_possible", "over_quota", "allocate", "tree_bytes"],
    ),
}


@dataclass(frozen=True)
class Mutant:
    module: str
    line: int
    col: int
    what: str  # e.g. "Lt -> LtE"
    code: str  # the source line, stripped: keys survive edits elsewhere in the file

    @property
    def key(self) -> str:
        return f"{self.module}: {self.code} [col {self.col}] {self.what}"


_BINOPS = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Div,
    ast.Mod: ast.Mult,
    ast.Pow: ast.Mult,
    ast.BitAnd: ast.BitOr,
    ast.BitOr: ast.BitAnd,
    ast.LShift: ast.RShift,
    ast.RShift: ast.LShift,
}
_CMPOPS = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
}


def _docstrings(tree) -> set:
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                out.add(id(body[0].value))
    return out


def _annotations(tree) -> set:
    """ids of nodes inside type annotations (never run with postponed evaluation)."""
    out = set()
    for node in ast.walk(tree):
        parts = []
        if isinstance(node, ast.AnnAssign):
            parts.append(node.annotation)
        elif isinstance(node, ast.arg) and node.annotation is not None:
            parts.append(node.annotation)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.returns:
            parts.append(node.returns)
        for p in parts:
            out.update(id(n) for n in ast.walk(p))
    return out


def _definitions(tree, names) -> list:
    """The definitions named in ``names``: top-level ``f`` / ``Class``, or ``Class.method``.

    Raises:
        SystemExit: a name matches nothing.
    """
    out = []
    for name in names:
        scope, _, leaf = name.rpartition(".")
        body = tree.body
        if scope:
            body = [t for t in tree.body if getattr(t, "name", None) == scope]
            body = body[0].body if body else []
        found = [t for t in body if getattr(t, "name", None) == leaf]
        if not found:
            raise SystemExit(f"no definition {name!r} to mutate")
        out += found
    return out


def _walk(tree, names):
    """Every node of ``tree``, or of the definitions named in ``names``."""
    if names is None:
        yield from ast.walk(tree)
        return
    for top in _definitions(tree, names):
        yield from ast.walk(top)


def _sites(tree, names=None):
    """(node, description, apply) for every mutation site; ``apply()`` mutates in place
    and returns an ``undo()``."""
    skip = _docstrings(tree) | _annotations(tree)
    for node in _walk(tree, names):
        if id(node) in skip or not hasattr(node, "lineno"):
            continue
        if isinstance(node, ast.BinOp | ast.AugAssign) and type(node.op) in _BINOPS:
            old, new = type(node.op), _BINOPS[type(node.op)]
            yield node, f"{old.__name__} -> {new.__name__}", _setter(node, "op", new())
        elif isinstance(node, ast.Compare):
            for i, op in enumerate(node.ops):
                new = _CMPOPS.get(type(op))
                if new is not None:
                    ops = list(node.ops)
                    ops[i] = new()
                    yield node, f"{type(op).__name__} -> {new.__name__}", _setter(node, "ops", ops)
        elif isinstance(node, ast.BoolOp):
            new = ast.Or if isinstance(node.op, ast.And) else ast.And
            yield node, f"{type(node.op).__name__} -> {new.__name__}", _setter(node, "op", new())
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not | ast.USub):
            yield node, f"drop {type(node.op).__name__}", _replace_with(node, node.operand)
        elif isinstance(node, ast.Constant) and type(node.value) in (int, float, bool):
            v = node.value
            new = (not v) if type(v) is bool else (v + 1 if v in (0, -1) else v * 2)
            yield node, f"{v!r} -> {new!r}", _setter(node, "value", new)
        elif isinstance(node, ast.Return) and node.value is not None:
            if not (isinstance(node.value, ast.Constant) and node.value.value is None):
                yield node, "return None", _setter(node, "value", ast.Constant(None))
        elif (
            isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Call)
            and id(node.value) not in skip
        ):
            yield node, "delete call", _replace_with(node, ast.Pass())


def _setter(node, field, value):
    def apply():
        old = getattr(node, field)
        setattr(node, field, value)
        return lambda: setattr(node, field, old)

    return apply


def _replace_with(node, other):
    """Turns ``node`` into ``other`` in place (its class and fields; the location stays)."""

    def apply():
        cls, saved = node.__class__, dict(node.__dict__)
        node.__class__ = other.__class__
        node.__dict__.update({f: getattr(other, f) for f in other._fields})

        def undo():
            node.__class__ = cls
            node.__dict__.clear()
            node.__dict__.update(saved)

        return undo

    return apply


def mutants_of(module: str, names=None):
    """[(Mutant, mutated source)] for ``module`` (only inside the top-level definitions
    in ``names``, if given)."""
    path = Path(importlib.util.find_spec(module).origin)
    text = path.read_text()
    lines = text.splitlines()
    tree = ast.parse(text, str(path))
    out = []
    for node, what, apply in list(_sites(tree, names)):
        undo = apply()
        try:
            src = ast.unparse(ast.fix_missing_locations(tree))
        finally:
            undo()
        code = lines[node.lineno - 1].strip()
        out.append((Mutant(module, node.lineno, node.col_offset, what, code), src))
    return out


def load_equivalents() -> dict:
    """mutant key -> reason, from ``tools/mutation_equivalents.txt``
    (lines ``<key as --list prints it> || reason``; ``#`` comments)."""
    out = {}
    if EQUIVALENTS.exists():
        for raw in EQUIVALENTS.read_text().splitlines():
            line = raw.strip()
            if line and not line.startswith("#"):
                key, _, reason = line.partition(" || ")
                if not reason.strip():
                    raise SystemExit(f"{EQUIVALENTS}: no reason given for {key!r}")
                out[key.strip()] = reason.strip()
    return out


def _swap_in(module_name: str, source: str) -> None:
    """Executes ``source`` as the module ``module_name`` and points every loaded
    module's references to the old functions and classes at the new ones."""
    module = sys.modules[module_name]
    old = dict(vars(module))
    exec(compile(source, module.__file__, "exec"), vars(module))  # noqa: S102
    new = vars(module)
    moved = {
        id(v): new[k]
        for k, v in old.items()
        if getattr(v, "__module__", None) == module_name and new.get(k) is not v
    }
    if not moved:
        return
    for m in list(sys.modules.values()):
        d = getattr(m, "__dict__", None)
        if d is None or m is module:
            continue
        for k, v in list(d.items()):
            repl = moved.get(id(v))
            if repl is not None:
                d[k] = repl


def _preload(tests: list[str]) -> None:
    """Collects ``tests`` once in the parent (pytest's plugins, conftest files, the test
    modules and their heavy imports), so that each forked child only runs them: under
    load a cold collection takes a minute, a warm run seconds. `_swap_in` rebinds the
    names the test modules imported from the mutated module."""
    import pytest

    saved = os.dup(1), os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    try:
        code = pytest.main(["--co", "-q", "-p", "no:cacheprovider", *tests])
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        os.close(devnull)
    if code != 0:
        raise SystemExit(f"collecting {tests} failed (exit code {code})")


def _start_child(module: str, source: str | None, tests: list[str]) -> int:
    """Forks a child that runs ``tests`` against the mutated module; returns its pid."""
    pid = os.fork()
    if pid == 0:  # child
        code = 3
        try:
            import pytest

            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            if source is not None:
                _swap_in(module, source)
            code = pytest.main(["-x", "-q", "-p", "no:cacheprovider", *tests])
        finally:
            os._exit(int(code))
    return pid


def _run_all(module, jobs, tests, timeout, workers) -> list[str]:
    """Outcome ('killed', 'survived' or 'timeout') of each ``(key, source)`` job, running
    ``workers`` children at a time."""
    outcomes = [""] * len(jobs)
    running: dict = {}  # pid -> (job index, deadline)
    queue = list(enumerate(jobs))
    done = 0
    while queue or running:
        while queue and len(running) < workers:
            i, (_, src) = queue.pop(0)
            running[_start_child(module, src, tests)] = (i, time.monotonic() + timeout)
        pid, status = os.waitpid(-1, os.WNOHANG)
        if pid in running:
            i, _ = running.pop(pid)
            outcomes[i] = "survived" if os.waitstatus_to_exitcode(status) == 0 else "killed"
        else:
            for p, (i, deadline) in list(running.items()):
                if time.monotonic() > deadline:
                    os.kill(p, signal.SIGKILL)
                    os.waitpid(p, 0)
                    running.pop(p)
                    outcomes[i] = "timeout"
            time.sleep(0.02)
            continue
        done += 1
        if outcomes[i] == "survived" and jobs[i][1] is not None:
            print(f"  survived: {jobs[i][0]}", flush=True)
        if done % 20 == 0:
            print(f"  {done}/{len(jobs)}", flush=True)
    return outcomes


def run(only=None, report=REPORT, list_only=False, workers=1) -> dict:
    os.chdir(ROOT)
    equivalents = load_equivalents()
    results = {}
    for module, (tests, names) in TARGETS.items():
        if only and not any(o in module for o in only):
            continue
        importlib.import_module(module)
        for t in tests:
            if not (ROOT / t).exists():
                raise SystemExit(f"{module}: mapped test file {t} does not exist")
        if not list_only:
            _preload(tests)
        mutants = mutants_of(module, names)
        if list_only:
            for m, _ in mutants:
                print(m.key)
            continue
        t0 = time.monotonic()
        (base,) = _run_all(module, [("unmutated", None)], tests, 600, 1)
        base_s = time.monotonic() - t0
        if base != "survived":
            raise SystemExit(f"{module}: its tests fail without any mutation ({tests})")
        timeout = max(20.0, 5 * base_s)
        equivalent = [m.key for m, _ in mutants if m.key in equivalents]
        jobs = [(m.key, src) for m, src in mutants if m.key not in equivalents]
        print(f"{module}: {len(jobs)} mutants, its tests take {base_s:.0f} s", flush=True)
        outcomes = _run_all(module, jobs, tests, timeout, workers)
        survived = [key for (key, _), o in zip(jobs, outcomes) if o == "survived"]
        killed = len(jobs) - len(survived)
        scored = killed + len(survived)
        score = killed / scored if scored else 1.0
        results[module] = {
            "mutants": len(mutants),
            "killed": killed,
            "survived": survived,
            "equivalent": equivalent,
            "score": round(score, 4),
            "seconds": round(time.monotonic() - t0, 1),
            "tests": tests,
        }
        print(
            f"{module}: {score:.1%} ({killed} of {scored} killed, {len(equivalent)} "
            f"equivalent, {time.monotonic() - t0:.0f} s)",
            flush=True,
        )
    if results and not list_only:
        stale = [k for k in equivalents if k.split(": ")[0] in results]
        stale = [k for k in stale if not any(k in r["equivalent"] for r in results.values())]
        for k in stale:
            print(f"  stale entry in {EQUIVALENTS.name} (no such mutant): {k}")
        killed = sum(r["killed"] for r in results.values())
        scored = killed + sum(len(r["survived"]) for r in results.values())
        total = {"score": round(killed / scored, 4) if scored else 1.0, "killed": killed}
        print(f"total: {total['score']:.1%} ({killed} of {scored} killed)")
        if only:  # a partial run updates its modules in the report
            old = json.loads(report.read_text()) if report.exists() else {}
            results = {**old.get("modules", {}), **results}
        json.dump({"modules": results, "total": _total(results)}, report.open("w"), indent=1)
    return results


def _total(results) -> dict:
    killed = sum(r["killed"] for r in results.values())
    scored = killed + sum(len(r["survived"]) for r in results.values())
    return {"score": round(killed / scored, 4) if scored else 1.0, "killed": killed, "of": scored}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", help="comma list of substrings of the module names to run")
    ap.add_argument("--report", type=Path, default=REPORT)
    ap.add_argument("--list", action="store_true", help="print the mutants, run nothing")
    ap.add_argument("-j", "--jobs", type=int, default=1, help="mutants run at once")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    only = args.only.split(",") if args.only else None
    results = run(only, args.report, args.list, max(1, args.jobs))
    return 0 if all(not r["survived"] for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
