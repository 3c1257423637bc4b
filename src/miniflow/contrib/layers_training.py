"""`tf.contrib.layers.optimize_loss` and the ``summarize_*`` helpers (TF 1.15's
``optimizers.py`` and ``summaries.py``)."""

from __future__ import annotations

import functools
import re

from miniflow.graph.graph import GraphKeys, get_default_graph
from miniflow.ops import array_ops, clip_ops, init_ops, math_ops, summary_ops
from miniflow.ops.check_ops import assert_scalar
from miniflow.ops.control_flow_ops import control_dependencies
from miniflow.ops.variable_scope import get_variable, variable_scope
from miniflow.ops.variables import trainable_variables
from miniflow.train.adagrad import AdagradOptimizer
from miniflow.train.adam import AdamOptimizer
from miniflow.train.ftrl import FtrlOptimizer
from miniflow.train.gradient_descent import GradientDescentOptimizer
from miniflow.train.momentum import MomentumOptimizer
from miniflow.train.optimizer import Optimizer
from miniflow.train.rmsprop import RMSPropOptimizer
from miniflow.train.training_util import get_global_step

OPTIMIZER_CLS_NAMES = {
    "Adagrad": AdagradOptimizer,
    "Adam": AdamOptimizer,
    "Ftrl": FtrlOptimizer,
    "Momentum": lambda learning_rate: MomentumOptimizer(learning_rate, momentum=0.9),
    "RMSProp": RMSPropOptimizer,
    "SGD": GradientDescentOptimizer,
}
OPTIMIZER_SUMMARIES = [
    "learning_rate",
    "loss",
    "gradients",
    "gradient_norm",
    "global_gradient_norm",
]


def _with_dependencies(deps, tensor):
    with control_dependencies(deps):
        return array_ops.identity(tensor)


def _learning_rate(learning_rate):
    if learning_rate is None:
        return None
    if hasattr(learning_rate, "shape") and learning_rate.shape.ndims == 0:
        return learning_rate
    if isinstance(learning_rate, float):
        if learning_rate < 0.0:
            raise ValueError(f"Invalid learning_rate {learning_rate}.")
        return get_variable(
            "learning_rate",
            [],
            trainable=False,
            initializer=init_ops.constant_initializer(learning_rate),
        )
    raise ValueError(
        f"Learning rate should be 0d Tensor or float. Got {learning_rate} of "
        f"type {type(learning_rate)}"
    )


def _optimizer(optimizer, lr):
    if isinstance(optimizer, str):
        if lr is None:
            raise ValueError(
                "Learning rate is None, but should be specified if optimizer "
                f"is string ({optimizer})."
            )
        if optimizer not in OPTIMIZER_CLS_NAMES:
            raise ValueError(
                f"Optimizer name should be one of [{', '.join(OPTIMIZER_CLS_NAMES)}"
                f"], you provided {optimizer}."
            )
        return OPTIMIZER_CLS_NAMES[optimizer](learning_rate=lr)
    if isinstance(optimizer, type) and issubclass(optimizer, Optimizer):
        return optimizer(learning_rate=lr)
    if isinstance(optimizer, Optimizer):
        return optimizer
    if callable(optimizer):
        opt = optimizer(lr) if lr is not None else optimizer()
        if not isinstance(opt, Optimizer):
            raise ValueError(
                f"Unrecognized optimizer: function should return subclass of Optimizer. Got {opt}."
            )
        return opt
    raise ValueError(
        "Unrecognized optimizer: should be string, subclass of Optimizer, "
        f"instance of subclass of Optimizer or function with one argument. Got "
        f"{optimizer}."
    )


