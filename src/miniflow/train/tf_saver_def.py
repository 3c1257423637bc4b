"""The `Saver` of an imported TensorFlow meta graph.

A TF1 ``Saver`` is a subgraph (``save/SaveV2``, ``save/RestoreV2``, ...) whose
``tensor_names`` and ``shape_and_slices`` constants say under which checkpoint name (and,
for a partitioned variable, which slice of which full tensor) each variable is saved.
The import drops that subgraph and builds a miniflow `Saver` with the same names, so
``saver.restore(sess, tf.train.latest_checkpoint(...))`` reads the checkpoint TF wrote
for the graph.
"""

from __future__ import annotations

import logging

import numpy as np

from miniflow import errors
from miniflow.train import checkpoint as ckpt
from miniflow.train.saver import Saver
from miniflow.train.tf_proto_values import attr_from_proto, bad

_log = logging.getLogger("miniflow")


def _const(imp_, ref, where):
    node = imp_.nodes.get(ref.split(":")[0])
    if node is None or node.op != "Const" or "value" not in node.attr:
        raise bad(where, f"input '{ref}' must be a Const node")
    value = attr_from_proto(node.attr["value"], where)
    if not isinstance(value, np.ndarray) or value.ndim != 1:
        raise bad(where, f"input '{ref}' must be a vector of strings")
    return value


def _parse_slice(spec: str, where):
    """``"7 3 0,3:0,3"`` -> (full shape, tuple of slices); ``""`` -> None."""
    if not spec:
        return None
    parts = spec.split(" ")
    try:
        full = [int(x) for x in parts[:-1]]
        slices = []
        for d, extent in zip(full, parts[-1].split(":")):
            if extent == "-":
                slices.append(slice(0, d))
            else:
                start, length = (int(x) for x in extent.split(","))
                slices.append(slice(start, start + length))
    except ValueError:
        raise bad(where, f"malformed shape_and_slices entry {spec!r}") from None
    if len(slices) != len(full):
        raise bad(where, f"shape_and_slices entry {spec!r} has the wrong rank")
    return full, tuple(slices)


def _saved_entries(imp_) -> list:
    """(checkpoint name, variable, slice or None) for each tensor the file's SaveV2 saves."""
    out = []
    for name in sorted(imp_.skipped):
        node = imp_.nodes[name]
        if node.op != "SaveV2":
            continue
        where = f"saver node '{name}'"
        refs = imp_.data_inputs(node)
        if len(refs) < 3:
            raise bad(where, "SaveV2 needs prefix, tensor_names and shape_and_slices")
        names = _const(imp_, refs[1], where)
        specs = _const(imp_, refs[2], where)
        tensors = refs[3:]
        if not (len(names) == len(specs) == len(tensors)):
            raise bad(where, "tensor_names, shape_and_slices and tensors differ in length")
        for ckpt_name, spec, ref in zip(names.tolist(), specs.tolist(), tensors):
            var = _variable_behind(imp_, ref)
            if var is None:
                raise bad(where, f"saves '{ref}', which is not a variable")
            out.append((_text(ckpt_name, where), var, _parse_slice(_text(spec, where), where)))
    return out


def _text(v, where) -> str:
    try:
        return v.decode() if isinstance(v, bytes) else str(v)
    except UnicodeDecodeError:
        raise bad(where, f"{v!r:.60} is not UTF-8 text") from None


def _variable_behind(imp_, ref):
    name = ref.split(":")[0]
    for _ in range(100):
        if name in imp_.variables:
            return imp_.variables[name]
        node = imp_.nodes.get(name)
        if node is None or node.op not in ("Identity", "RefIdentity", "ReadVariableOp"):
            return None
        refs = imp_.data_inputs(node)
        if not refs:
            return None
        name = refs[0].split(":")[0]
    return None


def saver_from_graph(imp_, meta):
    """The `Saver` of the imported graph (see the module docstring); None without
    variables."""
    sd = meta.saver_def if meta.HasField("saver_def") else None
    kwargs = {}
    if sd is not None:
        kwargs = {
            "max_to_keep": sd.max_to_keep,
            "keep_checkpoint_every_n_hours": sd.keep_checkpoint_every_n_hours or 10000.0,
        }
    entries = _saved_entries(imp_)
    if not entries:
        variables = list(imp_.variables.values())
        if not variables:
            _log.info("Saver not created because there are no variables in the graph to restore")
            return None
        return Saver(variables, **kwargs)
    whole = {n: v for n, v, s in entries if s is None}
    sliced = [(n, v, s) for n, v, s in entries if s is not None]
    if not sliced:
        return Saver(whole, **kwargs)
    return SlicedSaver(whole, sliced, **kwargs)


class SlicedSaver(Saver):
    """A `Saver` that also restores partitioned variables: each part is a slice of one
    full tensor of the checkpoint (``tf.fixed_size_partitioner``'s ``part_i``).

    Saving is not supported (it raises `UnimplementedError`): miniflow's checkpoint
    writer has no slices.
    """

    def __init__(self, var_list, sliced, **kwargs):
        super().__init__(var_list, allow_empty=True, **kwargs)
        self._sliced = sliced

    def restore(self, sess, save_path):
        if self._vars:
            super().restore(sess, save_path)
        prefix = str(save_path)
        if not ckpt.checkpoint_exists(prefix):
            raise errors.InvalidArgumentError(
                None, None, f"The passed save_path is not a valid checkpoint: {prefix}"
            )
        index = ckpt.read_index(prefix)["tensors"]
        full_names = sorted({n for n, _, _ in self._sliced})
        for n in full_names:
            if n not in index:
                raise errors.NotFoundError(None, None, f"Key {n} not found in checkpoint {prefix}")
        values = ckpt.load_checkpoint_tensors(prefix, full_names)
        for name, var, (full, slices) in self._sliced:
            value = values[name]
            if list(value.shape) != full:
                raise errors.InvalidArgumentError(
                    None,
                    None,
                    f"Restoring {var.op_name}: checkpoint tensor {name} has shape "
                    f"{list(value.shape)}, the graph's partitions need {full}",
                )
            part = np.array(value[slices], dtype=var.dtype.np, copy=True)
            var._slot_in(sess).value = part

    def save(self, sess, save_path, global_step=None, **kwargs):
        raise errors.UnimplementedError(
            None,
            None,
            "Saving partitioned variables of an imported TF graph is not supported; "
            "restore works. Save with a tf.train.Saver over the variables instead.",
        )
