"""`tf.strings` and TF1's string aliases, graph and eager. Expected values were obtained
from TensorFlow 2.21 (`tf.compat.v1`, graph mode) unless they are plain Python facts."""

import numpy as np
import pytest

import miniflow as tf
from tests.ops.helpers import graph_and_eager as both

X = [["hello", "World "], [" a b ", "ÄÖé"]]


def test_join_length_case_strip():
    joined = both(lambda: tf.strings.join([tf.constant(X), "!"], separator="-"))
    assert joined.tolist() == [[b"hello-!", b"World -!"], [b" a b -!", "ÄÖé-!".encode()]]
    assert both(lambda: tf.string_join(["a", "b"])) == b"ab"
    assert both(lambda: tf.strings.length(X)).tolist() == [[5, 6], [5, 6]]
    assert both(lambda: tf.strings.length(X, unit="UTF8_CHAR")).tolist() == [[5, 6], [5, 3]]
    assert both(lambda: tf.strings.upper(X))[1, 1] == "ÄÖé".encode()  # ASCII only
    assert both(lambda: tf.strings.lower(X, encoding="utf-8"))[1, 1] == "äöé".encode()
    assert both(lambda: tf.strings.strip(["  a b \t\n", "\x0bx\x0c"])).tolist() == [b"a b", b"x"]
    t = tf.strings.length("abc")
    assert (t.op.type, t.dtype, t.name) == ("StringLength", tf.int32, "StringLength:0")


def test_join_shape_mismatch_is_a_construction_error():
    with pytest.raises(ValueError, match="must be equal|same shape"):
        tf.strings.join([tf.constant(["a", "b"]), tf.constant(["a", "b", "c"])])


def test_regex():
    assert both(lambda: tf.strings.regex_full_match(X, "[a-z]+")).tolist() == [
        [True, False],
        [False, False],
    ]
    assert both(lambda: tf.strings.regex_replace(X, "l+", "L"))[0].tolist() == [b"heLo", b"WorLd "]
    assert both(lambda: tf.regex_replace(X, "l", "L", replace_global=False))[0, 0] == b"heLlo"
    assert both(lambda: tf.strings.regex_replace("abc abd", r"a(b)(.)", r"\2\1")) == b"cb db"
    with tf.Session() as sess, pytest.raises(tf.errors.InvalidArgumentError, match="pattern"):
        sess.run(tf.strings.regex_replace("abc", "(", "x"))


def test_substr():
    assert both(lambda: tf.strings.substr(["hello", "ab"], 1, 3)).tolist() == [b"ell", b"b"]
    assert both(lambda: tf.substr(["hello"], -3, 2)).tolist() == [b"ll"]
    assert both(lambda: tf.strings.substr(["ÄÖé"], 1, 1, unit="UTF8_CHAR")).tolist() == [
        "Ö".encode()
    ]
    with tf.Session() as sess, pytest.raises(tf.errors.InvalidArgumentError, match="pos 3"):
        sess.run(tf.strings.substr(["hello", "ab"], 3, 3))


def test_to_number():
    got = both(lambda: tf.strings.to_number(["1.5", " 2", "-3e2", "inf", "0x10"]))
    assert got.dtype == np.float32 and got.tolist() == [1.5, 2.0, -300.0, np.inf, 16.0]
    got = both(lambda: tf.string_to_number(["12", "-3"], out_type=tf.int32))
    assert got.dtype == np.int32 and got.tolist() == [12, -3]
    for bad, dtype in [("1x", tf.float32), ("1.5", tf.int64), ("99999999999", tf.int32)]:
        with (
            tf.Session() as sess,
            pytest.raises(tf.errors.InvalidArgumentError, match="could not correctly convert"),
        ):
            sess.run(tf.strings.to_number([bad], out_type=dtype))


# String -> bucket ids as TF 2.21 computes them (Hash64, FarmHash Fingerprint64, SipHash).
WORDS = ["hello", "world", "", "a", "tensorflow"]


