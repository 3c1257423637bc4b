"""The layer table (STYLE.md §2.2), checked on every module's imports with `ast`.

    errors, dtypes  <-  core  <-  graph | eager (never each other)  <-  ops
        <-  train, testing, summary, data  <-  public namespace (miniflow/__init__.py, extend, nn, and
        any other top-level namespace module)  <-  ml  <-  ps, serving  <-  cli

A module may import its own layer and the layers below it. Imports inside functions and
under ``if TYPE_CHECKING`` count too. ``miniflow.ml`` reaches the library only through the
public namespace (``import miniflow as tf``), never core/graph/ops/train/eager.
``miniflow_platform`` never imports ``miniflow``: it drives it through the CLI. Packages
that do not exist yet (eager, ml, ps, serving, miniflow_platform) are checked once they do.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"

# top-level component of miniflow -> (rank, sibling group that may not import its peers)
LAYERS = {
    "errors": (0, None),
    "dtypes": (0, None),
    "core": (1, None),
    "graph": (2, "frontend"),
    "eager": (2, "frontend"),
    "ops": (3, None),
    "train": (4, None),
    "testing": (4, None),
    "summary": (4, None),
    "data": (4, None),
    "": (5, None),  # miniflow/__init__.py, the public namespace
    "ml": (6, None),
    "ps": (7, None),
    "serving": (7, None),
    "cli": (8, None),
    "__main__": (8, None),  # `python -m miniflow`: the cli's entry point
}
NAMESPACE_RANK = 5  # unlisted top-level modules (nn.py, extend.py, ...) are namespace modules
ML_FORBIDDEN = {"core", "graph", "ops", "train", "eager"}


def component(module: str) -> str:
    """``miniflow.ops.math_ops`` -> ``ops``; ``miniflow`` -> ``""``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def rank(module: str) -> tuple[int, str | None]:
    return LAYERS.get(component(module), (NAMESPACE_RANK, None))


def module_name(path: Path) -> str:
    rel = path.relative_to(SRC).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(source: str, module: str, is_package: bool) -> list[tuple[str, int, bool]]:
    """(imported module, line, via `from miniflow import name`) for every import,
    relative imports resolved; ``from pkg import sub`` yields ``pkg.sub`` when that is a
    module."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out += [(a.name, node.lineno, False) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                pkg = module.split(".") if is_package else module.split(".")[:-1]
                pkg = pkg[: len(pkg) - (node.level - 1)]
                base = ".".join(pkg + ([base] if base else []))
            for a in node.names:
                sub = f"{base}.{a.name}"
                out.append((sub if _is_module(sub) else base, node.lineno, base == "miniflow"))
    return out


def _is_module(name: str) -> bool:
    p = SRC.joinpath(*name.split("."))
    return p.with_suffix(".py").is_file() or (p / "__init__.py").is_file()


def violations(module: str, found: list[tuple[str, int, bool]]) -> list[str]:
    """The layer-table violations of ``module`` importing ``found``."""
    bad = []
    if module.split(".")[0] == "miniflow_platform":
        return [
            f"{module}:{line} imports {t}: the platform drives miniflow through its CLI "
            "and never imports it"
            for t, line, _ in found
            if t.split(".")[0] == "miniflow"
        ]
    if module.split(".")[0] != "miniflow":
        return bad
    src_rank, src_group = rank(module)
    for target, line, from_root in found:
        if target.split(".")[0] != "miniflow":
            continue
        if component(module) == "ml":
            if from_root:
                continue  # `from miniflow import x`: the public namespace
            if component(target) in ML_FORBIDDEN:
                bad.append(
                    f"{module}:{line} imports {target}: miniflow.ml uses only the "
                    "public namespace (import miniflow as tf)"
                )
                continue
        t_rank, t_group = rank(target)
        if t_rank > src_rank:
            bad.append(
                f"{module}:{line} imports {target}, a higher layer "
                f"({component(target) or 'public namespace'} above "
                f"{component(module) or 'public namespace'}); invert it with a hook "
                "the upper layer registers into"
            )
        elif src_group and src_group == t_group and component(target) != component(module):
            bad.append(
                f"{module}:{line} imports {target}: graph and eager front ends never "
                "import each other"
            )
    return bad


def all_modules():
    for top in ("miniflow", "miniflow_platform"):
        root = SRC / top
        if root.is_dir():
            yield from sorted(root.rglob("*.py"))


def test_layer_table_holds_for_every_module():
    bad = []
    for path in all_modules():
        module = module_name(path)
        found = imports(path.read_text(), module, path.name == "__init__.py")
        bad += violations(module, found)
    assert not bad, "layer violations:\n" + "\n".join(bad)


def test_the_checked_tree_is_the_real_one():
    names = {module_name(p) for p in all_modules()}
    assert {
        "miniflow",
        "miniflow.core.registry",
        "miniflow.graph.session",
        "miniflow.ops.math_ops",
        "miniflow.train.optimizer",
    } <= names


@pytest.mark.parametrize(
    "module,source,expected",
    [
        ("miniflow.core.registry", "from miniflow.graph import graph", "higher layer"),
        ("miniflow.core.autodiff", "def f():\n    import miniflow.ops.math_ops", "higher layer"),
        ("miniflow.ops.math_ops", "import miniflow", "higher layer"),
        ("miniflow.graph.session", "from miniflow.eager import tape", "never import each other"),
        ("miniflow.eager.tape", "from ..graph import graph", "never import each other"),
        ("miniflow.ml.lr", "from miniflow.ops import math_ops", "public namespace"),
        ("miniflow.ml.lr", "import miniflow.train.optimizer", "public namespace"),
        ("miniflow.train.adam", "from miniflow.ml import metrics", "higher layer"),
        ("miniflow.ml.data", "from miniflow.serving import server", "higher layer"),
        ("miniflow_platform.jobs.service", "import miniflow", "never imports it"),
        ("miniflow_platform.main", "from miniflow.ml import lr", "never imports it"),
    ],
)
def test_the_checker_flags_violations(module, source, expected):
    found = imports(source, module, is_package=False)
    bad = violations(module, found)
    assert len(bad) == 1 and expected in bad[0], bad


@pytest.mark.parametrize(
    "module,source",
    [
        ("miniflow.ops.math_ops", "from miniflow.core.registry import register_op"),
        ("miniflow.ops.math_ops", "from miniflow import dtypes"),
        ("miniflow.ops.variables", "from miniflow.graph.graph import get_default_graph"),
        ("miniflow.train.optimizer", "from miniflow.eager.tape import GradientTape"),
        ("miniflow.ml.lr", "import miniflow as tf\nfrom miniflow import train"),
        ("miniflow.ml.lr", "from miniflow.ml import metrics\nimport numpy"),
        ("miniflow.nn", "from miniflow.ops.math_ops import relu"),
        ("miniflow.cli.demo", "import miniflow"),
        ("miniflow_platform.jobs.service", "import subprocess"),
    ],
)
def test_the_checker_allows_downward_imports(module, source):
    assert violations(module, imports(source, module, is_package=False)) == []
