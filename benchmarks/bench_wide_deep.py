"""Wide & deep CTR training steps/s: miniflow's Estimator vs TensorFlow's, side by side.

The data is generated once (``miniflow data gen-ctr``, converted to TFRecord Examples by
``examples/wide_deep_ctr.py``); then each framework trains the same
``DNNLinearCombinedClassifier`` (same feature columns: hash buckets, crosses,
embeddings; same input pipeline: ``TFRecordDataset`` -> batch -> ``parse_example`` ->
shuffle -> repeat, so every step parses its 128 Examples) in its own subprocess, and
reports

- steady steps/s: after 10 warm-up steps, timed by a ``SessionRunHook`` after every
  ``Session.run`` of the training loop;
- train s: the whole ``train()`` call (graph building, first epoch, checkpoint);
- the evaluation AUC and loss of the trained model on the same eval file.

TensorFlow 2.21 has no ``tf.estimator``; the TensorFlow side runs under TF 2.15 with
``tensorflow-estimator`` 2.15 (``make -C benchmarks bench-estimator`` builds
``benchmarks/.venv-tf215`` and runs this script there); miniflow's side, and the data
preparation, run under ``--miniflow-python`` (the project's environment: miniflow needs
NumPy 2, TF 2.15 pins NumPy < 2). Elsewhere pass ``--tf-python``.

Run: make -C benchmarks bench-estimator
     python benchmarks/bench_wide_deep.py [--tf-python PATH] [--rows 8000] [--steps 400]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
EXAMPLE = HERE.parent / "examples" / "wide_deep_ctr.py"

# The model of examples/wide_deep_ctr.py.
FIELDS, CROSSES, BUCKETS, CROSS_BUCKETS, EMBED, HIDDEN = (
    8,
    [(0, 1), (2, 3), (1, 4)],
    1000,
    20_000,
    8,
    [32, 16],
)


def _load_example():
    spec = importlib.util.spec_from_file_location("wide_deep_ctr", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- one side (runs in a subprocess) ----------------------------------------------------------
def run_side(tf, data: str, steps: int, batch: int, rows: int) -> dict:
    """Trains and evaluates with ``tf`` (miniflow, or tensorflow.compat.v1)."""
    fc = tf.feature_column
    fields = [fc.categorical_column_with_hash_bucket(f"f{i}", BUCKETS) for i in range(FIELDS)]
    wide = fields + [fc.crossed_column([f"f{a}", f"f{b}"], CROSS_BUCKETS) for a, b in CROSSES]
    deep = [fc.embedding_column(c, dimension=EMBED) for c in fields]
    spec = dict(fc.make_parse_example_spec(wide + deep), label=tf.io.FixedLenFeature([1], tf.int64))

    def input_fn(name, train):
        def fn():
            ds = tf.data.TFRecordDataset(os.path.join(data, f"{name}.tfrecord")).batch(batch)

            def parse(serialized):
                features = tf.io.parse_example(serialized, spec)
                return features, features.pop("label")

            ds = ds.map(parse)  # no cache(): miniflow's is a pass-through
            return ds.shuffle(64, seed=0).repeat() if train else ds

        return fn

    times: list[float] = []

    class StepTimes(tf.train.SessionRunHook):
        def after_run(self, run_context, run_values):
            times.append(time.perf_counter())

    model_dir = tempfile.mkdtemp(prefix="bench-wide-deep-")
    never = 10**9
    config = tf.estimator.RunConfig(
        model_dir=model_dir,
        tf_random_seed=0,
        save_checkpoints_steps=steps,
        save_summary_steps=never,
        log_step_count_steps=never,
    )
    est = tf.estimator.DNNLinearCombinedClassifier(
        linear_feature_columns=wide,
        dnn_feature_columns=deep,
        dnn_hidden_units=HIDDEN,
        config=config,
    )
    t0 = time.perf_counter()
    est.train(input_fn("train", True), max_steps=steps, hooks=[StepTimes()])
    train_s = time.perf_counter() - t0
    first = 10  # warm-up: plan compilation, first batches
    steady = (len(times) - 1 - first) / (times[-1] - times[first])
    metrics = est.evaluate(input_fn("eval", False))
    shutil.rmtree(model_dir, ignore_errors=True)
    return {
        "steps": len(times),
        "steady_steps_per_s": steady,
        "train_s": train_s,
        "auc": float(metrics["auc"]),
        "loss": float(metrics["loss"]),
    }


def _make_data(data: str, rows: int, eval_rows: int) -> None:
    """gen-ctr VW files -> TFRecord Examples, with the example's own conversion."""
    example = _load_example()
    example.generate(data, rows, eval_rows, log=lambda *a: None)
    for name in ("train", "eval"):
        example.vw_to_tfrecord(
            os.path.join(data, f"{name}.vw"), os.path.join(data, f"{name}.tfrecord")
        )


