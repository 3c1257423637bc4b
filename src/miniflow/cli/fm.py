"""`miniflow fm`: train, evaluate and apply factorization machines (FM, FFM) on click data.

    miniflow fm train --train train.svm --test test.svm --dims-log2 20 --factors 8 \\
                      --model fm --epochs 2 --output model/
    miniflow fm train --train train.ffm --model ffm --fields 24 --factors 4 --output m/
    miniflow fm eval --model model/ --data test.svm
    miniflow fm predict --model model/ --data test.svm --out preds.txt

Inputs are libsvm, libffm (``label field:index:value ...``), VW text (optionally gzip)
or a miniflow cache file; ``--format auto`` tells them apart. --model ffm reads libffm,
or VW text with one namespace per field (--namespaces, saved with the model). The
report (metrics per epoch, holdout metrics) is printed as JSON and written to
--report (default OUTPUT/metrics.json). The model directory is served by `miniflow serve`.
"""

from __future__ import annotations

import argparse
import sys
import zlib

import numpy as np

from miniflow.cli.train_options import add_training_arguments, positive


def _parser() -> argparse.ArgumentParser:
    from miniflow.ml.fm_data import FORMATS

    p = argparse.ArgumentParser(
        prog="miniflow fm",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("train", help="train a model")
    t.add_argument("--format", default="auto", choices=FORMATS)
    add_training_arguments(t, dims_log2=20, epochs_type=positive)  # shared with `miniflow lr`
    t.add_argument("--model", default="fm", choices=("fm", "ffm"))
    t.add_argument("--factors", type=positive, default=8, help="k, length of each factor vector")
    t.add_argument("--fields", type=positive, help="number of fields (--model ffm)")
    t.add_argument(
        "--namespaces",
        help="VW text with --model ffm: the namespaces that are fields 0, 1, ..., comma "
        "separated (default: those of the file's first lines, in order)",
    )
    t.add_argument("--factor-alpha", type=float, default=0.1, help="FTRL alpha of the factors")
    t.add_argument("--factor-lr", type=float, help="learning rate of the factors")
    t.add_argument("--factor-l2", type=float, default=1e-4, help="L2 on the factor vectors")
    t.add_argument("--init-std", type=float, default=0.03, help="std of the initial factors")
    t.add_argument("--seed", type=int, default=0, help="seed of the initial factors")

    for name, help_ in (
        ("eval", "metrics of a saved model on a labelled file"),
        ("predict", "click probabilities of a saved model, one per line"),
    ):
        e = sub.add_parser(name, help=help_)
        e.add_argument("--model", required=True, help="model directory")
        e.add_argument("--data", required=True)
        e.add_argument("--format", default="auto", choices=FORMATS)
        if name == "eval":
            e.add_argument("--report", "--metrics-out", dest="report")
        else:
            e.add_argument("--out", default="-", help="output file ('-' = stdout)")
    return p


def _train(args) -> int:
    from miniflow.ml.fm import FMTrainer
    from miniflow.ml.fm_data import FMSource
    from miniflow.ml.report import finish_training

    if args.model == "ffm" and args.fields is None:
        print("miniflow fm train: --model ffm needs --fields N", file=sys.stderr)
        return 2
    if args.ps_shards is not None:  # factor rows and weights on parameter-server shards
        from miniflow.ps.cli import train

        if args.batch_size == "auto":
            args.batch_size = 4096  # global steps split over the workers
        if args.fields is None:
            args.fields = 0
        return train(args, model=args.model)
    try:
        trainer = FMTrainer(
            args.dims_log2, args.optimizer, model=args.model, factors=args.factors,
            fields=args.fields, alpha=args.alpha, beta=args.beta, lr=args.lr,
            factor_alpha=args.factor_alpha, factor_lr=args.factor_lr, l1=args.l1, l2=args.l2,
            factor_l2=args.factor_l2, init_std=args.init_std, seed=args.seed,
            batch_size=args.batch_size,
        )  # fmt: skip
    except ValueError as e:
        print(f"miniflow fm train: {e}", file=sys.stderr)
        return 2
    fb = trainer.field_bits
    block = 4096 if args.batch_size == "auto" else args.batch_size
    names = None if args.namespaces is None else args.namespaces.split(",")
    train = FMSource(
        args.train, args.dims_log2, args.format, fb, trainer.fields, None, block, names
    )
    if args.cache is not None or args.epochs > 1:
        train.cache = args.cache or _default_cache(args.train, fb, train.namespaces)
    test = None
    if args.test:
        test = FMSource(
            args.test, args.dims_log2, args.format, fb, trainer.fields, namespaces=train.namespaces
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
        "kind": args.model,
        "train_rows": trainer.rows_seen,
        "epochs": [s.__dict__ for s in history],
        "test": last.holdout if last else {},
    }
    meta = {} if train.namespaces is None else {"namespaces": train.namespaces}
    model = trainer.to_model(meta) if args.model_out else None
    finish_training(result, model, args.model_out, args.metrics_out)
    return 130 if last is not None and last.interrupted else 0


def _default_cache(train: str, field_bits: int, namespaces) -> str:
    """``TRAIN.mfcache``; FFM ids are packed, so ``TRAIN.ffm<bits>.mfcache``, and VW
    namespaces as fields add a hash of their order (another order is another cache)."""
    if not field_bits:
        return train + ".mfcache"
    tag = ""
    if namespaces is not None:
        tag = "-%08x" % zlib.crc32(",".join(namespaces).encode())  # noqa: UP031
    return f"{train}.ffm{field_bits}{tag}.mfcache"


def _predictions(args):
    from miniflow.ml.fm_data import read_fm_file
    from miniflow.ml.fm_model import load_fm_model

    model = load_fm_model(args.model)
    batches = read_fm_file(
        args.data,
        model.dims_log2,
        args.format,
        model.field_bits,
        model.fields,
        model.meta.get("namespaces"),
    )
    for batch in batches:
        yield batch, model.predict_proba(batch)


def _eval(args) -> int:
    from miniflow.ml import metrics
    from miniflow.ml.report import write_json

    ys, ps = [], []
    for batch, p in _predictions(args):
        ys.append(batch.labels)
        ps.append(p)
    write_json(metrics.summary(np.concatenate(ys), np.concatenate(ps)), args.report)
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
    except (OSError, ValueError) as e:
        print(f"miniflow fm {args.command}: {e}", file=sys.stderr)
        return 2
