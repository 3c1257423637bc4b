"""Wide & deep click-through-rate model, end to end, the TF1 production way.

1. click data from ``miniflow data gen-ctr`` (VW text: one ``f<field>_<value>`` token per
   categorical field), converted to TFRecord files of ``tf.train.Example``;
2. feature columns: hash buckets per field, crossed pairs of fields (the wide part) and
   embeddings (the deep part);
3. ``tf.estimator.DNNLinearCombinedClassifier`` trained with
   ``tf.estimator.train_and_evaluate`` on ``tf.data.TFRecordDataset`` input;
4. exported with ``build_parsing_serving_input_receiver_fn`` (the served model takes
   serialized Examples), served by ``miniflow serve`` in a subprocess on a free
   loopback port, and queried over TF Serving's REST API with ``{"b64": ...}`` Examples;
   the answers are checked against ``estimator.predict`` on the same Examples.

Run: python examples/wide_deep_ctr.py [--rows 6000] [--steps 300]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import numpy as np

import miniflow as tf

FIELDS = 8  # categorical fields per row
MAX_VOCAB = 500  # largest field vocabulary (Zipf-distributed values)
CROSSES = [(0, 1), (2, 3), (1, 4)]  # pairs of fields crossed in the wide part
BATCH = 128


def generate(data_dir: str, rows: int, eval_rows: int, log=print) -> dict:
    """Writes train/eval click data with ``miniflow data gen-ctr`` (VW text); returns
    the generator's summary of the eval file (ground-truth AUC and log loss)."""
    info = {}
    for name, n, seed in (("train", rows, 1), ("eval", eval_rows, 2)):
        cmd = [
            sys.executable,
            "-m",
            "miniflow.cli.main",
            "data",
            "gen-ctr",
            "--rows",
            str(n),
            "--seed",
            str(seed),
            "--model-seed",
            "0",
            "--format",
            "vw",
            "--fields",
            str(FIELDS),
            "--max-vocab",
            str(MAX_VOCAB),
            "--out",
            os.path.join(data_dir, f"{name}.vw"),
        ]
        done = subprocess.run(cmd, capture_output=True, text=True, check=True)
        info[name] = json.loads(done.stderr.strip().splitlines()[-1])
        log(f"[data] {name}: {n} rows, positive rate {info[name]['positive_rate']:.3f}")
    return info["eval"]


def vw_to_tfrecord(vw_path: str, record_path: str) -> int:
    """``1 |f f0_3 f1_17 ...`` lines -> Examples {"label": int64, "f<i>": bytes}."""
    n = 0
    with open(vw_path, "rb") as src, tf.io.TFRecordWriter(record_path) as out:
        for line in src:
            head, _, tokens = line.partition(b"|f")
            feature = {
                "label": tf.train.Feature(
                    int64_list=tf.train.Int64List(value=[int(float(head) > 0)])
                )
            }
            for tok in tokens.split():
                field = tok.split(b"_", 1)[0].decode()
                feature[field] = tf.train.Feature(bytes_list=tf.train.BytesList(value=[tok]))
            example = tf.train.Example(features=tf.train.Features(feature=feature))
            out.write(example.SerializeToString())
            n += 1
    return n


def feature_columns():
    """(wide columns, deep columns): hashed fields + crosses; embeddings of the fields."""
    fc = tf.feature_column
    fields = [
        fc.categorical_column_with_hash_bucket(f"f{i}", hash_bucket_size=1000)
        for i in range(FIELDS)
    ]
    crosses = [fc.crossed_column([f"f{a}", f"f{b}"], hash_bucket_size=20_000) for a, b in CROSSES]
    deep = [fc.embedding_column(c, dimension=8) for c in fields]
    return fields + crosses, deep


def input_fn(files, feature_spec, epochs=None, shuffle=False, limit=None):
    """TFRecord Examples (the first ``limit``) -> (features, label) batches, parsed a
    batch at a time."""

    def fn():
        ds = tf.data.TFRecordDataset(files)
        ds = (ds if limit is None else ds.take(limit)).batch(BATCH)

        def parse(serialized):
            features = tf.io.parse_example(serialized, feature_spec)
            return features, features.pop("label")

        ds = ds.map(parse)
        if shuffle:
            ds = ds.shuffle(64, seed=0)  # of whole batches: the data are small
        return ds.repeat(epochs)

    return fn


def make_estimator(model_dir: str, steps: int):
    wide, deep = feature_columns()
    config = tf.estimator.RunConfig(
        model_dir=model_dir,
        tf_random_seed=0,
        save_checkpoints_steps=steps,
        log_step_count_steps=None,
    )
    return tf.estimator.DNNLinearCombinedClassifier(
        linear_feature_columns=wide,
        dnn_feature_columns=deep,
        dnn_hidden_units=[32, 16],
        config=config,
    )


