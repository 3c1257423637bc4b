"""`miniflow data`: synthetic data sets.

miniflow data gen-ctr --rows 1000000 --dims-log2 22 --seed 1 --format libsvm --out train.svm
miniflow data gen-ctr --rows 200000 --dims-log2 20 --cross-rank 4 --format libffm --out x.ffm

``--cross-rank R`` adds pairwise (crossed) effects to the truth, a rank-R factorization
machine that no linear model can fit (the data of the FM benchmark).
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
    g.add_argument("--format", choices=("libsvm", "vw", "libffm"), default="libsvm")
    g.add_argument("--out", default="-", help="output file ('-' = stdout)")
    g.add_argument("--truth-out", help="save every row's true click probability (.npy)")
    g.add_argument("--fields", type=int, default=24, help="categorical fields per row")
    g.add_argument("--max-vocab", type=int, default=200_000, help="largest field vocabulary")
    g.add_argument(
        "--cross-rank",
        type=_non_negative,
        default=0,
        help="rank of the pairwise effects in the truth (0: none, a linear truth)",
    )
    g.add_argument(
        "--cross-sigma",
        type=float,
        default=0.3,
        help="std of each value's latent vector entries (with --cross-rank)",
    )
    return p


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = -1
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}")
    return value


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
        cross_rank=args.cross_rank,
        cross_sigma=args.cross_sigma,
    )
    print(json.dumps(info), file=sys.stderr)
    return 0
