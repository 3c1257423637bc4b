"""TensorFlow's ``GraphDef``/``MetaGraphDef`` protobufs <-> miniflow graphs.

Import (`import_graph_def_proto`, `import_meta_graph_def`) maps each ``NodeDef`` onto a
registered miniflow op (`tf_op_import` holds the per-op differences), turns TF1
variables (``VariableV2`` and their ``Assign``/``Apply*`` ref inputs) into miniflow
variables, drops the file's own saver ops (``save/...``; the returned `Saver` restores
the same checkpoint names, read from the file's ``SaveV2`` node) and rebuilds
collections. A TF1 ``tf.cond`` (``Switch``/``Merge``) becomes a ``Select``; a TF1 while
loop frame becomes a ``While`` op (`tf_while_import`). Nothing from the file is executed: only registered op types are
built, and every op type that cannot be built is named in one error before anything is
added.

Export (`graph_def_from_graph`, `meta_graph_def_from_graph`) lives in `tf_graph_export`
and is re-exported here.
"""

from __future__ import annotations

import logging
import os

import numpy as np

from miniflow import dtypes, errors
from miniflow.core.registry import has_op, lookup_op
from miniflow.core.shapes import TensorShape
from miniflow.graph import serialization as ser
from miniflow.graph.builder import _infer
from miniflow.graph.graph import GraphKeys, get_default_graph
from miniflow.graph.operation import Operation, Tensor
from miniflow.ops import tf_graph_ops  # noqa: F401  registers the TF-only kernels
from miniflow.ops.variables import Variable
from miniflow.train import tf_op_import as imp
from miniflow.train.tf_graph_export import (  # noqa: F401  the export half of this API
    graph_def_from_graph,
    meta_graph_def_from_graph,
)
from miniflow.train.tf_proto_values import (  # noqa: F401  parsing helpers, used here and re-exported
    _is_tf_message,
    attr_from_proto,
    bad,
    dims_from_proto,
    is_miniflow_json,
    parse_proto,
    protos,
    read_proto_file,
)
from miniflow.train.tf_while_import import STRUCTURAL, Frames, build_frame, topological_order

_log = logging.getLogger("miniflow")

SAVER_OPS = frozenset(
    "SaveV2 RestoreV2 MergeV2Checkpoints ShardedFilename ShardedFilespec Save SaveSlices "
    "Restore RestoreSlice".split()
)
# Never built, whatever the registry holds: they would run Python named by the file.
DENIED_OPS = frozenset("PyFunc PyFuncStateless EagerPyFunc".split())
# Collections whose items are VariableDef protos.
VARIABLE_COLLECTIONS = frozenset(
    [
        GraphKeys.GLOBAL_VARIABLES,
        GraphKeys.TRAINABLE_VARIABLES,
        GraphKeys.LOCAL_VARIABLES,
        GraphKeys.MODEL_VARIABLES,
        GraphKeys.GLOBAL_STEP,
        GraphKeys.MOVING_AVERAGE_VARIABLES,
        "metric_variables",
    ]
)


