"""``GraphDef``: a graph's ops as data (miniflow's JSON graph body, the ``graph_def`` of
a meta graph), and TF1's ``tf.graph_util`` operations on it: pruning to the nodes an
output needs, freezing variables into constants, dropping training-only nodes, and
``import_graph_def``.

A node's ``input`` uses TF's spelling (``"x"`` for output 0, ``"x:1"``, ``"^ctrl"``).
A GraphDef whose ops still refer to variables can be pruned and frozen but not imported
(its variables are Python objects); import a meta graph for that
(``tf.train.import_meta_graph``).

TensorFlow's own ``GraphDef`` protobuf (``graph.as_graph_def()``, a frozen ``.pb``) is
handled by `train.tf_graph_proto`: `import_graph_def` and `write_graph` take it too, and
`GraphDef.ParseFromString` reads its bytes when they are not miniflow's JSON.
"""

from __future__ import annotations

import copy
import json
import os

from miniflow import errors
from miniflow.graph import serialization as ser
from miniflow.graph.file_io import atomic_write
from miniflow.graph.graph import get_default_graph
from miniflow.graph.operation import Operation
from miniflow.train import tf_graph_proto
from miniflow.train.meta_graph import _graph_variables


def _tf_input(tensor_name: str) -> str:
    return tensor_name[:-2] if tensor_name.endswith(":0") else tensor_name


class NodeDef:
    """One op of a `GraphDef`: ``name``, ``op`` (its type), ``input`` (TF's spelling),
    ``attr`` (encoded values) and ``device`` (``""`` when unplaced)."""

    def __init__(self, entry: dict):
        self._entry = entry

    name = property(lambda self: self._entry["name"])
    op = property(lambda self: self._entry["type"])
    attr = property(lambda self: self._entry["attrs"])
    device = property(lambda self: self._entry.get("device", ""))

    @property
    def input(self) -> list:
        return [_tf_input(t) for t in self._entry["inputs"]] + [
            f"^{c}" for c in self._entry["control_inputs"]
        ]

    def __repr__(self):
        return f"NodeDef(name={self.name!r}, op={self.op!r}, input={self.input!r})"


class GraphDef:
    """A graph's ops as data. ``GraphDef.from_graph(graph)`` takes a snapshot (what TF's
    ``graph.as_graph_def()`` gives); ``SerializeToString``/``FromString`` round-trip it
    through bytes (JSON)."""

    def __init__(self, body: dict | None = None):
        self._body = body if body is not None else {"seed": None, "ops": []}
        self._proto = None  # TensorFlow's GraphDef message, when parsed from TF's bytes

    @classmethod
    def from_graph(cls, graph=None) -> GraphDef:
        """The ops of ``graph`` (default: the default graph) that can be exported."""
        graph = graph or get_default_graph()
        dropped = ser.unexportable_ops(graph)
        var_names = {id(v): v.op_name for v in _graph_variables(graph, dropped)}
        return cls(ser.graph_to_dict(graph, var_names, skip=dropped))

    @property
    def node(self) -> list:
        if self._proto is not None:
            return list(self._proto.node)
        return [NodeDef(e) for e in self._body["ops"]]

    def SerializeToString(self) -> bytes:  # noqa: N802  (protobuf's name)
        if self._proto is not None:
            return self._proto.SerializeToString()
        return json.dumps(self._body, sort_keys=True).encode()

    @classmethod
    def FromString(cls, data: bytes) -> GraphDef:  # noqa: N802
        g = cls()
        g.ParseFromString(data)
        return g

    def ParseFromString(self, data: bytes) -> None:  # noqa: N802
        """Reads miniflow's JSON form, or TensorFlow's binary GraphDef (e.g. a frozen
        ``.pb``; `import_graph_def` then imports it through `train.tf_graph_proto`).

        Raises: InvalidArgumentError (``DecodeError`` in TF): not a GraphDef.
        """
        data = bytes(data)
        if not tf_graph_proto.is_miniflow_json(data):
            try:
                self._proto = tf_graph_proto.as_graph_def_proto(data)
            except errors.DataLossError as e:
                raise errors.InvalidArgumentError(
                    None, None, f"Not a GraphDef: {e.message}"
                ) from None
            self._body = {"seed": None, "ops": []}
            return
        try:
            body = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            raise errors.InvalidArgumentError(None, None, f"Not a miniflow GraphDef: {e}") from None
        if not isinstance(body, dict) or not isinstance(body.get("ops"), list):
            raise errors.InvalidArgumentError(
                None, None, "Not a miniflow GraphDef: expected an object with an 'ops' list"
            )
        self._body, self._proto = body, None

    def to_text(self) -> str:
        """The readable form ``write_graph(as_text=True)`` writes (indented JSON, which
        `ParseFromString` also reads)."""
        return json.dumps(self._body, sort_keys=True, indent=1)

    def CopyFrom(self, other: GraphDef) -> None:  # noqa: N802
        self._body = copy.deepcopy(other._body)
        self._proto = None if other._proto is None else copy.deepcopy(other._proto)

    def __eq__(self, other):
        return (
            isinstance(other, GraphDef)
            and self._body == other._body
            and self._proto == other._proto
        )

    def __repr__(self):
        return f"GraphDef({len(self.node)} nodes)"


