"""Numbers past an input's dtype are refused (HTTP 400 naming the input), never wrapped
or turned into inf: every integer dtype at its exact limits and one past them, in both
request formats, dense and ragged; floats past float32/float16."""

from __future__ import annotations

import json

import numpy as np
import pytest

from miniflow.serving import codec
from miniflow.serving.errors import InvalidRequest
from miniflow.serving.signature import SignatureDef, TensorSpec

INT_DTYPES = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]


def _signatures(dtype, ragged=False):
    spec = TensorSpec("ids", np.dtype(dtype), None if ragged else (None, 2), ragged=ragged)
    out = TensorSpec("y", np.dtype("float32"), (None,))
    return {"serving_default": SignatureDef({"ids": spec}, {"y": out})}


def _decode(dtype, rows, columnar=False, ragged=False):
    doc = {"inputs": {"ids": rows}} if columnar else {"instances": [{"ids": r} for r in rows]}
    # through the JSON text, as the server gets it (Python ints of any size survive)
    return codec.decode_predict(
        codec.parse_json(json.dumps(doc).encode()), _signatures(dtype, ragged)
    )


@pytest.mark.parametrize("ragged", [False, True])
@pytest.mark.parametrize("columnar", [False, True])
@pytest.mark.parametrize("dtype", INT_DTYPES)
def test_integer_limits_pass_exactly_and_one_past_is_refused(dtype, columnar, ragged):
    info = np.iinfo(dtype)
    lo, hi = int(info.min), int(info.max)
    req = _decode(dtype, [[lo, hi], [0, 1]], columnar, ragged)
    got = req.inputs["ids"].values if ragged else req.inputs["ids"]
    assert got.dtype == np.dtype(dtype)
    assert [int(v) for v in np.ravel(got)] == [lo, hi, 0, 1]  # exact, not wrapped
    for bad in ([hi + 1, 0], [0, lo - 1], [lo - 1, hi + 1], [hi + 1, -1], [-1, 2**64]):
        with pytest.raises(InvalidRequest) as info_:
            _decode(dtype, [bad, [0, 1]], columnar, ragged)
        assert str(info_.value) == f"input 'ids': value out of range for {dtype}"


def test_out_of_range_next_to_a_float_is_a_dtype_error():
    with pytest.raises(InvalidRequest, match="input 'ids': wrong dtype: expected int64"):
        _decode("int64", [[-1, 2**63], [0.5, 1]])


@pytest.mark.parametrize(
    "dtype, bad, good",
    [
        ("float32", 1e39, 3.4e38),  # float32 max is about 3.40282e38
        ("float16", 70000, 65504),  # float16 max is 65504
        ("float16", 1e300, -65504.0),
    ],
)
def test_finite_floats_past_the_dtype_max_are_refused_not_made_inf(dtype, bad, good):
    sig = {"serving_default": SignatureDef({"x": TensorSpec("x", np.dtype(dtype), (None,))}, {})}
    ok = codec.decode_predict({"instances": [good, 1.0]}, sig).inputs["x"]
    assert np.isfinite(ok).all() and ok[0] == np.asarray(good, dtype)
    with pytest.raises(InvalidRequest, match=f"^input 'x': value out of range for {dtype}$"):
        codec.decode_predict({"instances": [1.0, bad]}, sig)


def test_string_inputs_take_text_and_b64_and_refuse_numbers():
    sig = {"serving_default": SignatureDef({"s": TensorSpec("s", np.dtype(object), (None,))}, {})}
    got = codec.decode_predict({"instances": ["ab", {"b64": "AAE="}]}, sig).inputs["s"]
    assert got.dtype == object and got.tolist() == [b"ab", b"\x00\x01"]
    with pytest.raises(InvalidRequest, match="input 's'"):
        codec.decode_predict({"instances": ["ab", 3]}, sig)


def _float_sig(dtype="float32"):
    return {"serving_default": SignatureDef({"x": TensorSpec("x", np.dtype(dtype), (None,))}, {})}


def test_integer_json_values_feed_a_float_input_exactly():
    got = codec.decode_predict({"instances": [1, 2, 16777216]}, _float_sig()).inputs["x"]
    assert got.dtype == np.float32 and got.tolist() == [1.0, 2.0, 16777216.0]


def test_infinity_and_nan_in_the_json_pass_through_as_sent():
    doc = codec.parse_json(b'{"instances": [Infinity, -Infinity, NaN, 1.5]}')
    got = codec.decode_predict(doc, _float_sig()).inputs["x"]
    assert got[0] == np.inf and got[1] == -np.inf and np.isnan(got[2]) and got[3] == 1.5


@pytest.mark.parametrize(
    "dtype, values, message",
    [
        ("float32", ["a"], "expected float32 (numbers), got string values"),
        ("int32", ["a"], "expected int32 (integers), got string values"),
        ("int32", [True], "expected int32 (integers), got boolean values"),
        ("int32", [1.5], "expected int32 (integers), got non-integer number values"),
    ],
)
def test_wrong_dtype_messages_say_what_was_expected_and_found(dtype, values, message):
    with pytest.raises(InvalidRequest) as info:
        codec.decode_predict({"instances": values}, _float_sig(dtype))
    assert str(info.value) == f"input 'x': wrong dtype: {message}"