# -- the node builder ------------------------------------------------------------------
class NodeBuilder:
    """What a converter of `tf_op_import` needs while one node is imported."""

    def __init__(self, importer, node, where):
        self._imp, self.node, self.where = importer, node, where
        self.full = importer.prefix + node.name
        self._helpers = 0
        self.controls = []

    def error(self, msg: str) -> errors.InvalidArgumentError:
        return bad(f"{self.where} (op {self.node.op})", msg)

    def const_value(self, i):
        """Input ``i``'s value if a ``Const`` node produces it, else None."""
        refs = self._imp.data_inputs(self.node)
        if i >= len(refs):
            raise self.error(f"has {len(refs)} inputs; input {i} is required")
        t = self._imp.resolve(refs[i], self.where)
        if t.op.type == "Const":
            return np.asarray(t.op.attrs["value"])
        return None

    def resolve(self, ref):
        return self._imp.resolve(ref, self.where)

    def switch_outputs(self, i) -> set:
        """(predicate ref, output index) of every ``Switch`` output input ``i`` depends
        on, through data and control inputs."""
        found, seen = set(), set()
        todo = [self._imp.data_inputs(self.node)[i]]
        while todo:
            ref = todo.pop().lstrip("^")
            name, _, index = ref.partition(":")
            node = self._imp.nodes.get(name)
            if node is None or ref in seen:
                continue
            seen.add(ref)
            if node.op == "Switch":  # then on through its data (nested conds)
                found.add((self._imp.data_inputs(node)[1], int(index or 0)))
                todo.append(self._imp.data_inputs(node)[0])
                continue
            todo.extend(node.input)
        return found

    def ref_variable(self, i):
        """The variable behind ref input ``i`` (a ``VariableV2`` node, maybe through
        ``Identity``/``RefIdentity``)."""
        ref = self._imp.data_inputs(self.node)[i]
        name = ref.split(":")[0]
        seen = 0
        while name in self._imp.nodes and self._imp.nodes[name].op in ("Identity", "RefIdentity"):
            name = self._imp.data_inputs(self._imp.nodes[name])[0].split(":")[0]
            seen += 1
            if seen > 100:
                break
        var = self._imp.variables.get(name)
        if var is None:
            raise self.error(f"input {i} ({ref}) must be a variable (a VariableV2 node)")
        return var

    def variable_for(self, node, attrs):
        dims = attrs.get("shape")
        var = Variable._from_serialized(
            self._imp.graph, attrs["dtype"], dims, node.name in self._imp.trainable
        )
        self._imp.variables[node.name] = var
        return var

    def const(self, value):
        return self.op("Const", [], {"value": value, "dtype": _dtype_of(value)}).outputs[0]

    def op(self, op_type, inputs, attrs, final=False) -> Operation:
        """Adds one miniflow op; ``final``: it carries the node's name and control inputs."""
        graph = self._imp.graph
        if final:
            name = self.full
        else:
            self._helpers += 1
            name = f"{self.full}/_tf{self._helpers}"
        if name in graph._by_name:
            raise errors.InvalidArgumentError(
                None,
                None,
                f"Cannot import node '{name}': the graph already has an op of that name. "
                "Import into a new graph, or pass a name/import_scope prefix.",
            )
        opdef = lookup_op(op_type)
        try:
            specs = _infer(opdef, list(inputs), attrs, name)
        except Exception as e:  # noqa: BLE001  a rule failing means inputs/attrs do not fit
            raise self.error(f"inputs or attributes do not fit: {type(e).__name__}: {e}") from None
        specs = [(TensorShape(dims).as_tuple(), dt) for dims, dt in specs]
        op = Operation(graph, name, opdef, inputs, attrs, self.controls if final else [], specs)
        graph._add_op(op)
        ser._mark_used(graph, name)
        return op


def _dtype_of(value):
    return dtypes.as_dtype(np.asarray(value).dtype)