class Server:
    """``miniflow serve`` in a subprocess on a free loopback port; always stop() it."""

    def __init__(self, model_base: str, name: str):
        cmd = [
            sys.executable,
            "-m",
            "miniflow.cli.main",
            "serve",
            "--model-dir",
            model_base,
            "--name",
            name,
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--log-level",
            "WARNING",
        ]
        self.proc = subprocess.Popen(
            cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        lines: queue.Queue = queue.Queue()
        threading.Thread(target=self._pump, args=(lines,), daemon=True).start()
        seen = []
        try:
            while True:
                line = lines.get(timeout=60)
                seen.append(line)
                if not line:
                    raise RuntimeError("miniflow serve exited:\n" + "".join(seen))
                if line.startswith("miniflow serve: listening on "):
                    self.url = line.split()[4]
                    return
        except BaseException:
            self.stop()
            raise

    def _pump(self, lines):
        for line in self.proc.stdout:
            lines.put(line)
        lines.put("")

    def predict(self, name: str, body: dict) -> dict:
        req = urllib.request.Request(
            f"{self.url}/v1/models/{name}:predict", data=json.dumps(body).encode(), method="POST"
        )
        with urllib.request.urlopen(req, timeout=60) as r:
            return json.loads(r.read())

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def main(
    rows: int = 6_000,
    eval_rows: int = 2_000,
    steps: int = 300,
    queries: int = 64,
    workdir: str | None = None,
    log=print,
) -> dict:
    """Runs every stage, printing progress through ``log``; returns the results."""
    start = time.perf_counter()
    work = workdir or tempfile.mkdtemp(prefix="miniflow-wide-deep-")
    truth = generate(work, rows, eval_rows, log)
    records = {}
    for name in ("train", "eval"):
        records[name] = os.path.join(work, f"{name}.tfrecord")
        n = vw_to_tfrecord(os.path.join(work, f"{name}.vw"), records[name])
        log(f"[data] {records[name]}: {n} tf.train.Example records")

    wide, deep = feature_columns()
    serving_spec = tf.feature_column.make_parse_example_spec(wide + deep)
    train_spec_map = dict(serving_spec, label=tf.io.FixedLenFeature([1], tf.int64))
    estimator = make_estimator(os.path.join(work, "model"), steps)
    train_spec = tf.estimator.TrainSpec(
        input_fn(records["train"], train_spec_map, shuffle=True), max_steps=steps
    )
    eval_spec = tf.estimator.EvalSpec(
        input_fn(records["eval"], train_spec_map, epochs=1), steps=None, throttle_secs=0
    )
    log(
        f"[train] DNNLinearCombinedClassifier: {len(wide)} wide columns "
        f"({len(CROSSES)} crosses), {len(deep)} embeddings; {steps} steps of {BATCH}"
    )
    t0 = time.perf_counter()
    metrics, _ = tf.estimator.train_and_evaluate(estimator, train_spec, eval_spec)
    train_s = time.perf_counter() - t0
    log(
        f"[train] {steps} steps and evaluation in {train_s:.1f} s; eval AUC {metrics['auc']:.4f} "
        f"(ground truth {truth['ground_truth_auc']:.4f}), loss {metrics['loss']:.4f}"
    )

    receiver = tf.estimator.export.build_parsing_serving_input_receiver_fn(serving_spec)
    export_base = os.path.join(work, "export")
    export_dir = estimator.export_saved_model(export_base, receiver)
    export_dir = export_dir.decode() if isinstance(export_dir, bytes) else export_dir
    log(f"[export] {export_dir}")

    # The same serialized Examples go to estimator.predict and to the server.
    serialized = [
        r for r, _ in zip(tf.io.tf_record_iterator(records["eval"]), range(queries), strict=False)
    ]
    local = np.array(
        [
            p["logistic"][0]
            for p in estimator.predict(
                input_fn(records["eval"], train_spec_map, epochs=1, limit=queries)
            )
        ]
    )

    server = Server(export_base, "ctr")
    try:
        log(f"[serve] miniflow serve pid {server.proc.pid} at {server.url}")
        b64 = [{"b64": base64.b64encode(s).decode("ascii")} for s in serialized]
        rows_answer = server.predict(
            "ctr", {"signature_name": "predict", "instances": [{"examples": v} for v in b64]}
        )
        cols_answer = server.predict("ctr", {"inputs": b64})  # serving_default: classify
    finally:
        server.stop()
    served = np.array([p["logistic"][0] for p in rows_answer["predictions"]])
    scores = np.array(cols_answer["outputs"]["scores"])[:, 1]
    diff = float(max(np.abs(served - local).max(), np.abs(scores - local).max()))
    log(
        f"[serve] {len(served)} REST predictions (b64 Examples); max |REST - "
        f"estimator.predict| = {diff:.2e}; server stopped (exit {server.proc.returncode})"
    )
    log(f"[done] {time.perf_counter() - start:.1f} s; data, checkpoints and export in {work}")
    return {
        "metrics": metrics,
        "truth": truth,
        "served": served,
        "served_scores": scores,
        "local": local,
        "max_abs_diff": diff,
        "export_dir": export_dir,
        "server_pid": server.proc.pid,
        "server_returncode": server.proc.returncode,
        "train_seconds": train_s,
        "workdir": work,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=6_000)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--workdir", help="keep data, model and export here")
    args = parser.parse_args()
    main(rows=args.rows, steps=args.steps, workdir=args.workdir)
