"""References between steps: ``{{steps.train.outputs.auc}}`` templates and ``when`` conditions.

A condition is a tiny expression language parsed with :mod:`ast` and walked here (never
``eval``): numbers, strings, ``true``/``false``, references, ``+ - * /``, comparisons,
``and``/``or``/``not`` and parentheses. Anything else is refused when the pipeline is
created. References are ``steps.NAME.outputs.KEY``, ``steps.NAME.artifacts`` (the step's
output dir), ``steps.NAME.job_id`` and ``params.NAME``.
"""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Callable, Mapping
from typing import Any

MAX_EXPRESSION = 1000
MAX_DEPTH = 64
TEMPLATE = re.compile(r"\{\{(.*?)\}\}")
_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
_REF = re.compile(
    rf"^(?:steps\.({_IDENT})\.(?:outputs\.{_IDENT}|artifacts|job_id)|params\.{_IDENT})$"
)
_WORDS = {"true": True, "false": False, "null": None}
_BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}
_COMPARE: dict[type, Callable[[Any, Any], Any]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}


class ExpressionError(ValueError):
    """A template or condition that is malformed, or refers to a value that is not there."""


def template_refs(text: str) -> list[str]:
    """The references inside ``{{ }}`` of ``text``; raises on a malformed one."""
    refs = []
    for found in TEMPLATE.finditer(text):
        ref = found.group(1).strip()
        if not _REF.match(ref):
            raise ExpressionError(
                f"{{{{{found.group(1)}}}}} is not a reference; use steps.NAME.outputs.KEY, "
                "steps.NAME.artifacts, steps.NAME.job_id or params.NAME"
            )
        refs.append(ref)
    if "{{" in TEMPLATE.sub("", text):
        raise ExpressionError(f"unclosed '{{{{' in {text!r}")
    return refs


def render(text: str, context: Mapping[str, Any]) -> str:
    """``text`` with every ``{{ref}}`` replaced by its value."""
    template_refs(text)
    return TEMPLATE.sub(lambda m: _text(lookup(m.group(1).strip(), context)), text)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def step_of(ref: str) -> str | None:
    """The step a reference reads (None for ``params.*``)."""
    found = _REF.match(ref)
    return found.group(1) if found else None


def lookup(ref: str, context: Mapping[str, Any]) -> Any:
    value: Any = context
    parts = ref.split(".")
    for i, part in enumerate(parts):
        if not isinstance(value, Mapping) or part not in value:
            where = ".".join(parts[:i]) or "the context"
            if parts[0] == "steps" and i == 3:
                raise ExpressionError(f"{ref}: step {parts[1]!r} wrote no output {part!r}")
            raise ExpressionError(f"{ref}: {where} has no {part!r}")
        value = value[part]
    return value


def parse_condition(text: str) -> ast.Expression:
    """Parse and check a ``when`` condition; its references are in ``condition_refs``."""
    if len(text) > MAX_EXPRESSION:
        raise ExpressionError(f"condition is {len(text)} characters; the limit is {MAX_EXPRESSION}")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as e:
        raise ExpressionError(f"condition {text!r} is not an expression: {e.msg}") from None
    except (RecursionError, MemoryError):
        raise ExpressionError(f"condition is nested more than {MAX_DEPTH} deep") from None
    if _depth(tree) > MAX_DEPTH:  # the evaluator recurses; keep it far from Python's limit
        raise ExpressionError(f"condition is nested more than {MAX_DEPTH} deep")
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute | ast.Name):
            continue
        allowed = (
            ast.Expression,
            ast.BoolOp,
            ast.And,
            ast.Or,
            ast.UnaryOp,
            ast.Not,
            ast.USub,
            ast.UAdd,
            ast.BinOp,
            ast.Compare,
            ast.Constant,
            ast.Load,
            *_BINARY,
            *_COMPARE,
        )
        if not isinstance(node, allowed):
            raise ExpressionError(
                f"condition {text!r}: {type(node).__name__} is not allowed (use comparisons, "
                "and/or/not, + - * /, numbers, strings and references)"
            )
        if isinstance(node, ast.Constant) and not isinstance(
            node.value, int | float | str | bool | type(None)
        ):
            raise ExpressionError(f"condition {text!r}: constant {node.value!r} is not allowed")
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute | ast.Name):
            _ref_of(node, text)  # each maximal chain is checked when walked from its top
    return tree


def _depth(tree: ast.AST) -> int:
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in ast.iter_child_nodes(node))
    return deepest


def condition_refs(text: str) -> list[str]:
    refs: list[str] = []
    _collect(parse_condition(text).body, text, refs)
    return refs


def _collect(node: ast.AST, text: str, refs: list[str]) -> None:
    if isinstance(node, ast.Attribute | ast.Name):
        ref = _ref_of(node, text)
        if ref not in _WORDS:
            if not _REF.match(ref):
                raise ExpressionError(f"condition {text!r}: {ref!r} is an incomplete reference")
            refs.append(ref)
        return
    for child in ast.iter_child_nodes(node):
        _collect(child, text, refs)


def _ref_of(node: ast.AST, text: str) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        raise ExpressionError(f"condition {text!r}: only references may use '.'")
    parts.append(node.id)
    ref = ".".join(reversed(parts))
    if ref in _WORDS:
        return ref
    if not _REF.match(ref) and not _is_prefix(ref):
        raise ExpressionError(
            f"condition {text!r}: {ref!r} is not a reference; use steps.NAME.outputs.KEY, "
            "steps.NAME.job_id or params.NAME"
        )
    return ref


def _is_prefix(ref: str) -> bool:
    """Inner nodes of a chain (``steps.eval`` inside ``steps.eval.outputs.auc``)."""
    parts = ref.split(".")
    return parts[0] in {"steps", "params"} and len(parts) < 4


def evaluate(text: str, context: Mapping[str, Any]) -> bool:
    """The truth of condition ``text`` on ``context``."""
    condition_refs(text)
    return bool(_eval(parse_condition(text).body, text, context))


def _eval(node: ast.AST, text: str, context: Mapping[str, Any]) -> Any:
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Attribute | ast.Name):
        ref = _ref_of(node, text)
        return _WORDS[ref] if ref in _WORDS else lookup(ref, context)
    if isinstance(node, ast.BoolOp):
        values = (_eval(v, text, context) for v in node.values)
        return all(values) if isinstance(node.op, ast.And) else any(values)
    if isinstance(node, ast.UnaryOp):
        value = _eval(node.operand, text, context)
        if isinstance(node.op, ast.Not):
            return not value
        return _number(value, text) * (-1 if isinstance(node.op, ast.USub) else 1)
    try:
        if isinstance(node, ast.BinOp):
            left, right = _eval(node.left, text, context), _eval(node.right, text, context)
            return _BINARY[type(node.op)](_number(left, text), _number(right, text))
        if isinstance(node, ast.Compare):
            left = _eval(node.left, text, context)
            for op, comparator in zip(node.ops, node.comparators, strict=True):
                right = _eval(comparator, text, context)
                if not _COMPARE[type(op)](left, right):
                    return False
                left = right
            return True
    except (TypeError, ZeroDivisionError) as e:
        raise ExpressionError(f"condition {text!r}: {e}") from None
    raise ExpressionError(f"condition {text!r}: cannot evaluate {type(node).__name__}")


def _number(value: Any, text: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ExpressionError(f"condition {text!r}: {value!r} is not a number")
    return value