def optimize_loss(
    loss,
    global_step,
    learning_rate,
    optimizer,
    gradient_noise_scale=None,
    gradient_multipliers=None,
    clip_gradients=None,
    learning_rate_decay_fn=None,
    update_ops=None,
    variables=None,
    name=None,
    summaries=None,
    colocate_gradients_with_ops=False,
    increment_global_step=True,
):
    """One training step's op: ``loss`` after applying its gradients (computed after
    ``UPDATE_OPS``), with an optimizer given by name ('SGD', 'Adam', 'Adagrad',
    'Momentum', 'RMSProp', 'Ftrl'), class, instance or factory, optional global-norm
    clipping (a float) and scalar summaries (default: loss, learning_rate,
    global_gradient_norm).

    Raises:
        ValueError: bad learning rate, optimizer, summary name or ``clip_gradients``.
    """
    loss = array_ops.convert_to_tensor(loss)
    assert_scalar(loss)
    if global_step is None:
        global_step = get_global_step()
    if gradient_noise_scale is not None:
        raise NotImplementedError("gradient_noise_scale is not supported by miniflow")
    with variable_scope(name, "OptimizeLoss"):
        if update_ops is None:
            update_ops = list(
                dict.fromkeys(get_default_graph().get_collection(GraphKeys.UPDATE_OPS))
            )
        if update_ops:
            loss = _with_dependencies(list(update_ops), loss)
        lr = _learning_rate(learning_rate)
        if summaries is None:
            summaries = ["loss", "learning_rate", "global_gradient_norm"]
        for s in summaries:
            if s not in OPTIMIZER_SUMMARIES:
                raise ValueError(
                    f"Summaries should be one of [{', '.join(OPTIMIZER_SUMMARIES)}"
                    f"], you provided {s}."
                )
        if lr is not None and learning_rate_decay_fn is not None:
            if global_step is None:
                raise ValueError("global_step is required for learning_rate_decay_fn.")
            lr = learning_rate_decay_fn(lr, global_step)
            if "learning_rate" in summaries:
                summary_ops.scalar("learning_rate", lr)
        opt = _optimizer(optimizer, lr)
        variables = trainable_variables() if variables is None else variables
        gradients = opt.compute_gradients(loss, variables)
        if gradient_multipliers is not None:
            gradients = [
                (
                    g
                    * gradient_multipliers.get(
                        v, gradient_multipliers.get(v.name.split(":")[0], 1.0)
                    )
                    if g is not None
                    else None,
                    v,
                )
                for g, v in gradients
            ]
        norm_summary = {"global_gradient_norm", "gradient_norm"} & set(summaries)
        if norm_summary:
            summary_ops.scalar(
                "global_norm/gradient_norm", clip_ops.global_norm([g for g, _ in gradients])
            )
        if isinstance(clip_gradients, float):
            grads, _ = clip_ops.clip_by_global_norm([g for g, _ in gradients], clip_gradients)
            gradients = list(zip(grads, [v for _, v in gradients]))
        elif callable(clip_gradients):
            gradients = clip_gradients(gradients)
        elif clip_gradients is not None:
            raise ValueError(f"Unknown type {type(clip_gradients)} for clip_gradients")
        if "loss" in summaries:
            summary_ops.scalar("loss", loss)
        for g, v in gradients:
            if g is None:
                continue
            var_name = v.name.split(":")[0].replace(":", "_")
            if "gradients" in summaries:
                summary_ops.histogram(f"gradients/{var_name}", g)
            if "gradient_norm" in summaries:
                summary_ops.scalar(f"gradient_norm/{var_name}", clip_ops.global_norm([g]))
        if clip_gradients is not None and norm_summary:
            summary_ops.scalar(
                "global_norm/clipped_gradient_norm", clip_ops.global_norm([g for g, _ in gradients])
            )
        train = opt.apply_gradients(
            gradients, global_step=global_step if increment_global_step else None, name="train"
        )
        return _with_dependencies([train], loss)


# -- summaries ---------------------------------------------------------------------------------


def _op_name(t):
    return t.name.split(":")[0]


def summarize_tensor(tensor, tag=None):
    """A scalar summary for a scalar tensor, else a histogram (tag: the op name)."""
    tag = tag or _op_name(tensor)
    if tensor.shape.ndims == 0:
        return summary_ops.scalar(tag, tensor)
    return summary_ops.histogram(tag, tensor)


def summarize_activation(op):
    """A histogram of ``op`` and, after a relu, the fraction of zeros."""
    if getattr(getattr(op, "op", None), "type", None) in ("Relu", "Softplus", "Relu6"):
        zeros = math_ops.reduce_mean(math_ops.cast(math_ops.equal(op, 0), "float32"))
        summary_ops.scalar(f"{_op_name(op)}/zeros", zeros)
    return summary_ops.histogram(f"{_op_name(op)}/activation", op)


def summarize_tensors(tensors, summarizer=summarize_tensor):
    return [summarizer(t) for t in tensors]


def summarize_collection(collection, name_filter=None, summarizer=summarize_tensor):
    """Summaries of the collection's tensors whose op names match ``name_filter``."""
    tensors = [
        t
        for t in get_default_graph().get_collection(collection)
        if name_filter is None or re.match(name_filter, _op_name(t))
    ]
    return summarize_tensors(tensors, summarizer)


def summarize_activations(name_filter=None, summarizer=summarize_activation):
    return summarize_collection(GraphKeys.ACTIVATIONS, name_filter, summarizer)


summarize_variables = functools.partial(summarize_collection, GraphKeys.GLOBAL_VARIABLES)