# -- the importer ---------------------------------------------------------------------
class _Importer:
    clear_devices = False  # import_meta_graph(clear_devices=True) sets it

    def __init__(self, graph, graph_def, prefix, input_map, skip_scopes=(), trainable=()):
        self.graph, self.prefix = graph, prefix
        self.nodes = {}
        for i, node in enumerate(graph_def.node):
            if not node.name:
                raise bad(f"GraphDef node {i}", "a node needs a name")
            if node.name in self.nodes:
                raise bad(f"GraphDef node {i}", f"duplicate node name '{node.name}'")
            self.nodes[node.name] = node
        self.input_map = {}
        for k, v in (input_map or {}).items():
            if not isinstance(v, Tensor) or v.graph is not graph:
                raise ValueError(
                    f"input_map values must be tensors of the importing graph, got {v!r}"
                )
            self.input_map[k if ":" in k else f"{k}:0"] = v
        self.trainable = set(trainable)
        library = getattr(graph_def, "library", None)
        self.library = {f.signature.name: f for f in library.function} if library else {}
        self.variables: dict = {}
        self.built: dict = {}  # node name -> list of output tensors
        self.ops: dict = {}  # node name -> the Operation carrying its name
        self.skipped = self._saver_nodes(skip_scopes)

    node_builder = NodeBuilder

    @staticmethod
    def data_inputs(node):
        return [r for r in node.input if not r.startswith("^")]

    def _saver_nodes(self, scopes) -> set:
        """The file's own save/restore ops (by type, or under the saver's scope) and
        everything that depends on them."""
        users: dict = {}
        for name, node in self.nodes.items():
            for r in node.input:
                users.setdefault(r.lstrip("^").split(":")[0], []).append(name)
        todo = [
            n
            for n, node in self.nodes.items()
            if node.op in SAVER_OPS or (scopes and n.startswith(scopes))
        ]
        skip: set = set()
        while todo:
            name = todo.pop()
            if name not in skip:
                skip.add(name)
                todo.extend(users.get(name, ()))
        return skip

    def check_supported(self) -> None:
        """Raises one error naming every op type that cannot be imported."""
        missing: dict = {}
        for name, node in self.nodes.items():
            if name in self.skipped:
                continue
            why = _unsupported(node)
            if why:
                missing.setdefault((node.op, why), []).append(name)
        if missing:
            lines = [
                f"{op} ({why}; {len(names)} node{'s' if len(names) > 1 else ''}, e.g. '{names[0]}')"
                for (op, why), names in sorted(missing.items())
            ]
            kinds = sorted({op for op, _ in missing})
            raise errors.InvalidArgumentError(
                None,
                None,
                f"Cannot import the graph: {len(kinds)} op type(s) have no miniflow "
                f"equivalent: {', '.join(kinds)}. Details: " + "; ".join(lines),
            )

    def order(self) -> list:
        """The nodes to build, inputs first; a while loop frame is one entry,
        ``"\0" + frame name`` (`tf_while_import`)."""
        pending = {}
        self.frames = Frames(self.nodes, self.skipped)
        unit = {n: self.frames.unit(n) for n in self.frames.frame}
        for name, node in self.nodes.items():
            if name in self.skipped:
                continue
            key = name if unit.get(name) is None else "\0" + unit[name]
            deps = pending.setdefault(key, set())
            for r in node.input:
                src = r.lstrip("^").split(":")[0]
                ref = r if ":" in r else f"{r}:0"
                if not r.startswith("^") and ref in self.input_map:
                    continue
                if src not in self.nodes:
                    raise bad(f"node '{name}'", f"input '{r}' names no node of the graph")
                if src in self.skipped:
                    raise bad(f"node '{name}'", f"input '{r}' is a save/restore op")
                src_key = src if unit.get(src) is None else "\0" + unit[src]
                if src_key == key:
                    continue
                if key == name and src_key != src and self.nodes[src].op != "Exit":
                    raise bad(
                        f"node '{name}'",
                        f"input '{r}' is inside while loop frame '{unit[src]}'; a loop's "
                        "values leave it only through an Exit",
                    )
                deps.add(src_key)
        out, stuck = topological_order(pending)
        if stuck:
            raise bad(
                "GraphDef",
                f"the graph has a cycle through {len(stuck)} nodes (e.g. {stuck[:5]}) that "
                "is not a TF1 while loop",
            )
        return out

    def resolve(self, ref, where) -> Tensor:
        key = ref if ":" in ref else f"{ref}:0"
        if key in self.input_map:
            return self.input_map[key]
        name, _, index = key.rpartition(":")
        outs = self.built.get(name)
        if outs is None or not index.isdigit() or int(index) >= len(outs):
            raise bad(where, f"input '{ref}' is not an output of the graph")
        return outs[int(index)]

    def build(self, name) -> None:
        node = self.nodes[name]
        where = f"node '{name}'"
        b = NodeBuilder(self, node, where)
        attrs = {
            k: attr_from_proto(v, f"{where} attr '{k}'")
            for k, v in node.attr.items()
            if not k.startswith("_")
        }
        ins = [self.resolve(r, where) for r in self.data_inputs(node)]
        for r in node.input:
            if r.startswith("^"):
                b.controls.append(self.ops[r[1:]])
        conv = imp.CONVERTERS.get(node.op)
        if conv is None:
            result = b.op(node.op, ins, {}, final=True)
        else:
            try:
                result = conv(b, node, ins, attrs)
            except errors.OpError:
                raise
            except KeyError as e:  # an attribute TensorFlow always writes is not there
                raise b.error(f"the attribute {e} is missing") from None
        if node.device and not self.clear_devices:  # as TF: over an enclosing tf.device
            for op in [result] if isinstance(result, Operation) else {t.op for t in result}:
                op._set_device(node.device)
        if isinstance(result, Operation):
            self.ops[name], self.built[name] = result, list(result.outputs)
        else:
            self.built[name] = list(result)
            if b.controls or not result:
                raise b.error("a multi-op conversion cannot take control inputs")
            self.ops[name] = result[-1].op

    def run(self) -> dict:
        self.check_supported()
        for key in self.order():
            if key.startswith("\0"):
                build_frame(self, self.frames, key[1:])
            else:
                self.build(key)
        used = {r if ":" in r else f"{r}:0" for n in self.nodes.values() for r in n.input}
        unused = set(self.input_map) - used
        if unused:
            raise ValueError(
                "Attempted to map inputs that were not found in graph_def: "
                f"[{', '.join(sorted(unused))}]"
            )
        return self.built