def _side_main(args) -> None:
    if args.side == "tensorflow":
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        import tensorflow
        import tensorflow.compat.v1 as tf

        tf.get_logger().setLevel("ERROR")
        version = tensorflow.__version__
    else:
        import miniflow as tf

        version = getattr(tf, "__version__", "dev")
    out = run_side(tf, args.data, args.steps, args.batch, args.rows)
    out["version"] = version
    print("RESULT " + json.dumps(out), flush=True)


# -- orchestration -------------------------------------------------------------------------------
def _has_estimator(python: str) -> bool:
    probe = subprocess.run([python, "-c", "import tensorflow_estimator"], capture_output=True)
    return probe.returncode == 0


def _tf_python(arg: str | None) -> str | None:
    candidates = [arg] if arg else [sys.executable, str(HERE / ".venv-tf215" / "bin" / "python")]
    for python in candidates:
        if python and os.path.exists(python) and _has_estimator(python):
            return python
    return None


def _run(python: str, side: str, args, data: str) -> dict:
    cmd = [
        python,
        str(Path(__file__).resolve()),
        "--side",
        side,
        "--data",
        data,
        "--steps",
        str(args.steps),
        "--batch",
        str(args.batch),
        "--rows",
        str(args.rows),
    ]
    done = subprocess.run(cmd, capture_output=True, text=True)
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])
    raise RuntimeError(f"{side} side failed (exit {done.returncode}):\n{done.stderr[-3000:]}")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=8000, help="training rows")
    p.add_argument("--eval-rows", type=int, default=2000)
    p.add_argument("--steps", type=int, default=400)
    p.add_argument("--batch", type=int, default=128)
    p.add_argument("--tf-python", help="a Python with tensorflow 2.15 + tensorflow-estimator")
    p.add_argument("--miniflow-python", default=sys.executable)
    p.add_argument("--side", choices=("data", "miniflow", "tensorflow"), help=argparse.SUPPRESS)
    p.add_argument("--data", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.side == "data":
        _make_data(args.data, args.rows, args.eval_rows)
        return
    if args.side:
        _side_main(args)
        return

    # Everything miniflow runs under --miniflow-python: this script itself imports neither
    # framework, so it runs in either environment.
    data = tempfile.mkdtemp(prefix="bench-wide-deep-data-")
    subprocess.run(
        [
            args.miniflow_python,
            str(Path(__file__).resolve()),
            "--side",
            "data",
            "--data",
            data,
            "--rows",
            str(args.rows),
            "--eval-rows",
            str(args.eval_rows),
        ],
        check=True,
    )
    tf_python = _tf_python(args.tf_python)
    try:
        results = {"miniflow": _run(args.miniflow_python, "miniflow", args, data)}
        if tf_python is not None:
            results["tensorflow"] = _run(tf_python, "tensorflow", args, data)
    finally:
        shutil.rmtree(data, ignore_errors=True)

    print(
        f"wide & deep CTR (DNNLinearCombinedClassifier): {FIELDS} hashed fields, "
        f"{len(CROSSES)} crosses, embeddings of {EMBED}, DNN {HIDDEN}; batch {args.batch}, "
        f"{args.rows} train / {args.eval_rows} eval rows, {args.steps} steps"
    )
    print(
        f"{'framework':<28}{'steady steps/s':>16}{'train s':>10}{'eval AUC':>10}{'eval loss':>11}"
    )
    for side, r in results.items():
        name = f"{side} {r['version']}"
        print(
            f"{name:<28}{r['steady_steps_per_s']:>16.1f}{r['train_s']:>10.1f}"
            f"{r['auc']:>10.4f}{r['loss']:>11.3f}"
        )
    if tf_python is None:
        print(
            "tensorflow (Estimator)      n/a: no Python with tensorflow_estimator; run "
            "`make -C benchmarks bench-estimator` or pass --tf-python"
        )
    else:
        ratio = (
            results["tensorflow"]["steady_steps_per_s"] / results["miniflow"]["steady_steps_per_s"]
        )
        print(f"TensorFlow / miniflow steady steps/s: {ratio:.1f}x")


if __name__ == "__main__":
    main()