def as_graph_def(graph_or_graph_def) -> GraphDef:
    """A `GraphDef` from a GraphDef or a `Graph` (TF's functions take GraphDefs; here a
    graph, e.g. ``sess.graph``, is accepted too)."""
    if isinstance(graph_or_graph_def, GraphDef):
        if graph_or_graph_def._proto is not None:
            raise TypeError(
                "This function works on miniflow's GraphDef; this one holds TensorFlow's "
                "GraphDef proto: import it first (tf.import_graph_def)."
            )
        return graph_or_graph_def
    if hasattr(graph_or_graph_def, "get_operations"):
        return GraphDef.from_graph(graph_or_graph_def)
    raise TypeError(f"graph_def must be a GraphDef proto, not {type(graph_or_graph_def).__name__}.")


def _with_ops(graph_def: GraphDef, ops: list) -> GraphDef:
    return GraphDef({**graph_def._body, "ops": ops})


def _node_name(ref: str) -> str:
    return ref.lstrip("^").split(":")[0]


def extract_sub_graph(graph_def, dest_nodes) -> GraphDef:
    """The nodes ``dest_nodes`` (names) depend on, through data and control inputs.
    ``tf.graph_util.extract_sub_graph(graph_def, dest_nodes)``

    Raises:
        TypeError: ``dest_nodes`` is a single string, or ``graph_def`` is not a GraphDef.
        AssertionError: a destination is not in the graph (TF's error class).
    """
    if isinstance(dest_nodes, str):
        raise TypeError("dest_nodes must be an iterable of strings.")
    graph_def = as_graph_def(graph_def)
    by_name = {e["name"]: e for e in graph_def._body["ops"]}
    for d in dest_nodes:
        assert d in by_name, f"{d} is not in graph"
    keep, todo = set(), list(dest_nodes)
    while todo:
        name = todo.pop()
        if name in keep:
            continue
        keep.add(name)
        entry = by_name[name]
        todo.extend(_node_name(r) for r in entry["inputs"] + entry["control_inputs"])
    return _with_ops(
        graph_def, [copy.deepcopy(e) for e in graph_def._body["ops"] if e["name"] in keep]
    )


def convert_variables_to_constants(
    sess,
    input_graph_def,
    output_node_names,
    variable_names_whitelist=None,
    variable_names_blacklist=None,
) -> GraphDef:
    """The sub-graph computing ``output_node_names`` with each variable replaced by a
    ``Const`` holding its current value in ``sess``.
    ``tf.graph_util.convert_variables_to_constants(sess, input_graph_def,
    output_node_names, variable_names_whitelist=None, variable_names_blacklist=None)``
    """
    sub = extract_sub_graph(as_graph_def(input_graph_def), output_node_names)
    ops = []
    for entry in sub._body["ops"]:
        name = entry["name"]
        if (
            entry["type"] == "VariableV2"
            and (variable_names_whitelist is None or name in variable_names_whitelist)
            and (variable_names_blacklist is None or name not in variable_names_blacklist)
        ):
            value = sess.run(sess.graph.get_tensor_by_name(name + ":0"))
            dtype = sess.graph.get_tensor_by_name(name + ":0").dtype
            entry = {
                "name": name,
                "type": "Const",
                "inputs": [],
                "control_inputs": [],
                "attrs": {
                    "value": ser.encode_value(value, {}),
                    "dtype": ser.encode_value(dtype, {}),
                },
                "outputs": entry["outputs"],
            }
        ops.append(entry)
    return _with_ops(sub, ops)


