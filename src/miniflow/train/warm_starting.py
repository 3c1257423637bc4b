"""Initializing variables from a checkpoint: ``tf.train.init_from_checkpoint`` and
``tf.train.warm_start`` (without vocabulary remapping).

In graph mode a variable's initializer is replaced by an assignment of the checkpoint's
value, so ``tf.global_variables_initializer()`` loads it; in eager mode the value is
assigned at once. Unlike TF, the value is read from the file when the initializer is
built, not when it runs.
"""

from __future__ import annotations

import collections
import re

import numpy as np

from miniflow import errors
from miniflow.core.dispatch import current_frontend
from miniflow.graph.graph import get_default_graph
from miniflow.ops import array_ops, state_ops
from miniflow.ops.variables import Variable, global_variables, trainable_variables
from miniflow.train.checkpoint_management import load_checkpoint

VocabInfo = collections.namedtuple(
    "VocabInfo",
    [
        "new_vocab",
        "new_vocab_size",
        "num_oov_buckets",
        "old_vocab",
        "old_vocab_size",
        "backup_initializer",
        "axis",
    ],
)
VocabInfo.__new__.__defaults__ = (-1, None, 0)
VocabInfo.__doc__ = (
    "How to remap a vocabulary-indexed variable when warm-starting "
    "(``tf.train.VocabInfo``; `warm_start` does not support remapping yet)."
)


def _initialize_from(var, reader, tensor_name, where):
    """Makes ``var`` start from ``tensor_name`` of the checkpoint."""
    shapes = reader.get_variable_to_shape_map()
    if tensor_name not in shapes:
        raise ValueError(f"Tensor {tensor_name} is not found in {where} checkpoint {shapes}")
    if var.shape.is_fully_defined() and list(var.shape.as_list()) != shapes[tensor_name]:
        raise ValueError(
            f"Shape of variable {var.name} ({tuple(var.shape.as_list())}) "
            f"doesn't match with shape of tensor {tensor_name} "
            f"({shapes[tensor_name]}) from checkpoint reader."
        )
    value = np.asarray(reader.get_tensor(tensor_name)).astype(var.dtype.np, copy=False)
    if current_frontend().eager:
        var.assign(value)
        return
    graph = get_default_graph()
    with graph.init_scope(), graph.name_scope(var.op.name + "/"):
        init = array_ops.constant(value, dtype=var.dtype, name="checkpoint_initializer")
        var.initializer = state_ops.assign(var, init, name="Assign").op
        var._initial_value = init


def _variable_named(name):
    for v in global_variables():
        if v.op.name == name or v.name == name:
            return v
    return None


def init_from_checkpoint(ckpt_dir_or_file, assignment_map) -> None:
    """Makes variables start from checkpoint values. ``assignment_map`` maps a checkpoint
    tensor name to a variable (or its name, or a list of variables), or a checkpoint
    scope ``"old/"`` to a variable scope ``"new/"`` (``"/"``: the root).
    ``tf.train.init_from_checkpoint(ckpt_dir_or_file, assignment_map)``

    Raises:
        ValueError: a tensor is missing from the checkpoint, a shape differs, or a target
            names no variable (or maps a scope to a tensor).
    """
    reader = load_checkpoint(ckpt_dir_or_file)
    where = ckpt_dir_or_file
    for tensor_name, current in assignment_map.items():
        if isinstance(current, (list, tuple)) or isinstance(current, Variable):
            for var in current if isinstance(current, (list, tuple)) else [current]:
                _initialize_from(var, reader, tensor_name, where)
            continue
        if not isinstance(current, str):
            raise TypeError(
                f"Assignment map values must be variables or names, not {type(current).__name__}"
            )
        var = None if current.endswith("/") else _variable_named(current)
        if var is not None:
            _initialize_from(var, reader, tensor_name, where)
            continue
        if not (current.endswith("/") and (tensor_name.endswith("/") or tensor_name == "/")):
            raise ValueError(
                f"Assignment map entry {tensor_name!r}: {current!r} names no "
                "variable; a scope mapping is written 'scope/': 'other_scope/'."
            )
        scope = "" if current == "/" else current
        prefix = "" if tensor_name == "/" else tensor_name
        for var in global_variables():
            name = var.op.name
            if name.startswith(scope):
                _initialize_from(var, reader, prefix + name[len(scope) :], where)


def warm_start(
    ckpt_to_initialize_from,
    vars_to_warm_start=".*",
    var_name_to_vocab_info=None,
    var_name_to_prev_var_name=None,
) -> None:
    """Makes the selected variables start from the checkpoint's same-named (or
    ``var_name_to_prev_var_name``-named) tensors. ``vars_to_warm_start``: a regex over
    trainable variables' names, a list of names/variables, or None (all global variables).
    ``tf.train.warm_start(ckpt_to_initialize_from, vars_to_warm_start='.*',
    var_name_to_vocab_info=None, var_name_to_prev_var_name=None)``

    Raises:
        UnimplementedError: ``var_name_to_vocab_info`` asks for vocabulary remapping.
        ValueError: as `init_from_checkpoint`.
    """
    if var_name_to_vocab_info:
        raise errors.UnimplementedError(
            None,
            None,
            "tf.train.warm_start: vocabulary "
            "remapping (var_name_to_vocab_info) is not "
            "implemented in miniflow yet.",
        )
    if vars_to_warm_start is None:
        chosen = global_variables()
    elif isinstance(vars_to_warm_start, str):
        chosen = [v for v in trainable_variables() if re.match(vars_to_warm_start, v.op.name)]
    else:
        chosen = [v if isinstance(v, Variable) else _variable_named(v) for v in vars_to_warm_start]
        missing = [n for n, v in zip(vars_to_warm_start, chosen) if v is None]
        if missing:
            raise ValueError(f"vars_to_warm_start names no variable: {missing}")
    prev = var_name_to_prev_var_name or {}
    reader = load_checkpoint(ckpt_to_initialize_from)
    for var in chosen:
        _initialize_from(var, reader, prev.get(var.op.name, var.op.name), ckpt_to_initialize_from)
