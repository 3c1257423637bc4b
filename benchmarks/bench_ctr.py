"""Sparse logistic regression on generated click data: miniflow vs Vowpal Wabbit vs sklearn.

    python benchmarks/bench_ctr.py                 # 1M train rows x 2^22, 200k test rows
    python benchmarks/bench_ctr.py --rows 100000   # a quick run

Every tool runs in its own subprocess (so its peak RSS is its own, read with
``os.wait4``) and reads its natural input format of the same generated rows: VW reads
VW text (raw tokens it hashes itself), miniflow and scikit-learn read libsvm text whose
ids are the same tokens hashed the same way. Timings are CPU seconds of the child
process (all threads) for training *including parsing the text*; evaluation on the test
rows is not timed. Tools run in ``--repeat`` interleaved rounds and each reports its
run with the least CPU, so all see the same mix of load on a shared machine.
Results: a table on stdout, ``results.json`` and ``ctr_auc_vs_time.png`` in
``--workdir`` (benchmarks/results/ctr by default).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


# -- tools, each run in a child process ---------------------------------------------------
def _labels_and_auc(test_svm: str, p: np.ndarray) -> float:
    from miniflow.ml import metrics
    from miniflow.ml.data import read_libsvm

    y = np.concatenate([b.labels for b in read_libsvm(test_svm)])
    return metrics.roc_auc(y, p)


def run_miniflow(
    w: str, dims: int, epochs: int, cache: bool, suffix: str = "", ext: str = "svm"
) -> dict:
    from miniflow.ml import compiled
    from miniflow.ml.data import read_libsvm
    from miniflow.ml.source import DataSource
    from miniflow.ml.sparse_lr import SparseLRTrainer

    k0 = time.process_time()
    numba = compiled.enabled()  # imports numba when it is there
    if numba:
        _warm_kernels()
    warm_cpu = time.process_time() - k0  # one-off per process: reported apart
    cache_path = os.path.join(w, f"train{suffix}.mfcache") if cache else None
    if cache_path and os.path.exists(cache_path):
        os.remove(cache_path)
    c0 = time.process_time()
    trainer = SparseLRTrainer(dims, "ftrl")
    src = DataSource(
        os.path.join(w, f"train{suffix}.{ext}"),
        dims,
        cache=cache_path,
        block_rows=4096 if trainer.batch_size == "auto" else trainer.batch_size,
    )
    trainer.prefault()  # allocation of the 2^dims table, reported apart from training
    alloc = time.process_time() - c0
    hist = trainer.fit(src, epochs=epochs, progress=False)
    auc = trainer.evaluate(read_libsvm(os.path.join(w, f"test{suffix}.svm"), dims))["auc"]
    return {
        "auc": auc,
        "cpu_s": sum(h.cpu_seconds for h in hist),
        "wall_s": sum(h.seconds for h in hist),
        "epoch_cpu_s": [h.cpu_seconds for h in hist],
        "alloc_cpu_s": alloc,
        "numba": numba,
        "numba_start_cpu_s": warm_cpu,
        "kernel_compile_s": compiled.compile_seconds(),  # wall, all in numba_start_cpu_s
    }


def _warm_kernels() -> None:
    """Imports numba and loads (or, with a cold cache, compiles) every kernel a training
    run calls, on a few rows: the one-off start cost of the compiled path."""
    from miniflow.ml.data import parse_libsvm, parse_vw
    from miniflow.ml.sparse_lr import SparseLRTrainer

    t = SparseLRTrainer(8, "ftrl")
    t.step(parse_libsvm(b"1 3:0.5 4:1\n0 5:1\n", 8))
    t.step(parse_libsvm(b"1 3:1 4:1\n0 5:1\n", 8))
    parse_vw(b"1 |f a:0.5 b |g c\n", 8)


def _numpy_path(w: str, dims: int, suffix: str) -> dict:
    os.environ["MINIFLOW_NO_NUMBA"] = "1"
    return run_miniflow(w, dims, 1, cache=False, suffix=suffix)


def run_vw(w: str, dims: int, suffix: str = "") -> dict:
    import vowpalwabbit

    model = os.path.join(w, "vw.model")
    t0, c0 = time.perf_counter(), time.process_time()
    train = os.path.join(w, f"train{suffix}.vw")
    vw = vowpalwabbit.Workspace(f"--loss_function logistic -b {dims} --quiet -d {train} -f {model}")
    vw.run_parser()
    vw.finish()
    cpu, wall = time.process_time() - c0, time.perf_counter() - t0
    preds = os.path.join(w, "vw.preds")
    vw = vowpalwabbit.Workspace(
        f"-t -i {model} --link logistic --quiet -d {os.path.join(w, f'test{suffix}.vw')} -p {preds}"
    )
    vw.run_parser()
    vw.finish()
    return {
        "auc": _labels_and_auc(os.path.join(w, f"test{suffix}.svm"), np.loadtxt(preds)),
        "cpu_s": cpu,
        "wall_s": wall,
    }


def _int32_csr(X):
    """load_svmlight_file may return int64 index arrays, which SGDClassifier rejects."""
    import scipy.sparse as sp

    return sp.csr_matrix(
        (X.data, X.indices.astype(np.int32), X.indptr.astype(np.int32)), shape=X.shape
    )


def run_sklearn(w: str, dims: int) -> dict:
    from sklearn.datasets import load_svmlight_file
    from sklearn.linear_model import SGDClassifier

    t0, c0 = time.perf_counter(), time.process_time()
    X, y = load_svmlight_file(os.path.join(w, "train.svm"), n_features=1 << dims, zero_based=True)
    X = _int32_csr(X)
    load_cpu = time.process_time() - c0
    clf = SGDClassifier(loss="log_loss", random_state=0).fit(X, y)
    cpu, wall = time.process_time() - c0, time.perf_counter() - t0
    Xt, _ = load_svmlight_file(os.path.join(w, "test.svm"), n_features=1 << dims, zero_based=True)
    Xt = _int32_csr(Xt)
    return {
        "auc": _labels_and_auc(os.path.join(w, "test.svm"), clf.decision_function(Xt)),
        "cpu_s": cpu,
        "wall_s": wall,
        "load_cpu_s": load_cpu,
        "sgd_epochs": int(clf.n_iter_),
    }


def run_xlearn_lr(w: str, suffix: str = "") -> dict:
    """xLearn's logistic regression (``$XLEARN_DIR/xlearn_train -s 0``) on the libsvm
    file: 1 epoch, one thread, its defaults otherwise (adagrad, lr 0.2, L2 2e-5,
    instance normalisation). Its ``FILE.bin`` cache is removed first, so the CPU time
    (of the child process) includes parsing; it also includes writing the model."""
    xl = os.environ.get("XLEARN_DIR", "")
    env = {**os.environ, "USER": "bench"}
    train, test = os.path.join(w, f"train{suffix}.svm"), os.path.join(w, f"test{suffix}.svm")
    model, out = os.path.join(w, "xl_lr.model"), os.path.join(w, "xl_lr.out")
    for path in (train + ".bin", test + ".bin"):
        if os.path.exists(path):
            os.remove(path)
    cmd = [os.path.join(xl, "xlearn_train"), train, "-s", "0", "-e", "1", "-nthread", "1"]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd + ["-m", model, "--dis-es"], stdout=subprocess.DEVNULL, env=env)
    _, status, usage = os.wait4(proc.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"xlearn_train failed: {cmd}")
    wall = time.perf_counter() - t0
    predict = [os.path.join(xl, "xlearn_predict"), test, model, "-o", out, "-nthread", "1"]
    subprocess.run(predict, check=True, stdout=subprocess.DEVNULL, env=env)
    return {
        "auc": _labels_and_auc(test, np.loadtxt(out)),
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "wall_s": wall,
        "xlearn_peak_rss_mb": usage.ru_maxrss / 1024,
    }


TOOLS = {
    "miniflow ftrl 1 pass": lambda w, d: run_miniflow(w, d, 1, cache=False),
    "miniflow ftrl 2 epochs (cache)": lambda w, d: run_miniflow(w, d, 2, cache=True),
    "miniflow ftrl 1 pass, VW text": lambda w, d: run_miniflow(w, d, 1, cache=False, ext="vw"),
    # The same rows hashed to 28 bits, trained at 2^22 and at 2^28: equal parsing work,
    # so the difference is the cost of the bigger table.
    "miniflow ftrl 1 pass, 28-bit ids at 2^22": lambda w, d: run_miniflow(
        w, d, 1, cache=False, suffix="28"
    ),
    "miniflow ftrl 1 pass, 28-bit ids at 2^28": lambda w, _: run_miniflow(
        w, 28, 1, cache=False, suffix="28"
    ),
    "vw 1 pass": run_vw,
    "sklearn SGDClassifier": run_sklearn,
    # The decimal data set (write_decimal_ctr): 24 one-hot + 8 real-valued features.
    "decimals: miniflow ftrl 1 pass": lambda w, d: run_miniflow(
        w, d, 1, cache=False, suffix="_dec"
    ),
    "decimals: miniflow ftrl 1 pass, VW text": lambda w, d: run_miniflow(
        w, d, 1, cache=False, suffix="_dec", ext="vw"
    ),
    "decimals: vw 1 pass": lambda w, d: run_vw(w, d, suffix="_dec"),
    # The pure-NumPy path (MINIFLOW_NO_NUMBA=1) beside the compiled kernels.
    "miniflow ftrl 1 pass, NumPy path": lambda w, d: _numpy_path(w, d, ""),
    "decimals: miniflow ftrl 1 pass, NumPy path": lambda w, d: _numpy_path(w, d, "_dec"),
}
if os.path.exists(os.path.join(os.environ.get("XLEARN_DIR", "/nonexistent"), "xlearn_train")):
    TOOLS["xlearn lr 1 epoch"] = lambda w, _: run_xlearn_lr(w)
    TOOLS["decimals: xlearn lr 1 epoch"] = lambda w, _: run_xlearn_lr(w, "_dec")


# -- factorization machines on crossed click data (issue 20, section 2) ---------------------
# A truth with pairwise effects (datagen's cross_rank) that LR cannot fit, in libsvm,
# libffm and VW text, at 2^20 ids (xLearn allocates densely up to the largest id).
# Fixed size, independent of --rows: FFM costs O(fields^2) per row.
CROSSED = {"fields": 16, "max_vocab": 5000, "cross_rank": 4, "cross_sigma": 0.2}
CROSSED_ROWS, CROSSED_TEST_ROWS, CROSSED_DIMS = 200_000, 50_000, 20


def _crossed_data(w: str) -> float:
    """Writes train_x/test_x (.svm, .ffm, .vw) once; returns the test truth's AUC."""
    from miniflow.ml.datagen import write_ctr

    stamp = os.path.join(w, "crossed.json")
    spec = {**CROSSED, "rows": CROSSED_ROWS, "test": CROSSED_TEST_ROWS, "dims": CROSSED_DIMS}
    if os.path.exists(stamp):
        with open(stamp) as f:
            old = json.load(f)
        if old["spec"] == spec:
            return old["truth_auc"]
    for name, n, seed in (("train_x", CROSSED_ROWS, 1), ("test_x", CROSSED_TEST_ROWS, 2)):
        for fmt, ext in (("libsvm", "svm"), ("libffm", "ffm"), ("vw", "vw")):
            info = write_ctr(
                os.path.join(w, f"{name}.{ext}"), n, CROSSED_DIMS, fmt, seed, **CROSSED
            )
    with open(stamp, "w") as f:
        json.dump({"spec": spec, "truth_auc": info["ground_truth_auc"]}, f)
    return info["ground_truth_auc"]


