"""`miniflow data`: synthetic data sets.

miniflow data gen-ctr --rows 1000000 --dims-log2 22 --seed 1 --format libsvm --out train.svm
"""

from __future__ import annotations

import argparse
import json
import sys


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="miniflow data",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="command", required=True)
    g = sub.add_parser("gen-ctr", help="click data from a known ground-truth logistic model")
    g.add_argument("--rows", type=int, required=True)
    g.add_argument("--dims-log2", type=int, default=22, help="hash bits of libsvm feature ids")
    g.add_argument("--seed", type=int, default=1, help="seed of the rows")
    g.add_argument(
        "--model-seed",
        type=int,
        default=0,
        help="seed of the ground truth (share it between train and test files)",
    )
    g.add_argument("--format", choices=("libsvm", "vw"), default="libsvm")
    g.add_argument("--out", default="-", help="output file ('-' = stdout)")
    g.add_argument("--truth-out", help="save every row's true click probability (.npy)")
    g.add_argument("--fields", type=int, default=24, help="categorical fields per row")
    g.add_argument("--max-vocab", type=int, default=200_000, help="largest field vocabulary")
    return p


def main(argv: list[str]) -> int:
    from miniflow.ml.datagen import write_ctr

    args = _parser().parse_args(argv)
    out = sys.stdout.buffer if args.out == "-" else args.out
    info = write_ctr(
        out,
        args.rows,
        args.dims_log2,
        args.format,
        seed=args.seed,
        model_seed=args.model_seed,
        truth_path=args.truth_out,
        fields=args.fields,
        max_vocab=args.max_vocab,
    )
    print(json.dumps(info), file=sys.stderr)
    return 0
