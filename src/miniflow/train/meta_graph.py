"""Meta graphs: a graph plus its variables, collections, saver and signatures in one
versioned, checksummed JSON document (docs/persistence.md), so a trained model can be
restored and run without the Python code that built it."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field

from miniflow import errors
from miniflow.core.shapes import TensorShape
from miniflow.dtypes import DType
from miniflow.graph import serialization as ser
from miniflow.graph.file_io import atomic_write, dump_envelope, load_envelope
from miniflow.graph.graph import get_default_graph
from miniflow.graph.operation import Operation
from miniflow.ops.variables import Variable

META_FORMAT = "miniflow.meta_graph"
META_VERSION = 1
_log = logging.getLogger("miniflow")


@dataclass
class TensorInfo:
    """A signature entry: the tensor's graph name, dtype and static shape."""

    name: str
    dtype: DType
    tensor_shape: TensorShape


@dataclass
class SignatureDef:
    """Named inputs and outputs of a graph computation (e.g. a serving function)."""

    inputs: dict[str, TensorInfo] = field(default_factory=dict)
    outputs: dict[str, TensorInfo] = field(default_factory=dict)
    method_name: str = ""


class MetaGraphDef:
    """An exported meta graph (the parsed JSON body; see `export_meta_graph`)."""

    def __init__(self, body: dict):
        self._body = body

    @property
    def tags(self) -> list:
        return list(self._body["meta_info_def"].get("tags", []))

    @property
    def signature_def(self) -> dict[str, SignatureDef]:
        return {k: _decode_signature(v, k) for k, v in self._body["signature_def"].items()}

    @property
    def collection_def(self) -> dict:
        return dict(self._body["collection_def"])

    @property
    def saver_def(self) -> dict | None:
        return self._body["saver_def"]

    def to_json(self) -> bytes:
        return dump_envelope(META_FORMAT, META_VERSION, self._body)

    @classmethod
    def from_json(cls, data: bytes, what: str = "Meta graph") -> MetaGraphDef:
        body = load_envelope(data, META_FORMAT, META_VERSION, what)
        _check_body(body)
        return cls(body)


def build_meta_graph(
    graph=None, saver_def=None, signature_def_map=None, tags=(), collection_list=None
) -> MetaGraphDef:
    """A `MetaGraphDef` of ``graph`` (default graph), with optional saver/signatures."""
    graph = graph or get_default_graph()
    dropped = ser.unexportable_ops(graph)
    if dropped:
        _log.warning(
            "Exporting the graph without %d ops that hold Python objects (tf.data "
            "pipelines) or are computed from them: %s",
            len(dropped),
            ", ".join(sorted(op.name for op in dropped)[:10])
            + (", ..." if len(dropped) > 10 else ""),
        )
    variables = _graph_variables(graph, dropped)
    var_names = {id(v): v.op_name for v in variables}
    keys = graph.get_all_collection_keys() if collection_list is None else collection_list
    signatures = signature_def_map or {}
    _check_signatures(graph, signatures, dropped)
    body = {
        "meta_info_def": {"tags": sorted(tags), "miniflow_version": _version()},
        "graph_def": ser.graph_to_dict(graph, var_names, dropped),
        "variables": [_encode_variable(v, dropped) for v in variables],
        "collection_def": {
            k: items for k in keys if (items := _encode_collection(graph, k, var_names, dropped))
        },
        "saver_def": saver_def,
        "signature_def": {k: _encode_signature(s) for k, s in signatures.items()},
    }
    return MetaGraphDef(body)


def _check_signatures(graph, signatures, dropped):
    for key, sig in signatures.items():
        for info in [*sig.inputs.values(), *sig.outputs.values()]:
            if graph.as_graph_element(info.name).op in dropped:
                raise ser.UnserializableError(
                    None,
                    None,
                    f"Signature '{key}' uses {info.name}, which is computed from "
                    "a tf.data pipeline and cannot be exported; feed a placeholder instead.",
                )


