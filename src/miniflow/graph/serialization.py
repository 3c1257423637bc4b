"""Graph <-> JSON-compatible dicts: the graph part of miniflow's meta graph format
(docs/persistence.md).

Every attribute value is written with an explicit type tag (``{"t": "int", "v": 3}``)
and read back by a strict decoder that accepts only those tags. Ops are rebuilt through
the op registry, so a file can only name op types this process already defines; nothing
from the file is executed or unpickled.
"""

from __future__ import annotations

import base64
import contextlib
import math

import numpy as np

from miniflow import dtypes, errors
from miniflow.core.registry import has_op, lookup_op
from miniflow.core.shapes import TensorShape
from miniflow.graph.builder import _infer
from miniflow.graph.operation import Operation, Tensor


class UnserializableError(errors.UnimplementedError):
    """A graph holds a value the meta graph format cannot represent (e.g. a Python
    function captured by a `tf.data` pipeline)."""


def malformed(where: str, msg: str) -> errors.InvalidArgumentError:
    return errors.InvalidArgumentError(None, None, f"Malformed graph file: {where}: {msg}")


# -- values -------------------------------------------------------------------------------
def encode_value(v, var_names: dict):
    """A tagged JSON form of an attribute value; ``var_names`` maps id(variable) -> name."""
    if id(v) in var_names:
        return {"t": "var", "v": var_names[id(v)]}
    if v is None:
        return {"t": "none"}
    if v is Ellipsis:
        return {"t": "ellipsis"}
    if isinstance(v, bool | np.bool_):
        return {"t": "bool", "v": bool(v)}
    if isinstance(v, int | np.integer):
        return {"t": "int", "v": int(v)}
    if isinstance(v, float | np.floating):
        v = float(v)
        return {"t": "float", "v": v if math.isfinite(v) else repr(v)}
    if isinstance(v, str):
        return {"t": "str", "v": v}
    if isinstance(v, bytes):
        return {"t": "bytes", "v": base64.b64encode(v).decode()}
    if isinstance(v, dtypes.DType):
        return {"t": "dtype", "v": v.name}
    if isinstance(v, TensorShape):
        return {"t": "shape", "v": encode_dims(v)}
    if isinstance(v, np.ndarray):
        return _encode_array(v)
    if isinstance(v, slice):
        return {"t": "slice", "v": [encode_value(p, var_names) for p in (v.start, v.stop, v.step)]}
    if isinstance(v, tuple | list):
        return {"t": type(v).__name__, "v": [encode_value(x, var_names) for x in v]}
    if isinstance(v, dict) and all(isinstance(k, str) for k in v):
        return {"t": "dict", "v": {k: encode_value(x, var_names) for k, x in v.items()}}
    raise UnserializableError(
        None, None, f"cannot serialize a value of type {type(v).__name__}: {v!r:.80}"
    )


def encode_dims(shape: TensorShape):
    dims = shape.as_tuple()
    return None if dims is None else list(dims)


def _encode_array(a: np.ndarray):
    dt = dtypes.as_dtype(a.dtype)
    out = {"t": "array", "dtype": dt.name, "shape": list(a.shape)}
    if dt is dtypes.string:
        out["items"] = [
            base64.b64encode(x if isinstance(x, bytes) else str(x).encode()).decode()
            for x in a.ravel()
        ]
    else:
        out["data"] = base64.b64encode(
            np.ascontiguousarray(a, a.dtype.newbyteorder("<")).tobytes()
        ).decode()
    return out


_SCALAR_TAGS = {"bool": bool, "int": int, "str": str}


