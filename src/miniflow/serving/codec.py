"""TensorFlow Serving's REST predict format: JSON request -> checked arrays -> JSON response.

Row format: ``{"instances": [inst, ...]}`` -> ``{"predictions": [...]}``; an instance is
the value of the only input, or an object with one entry per named input.
Columnar format: ``{"inputs": value | {name: value}}`` -> ``{"outputs": value | {name:
value}}``, every input batched along its first dimension. With one output the response
holds its value directly, with several an object (row format: one object per instance).
Both accept ``signature_name`` (default ``serving_default``).

Every input is checked against the signature (name, dtype, shape, equal batch sizes)
before the model sees it; a violation raises :class:`InvalidRequest` whose message the
server returns as ``{"error": ...}`` with HTTP 400.

String (``DT_STRING``) inputs take JSON strings (sent as their UTF-8 bytes) or, for
binary data such as serialized ``tf.train.Example`` protos, ``{"b64": "<base64>"}``
objects, as in TF Serving. String outputs are written as JSON strings, or as
``{"b64": ...}`` objects when the output's key ends with ``_bytes``.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from itertools import accumulate

import numpy as np

from miniflow.serving.errors import InvalidRequest
from miniflow.serving.signature import (
    CLASSIFY_METHOD,
    DEFAULT_SIGNATURE,
    REGRESS_METHOD,
    Ragged,
    SignatureDef,
    TensorSpec,
)

__all__ = [
    "PredictRequest",
    "parse_json",
    "decode_predict",
    "decode_instances",
    "encode_predict",
    "decode_examples",
    "encode_classify",
    "encode_regress",
]


@dataclass
class PredictRequest:
    """A decoded predict call: which signature, its checked inputs, the batch size."""

    signature_name: str
    inputs: dict[str, np.ndarray | Ragged]
    rows: int
    columnar: bool


def parse_json(body: bytes) -> object:
    """The request body as JSON, or :class:`InvalidRequest` naming the syntax error."""
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InvalidRequest(f"JSON Parse error: {e}") from None
    except RecursionError:
        raise InvalidRequest("JSON Parse error: arrays or objects nested too deeply") from None


def decode_predict(doc: object, signatures: Mapping[str, SignatureDef]) -> PredictRequest:
    """Checks a parsed predict body against ``signatures`` and converts its inputs."""
    if not isinstance(doc, dict):
        raise InvalidRequest(
            "JSON Value: request body must be a JSON object with 'instances' or 'inputs'"
        )
    unknown = set(doc) - {"instances", "inputs", "signature_name"}
    if unknown:
        raise InvalidRequest(
            f"Unknown key(s) {sorted(unknown)} in request; expected "
            "'instances' or 'inputs', and optionally 'signature_name'"
        )
    name = doc.get("signature_name", DEFAULT_SIGNATURE)
    if not isinstance(name, str):
        raise InvalidRequest("'signature_name' must be a string")
    if name not in signatures:
        raise InvalidRequest(
            f'Serving signature name: "{name}" not found in signature '
            f"def; available: {sorted(signatures)}"
        )
    sig = signatures[name]
    if ("instances" in doc) == ("inputs" in doc):
        raise InvalidRequest(
            "Missing 'inputs' or 'instances' key"
            if "inputs" not in doc
            else "Only one of 'instances' or 'inputs' can be specified"
        )
    if "instances" in doc:
        inputs = decode_instances(doc["instances"], sig)
        columnar = False
    else:
        inputs = _decode_columns(doc["inputs"], sig)
        columnar = True
    return PredictRequest(name, inputs, _batch_size(inputs), columnar)


def decode_instances(instances: object, sig: SignatureDef) -> dict[str, np.ndarray | Ragged]:
    """Row format: a list of instances -> one batched array per input."""
    if not isinstance(instances, list) or not instances:
        raise InvalidRequest("'instances' must be a non-empty JSON list")
    names = list(sig.inputs)
    if not _is_named(instances[0]):
        if len(names) != 1:
            raise InvalidRequest(
                f"instance 0 must be a JSON object with the named inputs "
                f"{names}; the signature has {len(names)} inputs"
            )
        return {names[0]: _convert(names[0], sig.inputs[names[0]], instances)}
    columns: dict[str, list] = {n: [] for n in names}
    for i, inst in enumerate(instances):
        if not _is_named(inst):
            raise InvalidRequest(
                f"instance {i} is not a JSON object; when named inputs are "
                "used every instance must be an object"
            )
        _check_names(inst, sig, f"instance {i}")
        for n in names:
            columns[n].append(inst[n])
    return {n: _convert(n, sig.inputs[n], col) for n, col in columns.items()}


def _decode_columns(value: object, sig: SignatureDef) -> dict[str, np.ndarray | Ragged]:
    names = list(sig.inputs)
    if _is_named(value):
        _check_names(value, sig, "'inputs'")
        inputs = {n: _convert(n, sig.inputs[n], value[n]) for n in names}
    elif len(names) == 1:
        inputs = {names[0]: _convert(names[0], sig.inputs[names[0]], value)}
    else:
        raise InvalidRequest(f"'inputs' must be a JSON object with the named inputs {names}")
    sizes = {n: len(v) for n, v in inputs.items()}
    if len(set(sizes.values())) > 1:
        raise InvalidRequest(
            f"Input batch sizes differ: {sizes}; every input must have the "
            "same size in its first dimension"
        )
    return inputs


def _is_b64(value: object) -> bool:
    """TF Serving's test for a binary value: an object whose only key is ``b64``."""
    return isinstance(value, dict) and len(value) == 1 and "b64" in value


