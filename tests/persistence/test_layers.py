"""The persistence, data and summary modules import only downward (STYLE §2.2)."""

import ast
import os

import miniflow

SRC = os.path.dirname(os.path.abspath(miniflow.__file__))

# module (relative to src/miniflow) -> packages it must not import
RULES = {
    "graph/serialization.py": ("miniflow.ops", "miniflow.train", "miniflow.data"),
    "graph/file_io.py": ("miniflow.ops", "miniflow.train", "miniflow.graph.session"),
    "ops/summary_ops.py": ("miniflow.train", "miniflow.summary", "miniflow.data"),
    "train/checkpoint.py": ("miniflow.ops", "miniflow.saved_model", "miniflow.data"),
    "train/saver.py": ("miniflow.saved_model", "miniflow.data", "miniflow.summary"),
    "train/meta_graph.py": ("miniflow.saved_model", "miniflow.data", "miniflow.summary"),
    "data/dataset_ops.py": ("miniflow.train", "miniflow.saved_model", "miniflow.summary"),
    "data/iterator_ops.py": ("miniflow.train", "miniflow.saved_model", "miniflow.summary"),
    "data/sources.py": ("miniflow.train", "miniflow.saved_model", "miniflow.summary"),
    "data/transformations.py": ("miniflow.train", "miniflow.saved_model", "miniflow.summary"),
    "summary/writer.py": ("miniflow.train", "miniflow.data", "miniflow.saved_model"),
}


def _imports(path):
    tree = ast.parse(open(path).read())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module
            yield from (f"{node.module}.{a.name}" for a in node.names)


def test_modules_import_only_downward():
    bad = [
        (module, name)
        for module, banned in RULES.items()
        for name in _imports(os.path.join(SRC, module))
        if any(name == b or name.startswith(b + ".") for b in banned)
    ]
    assert bad == []


def test_loading_code_never_unpickles_or_evaluates():
    for module in (
        "graph/serialization.py",
        "graph/file_io.py",
        "train/checkpoint.py",
        "train/meta_graph.py",
        "train/saver.py",
        "saved_model/impl.py",
    ):
        path = os.path.join(SRC, module)
        assert not {"pickle", "marshal", "shelve", "dill"} & set(_imports(path)), module
        for node in ast.walk(ast.parse(open(path).read())):
            if not isinstance(node, ast.Call):
                continue
            fn = node.func
            assert not (isinstance(fn, ast.Name) and fn.id in ("eval", "exec", "__import__")), (
                module
            )
            if (
                isinstance(fn, ast.Attribute)
                and fn.attr == "load"
                and getattr(fn.value, "id", None) == "np"
            ):
                kw = {k.arg: getattr(k.value, "value", None) for k in node.keywords}
                assert kw.get("allow_pickle") is False, f"{module}:{node.lineno}"