def _unsupported(node) -> str | None:
    op = node.op
    if op in DENIED_OPS:
        return "runs Python code; never imported"
    if op in imp.CONTROL_FLOW:
        if op.startswith("Ref"):
            return "TF1 control flow on reference tensors is not supported"
        return (
            "TF2 control flow (functions of the graph's library) is not supported; "
            "TF writes TF1 loops/conds after tf.disable_v2_behavior()"
        )
    if op in STRUCTURAL:
        return None
    if op in imp.CONVERTERS:
        return None
    if not has_op(op):
        return "no miniflow kernel"
    extra = [k for k in node.attr if not k.startswith("_") and k not in imp.TYPE_ATTRS]
    if extra:
        return f"attributes {extra} are not mapped"
    return None


# -- GraphDef import ------------------------------------------------------------------------
def as_graph_def_proto(graph_def):
    """A ``graph_pb2.GraphDef`` from a proto, or binary/text bytes."""
    p = protos()
    if isinstance(graph_def, p.graph_pb2.GraphDef):
        return graph_def
    if _is_tf_message(graph_def, "GraphDef"):  # TensorFlow's own class
        graph_def = graph_def.SerializeToString()
    if isinstance(graph_def, bytes | bytearray | memoryview):
        return parse_proto(graph_def, p.graph_pb2.GraphDef, "GraphDef data")
    raise TypeError(
        f"graph_def must be a GraphDef proto or its serialized bytes, not "
        f"{type(graph_def).__name__}"
    )


def import_graph_def_proto(graph_def, input_map=None, return_elements=None, name=None):
    """`tf.import_graph_def` for TensorFlow's ``GraphDef`` (proto or bytes): adds its nodes
    under the scope ``name`` (default ``"import"``); returns the ``return_elements``."""
    graph_def = as_graph_def_proto(graph_def)
    graph = get_default_graph()
    scope = graph.unique_name("import" if name is None else name) if name != "" else ""
    with ser.all_or_nothing(graph), graph.as_default():
        imp_ = _Importer(graph, graph_def, f"{scope}/" if scope else "", input_map)
        built = imp_.run()
        _attach_variables(imp_, {})
    if return_elements is None:
        return None
    out = []
    for ref in return_elements:
        op_name, colon, index = ref.partition(":")
        if op_name not in built or (
            colon and not (index.isdigit() and int(index) < len(built[op_name]))
        ):
            raise ValueError(f"Requested return_element {ref!r} not found in graph_def.")
        out.append(built[op_name][int(index)] if colon else imp_.ops[op_name])
    return out


