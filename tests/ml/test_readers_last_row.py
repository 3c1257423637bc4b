"""A data file whose last line has no newline keeps that row: libsvm (against sklearn),
VW (against the same text with the newline), plain and gzip, in chunks smaller and larger
than a line, through `read_file` and a caching `DataSource` (both passes)."""

from __future__ import annotations

import gzip
import io

import numpy as np
import pytest
from sklearn.datasets import load_svmlight_file

from miniflow.ml import data
from miniflow.ml.source import DataSource

pytestmark = pytest.mark.usefixtures("kernel_path")  # the NumPy and compiled paths

LIBSVM = b"1 3:1 5:2.5\n0 2:1\n1 7:1 9:1 11:0.5\n0 4:2"  # last row: label 0, one feature
VW = b"1 |u alice |i item7\n-1 |u bob\n1 |u carol |i item9 x:3"


def _write(tmp_path, name, text, compress):
    path = tmp_path / (name + (".gz" if compress else ""))
    path.write_bytes(gzip.compress(text) if compress else text)
    return path


def _rows(batches):
    return data.concat_batches(list(batches))


@pytest.mark.parametrize("chunk_bytes", [5, 16, 1 << 20])
@pytest.mark.parametrize("compress", [False, True])
def test_libsvm_last_row_without_newline_matches_sklearn(tmp_path, compress, chunk_bytes):
    path = _write(tmp_path, "d.svm", LIBSVM, compress)
    got = _rows(data.read_libsvm(path, chunk_bytes=chunk_bytes))
    X, y = load_svmlight_file(io.BytesIO(LIBSVM), n_features=16, zero_based=True)
    assert len(got) == X.shape[0] == 4
    ours = got.to_csr(16)
    np.testing.assert_array_equal(ours.indptr, X.indptr)
    np.testing.assert_array_equal(ours.indices, X.indices)
    np.testing.assert_allclose(ours.data, X.data)
    np.testing.assert_array_equal(got.labels, (y > 0).astype(np.float32))
    assert list(ours[3].indices) == [4] and ours[3].data.tolist() == [2.0]  # the last row


@pytest.mark.parametrize("chunk_bytes", [7, 1 << 20])
@pytest.mark.parametrize("compress", [False, True])
def test_vw_last_row_without_newline_equals_the_terminated_file(tmp_path, compress, chunk_bytes):
    path = _write(tmp_path, "d.vw", VW, compress)
    got = _rows(data.read_vw(path, 18, chunk_bytes=chunk_bytes))
    want = data.parse_vw(VW + b"\n", 18)
    assert len(got) == len(want) == 3
    np.testing.assert_array_equal(got.labels, [1, 0, 1])
    np.testing.assert_array_equal(got.indptr, want.indptr)
    np.testing.assert_array_equal(got.indices, want.indices)
    last = got.indices[got.indptr[2] : got.indptr[3]]
    assert data.hash_feature(b"carol", b"u") & ((1 << 18) - 1) in last.tolist()


@pytest.mark.parametrize(
    "text, rows",
    [
        (b"1 1:1", 1),  # one line, no newline at all
        (b"1 1:1\r\n0 2:1", 2),  # CRLF lines, the last without
        (b"1 1:1\n0 2:1 " + b" ".join(b"%d:1" % i for i in range(3, 60)), 2),  # long last
        (b"1 1:1\n0 2:1\n", 2),  # the control: a terminated file
        (b"1 1:1\n\n   ", 1),  # trailing blanks are not a row
    ],
)
def test_read_file_and_a_cached_source_keep_the_last_row(tmp_path, text, rows):
    path = tmp_path / "t.svm"
    path.write_bytes(text)
    assert len(_rows(data.read_file(path, 18, chunk_bytes=8))) == rows
    src = DataSource(path, 18, cache=tmp_path / "t.cache", chunk_bytes=8)
    first = _rows(src)
    assert src.cached
    second = _rows(src)  # read back from the cache
    assert len(first) == len(second) == rows
    np.testing.assert_array_equal(first.indices, second.indices)
    np.testing.assert_array_equal(first.labels, second.labels)