def remove_training_nodes(input_graph, protected_nodes=None) -> GraphDef:
    """Splices out ``Identity`` and ``CheckNumerics`` nodes (consumers read their input
    directly), except protected ones and those in control edges.
    ``tf.graph_util.remove_training_nodes(input_graph, protected_nodes=None)``

    Unlike TF, which drops the consumers' ``CheckNumerics`` inputs altogether, those are
    rewired to the checked tensor, so every op keeps its arity.
    """
    graph_def = as_graph_def(input_graph)
    protected = set(protected_nodes or ())
    ops = graph_def._body["ops"]
    controls = {c for e in ops for c in e["control_inputs"]}
    with_controls = {e["name"] for e in ops if e["control_inputs"]}
    splice = {
        f"{e['name']}:0": e["inputs"][0]
        for e in ops
        if e["type"] in ("Identity", "CheckNumerics")
        and e["name"] not in protected
        and e["name"] not in controls
        and e["name"] not in with_controls
    }

    def follow(ref):
        while ref in splice:
            ref = splice[ref]
        return ref

    out = []
    for e in ops:
        if f"{e['name']}:0" in splice:
            continue
        e = copy.deepcopy(e)
        e["inputs"] = [follow(t) for t in e["inputs"]]
        out.append(e)
    return _with_ops(graph_def, out)


def must_run_on_cpu(node, pin_variables_on_cpu=False) -> bool:
    """TF's rule for ops that must stay on the CPU: int32/string constants, int32
    stitches, casts from int32, and variables when ``pin_variables_on_cpu``.
    ``tf.graph_util.must_run_on_cpu(node, pin_variables_on_cpu=False)``; ``node``: an
    Operation or a NodeDef (which records no input dtypes, so a NodeDef Cast is False)."""
    if isinstance(node, Operation):
        op_type = node.type
        out = node.outputs[0].dtype.name if node.outputs else None
        src = node.inputs[0].dtype.name if node.inputs else None
    else:
        op_type, outputs, src = node.op, node._entry["outputs"], None
        out = outputs[0]["dtype"] if outputs else None
    if pin_variables_on_cpu and op_type in ("Variable", "VariableV2", "VarHandleOp"):
        return True
    if op_type == "Const":
        return out in ("string", "int32")
    if op_type in ("DynamicStitch", "ParallelDynamicStitch"):
        return out == "int32"
    return op_type == "Cast" and src == "int32"


def tensor_shape_from_node_def_name(graph, input_name):
    """The static shape of tensor ``input_name`` (``":0"`` implied) of ``graph``."""
    if ":" not in input_name:
        input_name += ":0"
    return graph.get_tensor_by_name(input_name).shape