def decode_value(e, where: str, resolve_var):
    """The value of a tagged form written by `encode_value`; refuses anything else."""
    if not isinstance(e, dict) or not isinstance(e.get("t"), str):
        raise malformed(where, f'expected a tagged value {{"t": ...}}, found {e!r:.60}')
    t, v = e["t"], e.get("v")
    if t == "none":
        return None
    if t == "ellipsis":
        return Ellipsis
    if t in _SCALAR_TAGS:
        want = _SCALAR_TAGS[t]
        if type(v) is not want:
            raise malformed(where, f"a {t} value must be a JSON {want.__name__}, found {v!r:.60}")
        return v
    if t == "float":
        if isinstance(v, str) and v in ("nan", "inf", "-inf"):
            return float(v)
        if type(v) not in (int, float):
            raise malformed(where, f"a float value must be a number, found {v!r:.60}")
        return float(v)
    if t == "bytes":
        return _b64(v, where)
    if t == "dtype":
        return decode_dtype(v, where)
    if t == "shape":
        return TensorShape(decode_dims(v, where))
    if t == "array":
        return _decode_array(e, where)
    if t == "var":
        if not isinstance(v, str):
            raise malformed(where, "a variable reference must be a name")
        return resolve_var(v, where)
    if t in ("slice", "tuple", "list"):
        if not isinstance(v, list) or (t == "slice" and len(v) != 3):
            raise malformed(where, f"a {t} needs a JSON list" + (" of 3" if t == "slice" else ""))
        items = [decode_value(x, f"{where}[{i}]", resolve_var) for i, x in enumerate(v)]
        if t == "slice":
            if not all(p is None or type(p) is int for p in items):
                raise malformed(where, "slice bounds must be ints or none")
            return slice(*items)
        return tuple(items) if t == "tuple" else items
    if t == "dict":
        if not isinstance(v, dict):
            raise malformed(where, "a dict value needs a JSON object")
        return {k: decode_value(x, f"{where}.{k}", resolve_var) for k, x in v.items()}
    raise malformed(where, f"unknown value tag {t!r}")


def decode_dtype(name, where: str) -> dtypes.DType:
    if not isinstance(name, str) or name not in dtypes._BY_NAME:
        raise malformed(where, f"unknown dtype {name!r:.40}")
    return dtypes.as_dtype(name)


def decode_dims(v, where: str):
    if v is None:
        return None
    if not isinstance(v, list) or not all(d is None or (type(d) is int and d >= 0) for d in v):
        raise malformed(
            where, f"a shape must be null or a list of non-negative ints/nulls, found {v!r:.60}"
        )
    return v


def _b64(v, where):
    try:
        return base64.b64decode(v, validate=True)
    except (TypeError, ValueError):
        raise malformed(where, "invalid base64 data") from None


def _decode_array(e, where):
    dt = decode_dtype(e.get("dtype"), where)
    shape = decode_dims(e.get("shape"), where)
    if shape is None or None in shape:
        raise malformed(where, "an array needs a fully known shape")
    n = int(np.prod(shape, dtype=np.int64))
    if dt is dtypes.string:
        items = e.get("items")
        if not isinstance(items, list) or len(items) != n:
            raise malformed(where, f"a string array of shape {shape} needs {n} items")
        out = np.empty(n, dtype=object)
        out[:] = [_b64(x, where) for x in items]
        return out.reshape(shape)
    raw = _b64(e.get("data"), where)
    want = dt.np.newbyteorder("<")
    if len(raw) != n * want.itemsize:
        raise malformed(
            where,
            f"array data has {len(raw)} bytes; shape {shape} of "
            f"{dt.name} needs {n * want.itemsize}",
        )
    return np.frombuffer(raw, dtype=want).astype(dt.np).reshape(shape)


# -- graphs -------------------------------------------------------------------------------
def unexportable_ops(graph) -> set:
    """Ops registered with ``exportable=False`` (they hold Python objects, such as a
    `tf.data` pipeline's functions) and every op computed from them or ordered after them.
    Exports leave these out."""
    dropped: set = set()
    for op in graph.get_operations():  # creation order is topological
        if (
            op.opdef.extra.get("exportable", True) is False
            or any(t.op in dropped for t in op.inputs)
            or any(c in dropped for c in op.control_inputs)
        ):
            dropped.add(op)
    return dropped