def test_hash_buckets_equal_tensorflow():
    assert both(lambda: tf.strings.to_hash_bucket(WORDS[:3], 1000)).tolist() == [938, 861, 899]
    assert both(lambda: tf.string_to_hash_bucket_fast(WORDS[:3], 1000)).tolist() == [296, 598, 263]
    assert both(lambda: tf.strings.to_hash_bucket_fast(WORDS, 2**62)).tolist() == [
        3786372426573024488,
        2601484383088587886,
        1936946117179621455,
        3694432073954588131,
        2775546937297581794,
    ]
    assert both(lambda: tf.strings.to_hash_bucket_strong(WORDS[:3], 1000, [1, 2])).tolist() == [
        622,
        990,
        435,
    ]
    assert both(lambda: tf.string_to_hash_bucket_strong(WORDS[:3], 2**62, [1, 2])).tolist() == [
        2957200328589801622,
        187049873850690182,
        443797209252341627,
    ]
    t = tf.strings.to_hash_bucket_fast("a", 10)
    assert (t.op.type, t.dtype) == ("StringToHashBucketFast", tf.int64)


def test_as_string():
    assert both(lambda: tf.as_string([1.5, -2.0, 1e10, 1 / 3])).tolist() == [
        b"1.500000",
        b"-2.000000",
        b"10000000000.000000",
        b"0.333333",
    ]
    assert both(lambda: tf.as_string([1, -22], width=5, fill="0")).tolist() == [b"00001", b"-0022"]
    assert both(lambda: tf.strings.as_string([1.2345], precision=2)).tolist() == [b"1.23"]
    assert both(lambda: tf.as_string([1234.5], scientific=True)).tolist() == [b"1.234500e+03"]
    assert both(lambda: tf.as_string([1234.5, 0.0001], shortest=True)).tolist() == [
        b"1234.5",
        b"0.0001",
    ]
    assert both(lambda: tf.as_string([True, False])).tolist() == [b"true", b"false"]


def test_reduce_join_and_segment_join():
    assert both(lambda: tf.strings.reduce_join(X, axis=0)).tolist() == [
        b"hello a b ",
        "World ÄÖé".encode(),
    ]
    got = both(lambda: tf.reduce_join(X, 1, keep_dims=True, separator="|"))
    assert got.shape == (2, 1) and got[0, 0] == b"hello|World "
    assert both(lambda: tf.strings.reduce_join(X)) == "helloWorld  a b ÄÖé".encode()
    tf.reset_default_graph()
    assert tf.strings.reduce_join(X).name == "ReduceJoin/ReduceJoin:0"
    assert both(
        lambda: tf.strings.unsorted_segment_join(["a", "b", "c"], [1, 0, 1], 3, separator=",")
    ).tolist() == [b"b", b"a,c", b""]


def test_format():
    assert (
        both(lambda: tf.strings.format("x={} y={}", [tf.constant([1, 2, 3]), tf.constant("s")]))
        == b'x=[1 2 3] y="s"'
    )
    assert (
        both(lambda: tf.strings.format("{}", tf.constant([[1.5, 2.0], [3.0, 4.0]])))
        == b"[[1.5 2]\n [3 4]]"
    )
    assert both(lambda: tf.strings.format("{}", tf.range(10))) == b"[0 1 2 ... 7 8 9]"
    assert both(lambda: tf.strings.format("{}", tf.range(10), summarize=2)) == b"[0 1 ... 8 9]"
    with pytest.raises(ValueError, match="placeholder"):
        tf.strings.format("{} {}", [tf.constant(1)])


def _sparse(v):
    return v.indices.tolist(), v.values.tolist(), v.dense_shape.tolist()


def test_split_gives_a_sparse_tensor_like_tf1():
    cases = [
        (
            lambda: tf.string_split(["a b  c", "", "d"]),
            ([[0, 0], [0, 1], [0, 2], [2, 0]], [b"a", b"b", b"c", b"d"], [3, 3]),
        ),
        (
            lambda: tf.strings.split(["a b  c", "", "d"]),
            ([[0, 0], [0, 1], [0, 2], [2, 0]], [b"a", b"b", b"c", b"d"], [3, 3]),
        ),
        (
            lambda: tf.string_split(["a,b,,c", "d"], delimiter=",", skip_empty=False),
            ([[0, 0], [0, 1], [0, 2], [0, 3], [1, 0]], [b"a", b"b", b"", b"c", b"d"], [2, 4]),
        ),
        (
            lambda: tf.string_split(["a,b;c"], delimiter=",;"),
            ([[0, 0], [0, 1], [0, 2]], [b"a", b"b", b"c"], [1, 3]),
        ),
        (
            lambda: tf.string_split(["abc", "de"], delimiter=""),
            ([[0, 0], [0, 1], [0, 2], [1, 0], [1, 1]], [b"a", b"b", b"c", b"d", b"e"], [2, 3]),
        ),
        (
            lambda: tf.strings.split(["a,b,,c"], sep=","),
            ([[0, 0], [0, 1], [0, 2], [0, 3]], [b"a", b"b", b"", b"c"], [1, 4]),
        ),
    ]
    for fn, want in cases:
        assert _sparse(both(fn)) == want


