"""VW text and CSV readers: values bit-identical to Python's float(), VW hashing and
namespaces against a slow reference parser written here (scikit-learn's MurmurHash3),
CSV against numpy.loadtxt, errors naming file and line, and skipping bad rows."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.utils import murmurhash3_32

from miniflow.cli.lr import main as lr_main
from miniflow.ml import vw_text
from miniflow.ml.csv_text import csv_layout, parse_csv, read_csv
from miniflow.ml.data import BadRows, concat_batches, read_file, read_libsvm
from miniflow.ml.datagen import write_ctr
from miniflow.ml.vw_text import parse_vw, read_vw

pytestmark = pytest.mark.usefixtures("kernel_path")  # the NumPy and compiled paths

DIMS = 20
MASK = (1 << DIMS) - 1


def _decimal_tokens(rng, n):
    forms = [
        lambda: f"{rng.normal():.6f}",
        lambda: f"{rng.normal() * 1e-4:.3e}",  # 3e-4 style, negative exponents
        lambda: f"{rng.normal() * 1e5:.2E}",
        lambda: str(int(rng.integers(-1000, 1000))),
        lambda: f"{rng.random():.2f}".lstrip("0"),  # ".37"
        lambda: f"{rng.normal() * 1e6:.17g}",  # 17 digits: the per-field fallback
        lambda: f"-{rng.random():.3f}".replace("-0.", "-."),  # "-.5"
        lambda: f"{np.log1p(rng.poisson(20)):.3g}",  # log-transformed counts
        lambda: f"{rng.random() * 1e-30:.4e}",  # far outside float32's normal range
        lambda: f"+{rng.random():.4f}e+2",
    ]
    return [forms[i]() for i in rng.integers(0, len(forms), n)]


# -- a slow reference for VW text ---------------------------------------------------------
def _vw_hash(text: bytes, seed: int) -> int:
    """VW's hashstring: all digits -> int + seed, else MurmurHash3 (sklearn's)."""
    if text.isdigit():
        return (int(text) + seed) & 0xFFFFFFFF
    return murmurhash3_32(text, seed=seed, positive=True)


def _reference_vw(text: bytes):
    labels, indptr, ids, values = [], [0], [], []
    for line in text.decode().splitlines():
        if not line.strip():
            continue
        head, *segments = line.split("|")
        labels.append(float(head.split()[0]) > 0)
        for seg in segments:
            toks = seg.split()
            seed, scale = 0, np.float32(1)
            if seg and not seg[0].isspace():
                ns, _, s = toks.pop(0).partition(":")
                seed = _vw_hash(ns.encode(), 0)
                scale = np.float32(float(s)) if s else scale
            for tok in toks:
                name, _, val = tok.partition(":")
                ids.append(_vw_hash(name.encode(), seed) & MASK)
                values.append(np.float32(float(val) if val else 1.0) * scale)
        indptr.append(len(ids))
    return np.array(labels, np.float32), np.array(indptr), np.array(ids), np.array(values)


def _random_vw(rng, rows, glued_tags=False):
    namespaces = ["", "u", "item", "7", "ctx"]
    lines = []
    for r in range(rows):
        head = ["1", "-1", "0", "1 0.5", f"-1 2 'tag{r}"][rng.integers(0, 5)]
        if glued_tags and r % 7 == 0:
            head = f"1 'tag{r}"
        parts = [head]
        for ns in rng.choice(namespaces, rng.integers(1, 4), replace=False):
            marker = "|" + ns
            if ns and rng.random() < 0.3:
                marker += f":{rng.random() * 3:.2f}"
            feats = []
            for _ in range(rng.integers(0, 6)):
                name = [f"w{rng.integers(0, 50)}", str(rng.integers(0, 10**6)), "a=b"][
                    rng.integers(0, 3)
                ]
                if rng.random() < 0.4:
                    name += ":" + _decimal_tokens(rng, 1)[0]
                feats.append(name)
            parts.append(" ".join([marker, *feats]) if marker != "|" else "| " + " ".join(feats))
        sep = "" if glued_tags and r % 7 == 0 else " "
        lines.append(parts[0] + sep + " ".join(parts[1:]))
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.parametrize("glued_tags", [False, True], ids=["vectorised", "line-by-line"])
def test_vw_namespaces_weights_and_numeric_names_match_the_reference(glued_tags):
    rng = np.random.default_rng(0)
    text = _random_vw(rng, 600, glued_tags)
    assert (vw_text._parse_fast(text, MASK) is None) == glued_tags  # the path under test
    got = parse_vw(text, DIMS)
    labels, indptr, ids, values = _reference_vw(text)
    np.testing.assert_array_equal(got.labels, labels)
    np.testing.assert_array_equal(got.indptr, indptr)
    np.testing.assert_array_equal(got.indices, ids)
    got_values = np.ones(got.nnz, np.float32) if got.values is None else got.values
    np.testing.assert_array_equal(got_values, values)  # bit for bit, scales included


def test_vw_values_are_python_floats_to_the_bit():
    rng = np.random.default_rng(1)
    toks = _decimal_tokens(rng, 4000)
    text = "".join(f"{i % 2} |n x{i}:{t} y\n" for i, t in enumerate(toks)).encode()
    b = parse_vw(text, DIMS)
    np.testing.assert_array_equal(b.values[0::2], [np.float32(float(t)) for t in toks])
    np.testing.assert_array_equal(b.values[1::2], 1.0)


def test_vw_hashing_by_hand_default_and_numeric_namespaces():
    b = parse_vw(b"1 | a 12 |3 b 12\n", 32)
    ns3 = 3  # VW hashes an all-digit namespace name as its integer value
    assert b.indices.tolist() == [
        murmurhash3_32(b"a", seed=0, positive=True),
        12,
        murmurhash3_32(b"b", seed=ns3, positive=True),
        12 + ns3,
    ]
    assert vw_text.hash_feature(b"b", b"3") == b.indices[2]


def test_vw_text_and_libsvm_of_the_same_rows_agree(tmp_path):
    write_ctr(tmp_path / "d.vw", 3000, DIMS, "vw", seed=3, fields=8, max_vocab=500)
    write_ctr(tmp_path / "d.svm", 3000, DIMS, "libsvm", seed=3, fields=8, max_vocab=500)
    vw = concat_batches(list(read_vw(tmp_path / "d.vw", DIMS, chunk_bytes=8192)))
    svm = concat_batches(list(read_libsvm(tmp_path / "d.svm", DIMS, chunk_bytes=8192)))
    np.testing.assert_array_equal(vw.labels, svm.labels)
    a, b = vw.to_csr(1 << DIMS), svm.to_csr(1 << DIMS)
    assert (a != b).nnz == 0


# -- CSV ----------------------------------------------------------------------------------
@pytest.mark.parametrize("delimiter,newline", [(",", "\n"), ("\t", "\r\n"), (";", "\n")])
def test_csv_matches_numpy_loadtxt(tmp_path, delimiter, newline):
    rng = np.random.default_rng(2)
    rows, cols = 700, 6
    toks = np.array(_decimal_tokens(rng, rows * cols), dtype=object).reshape(rows, cols)
    toks[rng.random((rows, cols)) < 0.1] = "0"
    toks[:, 2] = rng.integers(0, 2, rows).astype(str)  # the label column
    header = delimiter.join(["a", "b", "clicked", "c", "d", "e"])
    body = newline.join(delimiter.join(r) for r in toks)
    path = tmp_path / "d.csv"
    path.write_text(header + newline + body + newline, newline="")
    got = concat_batches(list(read_csv(path, DIMS, label_col="clicked", chunk_bytes=4096)))
    want = np.loadtxt(path, delimiter=delimiter, skiprows=1).astype(np.float32)
    np.testing.assert_array_equal(got.labels, want[:, 2] > 0)
    dense = got.to_csr(5).toarray()
    np.testing.assert_array_equal(dense, np.delete(want, 2, axis=1))  # bit for bit
    assert got.nnz == np.count_nonzero(dense)  # zeros are not stored


def test_csv_header_detection_missing_values_and_blank_lines(tmp_path):
    assert csv_layout(b"y,x1,x2").header and not csv_layout(b"1,0.5,3e-4").header
    assert csv_layout(b"1\t2\t3").delimiter == b"\t"
    layout = csv_layout(b"0,1,2", header="no")
    b = parse_csv(b"1,,2.5\n\n0,-1,\n", layout)
    np.testing.assert_array_equal(b.to_csr(2).toarray(), [[0, 2.5], [-1, 0]])
    np.testing.assert_array_equal(b.labels, [1, 0])
    path = tmp_path / "auto.csv"
    path.write_text("\n\nlabel,f\n1,2\n")  # blank lines before the header
    assert len(concat_batches(list(read_file(path, DIMS, label_col="label")))) == 1


@pytest.mark.parametrize(
    "label_col,header,message",
    [
        ("nope", "auto", "label column 'nope' is not in the CSV header"),
        (5, "auto", "label column 5 is out of range"),
        (0, "maybe", "header must be"),
    ],
)
def test_csv_layout_errors(label_col, header, message):
    with pytest.raises(ValueError, match=message):
        csv_layout(b"y,a,b", label_col, header)


def test_csv_too_many_columns_for_the_model(tmp_path):
    path = tmp_path / "wide.csv"
    path.write_text(",".join(["1"] * 10) + "\n")
    with pytest.raises(ValueError, match="9 feature columns do not fit in 2\\*\\*3 ids"):
        list(read_csv(path, 3))


# -- errors -------------------------------------------------------------------------------
GOOD = {
    "svm": lambda i: f"{i % 2} {i}:0.25 {i + 7}:1",
    "vw": lambda i: f"{2 * (i % 2) - 1} |f a{i}:0.25 b |g c",
    "csv": lambda i: f"{i % 2},{i}.5,0.25",
}
BAD = [
    ("svm", "1 5:nan", "'nan' is not a finite number"),
    ("svm", "1 -3:1", "'-3' is not a non-negative integer"),
    ("svm", "1 x7:0.5", "'x7' is not a non-negative integer"),
    ("svm", "inf 5:1", "'inf' is not a finite number"),
    ("svm", "1 5:-1e39", "'-1e39' is beyond float32's range"),
    ("svm", "1 123456789012345678:1", "at most 16 digits"),
    ("vw", "1 |f a:inf", "'inf' is not a finite number"),
    ("vw", "nan |f a", "'nan' is not a finite number"),
    ("vw", "|f a b", "no label before its first '|'"),
    ("vw", "1 |f a:1:2", "'1:2' is not a number"),
    ("vw", "1 |f :3", "':3' has no name"),
    ("vw", "1 |f:nan a", "'nan' is not a finite number"),
    ("vw", "1 |f a:2e40", "'2e40' is beyond float32's range"),
    ("csv", "1,NaN,0.5", "column 'a': 'NaN' is not a finite number"),
    ("csv", "1,2", "expected 3 fields, found 2"),
    ("csv", ",2,0.5", "the label is empty"),
    ("csv", "1,2,0x10", "column 'b': '0x10' is not a number"),
    ("csv", "1,-Infinity,2", "column 'a': '-Infinity' is not a finite number"),
    ("csv", "1,2,1e39", "column 'b': '1e39' is beyond float32's range"),
]


def _file(tmp_path, fmt, bad_at, bad, rows=3000, end="\n"):
    lines = [GOOD[fmt](i) for i in range(rows)]
    for at in bad_at:
        lines[at - 1] = bad
    path = tmp_path / f"data.{fmt}"
    header = "y,a,b\n" if fmt == "csv" else ""
    path.write_text(header + "\n".join(lines) + end)
    return path, lines


def _read(path, fmt, **kw):
    form = {"svm": "libsvm"}.get(fmt, fmt)
    return concat_batches(list(read_file(path, DIMS, form, chunk_bytes=4096, **kw)))


@pytest.mark.parametrize("fmt,bad,message", BAD, ids=[f"{f}:{b}" for f, b, _ in BAD])
def test_bad_rows_are_errors_naming_file_and_line(tmp_path, fmt, bad, message):
    path, _ = _file(tmp_path, fmt, [2345], bad)
    line = 2345 + (fmt == "csv")  # the header is line 1
    with pytest.raises(ValueError, match=message) as e:
        _read(path, fmt)
    assert str(e.value).startswith(f"{path}:{line}: ")


@pytest.mark.parametrize("fmt,bad,message", BAD, ids=[f"{f}:{b}" for f, b, _ in BAD])
def test_skip_bad_rows_counts_them_and_keeps_the_rest(tmp_path, fmt, bad, message):
    bad_at = [5, 6, 700, 1999, 2000, 2001, 3000]  # neighbours, chunk edges, the last row
    path, lines = _file(tmp_path, fmt, bad_at, bad)
    skipped = BadRows(keep=3)
    got = _read(path, fmt, bad_rows=skipped)
    assert skipped.count == len(bad_at)
    offset = fmt == "csv"
    assert [s.split(": ")[0] for s in skipped.first] == [f"{path}:{n + offset}" for n in bad_at[:3]]
    assert all(message in s for s in skipped.first)
    clean = tmp_path / f"clean.{fmt}"
    kept = [x for i, x in enumerate(lines, 1) if i not in bad_at]
    clean.write_text(("y,a,b\n" if fmt == "csv" else "") + "\n".join(kept) + "\n")
    want = _read(clean, fmt)
    assert len(got) == len(want) == len(lines) - len(bad_at)
    assert (got.to_csr(1 << DIMS) != want.to_csr(1 << DIMS)).nnz == 0
    np.testing.assert_array_equal(got.labels, want.labels)


def test_skipping_many_bad_rows_in_one_chunk(tmp_path):
    path, lines = _file(tmp_path, "svm", range(1, 3001, 3), "1 5:nan")  # every third row
    skipped = BadRows()
    got = _read(path, "svm", bad_rows=skipped)
    assert skipped.count == 1000 and len(got) == 2000


@pytest.mark.parametrize("fmt", ["svm", "vw", "csv"])
@pytest.mark.parametrize("content", ["", "\n\n", "  \n"])
def test_empty_files_are_errors(tmp_path, fmt, content):
    path = tmp_path / f"empty.{fmt}"
    path.write_text(content)
    with pytest.raises(ValueError, match=f"{path}: no data rows"):
        _read(path, fmt)


def test_all_rows_bad_is_an_error_even_when_skipping(tmp_path):
    path = tmp_path / "bad.vw"
    path.write_text("x |f a\ny |f b\n")
    with pytest.raises(ValueError, match="no data rows \\(all 2 rows bad\\)"):
        _read(path, "vw", bad_rows=BadRows())


@pytest.mark.parametrize(
    "fmt,cut", [("svm", "1 5:"), ("vw", "1 |f a:"), ("csv", "1,2")], ids=["svm", "vw", "csv"]
)
def test_truncated_last_line_is_named(tmp_path, fmt, cut):
    path, _ = _file(tmp_path, fmt, [3000], cut, end="")
    with pytest.raises(ValueError, match="the last line has no newline: is the file truncated"):
        _read(path, fmt)


# -- command line -------------------------------------------------------------------------
def test_cli_train_and_eval_skip_bad_rows_and_report_them(tmp_path, capsys):
    path, _ = _file(tmp_path, "vw", [10, 20], "1 |f a:nan")
    model = tmp_path / "model"
    args = ["train", "--train", str(path), "--no-progress", "--dims-log2", "18"]
    assert lr_main(args) == 1
    assert f"{path}:10: vw: 'nan' is not a finite number" in capsys.readouterr().err
    assert lr_main([*args, "--skip-bad-rows", "--model-out", str(model)]) == 0
    report = json.loads((model / "metrics.json").read_text())
    assert report["train_rows"] == 2998
    assert report["bad_rows"]["train"]["count"] == 2
    assert report["bad_rows"]["train"]["first"][1].startswith(f"{path}:20: vw: ")
    assert "skipped 2 bad train rows" in capsys.readouterr().err
    rc = lr_main(["eval", "--model", str(model), "--data", str(path), "--skip-bad-rows"])
    assert rc == 0
    assert json.loads(capsys.readouterr().out)["bad_rows"]["data"]["count"] == 2


def test_cli_trains_on_csv_by_header_name(tmp_path, capsys):
    rng = np.random.default_rng(4)
    x = rng.normal(size=(2000, 3))
    y = (x @ [2.0, -1.0, 0.5] + 0.3 * rng.normal(size=2000) > 0).astype(int)
    path = tmp_path / "train.csv"
    np.savetxt(
        path, np.column_stack([x, y]), delimiter=",", fmt="%.5g", header="a,b,c,y", comments=""
    )
    args = ["train", "--train", str(path), "--label-col", "y", "--no-progress", "--epochs", "3"]
    assert lr_main([*args, "--dims-log2", "4", "--test", str(path)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["train_rows"] == 3 * 2000, report["train_rows"]  # rows seen, all epochs
    assert report["test"]["auc"] > 0.95  # a linear truth: LR must find it
