"""Line budget: lines of code per architecture layer, and of tests and docs.

    python tools/sz.py            # the tables (Markdown)
    python tools/sz.py --top 10   # also the largest files

The layers are those of the architecture test (``tests/test_architecture.py``), read
from its ``LIBRARY`` and ``PLATFORM`` tables, so a module counts where it is ranked.
A line is *code* unless it is blank, a comment or part of a docstring (then *doc*).
"""

from __future__ import annotations

import argparse
import ast
import io
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"
TABLE = ROOT / "tests" / "test_architecture.py"


def layer_tables() -> dict[str, list[tuple[str, int, str]]]:
    """``{"miniflow": LIBRARY, "miniflow_platform": PLATFORM}`` from the architecture test."""
    tables = {}
    for node in ast.parse(TABLE.read_text()).body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            name = node.targets[0].id
            if name in ("LIBRARY", "PLATFORM"):
                package = "miniflow" if name == "LIBRARY" else "miniflow_platform"
                tables[package] = ast.literal_eval(node.value)
    return tables


def module_path(package: str, name: str) -> Path:
    parts = [package] + ([] if name == "__init__" else name.split("."))
    base = SRC.joinpath(*parts)
    return base / "__init__.py" if (base / "__init__.py").is_file() else base.with_suffix(".py")


def count(path: Path) -> tuple[int, int]:
    """(code lines, doc lines) of a Python file."""
    text = path.read_text()
    doc: set[int] = set()
    for node in ast.walk(ast.parse(text)):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
            value = body[0].value
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                doc.update(range(body[0].lineno, body[0].end_lineno + 1))
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type == tokenize.COMMENT and not tok.line[: tok.start[1]].strip():
            doc.add(tok.start[0])
    lines = text.splitlines()
    blank = {i for i, line in enumerate(lines, 1) if not line.strip()}
    code = len(lines) - len(blank) - len(doc - blank)
    return code, len(doc - blank)


def text_lines(paths) -> int:
    return sum(len(p.read_text().splitlines()) for p in paths)


def layer_rows(tables) -> list[tuple[str, int, int, int, str]]:
    rows = []
    for package, table in tables.items():
        for layer, _rank, modules in table:
            paths = [module_path(package, m) for m in modules.split()]
            paths = [p for p in paths if p.is_file()]
            counts = [count(p) for p in paths]
            largest = max(paths, key=lambda p: len(p.read_text().splitlines()), default=None)
            biggest = f"{largest.relative_to(SRC)} ({len(largest.read_text().splitlines())})"
            rows.append(
                (
                    f"{package} {layer}",
                    len(paths),
                    sum(c for c, _ in counts),
                    sum(d for _, d in counts),
                    biggest if largest else "",
                )
            )
    return rows


def other_rows() -> list[tuple[str, int, int]]:
    groups = {
        "tests": sorted((ROOT / "tests").rglob("*.py")),
        "docs (*.md)": sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"],
        "benchmarks": sorted((ROOT / "benchmarks").glob("*.py")),
        "conformance": sorted((ROOT / "conformance").glob("*.py")),
        "tools": sorted((ROOT / "tools").glob("*.py")),
        "examples": sorted((ROOT / "examples").rglob("*.py")),
    }
    return [(name, len(paths), text_lines(paths)) for name, paths in groups.items() if paths]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--top", type=int, default=0, help="also list the N largest files")
    args = parser.parse_args(argv)
    rows = layer_rows(layer_tables())
    print("| layer | modules | code lines | doc lines | largest file (lines) |")
    print("|---|---:|---:|---:|---|")
    for name, n, code, doc, biggest in rows:
        print(f"| {name} | {n} | {code:,} | {doc:,} | {biggest} |")
    total_n, total_code, total_doc = (sum(r[i] for r in rows) for i in (1, 2, 3))
    print(f"| **total** | {total_n} | {total_code:,} | {total_doc:,} | |")
    print()
    print("| outside src/ | files | lines |")
    print("|---|---:|---:|")
    for name, n, lines in other_rows():
        print(f"| {name} | {n} | {lines:,} |")
    if args.top:
        sizes = sorted(
            ((len(p.read_text().splitlines()), p) for p in SRC.rglob("*.py")), reverse=True
        )
        print()
        for lines, path in sizes[: args.top]:
            print(f"{lines:6d}  {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