def run_crossed_miniflow(w: str, model: str, k: int = 4, numba: bool = True) -> dict:
    """One pass of LR, FM or FFM; ``numba=False`` sets ``MINIFLOW_NO_NUMBA=1`` (the NumPy
    path). Compiling (or loading from numba's cache) the kernels happens in a warm-up
    fit on one chunk of the test file before the timed run: its CPU is reported as
    ``warmup_cpu_s``, not in ``cpu_s``."""
    import itertools

    from miniflow.ml import compiled
    from miniflow.ml.fm import FMTrainer
    from miniflow.ml.fm_data import read_fm_file
    from miniflow.ml.sparse_lr import SparseLRTrainer

    if not numba:
        os.environ[compiled.ENV] = "1"
    truth, d = _crossed_data(w), CROSSED_DIMS
    ext, fields = ("ffm", CROSSED["fields"]) if model == "ffm" else ("svm", None)

    def make():
        if model == "lr":
            return SparseLRTrainer(d)
        return FMTrainer(d, model=model, factors=k, fields=fields)

    trainer = make()
    fb = getattr(trainer, "field_bits", 0)
    test_file = os.path.join(w, f"test_x.{ext}")
    c0 = time.process_time()
    warm = make()
    warm.fit(lambda: itertools.islice(read_fm_file(test_file, d, field_bits=fb), 1), progress=False)
    warmup = time.process_time() - c0
    hist = trainer.fit(
        lambda: read_fm_file(os.path.join(w, f"train_x.{ext}"), d, field_bits=fb), progress=False
    )
    return {
        "auc": trainer.evaluate(read_fm_file(test_file, d, field_bits=fb))["auc"],
        "cpu_s": sum(h.cpu_seconds for h in hist),
        "wall_s": sum(h.seconds for h in hist),
        "examples": CROSSED_ROWS,
        "truth_auc": truth,
        "compiled_kernels": compiled.enabled(),
        "warmup_cpu_s": warmup,
        "warmup_compile_s": compiled.compile_seconds(),
    }


