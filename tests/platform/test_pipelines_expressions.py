"""Pipeline definitions without a server: the DAG checks, templates and ``when`` conditions."""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st
from pydantic import ValidationError

from miniflow_platform.pipelines import expressions as ex
from miniflow_platform.pipelines.schemas import MAX_STEPS, PipelineCreate, find_cycle

CTX = {
    "steps": {
        "eval": {"outputs": {"auc": 0.75, "name": "lr", "ok": True}, "artifacts": "/a", "job_id": 7}
    },
    "params": {"min_auc": 0.7, "label": "x"},
}


@pytest.mark.parametrize(
    "condition,expected",
    [
        ("steps.eval.outputs.auc > 0.7", True),
        ("steps.eval.outputs.auc > params.min_auc + 0.1", False),  # 0.75 > 0.8
        ("steps.eval.outputs.auc >= 0.75 and steps.eval.outputs.name == 'lr'", True),
        ("not steps.eval.outputs.ok or steps.eval.job_id == 7", True),
        ("0.5 < steps.eval.outputs.auc < 0.7", False),  # chained, as in Python
        ("-steps.eval.outputs.auc * 2 < -1.4", True),  # -1.5 < -1.4
        ("steps.eval.outputs.ok == true", True),
        ("params.label != 'x'", False),
        ("(steps.eval.outputs.auc - 0.25) / 2 == 0.25", True),
    ],
)
def test_conditions_evaluate_like_python(condition, expected):
    assert ex.evaluate(condition, CTX) is expected


@settings(max_examples=10, deadline=None)
@given(
    a=st.floats(-1e6, 1e6, allow_nan=False),
    b=st.floats(-1e6, 1e6, allow_nan=False),
    op=st.sampled_from(["<", "<=", ">", ">=", "==", "!="]),
)
def test_comparisons_agree_with_python(a, b, op):
    ctx = {"steps": {"s": {"outputs": {"a": a}}}, "params": {"b": b}}
    truth = {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b, "==": a == b, "!=": a != b}
    assert ex.evaluate(f"steps.s.outputs.a {op} params.b", ctx) is truth[op]


@pytest.mark.parametrize(
    "condition,problem",
    [
        ("__import__('os').system('id')", "Call is not allowed"),
        ("[1, 2]", "List is not allowed"),
        ("steps['eval']", "Subscript is not allowed"),
        ("lambda: 1", "Lambda is not allowed"),
        ("1 if true else 2", "IfExp is not allowed"),
        ("x > 1", "not a reference"),
        ("steps.eval > 1", "incomplete reference"),
        ("steps.eval.outputs.auc >", "not an expression"),
        ("1 in params.label", "In is not allowed"),
        ("2 ** 1000000", "Pow is not allowed"),
        ("1" * 1001, "the limit is 1000"),
        ("-" * 999 + "1", "nested more than 64 deep"),
        ("not " * 70 + "true", "nested more than 64 deep"),
    ],
)
def test_unsafe_or_malformed_conditions_are_refused(condition, problem):
    with pytest.raises(ex.ExpressionError, match=problem):
        ex.condition_refs(condition)


@pytest.mark.parametrize(
    "condition,problem",
    [
        ("steps.eval.outputs.missing > 1", "step 'eval' wrote no output 'missing'"),
        ("steps.eval.outputs.name > 1", "not supported between"),
        ("steps.eval.outputs.name * 2 > 1", "'lr' is not a number"),
        ("steps.eval.outputs.auc / 0 > 1", "division by zero"),
        ("steps.train.outputs.auc > 1", "steps has no 'train'"),
        # names are looked up in dicts, never as attributes: no way out to Python objects
        ("steps.eval.outputs.__class__ == 1", "wrote no output '__class__'"),
        ("params.__dict__ == 1", "params has no '__dict__'"),
    ],
)
def test_conditions_that_cannot_be_evaluated_say_why(condition, problem):
    with pytest.raises(ex.ExpressionError, match=problem):
        ex.evaluate(condition, CTX)


def test_templates_render_references_and_refuse_bad_ones():
    text = "--model={{ steps.eval.artifacts }}/model --auc {{steps.eval.outputs.auc}}"
    assert ex.render(text, CTX) == "--model=/a/model --auc 0.75"
    assert ex.render("{{steps.eval.outputs.ok}}-{{params.label}}", CTX) == "true-x"
    with pytest.raises(ex.ExpressionError, match="is not a reference"):
        ex.template_refs("{{ os.system }}")
    with pytest.raises(ex.ExpressionError, match="unclosed"):
        ex.template_refs("{{steps.eval.job_id")


def step(name, *deps, **extra):
    return {"name": name, "command": ["true"], "depends_on": list(deps), **extra}


def invalid(steps, **extra) -> str:
    with pytest.raises(ValidationError) as info:
        PipelineCreate(name="p", steps=steps, **extra)
    return str(info.value)


def test_dag_checks_name_the_problem():
    assert "duplicate step names: a" in invalid([step("a"), step("a")])
    assert "depends on unknown steps: zz" in invalid([step("a", "zz")])
    message = invalid([step("a", "c"), step("b", "a"), step("c", "b"), step("d")])
    assert "cycle: a -> c -> b -> a" in message
    assert "cycle: a -> a" in invalid([step("a", "a")])
    assert f"at most {MAX_STEPS}" in invalid([step(f"s{i}") for i in range(MAX_STEPS + 1)])
    sibling = [step("a"), step("b", when="steps.a.outputs.x > 1")]
    assert "'a' is not among the steps it depends on" in invalid(sibling)
    assert "not in params" in invalid([step("a", command=["echo", "{{params.nope}}"])])
    assert "needs data, model_dir" in invalid([{"name": "e", "kind": "evaluate"}])
    assert "does not take command" in invalid(
        [{"name": "e", "kind": "evaluate", "model_dir": "/m", "data": "/d", "command": ["x"]}]
    )


def test_a_valid_dag_with_transitive_references():
    spec = PipelineCreate(
        name="p",
        params={"min_auc": 0.5},
        steps=[
            step("c", "b", when="steps.a.outputs.auc > params.min_auc"),  # a is c's grandparent
            step("b", "a", command=["echo", "{{steps.a.artifacts}}"]),
            step("a"),
        ],
    )
    assert [s.name for s in spec.steps] == ["c", "b", "a"]


@settings(max_examples=10, deadline=None)
@given(st.lists(st.lists(st.integers(0, 5), max_size=3), min_size=1, max_size=6))
def test_find_cycle_agrees_with_a_topological_sort(edges):
    graph = {
        f"n{i}": sorted({f"n{j}" for j in deps if j < len(edges)}) for i, deps in enumerate(edges)
    }
    remaining = {n: set(d) for n, d in graph.items()}
    while True:  # Kahn's algorithm: a graph is acyclic iff it empties
        ready = [n for n, d in remaining.items() if not d]
        if not ready:
            break
        for n in ready:
            del remaining[n]
        for d in remaining.values():
            d.difference_update(ready)
    cycle = find_cycle(graph)
    assert bool(cycle) == bool(remaining)
    for a, b in zip(cycle, cycle[1:], strict=False):  # each depends on the next
        assert b in graph[a]
    assert not cycle or cycle[0] == cycle[-1]
