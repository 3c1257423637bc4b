"""`tf.contrib.eager` (``tfe``), as the TF 1.4-1.8 eager tutorials used it: gradient
functions over the tape, `Network`, `Iterator`, `Saver`/`Checkpoint` for eager variables,
and `metrics.Mean`/`Accuracy`. ``defun`` runs the function as is (no tracing)."""

from __future__ import annotations

import os

import numpy as np

from miniflow import errors
from miniflow.contrib import eager_metrics as metrics  # noqa: F401
from miniflow.data.iterator_ops import EagerIterator
from miniflow.eager.context import (
    enable_eager_execution as enable_eager_execution,  # noqa: F401
    executing_eagerly as executing_eagerly,
)
from miniflow.eager.tape import GradientTape as GradientTape
from miniflow.layers import Layer
from miniflow.ops import array_ops
from miniflow.ops.script_ops import py_func as py_func
from miniflow.ops.variables import Variable as Variable
from miniflow.train import checkpoint as _ckpt

in_eager_mode = executing_eagerly


def num_gpus() -> int:
    """0: miniflow runs on the CPU."""
    return 0


def defun(func=None, **kwargs):
    """Returns ``func`` unchanged (TF compiles it into a graph function; miniflow runs the
    Python function eagerly, with the same results)."""
    if func is None:
        return lambda f: f
    return func


def _loss_and_tape(f, args, kwargs, watch=()):
    with GradientTape() as tape:
        for t in watch:
            tape.watch(t)
        value = f(*args, **kwargs)
    return value, tape


def implicit_value_and_gradients(f):
    """``f`` -> a function returning ``(f(*args), [(gradient, variable), ...])`` for the
    trainable variables ``f`` read."""

    def grad_fn(*args, **kwargs):
        value, tape = _loss_and_tape(f, args, kwargs)
        variables = [v for v in tape.watched_variables() if v.trainable]
        if not variables:
            raise ValueError(
                "No trainable variables were accessed while the function was being computed."
            )
        grads = tape.gradient(value, variables)
        return value, list(zip(grads, variables))

    return grad_fn


def implicit_gradients(f):
    """``f`` -> a function returning ``[(gradient, variable), ...]`` (see
    `implicit_value_and_gradients`)."""
    value_and_grads = implicit_value_and_gradients(f)
    return lambda *args, **kwargs: value_and_grads(*args, **kwargs)[1]


def value_and_gradients_function(f, params=None):
    """``f`` -> a function returning ``(f(*args), [d f / d arg, ...])`` for the arguments
    at indices (or names) ``params`` (default: all)."""

    def grad_fn(*args, **kwargs):
        tensors = [array_ops.convert_to_tensor(a) for a in args]
        chosen = _chosen(f, params, len(tensors))
        value, tape = _loss_and_tape(f, tensors, kwargs, [tensors[i] for i in chosen])
        return value, list(tape.gradient(value, [tensors[i] for i in chosen]))

    return grad_fn


def gradients_function(f, params=None):
    """``f`` -> a function returning the gradients of ``f`` with respect to its
    arguments (see `value_and_gradients_function`)."""
    value_and_grads = value_and_gradients_function(f, params)
    return lambda *args, **kwargs: value_and_grads(*args, **kwargs)[1]


def _chosen(f, params, n):
    if params is None:
        return list(range(n))
    import inspect

    names = list(inspect.signature(f).parameters)
    return [names.index(p) if isinstance(p, str) else int(p) for p in params]


def Iterator(dataset):  # noqa: N802  TF's class name
    """An eager iterator over ``dataset`` (``tfe.Iterator``)."""
    return EagerIterator(dataset)


class Network(Layer):
    """A layer made of layers (TF 1.4's ``tfe.Network``): sublayers registered with
    `track_layer` (or assigned as attributes) share in `variables`; subclasses define
    ``call``."""

    _default_name = "network"

    def __init__(self, name=None):
        super().__init__(name=name)
        self._layers: list = []

    def track_layer(self, layer):
        if not isinstance(layer, Layer):
            raise TypeError(
                f"Network.track_layer() passed type {type(layer).__name__}, not a tf.layers.Layer"
            )
        self._layers.append(layer)
        return layer

    def __setattr__(self, name, value):
        if isinstance(value, Layer) and "_layers" in self.__dict__ and value not in self._layers:
            self._layers.append(value)
        super().__setattr__(name, value)

    @property
    def layers(self):
        return list(self._layers)

    def _collect(self, attr):
        seen, out = set(), []
        for v in getattr(super(), attr) + [
            v for layer in self._layers for v in getattr(layer, attr)
        ]:
            if id(v) not in seen:
                seen.add(id(v))
                out.append(v)
        return out

    @property
    def trainable_weights(self):
        return self._collect("trainable_weights")

    trainable_variables = trainable_weights

    @property
    def weights(self):
        return self._collect("weights")

    variables = weights

    def __call__(self, inputs, *args, **kwargs):
        return self.call(inputs, *args, **kwargs)


class Saver:
    """Saves and restores eager variables (``tfe.Saver(var_list)``), in the checkpoint
    format of `tf.train.Saver` (keys: the variables' names)."""

    def __init__(self, var_list):
        items = (
            list(var_list.items())
            if isinstance(var_list, dict)
            else [(v.name.split(":")[0], v) for v in var_list]
        )
        self._vars = dict(items)
        if len(self._vars) != len(items):
            raise ValueError(
                "At least two variables have the same name: give them "
                "distinct names or pass a dict name -> variable."
            )

    def save(self, file_prefix, global_step=None, sess=None):
        prefix = os.fspath(file_prefix)
        if global_step is not None:
            prefix = f"{prefix}-{int(np.asarray(_value(global_step)))}"
        _ckpt.write_checkpoint(prefix, {n: np.asarray(_value(v)) for n, v in self._vars.items()})
        return prefix

    def restore(self, file_prefix, sess=None):
        if not _ckpt.checkpoint_exists(os.fspath(file_prefix)):
            raise errors.NotFoundError(None, None, f"No checkpoint at {file_prefix}")
        values = _ckpt.load_checkpoint_tensors(os.fspath(file_prefix), list(self._vars))
        for name, var in self._vars.items():
            var.assign(values[name])


def _value(v):
    return v.numpy() if hasattr(v, "numpy") else v


class Checkpoint:
    """Saves and restores the variables of the objects given as keyword arguments
    (variables, or objects with ``variables`` such as layers and networks). The keys are
    ``name/index`` paths, miniflow's own (not TF's object-graph format)."""

    def __init__(self, **objects):
        self._objects = objects
        self.save_counter = 0

    def _variables(self):
        out = {}
        for key, obj in sorted(self._objects.items()):
            if isinstance(obj, Variable):
                out[key] = obj
            else:
                for i, v in enumerate(getattr(obj, "variables", []) or []):
                    out[f"{key}/{i}"] = v
        return out

    def save(self, file_prefix):
        self.save_counter += 1
        prefix = f"{os.fspath(file_prefix)}-{self.save_counter}"
        return Saver(self._variables()).save(prefix)

    def write(self, file_prefix):
        return Saver(self._variables()).save(file_prefix)

    def restore(self, save_path):
        Saver(self._variables()).restore(save_path)
        return self
