"""`miniflow predict`: offline batch prediction over files, streamed.

    miniflow predict --model-dir /models/ctr --input 'day=*/part-*.svm.gz' \\
                     --output preds.txt --format libsvm --batch-size 4096
    miniflow predict --model-dir /models/mnist/3 --input x.csv --output y.jsonl --format csv

--model-dir is a version directory or a base directory (its newest version is used).
One output line per input row, in order. A bad row stops the run with its file and line
(the output so far stays in OUTPUT.partial); --skip-bad-rows writes an error record for
it instead and carries on. See docs/serving.md.
"""

from __future__ import annotations

import argparse
import sys


def _parser() -> argparse.ArgumentParser:
    from miniflow.serving.batch_predict import FORMATS

    p = argparse.ArgumentParser(
        prog="miniflow predict",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--model-dir", required=True, help="model version or base directory")
    p.add_argument("--input", required=True, nargs="+", help="input files or globs")
    p.add_argument("--output", required=True, help="output file")
    p.add_argument("--format", default="libsvm", choices=FORMATS, help="input format")
    p.add_argument(
        "--output-format",
        default="auto",
        choices=("auto", "txt", "jsonl"),
        help="txt: numbers per line; jsonl: JSON per line (auto: by extension)",
    )
    p.add_argument("--batch-size", type=int, default=1024, help="rows per model call")
    p.add_argument("--signature-name", default="serving_default")
    p.add_argument(
        "--skip-bad-rows",
        action="store_true",
        help="write an error record for a bad row and continue",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    from miniflow.serving.batch_predict import (
        PARTIAL_SUFFIX,
        BadRowError,
        expand_inputs,
        predict_files,
        resolve_model_dir,
    )
    from miniflow.serving.errors import ModelLoadError
    from miniflow.serving.servable import load_servable

    if args.batch_size < 1:
        print("miniflow predict: --batch-size must be >= 1", file=sys.stderr)
        return 2
    try:
        inputs = expand_inputs(args.input)
        servable = load_servable(resolve_model_dir(args.model_dir))
    except (FileNotFoundError, ModelLoadError) as e:
        print(f"miniflow predict: {e}", file=sys.stderr)
        return 2
    partial = args.output + PARTIAL_SUFFIX
    try:
        summary = predict_files(
            servable,
            inputs,
            args.output,
            args.format,
            args.batch_size,
            args.skip_bad_rows,
            args.signature_name,
            args.output_format,
            progress=not args.no_progress,
        )
    except BadRowError as e:
        moved = e.stale_output
        print(
            f"miniflow predict: bad row at {e}\nStopped; the predictions before it are in "
            f"{partial} (incomplete). Fix the row or use --skip-bad-rows."
            + (f"\nAn earlier run's {args.output} was moved to {moved}." if moved else ""),
            file=sys.stderr,
        )
        return 1
    except ValueError as e:
        print(f"miniflow predict: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            f"\nminiflow predict: interrupted; the predictions so far are in {partial} "
            "(incomplete)",
            file=sys.stderr,
        )
        return 130
    finally:
        servable.close()
    rate = summary.rows / summary.seconds if summary.seconds else float("inf")
    print(
        f"miniflow predict: {summary.rows} rows ({summary.bad_rows} bad, skipped) -> "
        f"{summary.output} in {summary.seconds:.2f}s ({rate:,.0f} rows/s)",
        file=sys.stderr,
    )
    return 0
