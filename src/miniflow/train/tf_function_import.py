"""TF2 functional loops (``While``/``StatelessWhile`` whose ``cond`` and ``body`` are
``FunctionDef``s of the graph's ``library``) imported as miniflow ``While`` ops.

TF 2.x writes ``tf.while_loop`` this way unless ``tf.disable_v2_behavior()`` is called.
Every input of the node is a loop variable (captured tensors are passed through the
body unchanged). Each function is turned back into a small GraphDef (its arguments fed
by placeholders of the loop variables) and imported with the same per-op table as the
graph, so its ops are miniflow ops in the ``While``'s cond and body subgraphs.
"""

from __future__ import annotations

from miniflow.core.shapes import TensorShape
from miniflow.ops.functional_ops import _SubGraph
from miniflow.train.tf_proto_values import bad, protos
from miniflow.train.tf_while_import import _captures

# Ops with more than one output argument: their names, in order. Any other op's
# ``node:arg:k`` is output ``k`` (one argument, maybe a list such as Split's).
OUTPUT_ARGS = {
    "Unique": ["y", "idx"],
    "UniqueWithCounts": ["y", "idx", "count"],
    "TopKV2": ["values", "indices"],
    "BroadcastGradientArgs": ["r0", "r1"],
    "TensorArrayV3": ["handle", "flow"],
    "TensorListPopBack": ["output_handle", "tensor"],
    "Switch": ["output_false", "output_true"],
    "Merge": ["output", "value_index"],
    "FusedBatchNormV3": ["y", "batch_mean", "batch_variance"],
}
ARG = "_arg_"


def _graph_ref(ref, ops, where):
    """A function-body input (``arg``, ``node:out_arg:k``, ``^node``) as a GraphDef one."""
    if ref.startswith("^"):
        return ref
    parts = ref.split(":")
    if len(parts) == 1:
        return f"{ARG}{ref}:0"
    if len(parts) != 3 or not parts[2].isdigit():
        raise bad(where, f"input '{ref}' is not a function-body reference")
    node, arg, k = parts[0], parts[1], int(parts[2])
    args = OUTPUT_ARGS.get(ops.get(node, ""))
    if args is not None:
        if arg not in args or k:
            raise bad(where, f"input '{ref}': op {ops[node]} has no output '{arg}:{k}'")
        k = args.index(arg)
    return f"{node}:{k}"


def _function_graph(fdef, where):
    gd = protos().graph_pb2.GraphDef()
    ops = {n.name: n.op for n in fdef.node_def}
    for n in fdef.node_def:
        node = gd.node.add()
        node.CopyFrom(n)
        del node.input[:]
        node.input.extend(_graph_ref(r, ops, f"{where} node '{n.name}'") for r in n.input)
    missing = [a.name for a in fdef.signature.output_arg if a.name not in fdef.ret]
    if missing:
        raise bad(where, f"outputs {missing} have no return value")
    rets = [_graph_ref(fdef.ret[a.name], ops, where) for a in fdef.signature.output_arg]
    return gd, rets


def _import_function(imp_, name, phs, prefix, where):
    fdef = imp_.library.get(name)
    if fdef is None:
        raise bad(where, f"function '{name}' is not in the graph's library")
    calling = getattr(imp_, "calling", frozenset())  # the functions being imported
    if name in calling:
        raise bad(where, f"function '{name}' calls itself")
    args = [a.name for a in fdef.signature.input_arg]
    if len(args) != len(phs):
        raise bad(where, f"function '{name}' takes {len(args)} arguments, not {len(phs)}")
    gd, rets = _function_graph(fdef, f"{where} function '{name}'")
    used = {r for n in gd.node for r in n.input}
    by_arg = {f"{ARG}{a}:0": ph for a, ph in zip(args, phs)}
    sub = type(imp_)(imp_.graph, gd, prefix, {k: v for k, v in by_arg.items() if k in used})
    sub.library, sub.calling = imp_.library, calling | {name}
    sub.run()
    return [
        by_arg[r] if r in by_arg else sub.resolve(r, f"{where} function '{name}' output")
        for r in rets
    ]


def convert_while(b, node, ins, attrs):
    """``While``/``StatelessWhile`` -> a miniflow ``While`` op (see the module doc)."""
    imp_, where = b._imp, b.where
    graph = imp_.graph
    cond_fn, body_fn = attrs.get("cond"), attrs.get("body")
    if not isinstance(cond_fn, str) or not isinstance(body_fn, str):
        raise bad(where, "a While needs function attributes 'cond' and 'body'")
    phs = [
        b.op(
            "Placeholder", [], {"dtype": t.dtype, "shape": TensorShape(t.shape.as_tuple())}
        ).outputs[0]
        for t in ins
    ]
    mark = len(graph._ops)
    cond_outs = _import_function(imp_, cond_fn, phs, f"{b.full}/cond/", where)
    if len(cond_outs) != 1:
        raise bad(where, f"the cond function returns {len(cond_outs)} values, not 1")
    (cond_t,) = cond_outs
    cond_ops = graph._ops[mark:]
    mark = len(graph._ops)
    outs = _import_function(imp_, body_fn, phs, f"{b.full}/body/", where)
    if len(outs) != len(ins):
        raise bad(where, f"the body returns {len(outs)} values for {len(ins)} loop variables")
    cond = _SubGraph(phs, cond_ops, [cond_t])
    body = _SubGraph(phs, graph._ops[mark:], outs)
    cond.captures = body.captures = caps = _captures([cond, body], phs)
    specs = []
    for t, out in zip(ins, outs):
        same = t.shape.as_tuple() == out.shape.as_tuple()
        specs.append((t.shape.as_tuple() if same else None, t.dtype))
    a = dict(cond=cond, body=body, n=len(ins), maximum_iterations=None, specs=specs)
    return b.op("While", list(ins) + caps, {**a, "back_prop": False}, final=True)
