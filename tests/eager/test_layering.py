"""The eager front end and the graph front end never import each other (STYLE §2.2)."""

import ast
import pathlib

import miniflow

ROOT = pathlib.Path(miniflow.__file__).parent


def _imports(package):
    for path in (ROOT / package).glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                yield path.name, node.module
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    yield path.name, alias.name


def test_eager_does_not_import_graph_or_higher_layers():
    bad = [
        (f, m)
        for f, m in _imports("eager")
        if m.startswith(("miniflow.graph", "miniflow.ops", "miniflow.train"))
    ]
    assert not bad


def test_graph_does_not_import_eager():
    assert not [(f, m) for f, m in _imports("graph") if m.startswith("miniflow.eager")]
