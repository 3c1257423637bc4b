"""Readers against scikit-learn's svmlight loader and mmh3; the cache and DataSource."""

import gzip
import io

import numpy as np
import pytest
from sklearn.datasets import load_svmlight_file
from sklearn.utils import murmurhash3_32

from miniflow.ml import cache, data
from miniflow.ml.data import hash_feature, parse_libsvm, parse_vw
from miniflow.ml.source import DataSource

pytestmark = pytest.mark.usefixtures("kernel_path")  # the NumPy and compiled paths


def _random_libsvm(rng, rows, binary_share=0.3):
    lines = []
    for _ in range(rows):
        label = rng.choice(["1", "0", "-1", "+1"])
        cols = np.sort(rng.choice(10**7, size=rng.integers(0, 12), replace=False))
        parts = [label]
        for c in cols:
            r = rng.random()
            if r < binary_share:
                parts.append(f"{c}:1")
            elif r < 0.6:
                parts.append(f"{c}:{rng.integers(-50, 50)}")
            else:
                parts.append(f"{c}:{rng.normal():.6g}")
        lines.append(" ".join(parts))
    return ("\n".join(lines) + "\n").encode()


def _assert_same_as_sklearn(batch, text, n_features=10**7):
    X, y = load_svmlight_file(io.BytesIO(text), n_features=n_features, zero_based=True)
    ours = batch.to_csr(n_features)
    np.testing.assert_array_equal(ours.indptr, X.indptr)
    np.testing.assert_array_equal(ours.indices, X.indices)
    np.testing.assert_allclose(ours.data, X.data, rtol=1e-6)  # float32 vs sklearn's float64
    np.testing.assert_array_equal(batch.labels, (y > 0).astype(np.float32))


def test_libsvm_matches_sklearn_on_random_files():
    rng = np.random.default_rng(0)
    text = _random_libsvm(rng, 400)
    _assert_same_as_sklearn(parse_libsvm(text), text)


def test_libsvm_one_hot_fast_path_has_no_values():
    text = b"1 5:1 9:1\n0 3:1\n"
    b = parse_libsvm(text)
    assert b.values is None
    _assert_same_as_sklearn(b, text)


def test_libsvm_binary_form_qid_comments_blank_lines():
    text = b"1 3 7 10\n\n-1 qid:4 2 5:2.5  8\n+1 4 # a comment\n0\n"
    b = parse_libsvm(text)
    np.testing.assert_array_equal(b.labels, [1, 0, 1, 0])
    np.testing.assert_array_equal(b.indptr, [0, 3, 6, 7, 7])
    np.testing.assert_array_equal(b.indices, [3, 7, 10, 2, 5, 8, 4])
    np.testing.assert_allclose(b.values, [1, 1, 1, 1, 2.5, 1, 1])


def test_libsvm_reports_bad_index_with_line():
    with pytest.raises(ValueError, match="'x7' is not a non-negative integer") as e:
        parse_libsvm(b"1 3:1\n0 x7:1\n")
    assert e.value.line == 2


def test_libsvm_dims_log2_reduces_indices():
    b = parse_libsvm(b"1 1025:1 3:1\n", dims_log2=10)
    np.testing.assert_array_equal(b.indices, [1, 3])


@pytest.mark.parametrize("compress", [False, True])
def test_streaming_in_small_chunks_equals_one_parse(tmp_path, compress):
    rng = np.random.default_rng(1)
    text = _random_libsvm(rng, 300)
    path = tmp_path / ("d.svm.gz" if compress else "d.svm")
    path.write_bytes(gzip.compress(text) if compress else text)
    chunks = list(data.read_libsvm(path, chunk_bytes=97))  # chunk < line: lines never split
    assert len(chunks) > 10
    whole = data.concat_batches(chunks)
    _assert_same_as_sklearn(whole, text)