# -- MetaGraphDef import ----------------------------------------------------------------------
def import_meta_graph_def(meta_graph_def, import_scope=None, input_map=None, clear_devices=False):
    """Imports a TensorFlow ``MetaGraphDef`` (proto or bytes) into the default graph.

    Variables become miniflow variables (in the collections the file lists them in); the
    returned `Saver` restores TensorFlow checkpoints of this graph into them (the names and
    slices of the file's own saver; None if there are no variables). The proto's
    ``signature_def`` stays readable on ``meta_graph_def``; its tensor names get the
    ``import_scope/`` prefix in the graph.

    Raises:
        InvalidArgumentError: an op type has no miniflow equivalent (all are named), or
            the file is inconsistent (a missing input, a bad attribute).
        DataLossError: the bytes are not a MetaGraphDef.
    """
    p = protos()
    meta = meta_graph_def
    if _is_tf_message(meta, "MetaGraphDef") and not isinstance(meta, p.meta_graph_pb2.MetaGraphDef):
        meta = meta.SerializeToString()  # TensorFlow's own class
    if isinstance(meta, bytes | bytearray | memoryview):
        meta = parse_proto(meta, p.meta_graph_pb2.MetaGraphDef, "MetaGraphDef data")
    if not isinstance(meta, p.meta_graph_pb2.MetaGraphDef):
        raise TypeError(f"expected a MetaGraphDef proto, not {type(meta).__name__}")
    graph = get_default_graph()
    prefix = f"{import_scope}/" if import_scope else ""
    var_defs = _variable_defs(meta)
    trainable = {
        d.variable_name.split(":")[0] for d in var_defs.get(GraphKeys.TRAINABLE_VARIABLES, [])
    }
    saver_scope = ()
    if meta.HasField("saver_def") and meta.saver_def.filename_tensor_name:
        saver_scope = (meta.saver_def.filename_tensor_name.split("/")[0] + "/",)
    with ser.all_or_nothing(graph), graph.as_default():
        imp_ = _Importer(graph, meta.graph_def, prefix, input_map, saver_scope, trainable)
        imp_.clear_devices = bool(clear_devices)
        imp_.run()
        _attach_variables(imp_, var_defs)
        _import_collections(imp_, meta, var_defs)
        from miniflow.train.tf_saver_def import saver_from_graph

        return saver_from_graph(imp_, meta)


def _variable_defs(meta) -> dict:
    p = protos()
    out = {}
    for key, col in meta.collection_def.items():
        if key in VARIABLE_COLLECTIONS and col.WhichOneof("kind") == "bytes_list":
            defs = []
            for i, raw in enumerate(col.bytes_list.value):
                d = p.variable_pb2.VariableDef()
                try:
                    d.ParseFromString(raw)
                except p.DecodeError as e:
                    raise errors.DataLossError(
                        None, None, f"collection '{key}' item {i} is not a VariableDef: {e}"
                    ) from None
                defs.append(d)
            out[key] = defs
    return out


def _attach_variables(imp_, var_defs) -> None:
    seen = set()
    for defs in var_defs.values():
        for d in defs:
            name = d.variable_name.split(":")[0]
            if name in seen:
                continue
            seen.add(name)
            var = imp_.variables.get(name)
            if var is None:
                raise bad(f"VariableDef '{d.variable_name}'", "names no VariableV2 node")
            init = imp_.ops.get(d.initializer_name)
            if init is None:
                raise bad(
                    f"VariableDef '{d.variable_name}'", f"no initializer '{d.initializer_name}'"
                )
            value = None
            if d.initial_value_name:
                try:
                    value = imp_.resolve(d.initial_value_name, f"VariableDef '{d.variable_name}'")
                except errors.InvalidArgumentError:
                    value = None
            var._attach_ops(imp_.built[name][0], init, value)
    for name, var in imp_.variables.items():
        if var._read is None:  # a variable no collection lists: find its Assign
            read = imp_.built[name][0]
            init = next(
                (
                    op
                    for op in read.graph.get_operations()
                    if op.type == "Assign" and op.attrs.get("var") is var
                ),
                None,
            )
            var._attach_ops(read, init, init.inputs[0] if init is not None else None)


