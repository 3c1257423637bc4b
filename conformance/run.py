"""``python -m conformance.run [-k OP] [--report FILE]``: every case against TensorFlow.

Prints one row per case (pass / fail / known difference), the failures, the op-type
coverage and a total; exits 1 when a check fails that no known difference explains.
``--reference miniflow`` runs the machinery without TensorFlow (miniflow against itself).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from conformance import coverage, differences
from conformance.compare import Check, compare
from conformance.harness import EagerRunner, GraphRunner


def all_cases():
    """Every case of every ``conformance/cases_*.py`` module (each exports CASES)."""
    cases = []
    for path in sorted(Path(__file__).parent.glob("cases_*.py")):
        cases += importlib.import_module(f"conformance.{path.stem}").CASES
    return cases


def tensorflow_v1():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow.compat.v1 as tf1  # noqa: PLC0415 - only the bench venv has it

    tf1.disable_v2_behavior()
    tf1.logging.set_verbosity(tf1.logging.ERROR)
    return tf1


@dataclass
class CaseResult:
    id: str
    runs: int = 0
    passed: int = 0
    failed: list = field(default_factory=list)  # (variant, Check)
    known: list = field(default_factory=list)  # (variant, Check, reason)
    op_types: set = field(default_factory=set)


def run_case(case, mf_graph, ref, mf_eager, diffs, used=None) -> CaseResult:
    """Runs every (dtype, variant) of ``case``; failing checks that a difference explains
    are "known" (and their difference is added to ``used``)."""
    res = CaseResult(case.id)
    for dtype, variant in case.expanded():
        vname = variant.name(dtype)
        arrays = case.inputs(dtype, variant)
        got = mf_graph.run(case, dtype, variant, arrays)
        res.op_types |= got.op_types
        want = ref.run(case, dtype, variant, arrays)
        checks = compare(case, dtype, got, want)
        if case.eager and mf_eager is not None:
            checks += compare(
                case, dtype, mf_eager.run(case, dtype, variant, arrays), got, eager=True
            )
        for c in checks:
            res.runs += 1
            d = differences.find(diffs, case.id, vname, c.check)
            if c.ok:
                res.passed += 1
            elif d is not None:
                res.known.append((vname, c, d.reason))
                if used is not None:
                    used.add(d)
            else:
                res.failed.append((vname, c))
    return res


def select(cases, pattern, mf_graph):
    """Cases whose id contains one of the comma-separated ``pattern``s or whose miniflow
    graph builds one of them as an op type (case-insensitive)."""
    if not pattern:
        return cases
    wanted = [p.strip().lower() for p in pattern.split(",") if p.strip()]
    out = []
    for case in cases:
        if any(p in case.id.lower() for p in wanted):
            out.append(case)
            continue
        dtype, variant = case.expanded()[0]
        types = {t.lower() for t in mf_graph.run(case, dtype, variant).op_types}
        if types & set(wanted):
            out.append(case)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "-k",
        dest="pattern",
        help="only cases whose id contains, or whose op types include, one of "
        "these comma-separated names",
    )
    ap.add_argument("--report", help="write the results as JSON to this file")
    ap.add_argument("--reference", choices=["tensorflow", "miniflow"], default="tensorflow")
    ap.add_argument("--no-eager", action="store_true", help="skip eager-vs-graph checks")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every failure")
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")  # kernels' NumPy warnings (x / 0 ...) are expected here

    import miniflow  # noqa: PLC0415

    ref_tf = tensorflow_v1() if args.reference == "tensorflow" else miniflow
    mf_graph = GraphRunner(miniflow, "miniflow")
    ref = GraphRunner(ref_tf, f"reference {args.reference}")
    mf_eager = None if args.no_eager else EagerRunner(miniflow)
    diffs = differences.load()
    cases = select(all_cases(), args.pattern, mf_graph)
    t0 = time.time()
    results, used = [], set()
    print(f"{'case':44} {'checks':>6} {'pass':>5} {'fail':>5} {'known':>5}  op types")
    for case in cases:
        r = run_case(case, mf_graph, ref, mf_eager, diffs, used)
        results.append(r)
        mark = "FAIL" if r.failed else ("known" if r.known else "ok")
        print(
            f"{r.id[:44]:44} {r.runs:6} {r.passed:5} {len(r.failed):5} {len(r.known):5}"
            f"  {mark:5} {','.join(sorted(r.op_types - coverage.PLUMBING))[:60]}",
            flush=True,
        )
    cov = coverage.compute(set().union(*(r.op_types for r in results)) if results else set())
    print_failures(results, args.verbose)
    if not args.pattern:
        print_coverage(cov)
    if not args.pattern and args.reference == "tensorflow":
        for d in diffs:
            if d not in used:
                print(
                    f"unused difference (fixed? remove it): case={d.case!r} "
                    f"variant={d.variant!r} check={d.check!r}"
                )
    totals = {
        "cases": len(results),
        "checks": sum(r.runs for r in results),
        "passed": sum(r.passed for r in results),
        "failed": sum(len(r.failed) for r in results),
        "known": sum(len(r.known) for r in results),
        "cases_failing": sum(1 for r in results if r.failed),
        "op_types": len(cov.registered),
        "covered": len(cov.covered),
        "not_compared": len(cov.declared),
        "uncovered": len(cov.uncovered),
        "seconds": round(time.time() - t0, 1),
        "reference": args.reference,
    }
    print(
        f"\nTOTAL: {totals['checks']} checks in {totals['cases']} cases: "
        f"{totals['passed']} passed, {totals['failed']} failed "
        f"({totals['cases_failing']} cases), {totals['known']} known differences; "
        f"op types: {totals['covered']}/{totals['op_types']} exercised, "
        f"{totals['not_compared']} declared not comparable, "
        f"{totals['uncovered']} uncovered ({totals['seconds']} s)"
    )
    if args.report:
        write_report(args.report, results, cov, totals, [d for d in diffs if d not in used])
    return 1 if totals["failed"] else 0


def print_failures(results, verbose):
    failing = [r for r in results if r.failed]
    if not failing:
        return
    print("\nFailures (miniflow vs reference):")
    for r in failing:
        shown = r.failed if verbose else r.failed[:3]
        for vname, c in shown:
            print(f"  {r.id} {c.check} [{vname}]: {c.detail[:300]}")
        if len(r.failed) > len(shown):
            print(f"  {r.id}: ... {len(r.failed) - len(shown)} more (use -v)")


def print_coverage(cov):
    print(
        f"\nOp types: {len(cov.registered)} registered, {len(cov.covered)} exercised, "
        f"{len(cov.declared)} declared not comparable."
    )
    if cov.uncovered:
        print(f"UNCOVERED ({len(cov.uncovered)}): {', '.join(sorted(cov.uncovered))}")


def write_report(path, results, cov, totals, unused):
    def check(vname, c: Check, reason=None):
        d = {"variant": vname, "check": c.check, "detail": c.detail}
        return {**d, "reason": reason} if reason else d

    data = {
        "totals": totals,
        "cases": [
            {
                "id": r.id,
                "checks": r.runs,
                "passed": r.passed,
                "op_types": sorted(r.op_types),
                "failed": [check(v, c) for v, c in r.failed],
                "known": [check(v, c, why) for v, c, why in r.known],
            }
            for r in results
        ],
        "unused_differences": [vars(d) for d in unused],
        "coverage": {
            "covered": sorted(cov.covered),
            "uncovered": sorted(cov.uncovered),
            "not_compared": dict(sorted(cov.declared.items())),
        },
    }
    Path(path).write_text(json.dumps(data, indent=1))


if __name__ == "__main__":
    sys.exit(main())
