"""miniflow graphs -> TensorFlow ``GraphDef``/``MetaGraphDef`` protos that TensorFlow's
``tf.compat.v1.import_graph_def``/``train.import_meta_graph`` import.

A `Saver` is written as TF1 writes one: a ``save/`` subgraph (``SaveV2``, ``RestoreV2``
and one ``Assign`` per variable) named by the ``saver_def``, so TensorFlow's rebuilt
``Saver`` reads and writes checkpoints under the same names as the miniflow one.
Variables are recorded in the collections as ``VariableDef`` protos.
"""

from __future__ import annotations

import logging
import numbers

import numpy as np

from miniflow import dtypes, errors
from miniflow.core.shapes import TensorShape
from miniflow.graph import serialization as ser
from miniflow.graph.graph import Graph, get_default_graph
from miniflow.graph.operation import Operation, Tensor
from miniflow.ops.variables import Variable
from miniflow.train import tf_cond_export, tf_op_export as exp
from miniflow.train.tf_proto_values import attr_to_proto, dtype_enum, protos, shape_to_proto

_log = logging.getLogger("miniflow")


def graph_def_from_graph(graph=None):
    """The ``graph_pb2.GraphDef`` of ``graph`` (default: the default graph).

    Ops holding Python objects (``tf.data`` pipelines) and what depends on them are left
    out, as in miniflow's own format.

    Raises:
        InvalidArgumentError: ops TensorFlow has no equivalent for, or whose attributes
            cannot be written (every op type is named).
    """
    graph = graph or get_default_graph()
    dropped = ser.unexportable_ops(graph)
    gd = exp.new_graph_def()
    problems: dict = {}
    names: dict = {}  # tensor name -> the TF input string readers use (variable snapshots)
    for op in graph.get_operations():
        if op in dropped:
            continue
        why = exp.unsupported_reason(op)
        if why is None:
            try:
                first = len(gd.node)
                exp.EXPORTERS.get(op.type, exp._generic)(exp.NodeEmitter(gd, op, names), op)
                for node in gd.node[first:]:  # the op's nodes are placed where it is
                    node.device = op.device
                continue
            except (ValueError, TypeError, KeyError) as e:
                why = f"{type(e).__name__}: {e}"
        problems.setdefault((op.type, why), []).append(op.name)
    if not problems:
        _gate_writes(graph, dropped, gd, names)
    if problems:
        kinds = sorted({t for t, _ in problems})
        details = "; ".join(
            f"{t} ({why}; e.g. '{names[0]}')" for (t, why), names in sorted(problems.items())
        )
        raise errors.InvalidArgumentError(
            None,
            None,
            f"Cannot write a TensorFlow GraphDef: {len(kinds)} op type(s) cannot be "
            f"exported: {', '.join(kinds)}. Details: {details}",
        )
    return gd


# Ops whose output is their input's buffer (in TF too): their consumers read the variable.
_ALIASING = frozenset(["Identity", "CondEnter", "StopGradient"])


def _readers(var_op, consumers) -> list:
    out, todo, seen = [], list(consumers.get(var_op, [])), set()
    while todo:
        op = todo.pop()
        if op in seen:
            continue
        seen.add(op)
        out.append(op)
        if op.type in _ALIASING:
            todo.extend(consumers.get(op, []))
    return out


def _live_gate(gd, reader, names):
    """A node that always runs, after ``reader`` when its ``tf.cond`` branch is taken: a
    control input straight from a branch op would be dead when the branch is not taken,
    and keep the update from running. Single-level branches only (None otherwise)."""
    guard = tuple(reader.attrs["_guard"])
    if len(guard) != 1:
        return None
    e = exp.NodeEmitter(gd, reader, names)
    taken = e.node(
        "Identity",
        [tf_cond_export.pivot(e, guard)],
        {"T": dtypes.bool},
        name=f"{reader.name}/_gate_t",
    )
    gd.node[-1].input.append(f"^{reader.name}")
    other = tf_cond_export.pivot(e, ((guard[0][0], not guard[0][1]),))
    return e.node("Merge", [taken, other], {"N": 2, "T": dtypes.bool}, name=f"{reader.name}/_gate")