def test_hash_feature_is_murmur3_like_sklearn_and_vw():
    for tok in [b"f3_1234", b"user=alice", b"x"]:
        assert hash_feature(tok) == murmurhash3_32(tok, seed=0, positive=True)
        ns_seed = murmurhash3_32(b"f", seed=0, positive=True)
        assert hash_feature(tok, b"f") == murmurhash3_32(tok, seed=ns_seed, positive=True)
    assert hash_feature(b"1234") == 1234  # VW's shortcut for integer feature names


def test_vw_parser_by_hand():
    text = b"1 |u alice age:0.5 |i:2 item7\n-1 'tag|u bob\n"
    b = parse_vw(text, dims_log2=20)
    m = (1 << 20) - 1
    h = hash_feature
    np.testing.assert_array_equal(b.labels, [1, 0])
    np.testing.assert_array_equal(b.indptr, [0, 3, 4])
    np.testing.assert_array_equal(
        b.indices,
        [h(b"alice", b"u") & m, h(b"age", b"u") & m, h(b"item7", b"i") & m, h(b"bob", b"u") & m],
    )
    np.testing.assert_allclose(b.values, [1.0, 0.5, 2.0, 1.0])


def test_cache_round_trip_and_incomplete_files(tmp_path):
    rng = np.random.default_rng(2)
    batches = [parse_libsvm(_random_libsvm(rng, 100)), parse_libsvm(b"1 3:1 4:1\n0 5:1\n")]
    path = tmp_path / "c.bin"
    cache.write_cache(path, batches, dims_log2=24)
    assert cache.is_complete_cache(path, 24) and not cache.is_complete_cache(path, 25)
    back = list(cache.read_cache(path))
    assert len(back) == len(batches)
    for a, b in zip(batches, back, strict=True):
        np.testing.assert_array_equal(a.indptr, b.indptr)
        np.testing.assert_array_equal(a.indices, b.indices)
        np.testing.assert_array_equal(a.labels, b.labels)
        assert (a.values is None) == (b.values is None)
        if a.values is not None:
            np.testing.assert_array_equal(a.values, b.values)
    low = data.concat_batches(list(cache.read_cache(path, dims_log2=4)))
    np.testing.assert_array_equal(low.indices, data.concat_batches(batches).indices & 15)
    w = cache.CacheWriter(tmp_path / "part.bin", 24)
    w.write(batches[0])
    w.abort()
    assert not (tmp_path / "part.bin").exists() and not (tmp_path / "part.bin.part").exists()
    with pytest.raises(ValueError, match="cannot serve"):
        next(cache.read_cache(path, dims_log2=30))


def test_data_source_writes_cache_once_and_reuses_it(tmp_path):
    rng = np.random.default_rng(3)
    text = _random_libsvm(rng, 500)
    (tmp_path / "t.svm").write_bytes(text)
    src = DataSource(tmp_path / "t.svm", 24, cache=tmp_path / "t.cache", chunk_bytes=2048)
    assert not src.cached
    first = data.concat_batches(list(src))
    assert src.cached
    (tmp_path / "t.svm").write_bytes(b"")  # the second pass must not read the text
    second = data.concat_batches(list(src))
    np.testing.assert_array_equal(first.indices, second.indices)
    np.testing.assert_array_equal(first.labels, second.labels)


def test_data_source_interrupted_pass_leaves_no_cache(tmp_path):
    (tmp_path / "t.svm").write_bytes(_random_libsvm(np.random.default_rng(4), 500))
    src = DataSource(tmp_path / "t.svm", 24, cache=tmp_path / "t.cache", chunk_bytes=1024)
    it = iter(src)
    next(it)
    it.close()  # what a Ctrl-C in the training loop does to the generator
    assert not src.cached and not (tmp_path / "t.cache.part").exists()


def test_read_file_detects_formats(tmp_path):
    (tmp_path / "a.vw").write_bytes(b"1 |f a b\n-1 |f c\n")
    (tmp_path / "a.svm").write_bytes(b"1 1:1\n")
    assert len(data.concat_batches(list(data.read_file(tmp_path / "a.vw", 18)))) == 2
    assert len(data.concat_batches(list(data.read_file(tmp_path / "a.svm", 18)))) == 1
    with pytest.raises(ValueError, match="unknown format"):
        data.read_file(tmp_path / "a.svm", 18, fmt="parquet")  # csv is a format now