def graph_to_dict(graph, var_names: dict, skip=frozenset()) -> dict:
    """The ops of ``graph`` but ``skip`` (in creation order, which is topological) as
    JSON-ready data.

    Raises:
        UnserializableError: an attribute cannot be represented (names the op).
    """
    ops = []
    for op in graph.get_operations():
        if op in skip:
            continue
        try:
            attrs = {k: encode_value(v, var_names) for k, v in op.attrs.items()}
        except UnserializableError as e:
            raise UnserializableError(
                None, op, f"Cannot export op '{op.name}' (type {op.type}): {e.message}"
            ) from None
        entry = {
            "name": op.name,
            "type": op.type,
            "inputs": [t.name for t in op.inputs],
            "control_inputs": [c.name for c in op.control_inputs],
            "attrs": attrs,
            "outputs": [{"dtype": t.dtype.name, "shape": encode_dims(t.shape)} for t in op.outputs],
        }
        if op.grad_type != op.type:
            entry["grad_type"] = op.grad_type
        if op.device:
            entry["device"] = op.device
        ops.append(entry)
    return {"seed": graph.seed, "ops": ops}


def import_graph(
    graph, data, resolve_var, scope: str = "", input_map=None, clear_devices=False
) -> dict:
    """Rebuilds the ops of `graph_to_dict` data into ``graph``; returns name -> Operation.

    ``resolve_var(name, where)`` gives the variable object for a ``var`` attribute.
    Names get the prefix ``scope/`` when ``scope`` is given. ``input_map`` replaces
    inputs named in the file ("x:0") by tensors of ``graph``. An op keeps the device
    it was saved with (as TF, over an enclosing ``tf.device``) unless ``clear_devices``.

    Raises:
        NotFoundError: an op type is not registered in this process.
        InvalidArgumentError: the data is malformed or inconsistent.
    """
    if not isinstance(data, dict) or not isinstance(data.get("ops"), list):
        raise malformed("graph_def", "expected an object with an 'ops' list")
    seed = data.get("seed")
    if seed is not None and type(seed) is not int:
        raise malformed("graph_def.seed", "must be an int or null")
    if graph.seed is None:
        graph.seed = seed
    prefix = f"{scope}/" if scope else ""
    built: dict = {}
    mapped = {(k if ":" in k else f"{k}:0"): v for k, v in (input_map or {}).items()}
    for t in mapped.values():
        if not isinstance(t, Tensor) or t.graph is not graph:
            raise ValueError(f"input_map values must be tensors of the importing graph, got {t!r}")
    for i, entry in enumerate(data["ops"]):
        op = _import_op(graph, entry, f"graph_def.ops[{i}]", built, resolve_var, prefix, mapped)
        device = entry.get("device", "")
        if not isinstance(device, str):
            raise malformed(f"op '{entry['name']}'", "'device' must be a string")
        if device and not clear_devices:
            op._set_device(device)
        built[op.name[len(prefix) :]] = op
    unused = set(mapped) - _used_inputs(data["ops"])
    if unused:
        raise ValueError(
            f"Attempted to map inputs that were not found in graph_def: "
            f"[{', '.join(sorted(unused))}]"
        )
    return built


def _used_inputs(ops) -> set:
    return {ref for entry in ops for ref in entry.get("inputs", [])}


def _import_op(graph, entry, where, built, resolve_var, prefix, mapped):
    if not isinstance(entry, dict):
        raise malformed(where, "an op must be a JSON object")
    name, op_type = entry.get("name"), entry.get("type")
    if not isinstance(name, str) or not name or not isinstance(op_type, str):
        raise malformed(where, "an op needs string 'name' and 'type'")
    where = f"op '{name}'"
    if not has_op(op_type):
        raise errors.NotFoundError(
            None,
            None,
            f"Op type not registered '{op_type}' (op '{name}' in the graph file). "
            "Import the module that defines it before loading, or re-export the graph.",
        )
    full = prefix + name
    if name in built:
        raise malformed(where, f"duplicate op name '{full}'")
    if full in graph._by_name:
        raise errors.InvalidArgumentError(
            None,
            None,
            f"Cannot import op '{full}': the graph already has an op of that "
            "name. Import into a new graph, or pass import_scope to prefix the names.",
        )
    opdef = lookup_op(op_type)
    inputs = [
        mapped[ref] if ref in mapped else _tensor(built, ref, where)
        for ref in _str_list(entry, "inputs", where)
    ]
    controls = []
    for ref in _str_list(entry, "control_inputs", where):
        if ref not in built:
            raise malformed(where, f"control input '{ref}' is not an earlier op")
        controls.append(built[ref])
    raw_attrs = entry.get("attrs")
    if not isinstance(raw_attrs, dict):
        raise malformed(where, "'attrs' must be a JSON object")
    attrs = {k: decode_value(v, f"{where} attr '{k}'", resolve_var) for k, v in raw_attrs.items()}
    value, dtype = attrs.get("value"), attrs.get("dtype")
    if (
        isinstance(value, np.ndarray)
        and isinstance(dtype, dtypes.DType)
        and dtypes.as_dtype(value.dtype) != dtype
    ):
        raise malformed(where, f"its value is {value.dtype} but its dtype attr is {dtype.name}")
    specs = _output_specs(opdef, inputs, attrs, entry.get("outputs"), where)
    op = Operation(graph, full, opdef, inputs, attrs, controls, specs)
    grad_type = entry.get("grad_type")
    if grad_type is not None:
        if not isinstance(grad_type, str):
            raise malformed(where, "'grad_type' must be a string")
        op.grad_type = grad_type
    graph._add_op(op)
    _mark_used(graph, full)
    return op