def _is_named(value: object) -> bool:
    """A JSON object of named inputs (an input's value is never an object, except b64)."""
    return isinstance(value, dict) and not _is_b64(value)


def _check_names(obj: dict, sig: SignatureDef, where: str) -> None:
    extra = [k for k in obj if k not in sig.inputs]
    if extra:
        raise InvalidRequest(
            f"{where}: JSON object does not have named input: {extra[0]!r}; "
            f"the signature's inputs are {list(sig.inputs)}"
        )
    missing = [k for k in sig.inputs if k not in obj]
    if missing:
        raise InvalidRequest(
            f"{where}: missing named input {missing[0]!r}; the signature's "
            f"inputs are {list(sig.inputs)}"
        )


def _convert(name: str, spec: TensorSpec, value: object) -> np.ndarray | Ragged:
    """A JSON batch (list over instances) -> an array of the spec's dtype and shape."""
    if not isinstance(value, list) or not value:
        raise InvalidRequest(
            f"input {name!r}: expected a non-empty list (one entry per "
            f"instance), got {type(value).__name__}"
        )
    if spec.ragged:
        return _convert_ragged(name, spec, value)
    arr = _as_array(name, spec, value)
    if spec.shape is not None:
        want = spec.shape
        if arr.ndim != len(want) or any(
            d is not None and d != s for d, s in zip(want, arr.shape, strict=True)
        ):
            shown = "[" + ", ".join("-1" if d is None else str(d) for d in want) + "]"
            raise InvalidRequest(
                f"input {name!r}: wrong shape: got {list(arr.shape)} for the "
                f"batch, the signature expects {shown} (-1 = any size; the "
                "first dimension is the batch)"
            )
    return arr


def _convert_ragged(name: str, spec: TensorSpec, rows: list) -> Ragged:
    for i, row in enumerate(rows):
        if not isinstance(row, list):
            raise InvalidRequest(
                f"input {name!r}, instance {i}: expected a list of numbers, "
                f"got {type(row).__name__}"
            )
    flat = rows[0] if len(rows) == 1 else [x for row in rows for x in row]
    values = _as_array(name, spec, flat) if flat else np.zeros(0, spec.dtype)
    if values.ndim != 1:
        raise InvalidRequest(
            f"input {name!r}: wrong shape: each instance must be a flat list of numbers"
        )
    splits = np.fromiter(accumulate(map(len, rows), initial=0), np.int64, len(rows) + 1)
    return Ragged(values, splits)


def _as_array(name: str, spec: TensorSpec, value: list) -> np.ndarray:
    if spec.dtype.kind == "O":
        return _string_array(name, spec, value)
    try:
        raw = np.asarray(value)
    except (ValueError, OverflowError) as e:  # ragged nesting, or an int beyond 64 bits
        raise InvalidRequest(
            f"input {name!r}: wrong shape: nested lists must be rectangular ({e})"
        ) from None
    if raw.dtype == spec.dtype:  # e.g. int64 ids from JSON integers: nothing to check
        return raw
    kind, want = raw.dtype.kind, spec.dtype.kind
    if kind == "O":
        if any(type(x) is int for x in raw.flat):  # an integer beyond 64 bits
            raise InvalidRequest(f"input {name!r}: value out of range for {spec.dtype.name}")
        raise InvalidRequest(
            f"input {name!r}: wrong shape or dtype: values must be rectangular lists of numbers"
        )
    ok = {"f": "iuf", "c": "iufc", "i": "iu", "u": "iu", "b": "b"}.get(want, "")
    if want in "iu" and kind == "f":
        ints = _ints_of(value)
        if ints is not None:  # uint64-sized integers next to others: NumPy made floats
            info = np.iinfo(spec.dtype)
            if min(ints) < info.min or max(ints) > info.max:
                raise InvalidRequest(f"input {name!r}: value out of range for {spec.dtype.name}")
            return np.array(value, dtype=spec.dtype)  # exact, from the Python ints
    if kind not in ok:
        got = {"U": "string", "b": "boolean", "f": "non-integer number"}.get(kind, raw.dtype.name)
        raise InvalidRequest(
            f"input {name!r}: wrong dtype: expected {spec.dtype.name} "
            f"({'integers' if want in 'iu' else 'numbers'}), got {got} values"
        )
    if want in "iu" and kind in "iu" and raw.dtype != spec.dtype:  # same dtype: in range
        info = np.iinfo(spec.dtype)
        if raw.size and (raw.min() < info.min or raw.max() > info.max):
            raise InvalidRequest(f"input {name!r}: value out of range for {spec.dtype.name}")
    with np.errstate(over="ignore"):
        out = raw.astype(spec.dtype, copy=False)
    if want == "f" and out.dtype != raw.dtype and raw.size:
        bad = ~np.isfinite(out)  # a finite number past the dtype's max became inf
        if bad.any() and np.isfinite(raw[bad]).any():
            raise InvalidRequest(f"input {name!r}: value out of range for {spec.dtype.name}")
    return out


