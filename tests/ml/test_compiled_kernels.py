"""The compiled (numba) kernels against their NumPy twins and independent references:
the libsvm chunk parser, VW's hashing, the trainer's de-duplication and gradient, and a
whole training run, which must be bit-identical on both paths."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from miniflow.core import update_rules as rules
from miniflow.ml import compiled
from miniflow.ml.data import parse_libsvm
from miniflow.ml.numeric_text import ParseError
from miniflow.ml.vw_text import hash_feature

pytestmark = pytest.mark.skipif(not compiled.available(), reason="numba not installed")


def _both(fn, monkeypatch):
    """fn() on the NumPy path, then on the compiled path: (numpy, compiled) results
    or exceptions."""
    out = []
    for flag in ("1", ""):
        monkeypatch.setenv(compiled.ENV, flag)
        try:
            out.append(fn())
        except ParseError as e:
            out.append((type(e), str(e), e.line))
    return out


def _same_batch(a, b):
    for name in ("indptr", "indices", "values", "labels"):
        x, y = getattr(a, name), getattr(b, name)
        assert (x is None) == (y is None), name
        if x is not None:
            assert x.dtype == y.dtype, name
            np.testing.assert_array_equal(x.view(np.uint8), y.view(np.uint8), err_msg=name)


def _kernel_status(text: bytes) -> int:
    from miniflow.ml import kernels_text

    b = np.frombuffer(text, np.uint8)
    cap = len(b) // 2 + 2
    status, *_ = kernels_text.libsvm_chunk(
        b,
        -1,
        np.empty(cap),
        np.empty(cap + 1, np.int64),
        np.empty(cap, np.int64),
        np.empty(cap, np.float32),
        np.empty((cap, 3), np.int64),
    )
    return status


def _random_chunk(rng, rows: int) -> bytes:
    forms = [
        lambda: "1",
        lambda: f"{rng.normal():.4f}",
        lambda: f"{rng.exponential(3e-4):.2e}",
        lambda: f"{rng.normal() * 1e6:.17g}",  # 17 digits: Python's float()
        lambda: f"-.{int(rng.integers(0, 999))}",
        lambda: f"{int(rng.integers(0, 500))}",
        lambda: "1_0",  # float() reads it; so must both paths
    ]
    lines = []
    for _ in range(rows):
        feats = []
        for _ in range(int(rng.integers(0, 8))):
            idx = int(rng.integers(0, 10 ** int(rng.integers(1, 17))))
            kind = rng.random()
            if kind < 0.1:
                feats.append(str(idx))  # the binary form
            elif kind < 0.15:
                feats.append(f"qid:{idx % 7}")
            else:
                feats.append(f"{idx}:{forms[int(rng.integers(0, len(forms)))]()}")
        label = ["1", "0", "-1", "+1", "0.5", "1e0"][int(rng.integers(0, 6))]
        blank = [" ", "  ", "\t", " \t "][int(rng.integers(0, 4))]
        end = ["\n", "\r\n", "\n\n"][int(rng.integers(0, 3))]
        lines.append(blank.join([label, *feats]) + end)
    return "".join(lines).encode()


def test_libsvm_kernel_equals_the_numpy_path_on_random_chunks(monkeypatch):
    rng = np.random.default_rng(3)
    for _ in range(30):
        chunk = _random_chunk(rng, 200)
        assert _kernel_status(chunk) == 0  # the compiled path took it, no fallback
        for dims in (None, 18):
            a, b = _both(lambda c=chunk, d=dims: parse_libsvm(c, d), monkeypatch)
            _same_batch(a, b)


def test_libsvm_kernel_values_are_python_floats_and_indices_by_hand(monkeypatch):
    monkeypatch.setenv(compiled.ENV, "")
    text = b"+1 7:3e-4 9:-2.5E1  12 qid:3 4:12345678901234567890\n\n-1\t5:.5 6:1\r\n0\n"
    assert _kernel_status(text) == 0
    b = parse_libsvm(text)
    np.testing.assert_array_equal(b.indptr, [0, 4, 6, 6])
    np.testing.assert_array_equal(b.indices, [7, 9, 12, 4, 5, 6])
    want = [float("3e-4"), -25.0, 1.0, 12345678901234567890.0, 0.5, 1.0]
    np.testing.assert_array_equal(b.values, np.array(want, np.float32))
    np.testing.assert_array_equal(b.labels, [1, 0, 0])
    assert parse_libsvm(b"1 3:1 4\n0 5:1\n").values is None  # one-hot: no value array


@pytest.mark.parametrize(
    "text",
    [
        b"1 2:3:4\n",  # 'a:1:2'
        b"1 :3\n",  # no index
        b"1 a:1\n",  # not a number
        b"1 3:\n",  # no value
        b"1:2 3:1\n",  # a ':' in the label
        b"1 -3:1\n",
        b"1 12345678901234567:1\n",  # 17 digits
        b"1 3:nan\n",
        b"1 3:1e39\n",
        b"nan 3:1\n",
        b"1 qid\n",
    ],
)
def test_layouts_the_kernel_leaves_to_the_numpy_parser(text, monkeypatch):
    a, b = _both(lambda: parse_libsvm(text), monkeypatch)
    if isinstance(a, tuple):  # the same error, same message and line
        assert a == b
    else:
        _same_batch(a, b)


def _vw_hashstring(name: bytes, seed: int) -> int:
    """VW's hashstring, written from its definition with scikit-learn's MurmurHash3."""
    from sklearn.utils import murmurhash3_32

    if name.isdigit():
        return (int(name) + seed) & 0xFFFFFFFF
    return murmurhash3_32(name, seed=seed, positive=True)


def test_vw_hash_kernel_equals_murmur3_and_the_digit_shortcut():
    from miniflow.ml import kernels_text

    rng = np.random.default_rng(5)
    names = [
        bytes(rng.integers(33, 256, int(rng.integers(1, 14))).astype(np.uint8)) for _ in range(400)
    ]
    names = [n.replace(b":", b"x").replace(b"|", b"y") for n in names]
    names += [str(int(rng.integers(0, 10**9))).encode() for _ in range(50)]
    names += [b"0", b"007", b"12345678901234567", b"123456789012345678901234", b"3abc"]
    chunk = b" ".join(names) + b"\n"
    lens = np.array([len(n) for n in names])
    ends = np.cumsum(lens + 1) - 1
    seeds = rng.integers(0, 2**32, len(names))
    b = np.frombuffer(chunk, np.uint8)
    ids, slow = kernels_text.vw_hash_fields(b, ends - lens, ends, seeds)
    want = [_vw_hashstring(n, int(s)) for n, s in zip(names, seeds, strict=True)]
    np.testing.assert_array_equal(ids[~slow], np.array(want)[~slow])
    assert slow.tolist() == [len(n) > 18 and n.isdigit() for n in names]


def test_vw_parse_is_identical_on_both_paths(monkeypatch):
    rng = np.random.default_rng(8)
    rows = []
    for i in range(300):
        feats = " ".join(f"f{int(rng.integers(0, 50))}_{j}" for j in range(5))
        rows.append(
            f"{1 if i % 3 else -1} |a {feats} 123 {'9' * 20}:0.5 |n:0.5 x:{rng.normal():.3f}"
            f" |{'7' * 19} y |42 z"
        )
    chunk = ("\n".join(rows) + "\n").encode()
    from miniflow.ml.vw_text import parse_vw

    a, b = _both(lambda: parse_vw(chunk, 24), monkeypatch)
    _same_batch(a, b)
    assert b.indices[0] == hash_feature(rows[0].split()[2].encode(), b"a") & ((1 << 24) - 1)


def test_dedup_kernel_unique_keys_first_occurrence_order_and_bounds():
    from miniflow.ml import kernels_lr

    rng = np.random.default_rng(2)
    table = np.full(1 << 12, 7, np.int32)  # stale contents must not matter
    for _ in range(20):
        ids = rng.integers(0, 1 << 12, int(rng.integers(1, 3000))).astype(np.int64)
        keys, local, ok = kernels_lr.dedup(ids, table)
        assert ok
        _, first = np.unique(ids, return_index=True)
        np.testing.assert_array_equal(keys, ids[np.sort(first)])  # first-occurrence order
        np.testing.assert_array_equal(keys[local], ids)
    for bad in (-1, 1 << 12):
        assert not kernels_lr.dedup(np.array([3, bad], np.int64), table)[2]


@pytest.mark.parametrize("with_values", [True, False])
def test_gradient_kernel_equals_update_rules_to_the_bit(with_values):
    from miniflow.ml import kernels_lr

    rng = np.random.default_rng(4)
    counts = rng.integers(0, 40, 500)
    indptr = np.zeros(501, np.int64)
    np.cumsum(counts, out=indptr[1:])
    local = rng.integers(0, 300, indptr[-1]).astype(np.int32)
    values = rng.normal(size=indptr[-1]).astype(np.float32) if with_values else None
    g = rng.normal(size=500)
    want = rules.sparse_linear_gradient(g, indptr, local, 300, values)
    got = kernels_lr.linear_gradient(g, indptr, local, 300, values)
    np.testing.assert_array_equal(got.view(np.int64), want.view(np.int64))


def _decimal_ctr(path, rows=6000):
    rng = np.random.default_rng(1)
    w = rng.normal(size=4000)
    lines = []
    for _ in range(rows):
        ids = rng.choice(4000, 12, replace=False)
        x = rng.normal(size=3)
        margin = w[ids].sum() * 0.3 + x @ [0.5, -0.8, 0.3]
        y = int(rng.random() < 1 / (1 + np.exp(-margin)))
        feats = [f"{i}:1" for i in ids] + [f"{4000 + j}:{v:.4g}" for j, v in enumerate(x)]
        lines.append(f"{y} " + " ".join(feats))
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize("dims,dedup_bits", [(16, 22), (16, 12)])
def test_training_is_bit_identical_on_both_paths(tmp_path, monkeypatch, dims, dedup_bits):
    from miniflow.ml.source import DataSource
    from miniflow.ml.sparse_lr import SparseLRTrainer

    path = tmp_path / "train.svm"
    _decimal_ctr(path)
    results = []
    for flag in ("1", ""):
        monkeypatch.setenv(compiled.ENV, flag)
        t = SparseLRTrainer(dims, "ftrl", dedup_bits=dedup_bits)
        hist = t.fit(DataSource(path, dims, chunk_bytes=1 << 14), epochs=2, progress=False)
        keys, w = t.nonzero_weights()
        results.append((keys, w, t.bias, [h.progressive_log_loss for h in hist]))
    (k0, w0, b0, l0), (k1, w1, b1, l1) = results
    np.testing.assert_array_equal(k0, k1)
    np.testing.assert_array_equal(w0.view(np.int32), w1.view(np.int32))
    assert b0 == b1 and l0 == l1
    assert len(k0) > 1000


def test_switched_off_numba_is_never_imported(tmp_path):
    path = tmp_path / "t.svm"
    path.write_text("1 3:0.5 4:1\n0 5:2\n")
    code = (
        "import sys, miniflow\n"
        "assert 'numba' not in sys.modules, 'the core library imported numba'\n"
        "from miniflow.ml.data import read_file\n"
        "from miniflow.ml.sparse_lr import SparseLRTrainer\n"
        f"SparseLRTrainer(8).fit(lambda: read_file({str(path)!r}, 8), progress=False)\n"
        "assert 'numba' not in sys.modules, sorted(m for m in sys.modules if 'numba' in m)\n"
    )
    env = {**os.environ, compiled.ENV: "1"}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, timeout=120)


# -- the fused step: margins, FTRL gather/update -------------------------------------------
def _random_csr(rng, rows, n_keys, longest, empty_rows):
    counts = rng.integers(0 if empty_rows else 1, longest + 1, rows)
    indptr = np.zeros(rows + 1, np.int64)
    np.cumsum(counts, out=indptr[1:])
    local = rng.integers(0, n_keys, indptr[-1]).astype(np.int32)  # repeats within rows too
    return indptr, local


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("with_values", [True, False])
def test_margins_kernel_equals_sparse_margins_to_the_bit(dtype, with_values):
    """Both of NumPy's summation orders: pairwise (reduceat, rows up to 600 terms so the
    128-term blocks split) and float64 in order (bincount, when a row is empty)."""
    from miniflow.ml import kernels_lr

    rng = np.random.default_rng(5)
    for trial in range(40):
        empty_rows = trial % 3 == 0
        indptr, local = _random_csr(rng, 30, 50, [5, 40, 600][trial % 3], empty_rows)
        w = (rng.normal(size=50) * 10 ** rng.uniform(-3, 3, 50)).astype(dtype)
        values = rng.normal(size=indptr[-1]).astype(np.float32) if with_values else None
        bias = float(rng.normal())
        want = rules.sparse_margins(indptr, w[local], values, bias)
        got = kernels_lr.margins(w, local, indptr, values, bias)
        assert got.dtype == want.dtype == np.float64
        np.testing.assert_array_equal(got.view(np.int64), want.view(np.int64))
    indptr = np.array([5, 7, 9])  # a slice's offsets need not start at 0
    np.testing.assert_array_equal(
        kernels_lr.margins(np.ones(2, dtype), np.zeros(4, np.int32), indptr, None, 0.5), [2.5, 2.5]
    )


def _ftrl(dtype, **kw):
    from miniflow.ml.optimizers import make_optimizer

    return make_optimizer("ftrl", 1 << 10, dtype=dtype, **kw)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("l1,l2", [(0.0, 0.0), (0.5, 0.0), (0.0, 2.0), (0.1, 0.3)])
def test_ftrl_kernels_equal_the_optimizer_to_the_bit(dtype, l1, l2):
    """ftrl_gather = CoordinateFTRL.weights, ftrl_update = update(keys, gradient sum),
    on batches whose keys repeat within and across rows, for six steps."""
    from miniflow.ml import kernels_lr

    rng = np.random.default_rng(6)
    ref, fused = (
        _ftrl(dtype, alpha=0.3, beta=0.7, l1=l1, l2=l2),
        _ftrl(dtype, alpha=0.3, beta=0.7, l1=l1, l2=l2),
    )
    for step in range(6):
        keys = rng.choice(1 << 10, 60, replace=False).astype(np.int64)
        indptr, local = _random_csr(rng, 40, 60, 12, step % 2 == 0)
        values = rng.normal(size=indptr[-1]).astype(np.float32) * 3 if step % 3 else None
        d_margin = rng.normal(size=40)
        w_ref = ref.weights(keys)
        z_col, n_col, alpha, l1_, two_l2 = fused.dense_state()
        z, n, w = kernels_lr.ftrl_gather(keys, z_col, n_col, alpha, l1_, two_l2)
        np.testing.assert_array_equal(w, w_ref)
        assert w.dtype == w_ref.dtype
        ref.update(keys, rules.sparse_linear_gradient(d_margin, indptr, local, 60, values))
        kernels_lr.ftrl_update(keys, local, indptr, values, d_margin, z, n, w, z_col, n_col, alpha)
        for slot in ("z", "n"):
            a, b = np.ascontiguousarray(ref.store.array(slot)), fused.store.array(slot).copy()
            np.testing.assert_array_equal(a.view(np.uint8), b.view(np.uint8), err_msg=slot)
    assert (ref.store.array("n") > 0).sum() > 100  # the steps did touch the state
    if l1:
        assert (ref.weights(np.arange(1 << 10)) == 0).sum() > (1 << 10) - 300


def test_ftrl_dense_state_only_where_the_fused_rule_is_the_same():
    from miniflow.ml.optimizers import HashStore

    assert _ftrl(np.float32).dense_state() is not None
    assert _ftrl(np.float32, learning_rate_power=-0.3).dense_state() is None
    assert _ftrl(np.float32, l2_shrinkage=0.1).dense_state() is None
    assert _ftrl(np.float32, beta=0.0).dense_state() is None  # sqrt(n)/alpha may be 0
    assert _ftrl(np.float32, beta=0.0, l2=0.1).dense_state() is not None
    assert (
        _ftrl(np.float32, store=HashStore({"z": 0.0, "n": 0.0}, np.float32)).dense_state() is None
    )
    z_col, _, alpha, _, two_l2 = _ftrl(np.float32, alpha=0.2, l2=0.5).dense_state()
    assert alpha.dtype == two_l2.dtype == np.float32 and two_l2 == np.float32((0.5 + 5) / 2 * 2)
    assert z_col.base is not None  # a view of the store: the kernel writes through it


def _random_batches(rng, n, dims, valued):
    from miniflow.ml.data import Batch

    out = []
    for _ in range(n):
        rows = int(rng.integers(1, 300))
        counts = rng.integers(0, 20, rows)
        indptr = np.zeros(rows + 1, np.int64)
        np.cumsum(counts, out=indptr[1:])
        ids = rng.zipf(1.3, indptr[-1]).astype(np.int64) % (1 << dims)  # many repeats
        values = rng.normal(size=indptr[-1]).astype(np.float32) * 5 if valued else None
        out.append(Batch(indptr, ids, values, (rng.random(rows) < 0.3).astype(np.float32)))
    return out


@pytest.mark.parametrize(
    "optimizer,kw",
    [
        ("ftrl", {}),
        ("ftrl", {"l1": 0.5, "l2": 1.0}),
        ("ftrl", {"dtype": np.float64, "l1": 0.2}),
        ("ftrl", {"learning_rate_power": -0.3}),  # compiled margins, NumPy FTRL
        ("ftrl", {"store": "hash"}),  # a parameter server's store: NumPy FTRL too
        ("adagrad", {"l1": 0.1, "l2": 0.5}),
        ("adagrad", {}),
        ("sgd", {"l2": 0.1}),
        ("sgd", {}),
    ],
)
def test_trainer_steps_are_bit_identical_on_both_paths(monkeypatch, optimizer, kw):
    from miniflow.ml.optimizers import HashStore, make_optimizer
    from miniflow.ml.sparse_lr import SparseLRTrainer

    rng = np.random.default_rng(7)
    batches = _random_batches(rng, 12, 12, valued=True) + _random_batches(rng, 4, 12, False)
    results = []
    for flag in ("1", ""):
        monkeypatch.setenv(compiled.ENV, flag)
        store = HashStore({"z": 0.0, "n": 0.0}, np.float32) if "store" in kw else None
        t = SparseLRTrainer(12, optimizer, l1=kw.get("l1", 0.0), l2=kw.get("l2", 0.0), store=store)
        if "dtype" in kw or "learning_rate_power" in kw:
            t.opt = make_optimizer(optimizer, 1 << 12, alpha=0.2, beta=1.0, **kw)
        losses = [t.step(b) for b in batches]
        keys, w = t.nonzero_weights()
        results.append((losses, keys, w, t.bias, t.opt.step))
    (l0, k0, w0, b0, s0), (l1, k1, w1, b1, s1) = results
    assert l0 == l1 and b0 == b1 and s0 == s1 == len(batches)
    np.testing.assert_array_equal(k0, k1)
    np.testing.assert_array_equal(w0.view(np.uint8), w1.view(np.uint8))
    assert len(k0) > 50


# -- the shared byte-scan helpers and line numbers across chunks ---------------------------
def test_scan_helpers_against_python_on_random_tokens():
    from miniflow.ml import kernels_scan as scan

    rng = np.random.default_rng(8)
    alphabet = b"0123456789:ab.-\t \r"
    for _ in range(300):
        picks = rng.choice(list(alphabet), int(rng.integers(0, 12)))
        text = bytes(picks.astype(np.uint8).tolist()) + b"\n"
        buf = np.frombuffer(text, np.uint8)
        pos, c = scan.skip_blanks(buf, 0)
        want = len(text) - len(text.lstrip(b" \t\r"))
        assert (pos, c) == (want, text[want])
        end, c, colon = scan.token_end(buf, pos)
        token = text[pos:].split(None, 1)[0] if text[pos:].strip() else b""
        assert (end, c, colon) == (pos + len(token), text[pos + len(token)], b":" in token)
        value, stop, c, digits = scan.digits_to_colon(buf, pos)
        run = token.split(b":", 1)[0]
        assert (stop, c, digits) == (pos + len(run), text[pos + len(run)], run.isdigit() or not run)
        if run.isdigit():
            assert value == int(run)


@pytest.mark.parametrize("flag", ["1", ""])
def test_errors_name_the_file_line_across_many_chunks(tmp_path, monkeypatch, flag):
    from miniflow.ml.data import read_libsvm

    monkeypatch.setenv(compiled.ENV, flag)
    lines = [f"{i % 2} {i}:0.{i} 7:1" for i in range(3000)]
    lines[2345] = "1 5:abc"
    lines[100:103] = ["", "# a comment", "  "]  # lines, though not rows
    path = tmp_path / "t.svm"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match=rf"{path}:2346: libsvm: .*abc"):
        for _ in read_libsvm(path, chunk_bytes=1000):
            pass
