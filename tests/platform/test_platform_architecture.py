"""Import rules (STYLE §2.2): the platform never imports the library (only its workloads,
which run as job processes, may), nor the reverse;
routers never import executors, the scheduler or workloads; importing has no side effects."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src"
PLATFORM = SRC / "miniflow_platform"


def imports_of(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_platform_never_imports_the_library():
    # workloads/ run in the job's own process (STYLE §2.2: only they may import miniflow);
    # the API server never imports them
    for path in PLATFORM.rglob("*.py"):
        if path.parent.name == "workloads":
            continue
        bad = {m for m in imports_of(path) if m == "miniflow" or m.startswith("miniflow.")}
        assert not bad, f"{path.relative_to(SRC)} imports {bad}; run the `miniflow` CLI instead"


def test_library_never_imports_the_platform():
    for path in (SRC / "miniflow").rglob("*.py"):
        bad = {m for m in imports_of(path) if m.startswith("miniflow_platform")}
        assert not bad, f"{path.relative_to(SRC)} imports {bad}"


def test_routers_depend_on_services_not_executors():
    for router in PLATFORM.glob("*/router.py"):
        for module in imports_of(router):
            assert not module.startswith(
                (
                    "miniflow_platform.executors",
                    "miniflow_platform.scheduler",
                    "miniflow_platform.workloads",
                )
            ), (router, module)


def test_import_has_no_side_effects(tmp_path):
    code = (
        "import os, sys, threading\n"
        "before = set(os.listdir('.'))\n"
        "import miniflow_platform.main, miniflow_platform.cli, miniflow_platform.client\n"
        "assert set(os.listdir('.')) == before\n"
        "assert threading.active_count() == 1\n"
        "assert 'miniflow' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=tmp_path, check=True)
