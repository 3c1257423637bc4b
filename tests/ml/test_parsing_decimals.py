"""The libsvm reader's vectorised decimal values against Python's float(), and its
errors (file and line) for malformed, non-finite and out-of-range input."""

import numpy as np
import pytest

from miniflow.ml.data import parse_libsvm, read_libsvm
from miniflow.ml.numeric_text import ParseError

pytestmark = pytest.mark.usefixtures("kernel_path")  # the NumPy and compiled paths


def _tokens(rng, n):
    forms = [
        lambda: f"{rng.normal():.6f}",
        lambda: f"{rng.normal() * 1e-4:.3e}",
        lambda: str(int(rng.integers(-1000, 1000))),
        lambda: f"{rng.random():.2f}".lstrip("0"),  # ".37"
        lambda: f"{rng.normal() * 1e6:.17g}",  # 17 digits: the per-field fallback
        lambda: f"+{rng.random() * 100:.4f}",
        lambda: f"{rng.random():.4f}E+2",
        lambda: f"{int(rng.integers(0, 99))}.",  # "5."
        lambda: f"-{rng.random():.3f}".replace("-0.", "-."),  # "-.5"
        lambda: f"{rng.lognormal():.3g}",
    ]
    return [forms[i]() for i in rng.integers(0, len(forms), n)]


@pytest.mark.parametrize("sep", [" ", "  "], ids=["single-space", "general"])
def test_values_equal_python_float_to_the_bit(sep):
    rng = np.random.default_rng(0)
    toks = _tokens(rng, 5000)
    lines = [f"{i % 2}{sep}{i}:{t}{sep}{i + 1}:1" for i, t in enumerate(toks)]
    b = parse_libsvm(("\n".join(lines) + "\n").encode())
    expected = np.array([np.float32(float(t)) for t in toks])  # Python's parser: the truth
    np.testing.assert_array_equal(b.values[0::2], expected)
    np.testing.assert_array_equal(b.values[1::2], 1.0)
    np.testing.assert_array_equal(b.indices[0::2], np.arange(5000))
    np.testing.assert_array_equal(b.labels, np.arange(5000) % 2)


def test_exponents_signs_and_labels():
    text = b"+1 1:3e-4 2:1E+2 3:-2.5e1 4:0.000001 5:1e-30 6:12345678901234567890\n-1 7:.5\n"
    b = parse_libsvm(text)
    want = [3e-4, 1e2, -25.0, 1e-6, 1e-30, 12345678901234567890.0, 0.5]
    np.testing.assert_array_equal(b.values, np.array(want, np.float32))
    np.testing.assert_array_equal(b.labels, [1, 0])


@pytest.mark.parametrize(
    "field,message",
    [
        ("3:nan", "'nan' is not a finite number"),
        ("3:inf", "'inf' is not a finite number"),
        ("3:-Infinity", "not a finite number"),
        ("3:1.2.3", "'1.2.3' is not a number"),
        ("3:1e", "'1e' is not a number"),
        ("3:", "not a number"),
        ("-3:1", "'-3' is not a non-negative integer"),
        ("12345678901234567:1", "at most 16 digits"),
        ("x7:0.5", "'x7' is not a non-negative integer"),
    ],
)
def test_bad_fields_name_the_file_and_line(tmp_path, field, message):
    good = [f"{i % 2} {i}:0.25 {i + 7}:1" for i in range(3000)]
    lines = good[:2345] + [f"1 5:0.5 {field}"] + good[2345:]
    path = tmp_path / "data.svm"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ValueError, match=message) as e:
        for _ in read_libsvm(path, chunk_bytes=4096):  # many chunks: the line is global
            pass
    assert str(e.value).startswith(f"{path}:2346: libsvm: ")


def test_bad_label_and_parse_error_line_within_a_chunk():
    with pytest.raises(ParseError, match="'yes' is not a number") as e:
        parse_libsvm(b"# header comment\n1 3:1\nyes 4:1\n")
    assert e.value.line == 3


@pytest.mark.parametrize("content", [b"", b"\n\n", b"# only a comment\n"])
def test_empty_files_are_an_error(tmp_path, content):
    path = tmp_path / "empty.svm"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="no data rows"):
        list(read_libsvm(path))


def test_short_field_paths_against_python_float_on_random_byte_soup():
    """Random strings over digits, '.', signs and e/E (1..11 bytes): every one that
    Python's float() reads as a finite float32 gives the same value, every other one
    a ParseError."""
    from miniflow.ml.numeric_text import decimals, words_at

    rng = np.random.default_rng(11)
    alphabet = np.array(list(b"0123456789.-+eE"), np.uint8)
    p = np.array([3.0] * 10 + [2, 1, 1, 1, 1])
    p /= p.sum()
    toks = [bytes(rng.choice(alphabet, rng.integers(1, 12), p=p)) for _ in range(3000)]
    good, bad = [], []
    for t in toks:
        try:
            ok = abs(float(t)) <= float(np.finfo(np.float32).max)
        except ValueError:
            ok = False
        (good if ok else bad).append(t)
    assert len(good) > 500 and len(bad) > 500
    chunk = b" ".join(good) + b"\n"
    lens = np.array([len(t) for t in good])
    ends = np.cumsum(lens + 1) - 1
    b = np.frombuffer(chunk, np.uint8)
    got = decimals(chunk, b, words_at(chunk), ends - lens, ends)
    np.testing.assert_array_equal(
        got.astype(np.float32), np.array([np.float32(float(t)) for t in good])
    )
    for t in bad[:300]:
        text = b"x " + t + b"\n"
        with pytest.raises(ParseError) as e:
            decimals(
                text,
                np.frombuffer(text, np.uint8),
                words_at(text),
                np.array([2]),
                np.array([2 + len(t)]),
            )
        assert e.value.offset == 2


def test_values_beyond_float32_are_errors():
    with pytest.raises(ParseError, match="'1e39' is beyond float32's range"):
        parse_libsvm(b"1 3:1e39\n")
