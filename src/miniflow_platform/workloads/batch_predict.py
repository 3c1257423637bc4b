"""``python -m miniflow_platform.workloads.batch_predict``: `miniflow predict` over many inputs.

Writes one output file per input into ``--output-dir`` (named after the input) and
stops at the first failure, with that command's exit code.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="batch_predict")
    parser.add_argument("--model-dir", required=True)
    parser.add_argument("--output-dir", required=True)
    parser.add_argument("--format", default=None)
    parser.add_argument("inputs", nargs="+")
    args = parser.parse_args(argv)
    out_dir = Path(args.output_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    fmt = ["--format", args.format] if args.format else []
    for i, path in enumerate(args.inputs):
        output = out_dir / f"{i:03d}-{Path(path).name}.pred"
        print(f"[batch_predict] {path} -> {output}", flush=True)
        code = subprocess.call(
            [
                "miniflow",
                "predict",
                "--model-dir",
                args.model_dir,
                "--input",
                path,
                "--output",
                str(output),
                *fmt,
            ]
        )
        if code != 0:
            return code
    return 0


if __name__ == "__main__":
    sys.exit(main())