def run_crossed_xlearn(w: str, model: str, k: int = 4, threads: int = 1) -> dict:
    """xLearn's command-line tools (``$XLEARN_DIR/xlearn_train``), 1 epoch, k factors,
    one thread (as miniflow), its defaults otherwise (adagrad, lr 0.2, instance
    normalisation). xLearn caches parsed text in ``FILE.bin`` and skips parsing when
    it finds one: the cache is removed first, so its CPU time includes parsing. The
    timed run writes no model (``-m none``: miniflow's timed fit writes none either);
    a second, untimed run with the same settings writes the model that is scored."""
    truth = _crossed_data(w)
    xl = os.environ.get("XLEARN_DIR", "")
    ext, s = ("ffm", "2") if model == "ffm" else ("svm", "1")
    out, model_file = os.path.join(w, "xl.out"), os.path.join(w, "xl.model")
    train = os.path.join(w, f"train_x.{ext}")
    env = {**os.environ, "USER": "bench"}
    for timed, dest in ((True, "none"), (False, model_file)):
        if os.path.exists(train + ".bin"):
            os.remove(train + ".bin")
        cmd = [os.path.join(xl, "xlearn_train"), train, "-s", s, "-nthread", str(threads)]
        cmd += ["-k", str(k), "-e", "1", "-m", dest, "--dis-es"]
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, env=env)
        _, status, got = os.wait4(proc.pid, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise RuntimeError(f"xlearn_train failed: {cmd}")
        if timed:
            usage, wall = got, time.perf_counter() - t0
    subprocess.run(
        [os.path.join(xl, "xlearn_predict"), os.path.join(w, f"test_x.{ext}"), model_file,
         "-o", out],
        check=True, stdout=subprocess.DEVNULL, env=env,
    )  # fmt: skip
    return {
        "auc": _labels_and_auc(os.path.join(w, "test_x.svm"), np.loadtxt(out)),
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "wall_s": wall,
        "examples": CROSSED_ROWS,
        "truth_auc": truth,
        "xlearn_peak_rss_mb": usage.ru_maxrss / 1024,
    }


def run_crossed_vw_lrq(w: str, k: int = 4) -> dict:
    """VW's low-rank quadratic interactions within namespace f (``--lrq ff4``)."""
    import vowpalwabbit

    truth, d = _crossed_data(w), CROSSED_DIMS
    model, preds = os.path.join(w, "vwx.model"), os.path.join(w, "vwx.preds")
    t0, c0 = time.perf_counter(), time.process_time()
    vw = vowpalwabbit.Workspace(
        f"--loss_function logistic -b {d} --lrq ff{k} --quiet "
        f"-d {os.path.join(w, 'train_x.vw')} -f {model}"
    )
    vw.run_parser()
    vw.finish()
    cpu, wall = time.process_time() - c0, time.perf_counter() - t0
    vw = vowpalwabbit.Workspace(
        f"-t -i {model} --link logistic --quiet -d {os.path.join(w, 'test_x.vw')} -p {preds}"
    )
    vw.run_parser()
    vw.finish()
    return {
        "auc": _labels_and_auc(os.path.join(w, "test_x.svm"), np.loadtxt(preds)),
        "cpu_s": cpu,
        "wall_s": wall,
        "examples": CROSSED_ROWS,
        "truth_auc": truth,
    }


FM_TOOLS = {
    "crossed: miniflow ftrl LR 1 pass": lambda w, _: run_crossed_miniflow(w, "lr"),
    "crossed: miniflow fm k=4 1 pass": lambda w, _: run_crossed_miniflow(w, "fm"),
    "crossed: miniflow ffm k=4 1 pass (libffm)": lambda w, _: run_crossed_miniflow(w, "ffm"),
    "crossed: miniflow fm k=4 1 pass, NumPy": lambda w, _: run_crossed_miniflow(
        w, "fm", numba=False
    ),
    "crossed: miniflow ffm k=4 1 pass (libffm), NumPy": lambda w, _: run_crossed_miniflow(
        w, "ffm", numba=False
    ),
    "crossed: vw --lrq ff4 1 pass": lambda w, _: run_crossed_vw_lrq(w),
}
if os.path.exists(os.path.join(os.environ.get("XLEARN_DIR", "/nonexistent"), "xlearn_train")):
    FM_TOOLS["crossed: xlearn fm k=4 1 epoch"] = lambda w, _: run_crossed_xlearn(w, "fm")
    FM_TOOLS["crossed: xlearn ffm k=4 1 epoch"] = lambda w, _: run_crossed_xlearn(w, "ffm")
TOOLS.update(FM_TOOLS)


def _child(tool: str, workdir: str, dims: int, out: str) -> None:
    result = TOOLS[tool](workdir, dims)
    with open(out, "w") as f:
        json.dump(result, f)


def _best(runs: list[dict]) -> dict:
    """The run with the least training CPU: on a shared machine the minimum is the best
    estimate of a tool's own cost. All runs' CPU seconds are kept alongside."""
    best = dict(min(runs, key=lambda r: r["cpu_s"]))
    best["cpu_s_all_runs"] = [r["cpu_s"] for r in runs]
    best["peak_rss_mb"] = max(r["peak_rss_mb"] for r in runs)
    return best


def _run_in_subprocess(tool: str, workdir: str, dims: int) -> dict:
    out = os.path.join(workdir, "child.json")
    cmd = [
        sys.executable,
        __file__,
        "--child",
        tool,
        "--workdir",
        workdir,
        "--dims-log2",
        str(dims),
    ]
    proc = subprocess.Popen(cmd)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(f"{tool}: child exited with {proc.returncode}")
    with open(out) as f:
        result = json.load(f)
    result["peak_rss_mb"] = usage.ru_maxrss / 1024  # Linux reports KiB
    return result


# -- data ---------------------------------------------------------------------------------
def _generate(workdir: str, rows: int, test_rows: int, dims: int) -> float:
    """Writes train/test in libsvm and VW (and libsvm at 2^28); returns the truth's AUC."""
    from miniflow.ml.datagen import write_ctr

    spec = {"rows": rows, "test_rows": test_rows, "dims": dims, "v": 3}  # v3: + decimals
    stamp = os.path.join(workdir, "data.json")
    if os.path.exists(stamp):
        with open(stamp) as f:
            old = json.load(f)
        if old.get("spec") == spec:
            return old["truth_auc"]
    os.makedirs(workdir, exist_ok=True)
    t0 = time.perf_counter()
    for name, n, seed in (("train", rows, 1), ("test", test_rows, 2)):
        truth = os.path.join(workdir, "truth.npy") if name == "test" else None
        info = write_ctr(
            os.path.join(workdir, f"{name}.svm"), n, dims, "libsvm", seed=seed, truth_path=truth
        )
        write_ctr(os.path.join(workdir, f"{name}.vw"), n, dims, "vw", seed=seed)
        write_ctr(os.path.join(workdir, f"{name}28.svm"), n, 28, "libsvm", seed=seed)
        decimal_truth = write_decimal_ctr(os.path.join(workdir, f"{name}_dec"), n, dims, seed)
    print(f"generated data in {time.perf_counter() - t0:.0f}s", file=sys.stderr)
    with open(stamp, "w") as f:
        json.dump(
            {
                "spec": spec,
                "truth_auc": info["ground_truth_auc"],
                "decimal_truth_auc": decimal_truth,  # of the test rows
            },
            f,
        )
    return info["ground_truth_auc"]


# Real-valued features of the decimal data set: name, draw(rng, n), text format, true
# weight. Counts, log-transformed counts, signed scores, tiny rates written with an
# exponent (3.12e-04), shares and signed deltas: the values click logs carry.
DECIMAL_FEATURES = (
    (b"count", lambda r, n: r.poisson(3.0, n).astype(float), b"%.0f", 0.15),
    (b"log_count", lambda r, n: np.log1p(r.poisson(20.0, n)), b"%.3g", 0.5),
    (b"score", lambda r, n: r.normal(size=n), b"%.4f", 0.35),
    (b"rate", lambda r, n: r.exponential(3e-4, n), b"%.2e", 700.0),
    (b"visits", lambda r, n: r.poisson(200.0, n).astype(float), b"%.0f", 0.02),
    (b"log_visits", lambda r, n: np.log1p(r.poisson(200.0, n)), b"%.4g", 0.3),
    (b"share", lambda r, n: r.random(n), b"%.3f", 0.8),
    (b"delta", lambda r, n: r.normal(size=n) * 100, b"%.2f", 0.003),
)


def write_decimal_ctr(prefix: str, rows: int, dims: int, seed: int, truth_path=None) -> float:
    """Writes ``PREFIX.svm`` and ``PREFIX.vw``: the 24 categorical fields of
    :func:`miniflow.ml.datagen.write_ctr` plus the 8 real-valued ``DECIMAL_FEATURES``
    (a quarter of the 32 features), in namespaces ``f`` and ``n``. The label is drawn
    from the categorical truth's margin plus ``sum(weight * value)``; returns the truth's
    AUC."""
    from miniflow.ml import metrics
    from miniflow.ml.data import hash_feature
    from miniflow.ml.datagen import CTRGroundTruth

    truth = CTRGroundTruth.make(model_seed=0)
    rng = np.random.default_rng(seed)
    mask = (1 << dims) - 1
    num_ids = [b"%d:" % (hash_feature(name, b"n") & mask) for name, *_ in DECIMAL_FEATURES]
    codes: list[dict] = [{} for _ in truth.vocab]  # value -> (VW token, libsvm "id:1")
    probs, labels = [], []
    with open(prefix + ".svm", "wb") as svm, open(prefix + ".vw", "wb") as vw:
        for start in range(0, rows, 50_000):
            n = min(50_000, rows - start)
            values, p, _ = truth.sample(n, rng)
            margin = np.log(p / (1 - p))
            texts = []
            for _, draw, fmt, weight in DECIMAL_FEATURES:
                text = [fmt % x for x in draw(rng, n).tolist()]
                written = np.array([float(t) for t in text])
                margin += weight * (written - written.mean())
                texts.append(text)
            p = 1 / (1 + np.exp(-margin))
            y = rng.random(n) < p
            cat_vw, cat_svm = [], []
            for f in range(values.shape[1]):
                code = codes[f]
                col = values[:, f].tolist()
                for v in set(col).difference(code):
                    tok = b"f%d_%d" % (f, v)
                    code[v] = (tok, b"%d:1" % (hash_feature(tok, b"f") & mask))
                cat_vw.append([code[v][0] for v in col])
                cat_svm.append([code[v][1] for v in col])
            num_svm = [[k + t for t in text] for k, text in zip(num_ids, texts, strict=True)]
            num_vw = [
                [name + b":" + t for t in text]
                for (name, *_), text in zip(DECIMAL_FEATURES, texts, strict=True)
            ]
            heads = [b"1" if t else b"0" for t in y.tolist()]
            svm.write(b"\n".join(map(b" ".join, zip(heads, *cat_svm, *num_svm))) + b"\n")
            heads = [b"1 |f" if t else b"-1 |f" for t in y.tolist()]
            ns = [b"|n"] * n
            vw.write(b"\n".join(map(b" ".join, zip(heads, *cat_vw, ns, *num_vw))) + b"\n")
            probs.append(p)
            labels.append(y)
    p_all, y_all = np.concatenate(probs), np.concatenate(labels)
    if truth_path:
        np.save(truth_path, p_all.astype(np.float32))
    return metrics.roc_auc(y_all, p_all)


# -- report -------------------------------------------------------------------------------
def _table(results: dict, rows: int, truth_auc: float) -> str:
    lines = [
        "| tool | test AUC | AUC gap to truth | train CPU s (incl. parse) | examples / CPU-s "
        "| peak RSS MB |",
        "|---|---|---|---|---|---|",
    ]
    for tool, r in results.items():
        n = r.get("examples") or rows * len(r.get("epoch_cpu_s", [1]))
        lines.append(
            f"| {tool} | {r['auc']:.4f} | {r.get('truth_auc', truth_auc) - r['auc']:.4f} | "
            f"{r['cpu_s']:.2f} | {n / r['cpu_s']:,.0f} | {r['peak_rss_mb']:.0f} |"
        )
    lines.append(f"| ground-truth model | {truth_auc:.4f} | 0 | - | - | - |")
    decimal_truth = [r["truth_auc"] for t, r in results.items() if t.startswith("decimals:")]
    if decimal_truth:
        lines.append(f"| decimals: ground-truth model | {decimal_truth[0]:.4f} | 0 | - | - | - |")
    crossed_truth = [r["truth_auc"] for t, r in results.items() if t.startswith("crossed:")]
    if crossed_truth:
        lines.append(f"| crossed: ground-truth model | {crossed_truth[0]:.4f} | 0 | - | - | - |")
    notes = []
    for tool, r in results.items():
        if "epoch_cpu_s" in r and len(r["epoch_cpu_s"]) > 1:
            e = r["epoch_cpu_s"]
            notes.append(
                f"{tool}: epoch CPU s {', '.join(f'{x:.2f}' for x in e)} "
                f"(first/cached = {e[0] / e[1]:.1f}x)"
            )
        if "alloc_cpu_s" in r:
            notes.append(
                f"{tool}: allocating the weight tables {r['alloc_cpu_s']:.2f} CPU s "
                "(not in the training time)"
            )
        if "warmup_cpu_s" in r and r.get("compiled_kernels"):
            notes.append(
                f"{tool}: warm-up before the timed pass (compiling or loading the kernels) "
                f"{r['warmup_cpu_s']:.2f} CPU s, of it {r['warmup_compile_s']:.2f} s in "
                "first calls (not in the training time)"
            )
        if r.get("numba"):
            start = r["numba_start_cpu_s"]
            n = rows * len(r["epoch_cpu_s"])
            notes.append(
                f"{tool}: importing numba and loading the kernels {start:.2f} CPU s, not in "
                f"the training time; counting it {n / (r['cpu_s'] + start):,.0f} examples / CPU-s"
            )
        if "load_cpu_s" in r:
            notes.append(
                f"{tool}: load_svmlight_file {r['load_cpu_s']:.1f} CPU s, "
                f"{r['sgd_epochs']} SGD epochs"
            )
    return "\n".join(lines + [""] + notes)


def _chart(results: dict, truth_auc: float, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import ScalarFormatter

    fig, ax = plt.subplots(figsize=(8, 6.5))
    markers = "osD^vP*X"
    for i, (tool, r) in enumerate(results.items()):
        ax.scatter(
            r["cpu_s"],
            r["auc"],
            s=70,
            marker=markers[i % len(markers)],
            label=f"{tool} ({r['cpu_s']:.1f} s, {r['auc']:.4f})",
        )
    ax.axhline(truth_auc, color="gray", linestyle="--", label=f"ground truth {truth_auc:.4f}")
    ax.set_xscale("log")
    ax.xaxis.set_major_formatter(ScalarFormatter())
    ax.xaxis.set_minor_formatter(ScalarFormatter())
    ax.set_xlabel("training CPU seconds, including parsing (log scale)")
    ax.set_ylabel("test ROC AUC")
    ax.set_title("Sparse LR on generated click data (1 pass unless noted)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2, fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--test-rows", type=int, default=200_000)
    p.add_argument("--dims-log2", type=int, default=22)
    p.add_argument("--workdir", default=os.path.join(HERE, "results", "ctr"))
    p.add_argument("--tools", nargs="*", default=list(TOOLS), help="subset of: " + ", ".join(TOOLS))
    p.add_argument(
        "--repeat",
        type=int,
        default=3,
        help="runs per tool (the one with the least CPU is reported); "
        "the slow sklearn run is done once",
    )
    p.add_argument("--replot", action="store_true", help="redraw table and chart from results.json")
    p.add_argument("--child", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        _child(args.child, args.workdir, args.dims_log2, os.path.join(args.workdir, "child.json"))
        return 0
    truth_auc = _generate(args.workdir, args.rows, args.test_rows, args.dims_log2)
    if args.replot:
        with open(os.path.join(args.workdir, "results.json")) as f:
            results = json.load(f)["results"]
        _chart(results, truth_auc, os.path.join(args.workdir, "ctr_auc_vs_time.png"))
        print(_table(results, args.rows, truth_auc))
        return 0
    # Rounds of all tools, so that every tool sees the same mix of machine load.
    runs: dict[str, list[dict]] = {tool: [] for tool in args.tools}
    for round_ in range(args.repeat):
        for tool in args.tools:
            if round_ and "sklearn" in tool:
                continue  # slow and not compared on speed: once is enough
            print(f"round {round_ + 1}: running {tool} ...", file=sys.stderr)
            runs[tool].append(_run_in_subprocess(tool, args.workdir, args.dims_log2))
    results = {tool: _best(r) for tool, r in runs.items()}
    with open(os.path.join(args.workdir, "data.json")) as f:
        decimal_truth = json.load(f)["decimal_truth_auc"]
    for tool in results:
        if tool.startswith("decimals:"):
            results[tool]["truth_auc"] = decimal_truth
    table = _table(results, args.rows, truth_auc)
    print(
        f"\n{args.rows:,} training rows x 2^{args.dims_log2} dims, {args.test_rows:,} test rows\n"
    )
    print(table)
    with open(os.path.join(args.workdir, "results.json"), "w") as f:
        json.dump(
            {
                "rows": args.rows,
                "test_rows": args.test_rows,
                "dims_log2": args.dims_log2,
                "truth_auc": truth_auc,
                "results": results,
            },
            f,
            indent=2,
        )
    _chart(results, truth_auc, os.path.join(args.workdir, "ctr_auc_vs_time.png"))
    print(f"\nchart: {os.path.join(args.workdir, 'ctr_auc_vs_time.png')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