def export_meta_graph(
    filename=None,
    meta_info_def=None,
    graph_def=None,
    saver_def=None,
    collection_list=None,
    as_text=False,
    graph=None,
    export_scope=None,
    clear_devices=False,
    clear_extraneous_savers=False,
    strip_default_attrs=False,
    save_debug_info=False,
    format=None,  # noqa: A002  (a keyword argument)
    saver=None,
    **kwargs,
):
    """Writes the graph, its variables, collections and saver to ``filename``.

    Two formats: miniflow's JSON meta graph (the default), or TensorFlow's
    ``MetaGraphDef`` protobuf, which TensorFlow's ``import_meta_graph`` reads: chosen with
    ``format="tf"``, ``as_text=True`` (text format) or a ``.pb``/``.pbtxt`` filename
    (docs/tf_files.md). `import_meta_graph` reads both.

    Args:
        filename: where to write (atomically); None only builds the `MetaGraphDef`.
        saver_def: a `Saver`'s ``saver_def`` to record (`import_meta_graph` rebuilds it).
        collection_list: the collections to record (default: all that can be encoded).
        as_text: write TensorFlow's text format.
        graph: the graph to export (default: the default graph).
        format: ``"miniflow"`` or ``"tf"`` (default: from ``as_text`` and the filename).
        saver: the `Saver` to record in TensorFlow's format (its ``save/`` subgraph).

    Returns:
        The `MetaGraphDef` (TensorFlow's ``meta_graph_pb2.MetaGraphDef`` for ``"tf"``).

    `tf.data` iterator ops and what is computed from them are left out, with a warning
    (their Python functions cannot be stored).

    Raises:
        UnimplementedError: an op holds another value the format cannot represent, or
            ``export_scope`` was given.

    Example:
        >>> tf.train.export_meta_graph("model.meta")
    """
    if export_scope is not None:
        raise errors.UnimplementedError(
            None, None, "export_meta_graph(export_scope=...) is not supported"
        )
    if format is None:
        name = "" if filename is None else os.fspath(filename)
        format = "tf" if as_text or name.endswith((".pb", ".pbtxt")) else "miniflow"  # noqa: A001
    if format not in ("miniflow", "tf"):
        raise ValueError(f"export_meta_graph format must be 'miniflow' or 'tf', got {format!r}")
    if format == "tf":
        return _export_tf(
            filename, saver, saver_def, collection_list, as_text, graph, clear_devices
        )
    tags = (meta_info_def or {}).get("tags", ()) if isinstance(meta_info_def, dict) else ()
    meta = build_meta_graph(graph, saver_def, None, tags, collection_list)
    if clear_devices:
        for entry in meta._body["graph_def"]["ops"]:
            entry.pop("device", None)
    if filename is not None:
        data = meta.to_json()
        atomic_write(os.fspath(filename), lambda fh: fh.write(data))
    return meta


def _export_tf(filename, saver, saver_def, collection_list, as_text, graph, clear_devices=False):
    from miniflow.train import tf_graph_export

    graph = graph or get_default_graph()
    if saver is None and saver_def is not None:
        saver = _SaverView(graph, saver_def)
    meta = tf_graph_export.meta_graph_def_from_graph(graph, saver, collection_list)
    if clear_devices:
        for node in meta.graph_def.node:
            node.device = ""
    if filename is not None:
        tf_graph_export.write_proto(meta, os.fspath(filename), as_text)
    return meta


class _SaverView:
    """The variables a miniflow ``saver_def`` names, for TensorFlow's format."""

    def __init__(self, graph, saver_def):
        by_name = {v.op_name: v for v in _graph_variables(graph, set())}
        try:
            self._vars = {k: by_name[v] for k, v in saver_def["var_names"].items()}
        except KeyError as e:
            raise ValueError(f"saver_def names variable {e} that is not in the graph") from None
        self._max_to_keep = saver_def.get("max_to_keep", 5)
        self._keep_every_s = saver_def.get("keep_checkpoint_every_n_hours", 10000.0) * 3600.0


def import_into(
    graph, meta: MetaGraphDef, scope: str = "", input_map=None, clear_devices=False
) -> dict:
    """Rebuilds ``meta`` into ``graph``; returns the variables by their file names.

    Either everything is added or, on any error, nothing.
    """
    with ser.all_or_nothing(graph):
        return _import_into(graph, meta._body, scope, input_map, clear_devices)


def _import_into(graph, body, scope, input_map, clear_devices=False) -> dict:
    variables = {}
    for i, spec in enumerate(body["variables"]):
        where = f"variables[{i}]"
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
            raise ser.malformed(where, "a variable needs a name")
        if type(spec.get("trainable")) is not bool:
            raise ser.malformed(where, "'trainable' must be a bool")
        variables[spec["name"]] = Variable._from_serialized(
            graph,
            ser.decode_dtype(spec.get("dtype"), where),
            ser.decode_dims(spec.get("shape"), where),
            spec["trainable"],
        )

    def resolve_var(name, where):
        if name not in variables:
            raise ser.malformed(where, f"unknown variable '{name}'")
        return variables[name]

    with graph.as_default():
        built = ser.import_graph(
            graph, body["graph_def"], resolve_var, scope, input_map, clear_devices
        )
    for spec in body["variables"]:
        var, where = variables[spec["name"]], f"variable '{spec['name']}'"
        read = _lookup(built, spec.get("read"), where, tensor=True)
        if read.op.type != "VariableV2" or read.op.attrs.get("var") is not var:
            raise ser.malformed(where, f"'{spec.get('read')}' is not this variable's op")
        init_value = spec.get("initial_value")
        var._attach_ops(
            read,
            _lookup(built, spec.get("initializer"), where, tensor=False),
            None if init_value is None else _lookup(built, init_value, where, True),
        )
    for key, items in body["collection_def"].items():
        for j, item in enumerate(items):
            graph.add_to_collection(
                key, _decode_item(item, f"collection '{key}'[{j}]", built, resolve_var)
            )
    return variables


