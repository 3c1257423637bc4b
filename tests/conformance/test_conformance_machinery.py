"""The conformance suite's machinery, without TensorFlow: every case builds in miniflow,
the coverage and the differences list work, and a wrong reference makes it fail."""

from __future__ import annotations

import copy
import dataclasses
import re
from pathlib import Path

import numpy as np
import pytest

import miniflow as tf
from conformance import coverage, differences
from conformance.case import Arg, Case, Variant, real
from conformance.compare import compare, same_values
from conformance.harness import EagerRunner, GraphRunner, Outcome, resolve
from conformance.run import all_cases, main, run_case

ROOT = Path(__file__).resolve().parents[2]
CASES = all_cases()
MF = GraphRunner(tf, "miniflow")


class WrongReference:
    """Miniflow itself, with every float result nudged: a reference that must not match."""

    def __init__(self, nudge=1e-2, where="forward"):
        self.nudge, self.where = nudge, where

    def run(self, case, dtype, variant, arrays=None):
        out = copy.deepcopy(MF.run(case, dtype, variant, arrays))
        values = getattr(out, self.where)
        if values:
            setattr(
                out,
                self.where,
                [
                    v
                    if v is None or np.asarray(v).dtype.kind != "f"
                    else np.asarray(v) + self.nudge
                    for v in values
                ],
            )
        return out


def _first_variant_outcomes():
    """Each case's first variant, forward only (the gradient tables check gradients)."""
    return {
        case.id: MF.run(dataclasses.replace(case, order=0), *case.expanded()[0]) for case in CASES
    }


@pytest.fixture(scope="module")
def outcomes():
    return _first_variant_outcomes()


def test_case_ids_are_unique():
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})


def test_every_case_resolves_and_builds_in_miniflow(outcomes):
    for case in CASES:
        if isinstance(case.fn, str):
            resolve(tf, case.fn)  # AttributeError names a path miniflow lacks
        out = outcomes[case.id]
        # a build error other than a missing name is the library's business (reported by
        # `make conformance`), not the machinery's
        assert out.error is None or out.error[1] != "AttributeError", (case.id, out.error)
        if out.error is None or out.error[0] != "build":
            assert out.op_types - {"Placeholder", "NoOp"}, case.id


def test_coverage_splits_registered_ops(outcomes):
    exercised = set().union(*(o.op_types for o in outcomes.values()))
    cov = coverage.compute(exercised)
    assert cov.covered | set(cov.declared) | cov.uncovered == cov.registered
    assert not cov.covered & cov.uncovered
    assert {"MatMul", "Softmax", "Conv2D", "Assign"} <= cov.covered
    fake = coverage.compute({"Add"}, registered={"Add", "BrandNew", "PyFunc"})
    assert fake.covered == {"Add"} and fake.uncovered == {"BrandNew"}
    assert set(fake.declared) == {"PyFunc"}


def test_every_test_file_a_declared_reason_names_exists():
    """A declared op is trusted to be checked by the tests its reason names."""
    named = {
        (op, path)
        for op, why in coverage.NOT_COMPARED.items()
        for path in re.findall(r"tests/[\w/]+\.py", why)
    }
    assert named, "no reason names a test file: the pattern is stale"
    gone = sorted((op, path) for op, path in named if not (ROOT / path).is_file())
    assert not gone, f"declared reasons name test files that do not exist: {gone}"


def test_differences_parse_and_are_documented(tmp_path):
    diffs = differences.load()
    docs = [ROOT / "conformance" / "README.md", ROOT / "docs" / "tf1_differences.md"]
    text = "".join(p.read_text() for p in docs if p.exists())
    ids = [c.id for c in CASES]
    for d in diffs:
        assert any(d.matches_case(i) for i in ids), f"difference for {d.case!r} matches no case"
        assert f"`{d.case}`" in text, f"{d.case} is not documented in {docs}"
    bad = tmp_path / "bad.toml"
    bad.write_text('[[difference]]\ncase = "add"\n')
    with pytest.raises(ValueError, match="reason"):
        differences.load(bad)


def test_same_values_catches_shape_dtype_nan_and_value_differences():
    a = np.array([1.0, np.nan, np.inf], np.float32)
    assert same_values(a, a.copy(), 1e-6, 1e-6) is None
    assert "NaN" in same_values(np.array([1.0, 2.0, np.inf], np.float32), a, 1e-6, 1e-6)
    assert "Inf" in same_values(np.array([1.0, np.nan, -np.inf], np.float32), a, 1e-6, 1e-6)
    assert "dtype" in same_values(a.astype(np.float64), a, 1e-6, 1e-6)
    assert "shape" in same_values(a[:2], a, 1e-6, 1e-6)
    assert "err" in same_values(a + 1e-3, a, 1e-6, 1e-6)


@pytest.mark.parametrize("where", ["forward", "grad1", "grad2"])
def test_a_wrong_reference_fails(where):
    case = Case("tanh", (Arg(real),), [Variant(((2, 3),))], ("float64",))
    dtype, variant = case.expanded()[0]
    good = run_case(case, MF, MF, EagerRunner(tf), [])
    assert good.passed == good.runs and not good.failed
    bad = run_case(case, MF, WrongReference(where=where), None, [])
    assert [c.check for _, c in bad.failed] == [where]
    known = [differences.Difference("tanh", "test", check=where)]
    bad = run_case(case, MF, WrongReference(where=where), None, known)
    assert not bad.failed and len(bad.known) == 1


def test_error_class_and_stage_are_compared():
    case = Case("tanh", (Arg(real),), [Variant(((2,),))], ("float32",), order=0)
    ok = Outcome(forward=[np.zeros(2, np.float32)])
    build = Outcome(error=("build", "ValueError", "bad"))
    run_err = Outcome(error=("run", "ValueError", "bad"))
    typed = Outcome(error=("build", "TypeError", "bad"))
    assert compare(case, "float32", build, build)[0].ok
    assert not compare(case, "float32", build, run_err)[0].ok
    assert not compare(case, "float32", build, typed)[0].ok
    assert not compare(case, "float32", ok, build)[0].ok


def test_the_runner_exits_non_zero_only_on_failures(capsys, monkeypatch):
    softmax = [c for c in CASES if c.id in ("nn.softmax", "nn.log_softmax")]
    monkeypatch.setattr("conformance.run.all_cases", lambda: softmax)
    assert main(["--reference", "miniflow", "-k", "LogSoftmax"]) == 0  # by op type
    out = capsys.readouterr().out
    assert "nn.log_softmax " in out and "nn.softmax " not in out
    monkeypatch.setattr(
        "conformance.run.GraphRunner",
        lambda module, name: WrongReference() if name.startswith("ref") else MF,
    )
    assert main(["--reference", "miniflow", "-k", "nn.softmax"]) == 1
    assert "FAIL" in capsys.readouterr().out