def test_one_hot_fast_path_with_a_few_other_values_matches_sklearn():
    rng = np.random.default_rng(5)
    lines = []
    for i in range(2000):
        cols = np.sort(rng.choice(10**6, size=10, replace=False))
        vals = ["1"] * 10
        if i % 400 == 7:
            vals[3] = "2"  # rare: stays on the fast path
        lines.append(" ".join([str(i % 2)] + [f"{c}:{v}" for c, v in zip(cols, vals, strict=True)]))
    text = ("\n".join(lines) + "\n").encode()
    b = parse_libsvm(text)
    assert b.values is not None and (b.values == 2).sum() == 5
    _assert_same_as_sklearn(b, text)
    many = text.replace(b":1 ", b":3 ")  # common: general parser, same result
    _assert_same_as_sklearn(parse_libsvm(many), many)


@pytest.mark.parametrize(
    "text",
    [
        b"1 3:1 5:1\r\n0 2:1\r\n",  # CRLF line ends
        b"1\t3:1\t5:2\n0 2:1  \n",  # tabs, trailing blanks
        b"  1 3:1 5:1\n\n\n0 2:1\n",  # leading blanks, blank lines
        b"1 3:1 5:1\n0 2:1",  # no final newline
        b"1 3:0.5 7:1e-2\n-1 4:-3\n",  # float values, -1 label
        b"1 qid:2 3:1\n0 qid:3 4:1\n",  # qid on the one-hot path
    ],
)
def test_whitespace_and_format_variants_match_sklearn(text):
    _assert_same_as_sklearn(parse_libsvm(text), text, n_features=10)


def test_vw_vectorised_path_by_hand_with_namespaces_numbers_and_values():
    text = b"1 |u alice 42 age:0.5 |i:2 item7 x:3\n-1 |u bob |i:2 item7\n0 |u 42\n"
    b = parse_vw(text, dims_log2=30)
    m = (1 << 30) - 1
    h = hash_feature
    ns_u = murmurhash3_32(b"u", seed=0, positive=True)
    expected = [
        h(b"alice", b"u"),
        (42 + ns_u) & 0xFFFFFFFF,
        h(b"age", b"u"),
        h(b"item7", b"i"),
        h(b"x", b"i"),
        h(b"bob", b"u"),
        h(b"item7", b"i"),
        (42 + ns_u) & 0xFFFFFFFF,
    ]
    np.testing.assert_array_equal(b.indices, np.array(expected) & m)
    np.testing.assert_array_equal(b.indptr, [0, 5, 7, 8])
    np.testing.assert_allclose(b.values, [1, 1, 0.5, 2, 6, 1, 2, 1])
    np.testing.assert_array_equal(b.labels, [1, 0, 0])


def test_swar_integer_parsing_against_python_int():
    import re

    from miniflow.ml.numeric_text import uints as _uints, words_at as _words

    rng = np.random.default_rng(9)
    good = [str(x).encode() for x in rng.integers(0, 10**16, 2000)]
    good += [str(x).encode() for x in rng.integers(0, 1000, 500)] + [b"0", b"00012"]
    bad = [b"12a4", b"1.5", b"-3", b"9:9", b"x", b"1234567/", b"0/", b"12345678901234567"]
    text = b" " + b" ".join(good + bad) + b" "
    spans = [(m.start(), m.end()) for m in re.finditer(rb"[^ ]+", text)]
    values, wrong = _uints(
        _words(text), np.array([a for a, _ in spans]), np.array([e for _, e in spans])
    )
    np.testing.assert_array_equal(values[: len(good)], [int(t) for t in good])
    assert not wrong[: len(good)].any() and wrong[len(good) :].all()