def _lookup(built, ref, where, tensor):
    if not isinstance(ref, str):
        raise ser.malformed(where, f"expected a graph element name, found {ref!r:.40}")
    op_name, _, index = ref.rpartition(":") if tensor else (ref, None, None)
    op = built.get(op_name)
    if op is None or (tensor and (not index.isdigit() or int(index) >= len(op.outputs))):
        raise ser.malformed(where, f"'{ref}' is not in the graph")
    return op.outputs[int(index)] if tensor else op


# -- encoding helpers -----------------------------------------------------------------------
def _graph_variables(graph, dropped) -> list:
    """The variables that ops refer to, also inside tuple/list/dict attributes (e.g. an
    optimizer op holding its slot variables)."""
    seen: dict = {}

    def visit(value):
        if isinstance(value, Variable):
            if not value._eager:
                seen.setdefault(id(value), value)
        elif isinstance(value, tuple | list):
            for item in value:
                visit(item)
        elif isinstance(value, dict):
            for item in value.values():
                visit(item)

    for op in graph.get_operations():
        if op not in dropped:
            for value in op.attrs.values():
                visit(value)
    return list(seen.values())


def _encode_variable(v, dropped) -> dict:
    if v.initializer in dropped:
        raise ser.UnserializableError(
            None,
            None,
            f"Variable {v.op_name} is initialized from a tf.data pipeline, so its "
            "graph cannot be exported.",
        )
    return {
        "name": v.op_name,
        "dtype": v.dtype.name,
        "shape": ser.encode_dims(v.shape),
        "trainable": v.trainable,
        "read": v._read.name,
        "initializer": v.initializer.name,
        "initial_value": None if v._initial_value is None else v._initial_value.name,
    }


def _encode_collection(graph, key, var_names, dropped) -> list:
    if not isinstance(key, str) or key == "savers":
        return []  # a Saver is exported as the meta graph's saver_def, not as an item
    out = []
    for item in graph.get_collection(key):
        op = item if isinstance(item, Operation) else getattr(item, "op", None)
        if op is not None and op in dropped:
            continue  # left out with its op (see build_meta_graph's warning)
        ref = ser.tensor_or_op_name(item)
        if ref is None:
            try:
                ref = ser.encode_value(item, var_names)
            except ser.UnserializableError:
                _log.warning("Collection '%s': cannot export %r; it is left out.", key, item)
                continue
        out.append(ref)
    return out


def _decode_item(item, where, built, resolve_var):
    if isinstance(item, dict) and item.get("t") in ("tensor", "op"):
        return _lookup(built, item.get("v"), where, tensor=item["t"] == "tensor")
    return ser.decode_value(item, where, resolve_var)


def _encode_signature(sig: SignatureDef) -> dict:
    def enc(infos):
        return {
            k: {
                "name": i.name,
                "dtype": i.dtype.name,
                "shape": ser.encode_dims(TensorShape(i.tensor_shape)),
            }
            for k, i in infos.items()
        }

    return {"method_name": sig.method_name, "inputs": enc(sig.inputs), "outputs": enc(sig.outputs)}


def _decode_signature(raw, key) -> SignatureDef:
    where = f"signature_def '{key}'"

    def dec(part):
        infos = raw.get(part) if isinstance(raw, dict) else None
        if not isinstance(infos, dict):
            raise ser.malformed(where, f"'{part}' must be an object")
        out = {}
        for k, i in infos.items():
            if not isinstance(i, dict) or not isinstance(i.get("name"), str):
                raise ser.malformed(where, f"{part} '{k}' needs a tensor name")
            out[k] = TensorInfo(
                i["name"],
                ser.decode_dtype(i.get("dtype"), where),
                TensorShape(ser.decode_dims(i.get("shape"), where)),
            )
        return out

    method = raw.get("method_name", "") if isinstance(raw, dict) else ""
    return SignatureDef(dec("inputs"), dec("outputs"), method if isinstance(method, str) else "")


def _check_body(body) -> None:
    shape = {
        "meta_info_def": dict,
        "graph_def": dict,
        "variables": list,
        "collection_def": dict,
        "signature_def": dict,
    }
    if not isinstance(body, dict):
        raise ser.malformed("meta graph", "the body must be a JSON object")
    for key, typ in shape.items():
        if not isinstance(body.get(key), typ):
            raise ser.malformed("meta graph", f"'{key}' must be a JSON {typ.__name__}")
    for key, items in body["collection_def"].items():
        if not isinstance(items, list):
            raise ser.malformed("meta graph", f"collection '{key}' must be a list")
    sd = body.get("saver_def")
    if sd is not None and not (
        isinstance(sd, dict)
        and isinstance(sd.get("var_names"), dict)
        and all(isinstance(v, str) for v in sd["var_names"].values())
        and type(sd.get("max_to_keep")) is int
        and type(sd.get("keep_checkpoint_every_n_hours")) in (int, float)
    ):
        raise ser.malformed(
            "saver_def",
            "needs var_names (name -> variable), max_to_keep and keep_checkpoint_every_n_hours",
        )
    for key in body["signature_def"]:
        _decode_signature(body["signature_def"][key], key)


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("miniflow")
    except PackageNotFoundError:
        return "unknown"
