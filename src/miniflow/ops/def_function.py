"""`tf.function` and `tf.wrap_function` in TF1 programs, and the scopes and probes around
functions (`tf.init_scope`, `tf.executing_eagerly_outside_functions`,
`tf.resource_variables_enabled`, `tf.control_flow_v2_enabled`).

miniflow does not trace functions into function graphs: in graph mode calling a
`tf.function` builds its ops into the current graph (what TF1 code sees), in eager mode
it runs eagerly, op by op. An ``input_signature`` is checked on every call.
"""

from __future__ import annotations

import contextlib
import functools

from miniflow.core.dispatch import current_frontend
from miniflow.graph.graph import get_default_graph
from miniflow.ops import array_ops as _arr


def _conform(args, signature):
    """``args`` converted to the signature's dtypes, their shapes checked.

    Raises:
        ValueError: the wrong number of arguments or an incompatible shape.
    """
    if len(args) != len(signature):
        raise ValueError(
            f"The function takes {len(signature)} positional arguments by "
            f"its input_signature, got {len(args)}"
        )
    out = []
    for spec, arg in zip(signature, args):
        t = _arr.convert_to_tensor(arg, dtype=spec.dtype)
        if not spec.shape.is_compatible_with(t.shape):
            raise ValueError(
                f"Python inputs incompatible with input_signature: input "
                f"shape {t.shape} does not fit {spec}"
            )
        out.append(t)
    return out


class Function:
    """A function wrapped by `function`: calling it calls the Python function."""

    def __init__(self, python_function, input_signature=None):
        self._python_function = python_function
        self._input_signature = None if input_signature is None else list(input_signature)
        functools.update_wrapper(self, python_function)

    @property
    def python_function(self):
        return self._python_function

    @property
    def input_signature(self):
        return self._input_signature

    def __call__(self, *args, **kwargs):
        if self._input_signature is not None:
            args = _conform(args, self._input_signature)
        return self._python_function(*args, **kwargs)

    def __get__(self, instance, owner):
        if instance is None:
            return self
        return functools.partial(self.__call__, instance)

    def get_concrete_function(self, *args, **kwargs):
        """A callable for these argument types (here: the function itself)."""
        return self


def function(
    func=None,
    input_signature=None,
    autograph=True,
    experimental_implements=None,
    experimental_autograph_options=None,
    experimental_relax_shapes=False,
    experimental_compile=None,
    experimental_follow_type_hints=None,
    jit_compile=None,
    reduce_retracing=False,
):
    """Wraps ``func`` as a `Function` (usable as a decorator, with or without
    arguments)."""
    if func is None:
        return functools.partial(function, input_signature=input_signature)
    return Function(func, input_signature)


def wrap_function(fn, signature, name=None):
    """``fn`` made callable with tensors matching ``signature`` (a list of TensorSpecs)."""
    return Function(fn, signature)


def init_scope():
    """A context lifting op creation out of control dependencies and tf.cond branches
    (where TF1 builds variables and their initializers)."""
    if current_frontend().eager:
        return contextlib.nullcontext()
    return get_default_graph().init_scope()


def executing_eagerly_outside_functions():
    """Whether ops outside any function run eagerly (miniflow: whether eager mode is on)."""
    return current_frontend().eager


def resource_variables_enabled():
    """False: miniflow's variables behave as TF1's reference variables."""
    return False


def control_flow_v2_enabled():
    """False: miniflow's control flow is TF1's."""
    return False