def _gate_writes(graph, dropped, gd, names) -> None:
    """Adds control inputs so that TensorFlow runs every read of a variable before the
    op that updates it in place, as miniflow's session does.

    A reader is gated when it is computed for the same fetch as the write (an ancestor
    of an op that depends on the write, such as the train op): TF1's own gradients get
    this order from ``gate_gradients``; without it TF could run ``ApplyGradientDescent``
    on a weight before the gradient of an earlier layer reads it.
    """
    ops = [op for op in graph.get_operations() if op not in dropped]
    consumers: dict = {op: [] for op in ops}
    for op in ops:
        for t in op.inputs:
            consumers.setdefault(t.op, []).append(op)
        for c in op.control_inputs:
            consumers.setdefault(c, []).append(op)

    def reach(starts, step):
        seen, todo = set(), list(starts)
        while todo:
            op = todo.pop()
            if op not in seen:
                seen.add(op)
                todo.extend(step(op))
        return seen

    def parents(op):
        return [t.op for t in op.inputs] + list(op.control_inputs)

    nodes = {n.name: n for n in gd.node}
    for op in ops:
        if not op.opdef.extra.get("writes") or "var" not in op.attrs:
            continue
        targets = [op.attrs["var"], *op.attrs.get("slot_vars", ())]
        after = reach([op], lambda o: consumers.get(o, []))
        sinks = [o for o in after if not consumers.get(o)]
        step = reach(sinks, parents) - after
        gate = set()
        for var in targets:
            for reader in _readers(var.op, consumers):
                if reader in step and reader is not op and reader.name in nodes:
                    name = (
                        _live_gate(gd, reader, names) if reader.attrs.get("_guard") else reader.name
                    )
                    if name is not None:
                        gate.add(name)
        node = nodes[op.name]
        node.input.extend(f"^{r}" for r in sorted(gate) if f"^{r}" not in node.input)


def _saver_parts(saver):
    """(checkpoint name -> Variable, max_to_keep, keep hours) of a Saver or saver_def."""
    if saver is None:
        return None
    if hasattr(saver, "_vars"):
        return dict(saver._vars), saver._max_to_keep, saver._keep_every_s / 3600.0
    raise TypeError(f"saver must be a tf.train.Saver, not {type(saver).__name__}")


def _add_saver_nodes(gd, variables: dict, scope="save"):
    """TF1's save/restore subgraph for ``variables`` (checkpoint name -> Variable)."""

    def node(name, op, inputs, attrs):
        n = gd.node.add()
        n.name, n.op = f"{scope}/{name}", op
        n.input.extend(inputs)
        for k, v in attrs.items():
            attr_to_proto(v, n.attr[k])
        return n.name

    names = sorted(variables)
    string = dtypes.string
    # A piece of a partitioned variable is saved as TF does: a slice of its whole.
    infos = [
        getattr(variables[n], "_save_slice_info", None) if n == variables[n].op_name else None
        for n in names
    ]
    keys = [n if i is None else i.full_name for n, i in zip(names, infos)]
    specs = ["" if i is None else i.spec for i in infos]

    def strings(vals):
        return np.array([v.encode() for v in vals], dtype=object)

    filename = node(
        "filename", "Const", [], {"value": np.array(b"model", dtype=object), "dtype": string}
    )
    prefix = node(
        "Const", "PlaceholderWithDefault", [filename], {"dtype": string, "shape": TensorShape([])}
    )
    tnames = node("SaveV2/tensor_names", "Const", [], {"value": strings(keys), "dtype": string})
    slices = node(
        "SaveV2/shape_and_slices", "Const", [], {"value": strings(specs), "dtype": string}
    )
    var_dtypes = [variables[n].dtype for n in names]
    save = node(
        "SaveV2",
        "SaveV2",
        [prefix, tnames, slices] + [variables[n].op.name for n in names],
        {"dtypes": var_dtypes},
    )
    control = node("control_dependency", "Identity", [prefix, f"^{save}"], {"T": string})
    rnames = node("RestoreV2/tensor_names", "Const", [], {"value": strings(keys), "dtype": string})
    rslices = node(
        "RestoreV2/shape_and_slices", "Const", [], {"value": strings(specs), "dtype": string}
    )
    restore = node("RestoreV2", "RestoreV2", [prefix, rnames, rslices], {"dtypes": var_dtypes})
    assigns = []
    for i, n in enumerate(names):
        var = variables[n]
        suffix = "" if i == 0 else f"_{i}"
        assigns.append(
            node(
                f"Assign{suffix}",
                "Assign",
                [var.op.name, f"{restore}:{i}"],
                {"T": var.dtype, "validate_shape": True, "use_locking": True},
            )
        )
    restore_all = node("restore_all", "NoOp", [f"^{a}" for a in assigns], {})
    sd = protos().saver_pb2.SaverDef()
    sd.filename_tensor_name = f"{prefix}:0"
    sd.save_tensor_name = f"{control}:0"
    sd.restore_op_name = restore_all
    sd.sharded = False
    sd.version = protos().saver_pb2.SaverDef.V2
    return sd


def _variable_def(var):
    d = protos().variable_pb2.VariableDef()
    d.variable_name = var.name
    d.initializer_name = var.initializer.name if var.initializer is not None else ""
    d.snapshot_name = f"{exp.read_name(var.op)}:0"
    if var._initial_value is not None:
        d.initial_value_name = var._initial_value.name
    d.trainable = bool(var.trainable)
    return d


