"""`miniflow demo`: runs the classic TF1 examples of ``examples/`` and prints their results.

The examples are the repository's own scripts (``examples/*.py``), loaded by path, so the
demo shows exactly the code a reader finds there.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
from pathlib import Path

# (file, title, main() keyword arguments for --quick)
EXAMPLES = [
    ("basic_operations", "basic operations", {}),
    ("placeholders_and_feeds", "placeholders and feeds", {}),
    ("linear_regression", "linear regression (y = w*x + b, gradient descent)", {"steps": 2000}),
    (
        "logistic_regression",
        "logistic regression (breast cancer, L2, gradient descent)",
        {"steps": 1000},
    ),
]


def _default_dir() -> Path:
    return Path(__file__).resolve().parents[3] / "examples"


def _load(directory: Path, name: str):
    path = directory / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"miniflow_example_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> int:
    """Runs each example's ``main()``; returns 0 when all succeeded, 1 otherwise."""
    parser = argparse.ArgumentParser(prog="miniflow demo", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--examples-dir",
        type=Path,
        default=_default_dir(),
        help="directory holding the example scripts (default: the repo's)",
    )
    parser.add_argument("--quick", action="store_true", help="fewer training steps")
    args = parser.parse_args(argv)
    if not args.examples_dir.is_dir():
        print(
            f"miniflow demo: no examples directory at {args.examples_dir}; run it from a "
            "source checkout or pass --examples-dir",
            file=sys.stderr,
        )
        return 1
    failed = []
    for name, title, quick in EXAMPLES:
        print(f"\n=== {title} ===")
        start = time.perf_counter()
        try:
            result = _load(args.examples_dir, name).main(**(quick if args.quick else {}))
        except ImportError as e:  # e.g. scikit-learn (the test extra) is not installed
            print(f"skipped: {e}")
            continue
        except Exception as e:  # noqa: BLE001  report every example, then fail
            print(f"FAILED: {type(e).__name__}: {e}")
            failed.append(name)
            continue
        print(f"({name}: {len(result)} results in {time.perf_counter() - start:.2f}s)")
    if failed:
        print(f"\nfailed examples: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