def test_bytes_split_ngrams_unicode():
    assert both(lambda: tf.strings.bytes_split("abc")).tolist() == [b"a", b"b", b"c"]
    assert both(lambda: tf.strings.ngrams(["a", "b", "c", "d"], 2)).tolist() == [
        b"a b",
        b"b c",
        b"c d",
    ]
    assert both(lambda: tf.strings.ngrams(["a", "b"], 2, pad_values="#")).tolist() == [
        b"# a",
        b"a b",
        b"b #",
    ]
    assert both(lambda: tf.strings.unicode_encode([72, 105, 0x4E2D], "UTF-8")) == b"Hi\xe4\xb8\xad"
    assert both(lambda: tf.strings.unicode_encode([[72, 105], [65, 66]], "UTF-8")).tolist() == [
        b"Hi",
        b"AB",
    ]
    assert (
        both(lambda: tf.strings.unicode_encode([72, 0x1F600], "UTF-16-BE")) == b"\x00H\xd8=\xde\x00"
    )
    assert both(lambda: tf.strings.unicode_decode("Hé", "UTF-8")).tolist() == [72, 233]
    assert both(lambda: tf.strings.unicode_transcode(["Hé"], "UTF-8", "UTF-16-BE")).tolist() == [
        b"\x00H\x00\xe9"
    ]
    assert both(lambda: tf.strings.unicode_split("Hé", "UTF-8")).tolist() == [b"H", "é".encode()]
    with tf.Session() as sess:  # TF: a RaggedTensor (eager: tests/followups)
        graph = sess.run(tf.strings.unicode_split(["Hé", "ab"], "UTF-8"))
    assert graph.to_list() == [[b"H", "é".encode()], [b"a", b"b"]]
    # ICU script codes as TF gives them: Latin, Cyrillic, Han, Common, invalid x2, Unknown.
    assert both(
        lambda: tf.strings.unicode_script([72, 1041, 0x4E2D, 33, -1, 0x110000, 0xD800])
    ).tolist() == [25, 8, 17, 0, -1, -1, 103]
    with pytest.raises(TypeError, match="int32"):
        tf.strings.unicode_script(tf.constant([72], tf.int64))


def test_string_ops_reject_numbers_and_have_no_gradient():
    with pytest.raises(TypeError, match="string"):
        tf.strings.length(tf.constant([1.0]))
    x = tf.placeholder(tf.float32, [2])
    s = tf.as_string(x)
    assert tf.gradients(tf.strings.to_number(s), x) == [None]


# Hash values TF 2.21 gave (num_buckets 2**63 - 1, strong key [123456789, 2**62 + 5]) for
# random byte strings of every FarmHash / Murmur code path's length.
LONG_HASHES = {
    7: (4385009259555837130, 309964178196796868, 8287863867423396863),
    8: (4211249728530117993, 2386265955131076305, 474942548432249001),
    16: (4035873757396003088, 3722645052456705070, 7545504790207792680),
    17: (8368010087370525026, 5208358686242071065, 2043265385210807029),
    32: (3343292653148768992, 4280430436124309700, 3494144376399768566),
    33: (7020519827638468938, 3233197079740679334, 2940282989942761152),
    64: (6703365189481525335, 1762931185770091712, 2870986508915015783),
    65: (5184385901509619655, 1015004244932328761, 4096404959627799943),
    128: (6688469283609206202, 8980774181169986130, 6441593173051322043),
    129: (1579042358739548772, 7284467058757114294, 6923486589658147267),
    1000: (2629976583894088898, 847945611050101096, 3031232061561345250),
}


def test_hashes_of_long_strings_equal_tensorflow():
    rng = np.random.RandomState(0)
    words = [
        bytes(rng.randint(0, 256, n).astype(np.uint8))
        for n in list(range(80)) + [100, 127, 128, 129, 200, 333, 1000]
    ]
    words = [w for w in words if len(w) in LONG_HASHES]
    n = 2**63 - 1
    with tf.Session() as sess:
        got = sess.run(
            [
                tf.strings.to_hash_bucket(words, n),
                tf.strings.to_hash_bucket_fast(words, n),
                tf.strings.to_hash_bucket_strong(words, n, [123456789, 2**62 + 5]),
            ]
        )
    assert list(zip(*[g.tolist() for g in got])) == [LONG_HASHES[len(w)] for w in words]


