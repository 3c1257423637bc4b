"""FM input: libffm and VW namespaces as fields, field packing, errors with file and
line, the cached source (every test on the NumPy and the compiled parser)."""

from __future__ import annotations

import gzip
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from miniflow.ml.fm import FMTrainer
from miniflow.ml.fm_data import (
    FMSource,
    detect_format,
    parse_libffm,
    read_fm_file,
    read_libffm,
)
from miniflow.ml.fm_math import field_bits_for
from miniflow.ml.fm_vw import read_vw_fields, vw_namespaces
from miniflow.ml.vw_text import hash_feature


@pytest.fixture(autouse=True)
def _both_paths(kernel_path):
    return kernel_path


def _reference(text: str, dims_log2: int, field_bits: int):
    """Plain-Python parse: (indptr, ids, values, labels)."""
    low = dims_log2 - field_bits
    indptr, ids, values, labels = [0], [], [], []
    for line in text.splitlines():
        line = line.split("#", 1)[0]
        tokens = line.split()
        if not tokens:
            continue
        labels.append(1.0 if float(tokens[0]) > 0 else 0.0)
        for tok in tokens[1:]:
            f, i, v = tok.split(":")
            ids.append((int(f) << low if field_bits else 0) | (int(i) % (1 << low)))
            values.append(np.float32(float(v)))
        indptr.append(len(ids))
    return indptr, ids, values, labels


@settings(
    suppress_health_check=[HealthCheck.function_scoped_fixture], max_examples=10, deadline=None
)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from(["1", "0", "-1", "+1"]),
            st.lists(
                st.tuples(
                    st.integers(0, 7),
                    st.integers(0, 10**12),
                    st.sampled_from(["1", "0.5", "-2", "3e-4", "1.79", "10"]),
                ),
                max_size=6,
            ),
            st.sampled_from([" ", "  ", "\t"]),
        ),
        min_size=1,
        max_size=20,
    )
)
def test_parse_matches_a_plain_python_reference(rows):
    text = "".join(
        lab + "".join(f"{sep}{f}:{i}:{v}" for f, i, v in feats) + "\n" for lab, feats, sep in rows
    )
    for field_bits in (0, 3):
        b = parse_libffm(text.encode(), 20, field_bits)
        indptr, ids, values, labels = _reference(text, 20, field_bits)
        np.testing.assert_array_equal(b.indptr, indptr)
        np.testing.assert_array_equal(b.indices, ids)
        np.testing.assert_array_equal(b.labels, labels)
        got = np.ones(len(ids), np.float32) if b.values is None else b.values
        np.testing.assert_array_equal(got, np.array(values, np.float32))


def test_blank_lines_comments_and_label_only_rows():
    b = parse_libffm(b"1 0:5:1 # a comment\n\n0\n# only a comment\n1 2:3:1\n", 10, 2)
    assert b.indptr.tolist() == [0, 1, 1, 2]
    assert b.labels.tolist() == [1, 0, 1]
    assert b.indices.tolist() == [5, (2 << 8) | 3]


@pytest.mark.parametrize(
    "line, message",
    [
        (b"1 3:7", "is not field:index:value"),
        (b"1 3:7:1:1", "is not field:index:value"),
        (b"1 x:7:1", "non-negative integers"),
        (b"1 -1:7:1", "non-negative integers"),
        (b"1 3:7:nan", "not a finite number"),
        (b"1 3:7:abc", "not a number"),
        (b"yes 3:7:1", "not a number"),
        (b"1 9:7:1", "field 9 >= the model's 4 fields"),
    ],
)
def test_errors_name_the_file_and_line(tmp_path, line, message):
    path = tmp_path / "bad.ffm"
    path.write_bytes(b"1 0:1:1\n0 1:2:1\n" + line + b"\n1 0:1:1\n")
    with pytest.raises(ValueError, match=message) as e:
        list(read_libffm(path, 10, 2, fields=4))
    assert str(e.value).startswith(f"{path}:3: libffm:")


def test_empty_file_is_an_error(tmp_path):
    (tmp_path / "e.ffm").write_bytes(b"\n# nothing\n")
    with pytest.raises(ValueError, match="no data rows"):
        list(read_libffm(tmp_path / "e.ffm", 10))


def test_format_detection_and_gzip(tmp_path):
    (tmp_path / "a.ffm").write_bytes(b"1 0:3:1 1:4:1\n")
    (tmp_path / "a.svm").write_bytes(b"1 3:1 4:1\n")
    (tmp_path / "a.vw").write_bytes(b"1 |f a b\n")
    with gzip.open(tmp_path / "b.ffm.gz", "wb") as f:
        f.write(b"1 0:3:1 1:4:0.5\n")
    assert detect_format(tmp_path / "a.ffm") == "libffm"
    assert detect_format(tmp_path / "a.svm") == "libsvm"
    assert detect_format(tmp_path / "a.vw") == "vw"
    assert detect_format(tmp_path / "b.ffm.gz") == "libffm"
    (batch,) = read_fm_file(tmp_path / "b.ffm.gz", 10, field_bits=1)
    assert batch.indices.tolist() == [3, (1 << 9) | 4]
    assert batch.values.tolist() == [1.0, 0.5]