def _str_list(entry, key, where):
    v = entry.get(key, [])
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise malformed(where, f"'{key}' must be a list of names")
    return v


def _tensor(built, ref, where) -> Tensor:
    op_name, _, index = ref.rpartition(":")
    op = built.get(op_name)
    if op is None or not index.isdigit() or int(index) >= len(op.outputs):
        raise malformed(where, f"input '{ref}' is not an output of an earlier op")
    return op.outputs[int(index)]


def _output_specs(opdef, inputs, attrs, stored, where):
    """Output (dims, dtype) from the op's own shape rule, checked against the file."""
    try:
        specs = _infer(opdef, inputs, attrs, where)
    except Exception as e:  # noqa: BLE001  any failure of the rule means bad attrs/inputs
        raise malformed(
            where, f"attributes or inputs do not fit op type {opdef.type}: {type(e).__name__}: {e}"
        ) from None
    if not isinstance(stored, list) or len(stored) != len(specs):
        raise malformed(where, f"'outputs' must list {len(specs)} outputs")
    out = []
    for k, ((dims, dt), s) in enumerate(zip(specs, stored)):
        if not isinstance(s, dict):
            raise malformed(where, f"output {k} must be an object")
        if decode_dtype(s.get("dtype"), where) != dt:
            raise malformed(
                where,
                f"output {k} has dtype {s.get('dtype')} in the file but "
                f"{dtypes.as_dtype(dt).name} by the op's rule",
            )
        try:
            shape = TensorShape(dims).merge_with(TensorShape(decode_dims(s.get("shape"), where)))
        except ValueError:
            raise malformed(
                where,
                f"output {k} shape {s.get('shape')} contradicts the op's "
                f"shape rule {TensorShape(dims)}",
            ) from None
        out.append((shape.as_tuple(), dt))
    return out


@contextlib.contextmanager
def all_or_nothing(graph):
    """Undoes every op, name, collection item and seed added to ``graph`` in the block if
    it raises, so a refused file leaves the graph as it was."""
    n_ops, names = len(graph._ops), dict(graph._names_in_use)
    collections = {k: list(v) for k, v in graph._collections.items()}
    seed = graph.seed
    try:
        yield
    except BaseException:
        added = set(graph._ops[n_ops:])
        for op in added:
            graph._by_name.pop(op.name, None)
        del graph._ops[n_ops:]
        for op in graph._ops:
            op._consumers = [c for c in op._consumers if c not in added]
        graph._names_in_use, graph._collections, graph.seed = names, collections, seed
        raise


def _mark_used(graph, name: str) -> None:
    """Registers ``name`` and its scopes so ops built later get fresh names."""
    parts = name.split("/")
    for i in range(1, len(parts) + 1):
        key = "/".join(parts[:i]).lower()
        graph._names_in_use[key] = max(graph._names_in_use.get(key, 0), 1)


def tensor_or_op_name(item) -> dict | None:
    """Tagged reference to a graph element (for collections), None if not one."""
    if isinstance(item, Tensor):
        return {"t": "tensor", "v": item.name}
    if isinstance(item, Operation):
        return {"t": "op", "v": item.name}
    return None
