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