def _ints_of(value) -> list | None:
    """The numbers of a JSON value (nested lists) if all are integers (no floats or
    bools), else None."""
    out, stack = [], [value]
    while stack:
        v = stack.pop()
        if type(v) is list:
            stack.extend(v)
        elif type(v) is int:
            out.append(v)
        else:
            return None
    return out


# TF's largest tensor rank; bounds the walk over a string input of unknown rank.
_MAX_RANK = 254


def _string_array(name: str, spec: TensorSpec, value: list) -> np.ndarray:
    """Rectangular nested lists of JSON strings / b64 objects -> an object array of bytes."""
    max_depth = _MAX_RANK if spec.shape is None else max(len(spec.shape), 1)
    shape: list[int] = []
    level: list = [value]
    while any(isinstance(x, list) for x in level):  # one nesting level per pass, no recursion
        size = len(level[0]) if isinstance(level[0], list) else -1
        if any(not isinstance(x, list) or len(x) != size for x in level):
            raise InvalidRequest(f"input {name!r}: wrong shape: nested lists must be rectangular")
        if len(shape) == max_depth:
            raise InvalidRequest(
                f"input {name!r}: wrong shape: lists nested deeper than the "
                f"signature's rank {max_depth}"
            )
        shape.append(size)
        level = [y for x in level for y in x]
    out = np.empty(len(level), dtype=object)
    for i, leaf in enumerate(level):
        out[i] = _string_value(name, leaf)
    return out.reshape(shape)


def _string_value(name: str, leaf: object) -> bytes:
    if isinstance(leaf, str):
        return leaf.encode("utf-8", "surrogatepass")
    if _is_b64(leaf):
        text = leaf["b64"]
        if not isinstance(text, str):
            raise InvalidRequest(
                f'input {name!r}: the value of "b64" must be a string of '
                f"base64, got {_json_type(text)}"
            )
        try:  # standard alphabet (not URL-safe), padding optional, as TF Serving accepts
            return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
        except (binascii.Error, ValueError) as e:
            raise InvalidRequest(
                f"input {name!r}: Unable to base64 decode {_clip(text)}: {e}"
            ) from None
    raise InvalidRequest(
        f"input {name!r}: wrong dtype: expected string (JSON strings or "
        f'{{"b64": "..."}} objects), got {_json_type(leaf)}'
    )


def _json_type(value: object) -> str:
    if isinstance(value, dict):
        return "a JSON object" + (
            ' (binary values are {"b64": "..."} objects with no other key)'
            if "b64" in value
            else ""
        )
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    return "a number" if isinstance(value, int | float) else type(value).__name__


def _clip(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:40] + "...")


def _batch_size(inputs: Mapping[str, np.ndarray | Ragged]) -> int:
    return len(next(iter(inputs.values())))


def encode_predict(outputs: Mapping[str, np.ndarray], columnar: bool) -> dict:
    """Outputs by name -> the response object of the request's format."""
    cols = {k: _json_values(k, v) for k, v in outputs.items()}
    if columnar:
        return {"outputs": next(iter(cols.values())) if len(cols) == 1 else cols}
    if len(cols) == 1:
        return {"predictions": next(iter(cols.values()))}
    keys = list(cols)
    return {
        "predictions": [
            dict(zip(keys, row, strict=True)) for row in zip(*cols.values(), strict=True)
        ]
    }


def _json_values(key: str, value) -> object:
    """An output as JSON values; strings as text, or b64 objects for ``*_bytes`` keys."""
    arr = np.asarray(value)
    if arr.dtype.kind not in "OSU":
        return arr.tolist()
    out = np.frompyfunc(_b64_object if key.endswith("_bytes") else _text, 1, 1)(arr)
    return out.tolist() if isinstance(out, np.ndarray) else out