def _fill_collection(col, key, items, graph) -> bool:
    """Writes ``items`` into the ``CollectionDef`` ``col``; False if they cannot be."""
    if not items:
        return False
    if all(isinstance(i, Variable) for i in items):
        if any(i._eager or i.graph is not graph for i in items):
            return False
        col.bytes_list.value.extend(_variable_def(v).SerializeToString() for v in items)
        return True
    if all(isinstance(i, Tensor | Operation) for i in items):
        col.node_list.value.extend(i.name for i in items)
        return True
    if all(isinstance(i, numbers.Integral) and not isinstance(i, bool) for i in items):
        col.int64_list.value.extend(int(i) for i in items)
        return True
    if all(isinstance(i, numbers.Real) for i in items):
        col.float_list.value.extend(float(i) for i in items)
        return True
    if all(isinstance(i, bytes | str) for i in items):
        col.bytes_list.value.extend(i if isinstance(i, bytes) else i.encode() for i in items)
        return True
    return False


def tensor_info_to_proto(info, out) -> None:
    """Fills the ``TensorInfo`` ``out`` from a miniflow `TensorInfo` (or copies a TF one)."""
    if hasattr(info, "SerializeToString"):
        out.CopyFrom(info)
        return
    out.name = info.name
    out.dtype = dtype_enum(info.dtype)
    shape_to_proto(TensorShape(info.tensor_shape), out.tensor_shape)


def signature_def_to_proto(sig, out) -> None:
    """Fills the ``SignatureDef`` ``out`` from a miniflow `SignatureDef` (or copies a TF
    one)."""
    if hasattr(sig, "SerializeToString"):
        out.CopyFrom(sig)
        return
    out.method_name = sig.method_name or ""
    for k, info in sig.inputs.items():
        tensor_info_to_proto(info, out.inputs[k])
    for k, info in sig.outputs.items():
        tensor_info_to_proto(info, out.outputs[k])


def meta_graph_def_from_graph(graph=None, saver=None, collection_list=None, signature_def_map=None):
    """TensorFlow's ``MetaGraphDef`` of ``graph`` (default: the default graph).

    Args:
        graph: the graph to export.
        saver: a `Saver` to record: its ``save/`` subgraph and ``saver_def`` are written
            so TensorFlow's ``import_meta_graph`` returns a Saver with the same checkpoint
            names. None: no saver_def (TensorFlow then makes a Saver over all variables).
        collection_list: the collection keys to write (default: all that can be written;
            others are skipped with a warning).
        signature_def_map: ``{key: SignatureDef}`` (miniflow `SignatureDef`s or TF protos).

    Returns:
        A ``meta_graph_pb2.MetaGraphDef``.

    Raises:
        InvalidArgumentError: an op cannot be written (see `graph_def_from_graph`).
    """
    graph = graph or get_default_graph()
    p = protos()
    meta = p.meta_graph_pb2.MetaGraphDef()
    meta.meta_info_def.tensorflow_version = "1.15.0"
    meta.meta_info_def.tensorflow_git_version = "miniflow"
    meta.graph_def.CopyFrom(graph_def_from_graph(graph))
    parts = _saver_parts(saver)
    if parts is not None:
        variables, max_to_keep, hours = parts
        sd = _add_saver_nodes(meta.graph_def, variables)
        sd.max_to_keep = int(max_to_keep or 0)
        sd.keep_checkpoint_every_n_hours = float(hours)
        meta.saver_def.CopyFrom(sd)
    keys = graph.get_all_collection_keys() if collection_list is None else collection_list
    for key in keys:
        if not isinstance(key, str) or key == "savers":
            continue
        items = graph.get_collection(key)
        col = p.meta_graph_pb2.CollectionDef()
        if _fill_collection(col, key, items, graph):
            meta.collection_def[key].CopyFrom(col)
        elif items:
            _log.warning("export_meta_graph: collection '%s' cannot be written; skipped", key)
    for key, sig in (signature_def_map or {}).items():
        signature_def_to_proto(sig, meta.signature_def[key])
    return meta


def write_proto(message, path: str, as_text: bool) -> None:
    """Writes a proto to ``path`` atomically (text format when ``as_text``)."""
    from miniflow.graph.file_io import atomic_write

    if as_text:
        data = protos().text_format.MessageToString(message).encode()
    else:
        data = message.SerializeToString()
    atomic_write(path, lambda fh: fh.write(data))


__all__ = ["graph_def_from_graph", "meta_graph_def_from_graph", "write_proto", "shape_to_proto"]

Graph._graph_def_exporter = staticmethod(graph_def_from_graph)