def import_graph_def(
    graph_def, input_map=None, return_elements=None, name=None, op_dict=None, producer_op_list=None
):
    """Adds the ops of ``graph_def`` to the default graph under scope ``name`` (default
    ``"import"``; ``""``: no prefix). ``input_map`` replaces named tensors of the
    GraphDef by tensors of the default graph; returns the ``return_elements``
    (``"op"`` -> Operation, ``"op:i"`` -> Tensor), or None.
    ``tf.import_graph_def(graph_def, input_map=None, return_elements=None, name=None,
    op_dict=None, producer_op_list=None)``

    ``graph_def`` may also be TensorFlow's ``GraphDef`` proto, its binary or text bytes
    (`train.tf_graph_proto`): its ``VariableV2`` nodes then become variables.

    Raises:
        TypeError: ``graph_def`` is not a GraphDef.
        ValueError: a node refers to a variable (import a meta graph instead), an
            ``input_map`` key is not in the GraphDef, or a return element is missing.
        InvalidArgumentError: TensorFlow op types without a miniflow equivalent (all
            are named), or an inconsistent TensorFlow GraphDef.
    """
    if isinstance(graph_def, GraphDef) and graph_def._proto is not None:
        graph_def = graph_def._proto
    if isinstance(graph_def, bytes | bytearray | memoryview) or tf_graph_proto._is_tf_message(
        graph_def, "GraphDef"
    ):
        if isinstance(
            graph_def, bytes | bytearray | memoryview
        ) and tf_graph_proto.is_miniflow_json(graph_def):
            graph_def = GraphDef.FromString(bytes(graph_def))
        else:
            return tf_graph_proto.import_graph_def_proto(
                graph_def, input_map, return_elements, name
            )
    graph_def = as_graph_def(graph_def)
    graph = get_default_graph()
    scope = graph.unique_name("import" if name is None else name) if name != "" else ""

    def no_variables(var_name, where):
        raise ValueError(
            f"import_graph_def: {where} refers to variable {var_name}; a "
            "GraphDef carries no variables. Freeze it first "
            "(tf.graph_util.convert_variables_to_constants) or import a meta "
            "graph (tf.train.import_meta_graph)."
        )

    built = ser.import_graph(graph, graph_def._body, no_variables, scope, dict(input_map or {}))
    if return_elements is None:
        return None
    out = []
    for ref in return_elements:
        op_name, _, index = ref.partition(":")
        if op_name not in built:
            raise ValueError(f"Requested return_element {ref!r} not found in graph_def.")
        op = built[op_name]
        out.append(op.outputs[int(index)] if index else op)
    return out


def write_graph(graph_or_graph_def, logdir, name, as_text=True) -> str:
    """Writes the graph to ``logdir/name``, atomically; returns the path.
    ``tf.train.write_graph(graph_or_graph_def, logdir, name, as_text=True)``

    TensorFlow's ``GraphDef`` proto (``graph.as_graph_def()``) is written as TensorFlow
    writes it (text format when ``as_text``, else binary); a `Graph` or miniflow
    `GraphDef` as miniflow's `GraphDef` data (indented JSON when ``as_text``).
    """
    os.makedirs(logdir, exist_ok=True)
    path = os.path.join(logdir, name)
    proto = graph_or_graph_def
    if isinstance(proto, GraphDef) and proto._proto is not None:
        proto = proto._proto
    if tf_graph_proto._is_tf_message(proto, "GraphDef"):
        from miniflow.train.tf_graph_export import write_proto

        write_proto(proto, path, as_text)
        return path
    graph_def = as_graph_def(graph_or_graph_def)
    data = graph_def.to_text().encode() if as_text else graph_def.SerializeToString()
    atomic_write(path, lambda fh: fh.write(data))
    return path


def assert_equal_graph_def(
    actual, expected, checkpoint_v2=False, hash_table_shared_name=False
) -> None:
    """Raises AssertionError naming the first difference unless the two graphs have the
    same nodes (compared by name, in any order). ``tf.test.assert_equal_graph_def(
    actual, expected, checkpoint_v2=False, hash_table_shared_name=False)``

    Raises:
        TypeError: an argument is not a GraphDef (or Graph).
    """
    actual, expected = as_graph_def(actual), as_graph_def(expected)
    a = {e["name"]: e for e in actual._body["ops"]}
    b = {e["name"]: e for e in expected._body["ops"]}
    only_a, only_b = sorted(set(a) - set(b)), sorted(set(b) - set(a))
    if only_a or only_b:
        raise AssertionError(
            f"Graphs differ: nodes only in actual: {only_a}; only in expected: {only_b}"
        )
    for name in sorted(a):
        if a[name] != b[name]:
            diff = [
                k for k in sorted(set(a[name]) | set(b[name])) if a[name].get(k) != b[name].get(k)
            ]
            raise AssertionError(
                f"Graphs differ at node {name!r} in {diff}: actual "
                f"{NodeDef(a[name])}, expected {NodeDef(b[name])}"
            )