def _text(v) -> str:
    return v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)


def _b64_object(v) -> dict:
    raw = v if isinstance(v, bytes) else str(v).encode("utf-8")
    return {"b64": base64.b64encode(raw).decode("ascii")}


# -- :classify and :regress --------------------------------------------------------------
_METHOD_VERB = {CLASSIFY_METHOD: "classify", REGRESS_METHOD: "regress"}


def decode_examples(
    doc: object, signatures: Mapping[str, SignatureDef], method: str
) -> PredictRequest:
    """TF Serving's classify/regress body, ``{"signature_name": ..., "context": {...},
    "examples": [{feature: value, ...}, ...]}``: each example with the context's
    features added, decoded like row-format instances of a ``method`` signature.

    Without ``signature_name`` the signature is ``serving_default`` if it has ``method``,
    else the servable's only signature that has it.
    """
    verb = _METHOD_VERB[method]
    if not isinstance(doc, dict):
        raise InvalidRequest("JSON Value: request body must be a JSON object with 'examples'")
    unknown = set(doc) - {"examples", "context", "signature_name"}
    if unknown:
        raise InvalidRequest(
            f"Unknown key(s) {sorted(unknown)} in {verb} request; expected 'examples', "
            "and optionally 'context' and 'signature_name'"
        )
    examples, context = doc.get("examples"), doc.get("context", {})
    if not isinstance(examples, list) or not examples:
        raise InvalidRequest("'examples' must be a non-empty JSON list of objects")
    if not isinstance(context, dict):
        raise InvalidRequest("'context' must be a JSON object of features")
    rows = []
    for i, ex in enumerate(examples):
        if not isinstance(ex, dict):
            raise InvalidRequest(f"example {i} is not a JSON object of features")
        rows.append({**context, **ex} if context else ex)
    name = _method_signature(doc.get("signature_name"), signatures, method, verb)
    inputs = decode_instances(rows, signatures[name])
    return PredictRequest(name, inputs, len(rows), False)


def _method_signature(name, signatures: Mapping[str, SignatureDef], method, verb) -> str:
    if name is None:
        default = signatures.get(DEFAULT_SIGNATURE)
        if default is not None and default.method_name == method:
            return DEFAULT_SIGNATURE
        have = [k for k, s in signatures.items() if s.method_name == method]
        if len(have) != 1:
            raise InvalidRequest(
                f"no default {verb} signature: {DEFAULT_SIGNATURE!r} is not one, and the "
                f"model has {len(have)} {method} signatures {sorted(have)}; "
                "send 'signature_name'"
            )
        return have[0]
    if not isinstance(name, str):
        raise InvalidRequest("'signature_name' must be a string")
    sig = signatures.get(name)
    if sig is None:
        raise InvalidRequest(
            f'Serving signature name: "{name}" not found in signature '
            f"def; available: {sorted(signatures)}"
        )
    if sig.method_name != method:
        raise InvalidRequest(
            f"Expected {verb} signature method_name to be {method}. Was: {sig.method_name}"
        )
    return name


def encode_classify(outputs: Mapping[str, np.ndarray]) -> dict:
    """``{"result": [[[class, score], ...] per example]}``; a model without a
    ``classes`` output gets empty class labels, one with only ``classes`` score 0 (as in
    TF Serving's ClassificationResult)."""
    scores = outputs.get("scores")
    classes = outputs.get("classes")
    if scores is None and classes is None:
        raise InvalidRequest("the classify signature has neither 'classes' nor 'scores'")
    ref = np.asarray(scores if scores is not None else classes)
    ref = ref.reshape(len(ref), -1)
    n, k = ref.shape
    labels = (
        np.asarray(_json_values("classes", classes)).reshape(n, k).tolist()
        if classes is not None
        else [[""] * k] * n
    )
    vals = np.asarray(scores, np.float64).reshape(n, k).tolist() if scores is not None else None
    return {
        "result": [
            [[labels[i][j], vals[i][j] if vals is not None else 0.0] for j in range(k)]
            for i in range(n)
        ]
    }


def encode_regress(outputs: Mapping[str, np.ndarray]) -> dict:
    """``{"result": [value per example]}`` from the signature's ``outputs``."""
    value = outputs.get("outputs")
    if value is None:
        if len(outputs) != 1:
            raise InvalidRequest("the regress signature has no 'outputs' output")
        value = next(iter(outputs.values()))
    arr = np.asarray(value, np.float64)
    if arr.ndim > 1 and arr.shape[1:] != (1,) * (arr.ndim - 1):
        raise InvalidRequest(f"regression output must be one value per example, got {arr.shape}")
    return {"result": arr.reshape(len(arr)).tolist()}