def _import_collections(imp_, meta, var_defs) -> None:
    graph = imp_.graph
    for key, col in meta.collection_def.items():
        kind = col.WhichOneof("kind")
        if key in var_defs:
            for d in var_defs[key]:
                graph.add_to_collection(key, imp_.variables[d.variable_name.split(":")[0]])
        elif kind == "node_list":
            for ref in col.node_list.value:
                name = ref.split(":")[0]
                if name in imp_.skipped:
                    continue
                if name not in imp_.ops:
                    raise bad(f"collection '{key}'", f"'{ref}' is not in the graph")
                item = imp_.resolve(ref, f"collection '{key}'") if ":" in ref else imp_.ops[name]
                graph.add_to_collection(key, item)
        elif kind in ("int64_list", "float_list"):
            for v in getattr(col, kind).value:
                graph.add_to_collection(key, v)
        elif kind == "bytes_list" and key not in ("savers",):
            _log.warning("import_meta_graph: collection '%s' (protos) is not imported", key)


def signature_tensors(meta, key: str, import_scope=None) -> tuple[dict, dict]:
    """The input and output tensors (``{name: Tensor}``) of signature ``key`` in the
    default graph after `import_meta_graph_def`."""
    if key not in meta.signature_def:
        raise KeyError(f"No signature '{key}' (the file has {sorted(meta.signature_def)})")
    graph = get_default_graph()
    prefix = f"{import_scope}/" if import_scope else ""
    sig = meta.signature_def[key]
    return (
        {k: graph.get_tensor_by_name(prefix + v.name) for k, v in sig.inputs.items()},
        {k: graph.get_tensor_by_name(prefix + v.name) for k, v in sig.outputs.items()},
    )


def tensor_info_shape(info):
    """A ``TensorInfo``'s static shape as a `TensorShape`."""
    return TensorShape(dims_from_proto(info.tensor_shape, f"TensorInfo '{info.name}'"))


# -- the public entry points ----------------------------------------------------------------
def import_meta_graph(
    meta_graph_or_file, clear_devices=False, import_scope=None, input_map=None, **kwargs
):
    """`tf.train.import_meta_graph` for both formats: TensorFlow's ``MetaGraphDef``
    (a proto, or a binary or text file: ``.pbtxt``/``.txt`` are read as text, anything
    else as binary, then text) and miniflow's own JSON meta graph (a file whose content is
    a JSON object, or a miniflow `MetaGraphDef`). Returns the `Saver` of its variables.

    Raises:
        NotFoundError: the file does not exist.
        DataLossError: the file is neither a valid MetaGraphDef nor miniflow's format.
        InvalidArgumentError: op types without a miniflow equivalent (all named), or an
            inconsistent graph.
    """
    from miniflow.train.saver import import_meta_graph as import_miniflow_meta_graph

    if _is_tf_message(meta_graph_or_file, "MetaGraphDef"):
        meta = meta_graph_or_file
    elif isinstance(meta_graph_or_file, str | os.PathLike):
        path = os.fspath(meta_graph_or_file)
        try:
            with open(path, "rb") as fh:
                head = fh.read(64)
        except FileNotFoundError:
            raise errors.NotFoundError(
                None, None, f"Meta graph file {path} does not exist"
            ) from None
        if is_miniflow_json(head):
            return import_miniflow_meta_graph(
                path, clear_devices, import_scope, input_map, **kwargs
            )
        meta = read_proto_file(path, protos().meta_graph_pb2.MetaGraphDef, "Meta graph file")
    else:
        return import_miniflow_meta_graph(
            meta_graph_or_file, clear_devices, import_scope, input_map, **kwargs
        )
    if kwargs:
        raise errors.UnimplementedError(
            None, None, f"import_meta_graph does not support {sorted(kwargs)}"
        )
    return import_meta_graph_def(meta, import_scope, input_map, clear_devices)