def test_more_tensorflow_cases():
    fmt = tf.strings.format
    assert (
        both(lambda: fmt("{}", tf.constant([1e10, 1 / 3, -0.0, 123456789.0])))
        == b"[1e+10 0.333333343 -0 123456792]"
    )
    assert both(lambda: fmt("{}", tf.constant([1 / 3], tf.float64))) == b"[0.33333333333333331]"
    assert both(lambda: fmt("{}", tf.reshape(tf.range(64), [8, 8]))) == (
        b"[[0 1 2 ... 5 6 7]\n [8 9 10 ... 13 14 15]\n [16 17 18 ... 21 22 23]\n ...\n"
        b" [40 41 42 ... 45 46 47]\n [48 49 50 ... 53 54 55]\n [56 57 58 ... 61 62 63]]"
    )
    assert (
        both(lambda: fmt("{}", tf.reshape(tf.range(8), [2, 2, 2])))
        == b"[[[0 1]\n  [2 3]]\n\n [[4 5]\n  [6 7]]]"
    )
    assert both(lambda: fmt("{}", tf.constant(list("abcdefg")))) == b'["a" "b" "c" ... "e" "f" "g"]'
    assert both(lambda: fmt("{}", tf.constant([True, False]))) == b"[1 0]"
    assert both(lambda: fmt("a % b", tf.constant(1), placeholder="%")) == b"a 1 b"
    assert both(lambda: tf.strings.reduce_join([["a", "b"], ["c", "d"]], axis=[1, 0])) == b"abcd"
    assert both(lambda: tf.strings.substr(["hello"], 1, -1)).tolist() == [b"ello"]
    assert both(lambda: tf.strings.substr(["hello", "world"], [0, 1], [2, 3])).tolist() == [
        b"he",
        b"orl",
    ]
    assert both(lambda: tf.as_string([np.nan, np.inf, -np.inf])).tolist() == [
        b"nan",
        b"inf",
        b"-inf",
    ]
    assert both(lambda: tf.as_string(tf.constant([1 + 2j], tf.complex64))).tolist() == [
        b"(1.000000,2.000000)"
    ]
    assert both(lambda: tf.strings.to_number([" 12 "], out_type=tf.int32)).tolist() == [12]
    assert both(lambda: tf.strings.to_number(["1e40"])).tolist() == [np.inf]
    assert both(lambda: tf.strings.ngrams(["a", "b", "c"], [1, 3])).tolist() == [
        b"a",
        b"b",
        b"c",
        b"a b c",
    ]
    assert both(
        lambda: tf.strings.ngrams(["a", "b", "c"], 3, pad_values=("L", "R"), padding_width=1)
    ).tolist() == [b"L a b", b"a b c", b"b c R"]
    assert both(
        lambda: tf.strings.ngrams(
            ["a"], 4, pad_values="#", padding_width=1, preserve_short_sequences=True
        )
    ).tolist() == [b"# a #"]
    assert both(lambda: tf.strings.unicode_decode(b"a\xffb", "UTF-8")).tolist() == [97, 65533, 98]
    assert both(
        lambda: tf.strings.unicode_decode(b"a\xffb", "UTF-8", errors="ignore")
    ).tolist() == [97, 98]
    assert both(
        lambda: tf.strings.unicode_decode(b"a\x01b", "UTF-8", replace_control_characters=True)
    ).tolist() == [97, 65533, 98]
    assert (
        both(lambda: tf.strings.unicode_encode([72, -1, 0x110000], "UTF-8"))
        == b"H\xef\xbf\xbd\xef\xbf\xbd"
    )
    assert both(lambda: tf.strings.unicode_encode([72, -1], "UTF-8", errors="ignore")) == b"H"


@pytest.mark.parametrize(
    "fn,match",
    [
        (lambda: tf.as_string([1], precision=2), "floating point"),
        (lambda: tf.as_string([1], width=3, fill="x"), "Fill"),
        (lambda: tf.strings.to_number([""]), "convert"),
        (lambda: tf.strings.substr(["ab"], 5, 1, unit="UTF8_CHAR"), "out of range"),
        (
            lambda: tf.strings.unicode_decode(b"a\xffb", "UTF-8", errors="strict"),
            "UTF-8|formatting",
        ),
        (lambda: tf.strings.unicode_encode([72, -1], "UTF-8", errors="strict"), "code point"),
    ],
)
def test_run_time_errors(fn, match):
    with tf.Session() as sess, pytest.raises(tf.errors.InvalidArgumentError, match=match):
        sess.run(fn())