def test_an_ffm_on_libsvm_text_is_refused(tmp_path):
    (tmp_path / "a.svm").write_bytes(b"1 3:1 4:1\n")
    with pytest.raises(ValueError, match="needs each feature's field"):
        read_fm_file(tmp_path / "a.svm", 10, field_bits=2)
    (batch,) = read_fm_file(tmp_path / "a.svm", 10)  # a plain FM reads it
    assert batch.indices.tolist() == [3, 4]


VW = b"1 |user u1 age:0.5 |ad a7\n-1 2.0 'tag|ad a7 a8 |user:2 u2\n\n0 |site s:1e-3\n"


def test_vw_namespaces_are_fields(tmp_path):
    (tmp_path / "a.vw").write_bytes(VW)
    assert vw_namespaces(tmp_path / "a.vw") == ["user", "ad", "site"]
    dims, fb = 12, field_bits_for(3)
    (batch,) = read_fm_file(tmp_path / "a.vw", dims, field_bits=fb, fields=3)
    low = dims - fb
    want = [
        (0, b"u1", b"user"), (0, b"age", b"user"), (1, b"a7", b"ad"),
        (1, b"a7", b"ad"), (1, b"a8", b"ad"), (0, b"u2", b"user"), (2, b"s", b"site"),
    ]  # fmt: skip
    assert batch.indices.tolist() == [
        f << low | (hash_feature(name, ns) & ((1 << low) - 1)) for f, name, ns in want
    ]
    assert batch.indptr.tolist() == [0, 3, 6, 7]
    assert batch.labels.tolist() == [1, 0, 0]
    np.testing.assert_array_equal(
        batch.values, np.float32([1, 0.5, 1, 1, 1, 2, np.float32(1e-3)])
    )  # |user:2 scales u2; the importance 2.0 and the tag are skipped
    # A plain FM reads the same file with VW's own ids (the field dropped).
    (plain,) = read_fm_file(tmp_path / "a.vw", dims)
    assert plain.indices.tolist() == [hash_feature(n, ns) & 4095 for _, n, ns in want]


def test_vw_fields_errors_name_the_file_and_line(tmp_path):
    (tmp_path / "a.vw").write_bytes(VW)
    with pytest.raises(ValueError, match=r"a\.vw:4: vw: namespace 'site' is not one of"):
        list(read_fm_file(tmp_path / "a.vw", 12, field_bits=1, fields=2, namespaces=["user", "ad"]))
    with pytest.raises(ValueError, match="3 namespaces .* pass fields >= 3"):
        read_fm_file(tmp_path / "a.vw", 12, field_bits=1, fields=2)
    (tmp_path / "b.vw").write_bytes(b"1 |user u1:abc\n")
    with pytest.raises(ValueError, match=r"b\.vw:1: vw: value 'abc' is not a number"):
        list(read_fm_file(tmp_path / "b.vw", 12, field_bits=1, fields=2))
    (tmp_path / "c.vw").write_bytes(b"1 u1 u2\n")
    with pytest.raises(ValueError, match=re.escape("c.vw:1: vw: no '|namespace' section")):
        list(read_fm_file(tmp_path / "c.vw", 12, "vw", field_bits=1, fields=2, namespaces=["a"]))
    # a bad line deep in a file read in small chunks: its line in the file, not the chunk
    good = b"1 |user u1 |ad a7\n"
    (tmp_path / "d.vw").write_bytes(good * 40 + b"0 |user u2:1e99\n" + good * 5)
    rows = read_vw_fields(tmp_path / "d.vw", 12, 1, 2, ["user", "ad"], chunk_bytes=64)
    with pytest.raises(ValueError, match=r"d\.vw:41: vw: value '1e99' is not a number$"):
        list(rows)


def test_an_ffm_trains_on_vw_namespaces(tmp_path):
    """XOR of two namespaces: only the pairwise term can learn it."""
    rng = np.random.default_rng(0)
    a, b = rng.integers(2, size=4000), rng.integers(2, size=4000)
    y = a ^ b
    lines = [f"{2 * t - 1} |x v{i} |y v{j}" for t, i, j in zip(y, a, b, strict=True)]
    (tmp_path / "t.vw").write_text("\n".join(lines) + "\n")
    src = FMSource(tmp_path / "t.vw", 10, field_bits=1, fields=2)
    assert src.namespaces == ["x", "y"]
    t = FMTrainer(10, model="ffm", fields=2, factors=2, init_std=0.3, batch_size=32)
    t.fit(src, epochs=3, progress=False)
    assert t.evaluate(src)["auc"] > 0.99


def test_source_writes_a_cache_on_the_first_pass_and_reads_it_after(tmp_path):
    rng = np.random.default_rng(0)
    lines = [
        f"{rng.integers(2)} " + " ".join(f"{f}:{rng.integers(100)}:1" for f in range(3))
        for _ in range(500)
    ]
    (tmp_path / "t.ffm").write_text("\n".join(lines) + "\n")
    src = FMSource(tmp_path / "t.ffm", 12, field_bits=2, cache=tmp_path / "t.cache", block_rows=64)
    first = [b.indices.copy() for b in src]
    assert (tmp_path / "t.cache").exists()
    (tmp_path / "t.ffm").unlink()  # a second pass cannot be reading the text
    second = [b.indices for b in src]
    np.testing.assert_array_equal(np.concatenate(first), np.concatenate(second))
