"""Writes the inventory of TF1's public names: ``tests/compat/tf1_api_inventory.json``.

Run with the benchmark environment, which has TensorFlow::

    benchmarks/.venv-bench/bin/python benchmarks/tf1_api_inventory.py

It walks ``tensorflow.compat.v1`` and every namespace below it that belongs to TF's
generated API tree (so not ``tf.flags``, which is absl's, nor ``tf.test.mock``), plus
``ALSO_WALKED`` (``tf.logging``), except ``NOT_WALKED``, and records every public name (no leading underscore) with its kind:
module, class, function or constant. A namespace that is not walked still appears as a
``module`` name of its parent, so miniflow must answer for it too (implemented, or a
stub). The output is sorted, so running it twice with the same TensorFlow gives the same
file.

TensorFlow 2.16+ serves ``tf.compat.v1.layers`` from the ``tf_keras`` package, which the
benchmark environment does not install (it would pull in a second TensorFlow). Install
it beside, without dependencies, and put it on the path::

    benchmarks/.venv-bench/bin/pip install --no-deps --target /tmp/tf_keras "tf_keras==2.21.*"
    PYTHONPATH=/tmp/tf_keras benchmarks/.venv-bench/bin/python benchmarks/tf1_api_inventory.py
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")  # tf.compat.v1.layers lives in tf_keras

OUT = Path(__file__).resolve().parents[1] / "tests" / "compat" / "tf1_api_inventory.json"

# Namespaces of tf.compat.v1 whose names are not listed: out of scope as a whole (their
# reasons are in src/miniflow/compat/unsupported.py; tests/compat checks the two agree),
# and tf.compat, which is the inventory itself. Each is still a `module` name of `tf`.
NOT_WALKED = (
    "compat",
    "distribute",
    "keras",
    "lite",
    "mlir",
    "profiler",
    "raw_ops",
    "sysconfig",
    "tpu",
    "user_ops",
    "xla",
)


# TF1 namespaces that are plain modules rather than part of the generated API tree, but
# whose names TF1 programs use (tf.logging is tensorflow/python/platform/tf_logging.py).
ALSO_WALKED = ("logging",)


def kind_of(obj) -> str:
    """module / class / function / constant, as a TF1 user sees the name."""
    if inspect.ismodule(obj):
        return "module"
    if inspect.isclass(obj):
        return "class"
    if callable(obj):
        return "function"
    return "constant"


def is_api_tree(module) -> bool:
    """A namespace of TF's generated API (tf_keras serves tf.compat.v1.layers)."""
    name = getattr(module, "__name__", "")
    return "._api." in name or name.startswith("tf_keras.api.")


def walk(module, path: str, out: dict) -> None:
    """Fills ``out[path]`` with ``module``'s public names, then walks its namespaces."""
    names = {}
    subs = []
    for name in dir(module):
        if name.startswith("_"):
            continue
        try:
            obj = getattr(module, name)
            names[name] = kind_of(obj)
            if (
                names[name] == "module"
                and not (path == "tf" and name in NOT_WALKED)
                and (is_api_tree(obj) or (path == "tf" and name in ALSO_WALKED))
            ):
                subs.append((name, obj))
        except ImportError as e:  # a lazy loader (tf.layers is served by tf_keras)
            raise SystemExit(
                f"cannot list {path}.{name}: {e}\n(see this script's "
                "docstring: tf.compat.v1.layers needs tf_keras)"
            ) from e
    out[path] = dict(sorted(names.items()))
    for name, obj in subs:
        walk(obj, f"{path}.{name}", out)


def inventory() -> dict:
    import tensorflow as tf_root
    import tensorflow.compat.v1 as tf

    spaces: dict = {}
    walk(tf, "tf", spaces)
    return {
        "source": "tensorflow.compat.v1",
        "tensorflow_version": tf_root.__version__,
        "generated_by": "benchmarks/tf1_api_inventory.py",
        "not_walked": [f"tf.{name}" for name in sorted(NOT_WALKED)],
        "namespaces": dict(sorted(spaces.items())),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    data = inventory()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(data, indent=1, sort_keys=False) + "\n")
    total = sum(len(v) for v in data["namespaces"].values())
    print(
        f"wrote {args.out}: {total} names in {len(data['namespaces'])} namespaces "
        f"(TensorFlow {data['tensorflow_version']})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