def test_split_edge_cases_match_tensorflow():
    cases = [
        (
            lambda: tf.strings.split(["", "a,"], sep=","),
            ([[0, 0], [1, 0], [1, 1]], [b"", b"a", b""], [2, 2]),
        ),
        (
            lambda: tf.strings.split(["a b c d"], maxsplit=2),
            ([[0, 0], [0, 1], [0, 2]], [b"a", b"b", b"c d"], [1, 3]),
        ),
        (
            lambda: tf.strings.split(["a,b,c,d"], sep=",", maxsplit=1),
            ([[0, 0], [0, 1]], [b"a", b"b,c,d"], [1, 2]),
        ),
        (
            lambda: tf.strings.split(["  a\tb\nc  "]),
            ([[0, 0], [0, 1], [0, 2]], [b"a", b"b", b"c"], [1, 3]),
        ),
        (
            lambda: tf.strings.split(["a<>b<>"], sep="<>"),
            ([[0, 0], [0, 1], [0, 2]], [b"a", b"b", b""], [1, 3]),
        ),
        (lambda: tf.string_split(["", " "]), ([], [], [2, 0])),
    ]
    for fn, want in cases:
        assert _sparse(both(fn)) == want
    with pytest.raises(ValueError, match="rank 1"):
        tf.string_split(tf.constant("a b"))
    with pytest.raises(ValueError, match="output_encoding"):
        tf.strings.unicode_transcode(["H"], "UTF-8", "UTF-16-LE")


def test_decode_and_split_with_offsets():
    codes, offsets = both(lambda: list(tf.strings.unicode_decode_with_offsets("Hé中", "UTF-8")))
    assert codes.tolist() == [72, 233, 20013] and offsets.tolist() == [0, 1, 3]
    codes, offsets = both(
        lambda: list(
            tf.strings.unicode_decode_with_offsets(b"a\xe4\xb8b\xff\xfe\xe4\xb8\xad", "UTF-8")
        )
    )  # invalid bytes, as TF reports them
    assert codes.tolist() == [97, 65533, 98, 65533, 65533, 20013]
    assert offsets.tolist() == [0, 1, 3, 4, 5, 6]
    codes, offsets = both(
        lambda: list(tf.strings.unicode_decode_with_offsets(b"\x00H\xd8=\xde\x00", "UTF-16-BE"))
    )
    assert codes.tolist() == [72, 128512] and offsets.tolist() == [0, 2]
    tf.reset_default_graph()
    chars, offsets = tf.strings.unicode_split_with_offsets(["Hé", "ab"], "UTF-8")
    with tf.Session() as sess:
        chars, offsets = sess.run([chars, offsets])
    assert chars.to_list() == [[b"H", "é".encode()], [b"a", b"b"]]  # TF: RaggedTensors
    assert offsets.to_list() == [[0, 1], [0, 1]]


def test_tf1_argument_aliases():
    assert both(lambda: tf.string_split(["a,b"], sep=",")).values.tolist() == [b"a", b"b"]
    assert both(lambda: tf.string_split(["a,b"], delimiter=",")).values.tolist() == [b"a", b"b"]
    assert both(lambda: tf.strings.to_number(input=["1"])).tolist() == [1.0]
    assert both(lambda: tf.strings.to_hash_bucket(input=["hello"], num_buckets=1000)).tolist() == [
        938
    ]
    with pytest.raises(ValueError, match="both"):
        tf.string_split(["a"], sep=",", delimiter=",")
    assert isinstance(tf.strings.split(["a"], result_type="RaggedTensor"), tf.RaggedTensor)


def test_cases_found_by_random_differential_testing_against_tensorflow():
    graph = both(lambda: tf.string_split(["", "a,"], ",", skip_empty=False))
    assert _sparse(graph) == ([[1, 0], [1, 1]], [b"a", b""], [2, 2])  # "" gives no token
    assert both(lambda: tf.as_string(np.float32([1e-45, -1e-45]), shortest=True)).tolist() == [
        b"0",
        b"-0",
    ]  # TF's CPU treats subnormals as zero
    assert (
        both(lambda: tf.strings.format("{}", tf.constant([3.4e38, 1 / 3])))
        == b"[3.4e+38 0.333333343]"
    )  # 6 digits when they read back exactly, else 9
