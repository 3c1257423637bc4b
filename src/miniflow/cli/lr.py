"""`miniflow lr`: train, evaluate and apply sparse logistic regression on click data.

    miniflow lr train --train train.svm --test test.svm --dims-log2 24 --optimizer ftrl \\
                      --epochs 1 --model-out model/
    miniflow lr eval --model model/ --data test.svm
    miniflow lr predict --model model/ --data test.svm --out preds.txt

Inputs are libsvm/svmlight or VW text (optionally gzip) or a miniflow cache file;
``--format auto`` tells them apart. Metrics are printed and written as JSON.
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

from miniflow.cli.train_options import add_training_arguments


def _input_arguments(p: argparse.ArgumentParser, skip: bool) -> None:
    """--format, --label-col and (for train/eval) --skip-bad-rows."""
    p.add_argument(
        "--format",
        default="auto",
        choices=("auto", "libsvm", "vw", "csv", "cache"),
        help="input format (auto: cache, .csv/.tsv or a ',' -> csv, a '|' -> vw, else libsvm)",
    )
    p.add_argument(
        "--label-col", default="0", help="CSV label column: 0-based position or header name"
    )
    if skip:
        p.add_argument(
            "--skip-bad-rows",
            action="store_true",
            help="skip rows that fail to parse (counted in the report) instead of stopping",
        )


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="miniflow lr",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train a model")
    _input_arguments(t, skip=True)
    add_training_arguments(t, dims_log2=22)  # shared with `miniflow fm train`

    e = sub.add_parser("eval", help="metrics of a saved model on a labelled file")
    e.add_argument("--model", required=True)
    e.add_argument("--data", required=True)
    _input_arguments(e, skip=True)
    e.add_argument("--metrics-out")

    q = sub.add_parser("predict", help="click probabilities of a saved model, one per line")
    q.add_argument("--model", required=True)
    q.add_argument("--data", required=True)
    _input_arguments(q, skip=False)
    q.add_argument("--out", default="-", help="output file ('-' = stdout)")
    return p


def _train(args) -> int:
    if args.ps_shards is not None:  # sharded training (0 is refused there, not ignored)
        from miniflow.ps.cli import train

        if args.skip_bad_rows or args.format == "csv":
            raise ValueError("--skip-bad-rows and --format csv are not supported with --ps-shards")
        if args.batch_size == "auto":
            args.batch_size = 4096  # global steps split over the workers

        return train(args)
    from miniflow.ml.report import finish_training
    from miniflow.ml.source import DataSource
    from miniflow.ml.sparse_lr import SparseLRTrainer

    cache = args.cache or (args.train + ".mfcache" if args.epochs > 1 else None)
    train = DataSource(
        args.train,
        args.dims_log2,
        args.format,
        cache=cache,
        block_rows=4096 if args.batch_size == "auto" else args.batch_size,
        skip_bad_rows=args.skip_bad_rows,
        label_col=args.label_col,
    )
    test = None
    if args.test:
        test = DataSource(
            args.test,
            args.dims_log2,
            args.format,
            skip_bad_rows=args.skip_bad_rows,
            label_col=args.label_col,
        )
    trainer = SparseLRTrainer(
        args.dims_log2,
        args.optimizer,
        alpha=args.alpha,
        beta=args.beta,
        lr=args.lr,
        l1=args.l1,
        l2=args.l2,
        batch_size=args.batch_size,
    )
    history = trainer.fit(
        train,
        args.epochs,
        holdout=test,
        progress=not args.no_progress,
        log=lambda line: print(line, file=sys.stderr),
    )
    last = history[-1] if history else None
    result = {
        "train_rows": trainer.rows_seen,
        "epochs": [s.__dict__ for s in history],
        "test": last.holdout if last else {},
    }
    if args.skip_bad_rows:
        result["bad_rows"] = _report_bad_rows(train=train.bad_rows, test=test and test.bad_rows)
    finish_training(
        result, trainer.to_model() if args.model_out else None, args.model_out, args.metrics_out
    )
    return 130 if last is not None and last.interrupted else 0


def _report_bad_rows(**sources) -> dict:
    """{"train": {"count", "first"}, ...} for the report; a line on stderr for each."""
    out = {}
    for name, bad in sources.items():
        if bad is None:
            continue
        out[name] = bad.to_dict()
        if bad.count:
            first = "; ".join(bad.first[:3])
            print(f"skipped {bad.count} bad {name} rows, first: {first}", file=sys.stderr)
    return out


def _predictions(args, bad_rows=None):
    from miniflow.ml.data import read_file
    from miniflow.ml.sparse_lr import load_model

    model = load_model(args.model)
    batches = read_file(
        args.data, model.dims_log2, args.format, bad_rows=bad_rows, label_col=args.label_col
    )
    for batch in batches:
        yield batch, model.predict_proba(batch)


def _eval(args) -> int:
    from miniflow.ml import metrics
    from miniflow.ml.report import write_json
    from miniflow.ml.text_rows import BadRows

    bad = BadRows() if args.skip_bad_rows else None
    ys, ps = [], []
    for batch, p in _predictions(args, bad):
        ys.append(batch.labels)
        ps.append(p)
    report = metrics.summary(np.concatenate(ys), np.concatenate(ps))
    if bad is not None:
        report["bad_rows"] = _report_bad_rows(data=bad)
    write_json(report, args.metrics_out)
    return 0


def _predict(args) -> int:
    out = sys.stdout if args.out == "-" else open(args.out, "w")  # noqa: SIM115
    try:
        for _, p in _predictions(args):
            np.savetxt(out, p, fmt="%.6f")
    finally:
        if out is not sys.stdout:
            out.close()
    return 0


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    try:
        return {"train": _train, "eval": _eval, "predict": _predict}[args.command](args)
    except (ValueError, OSError) as e:  # bad input files: the message names file and line
        print(f"miniflow lr {args.command}: error: {e}", file=sys.stderr)
        return 1
