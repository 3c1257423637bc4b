"""The eager front end: `apply_op` runs the registered NumPy kernel at once and returns
`EagerTensor`s, recording the op on every active `GradientTape` that watches an input.

Variable state: a read returns the variable's buffer itself (no copy; a 0-d variable's
read is a NumPy scalar, a copy as cheap as a view). An in-place update
first checks whether anything besides the variable still references that buffer (a read
tensor, a view of it, a tape record); if so the variable gets a fresh copy to update, so
values already read never change — and reads that were dropped cost nothing. Gathers
read rows straight from the live buffer, so an embedding lookup never copies the table.
"""

from __future__ import annotations

import sys

import numpy as np

from miniflow import dtypes, errors
from miniflow.core import dispatch
from miniflow.core.indexed_slices import IndexedSlices
from miniflow.core.registry import kernel_attrs, lookup_op
from miniflow.core.shapes import TensorShape
from miniflow.core.values import as_array
from miniflow.eager import tape as _tape
from miniflow.eager.tensor import _BY_NP, EagerTensor, VariableHandle, dtype_of

_NO_ATTRS: dict = {}
# NumPy scalar types kernels return for 0-d results (kept as they are: cheaper than arrays)
_SCALARS = frozenset(
    {
        np.float16,
        np.float32,
        np.float64,
        np.int8,
        np.int16,
        np.int32,
        np.int64,
        np.uint8,
        np.uint16,
        np.bool_,
        np.complex64,
        np.complex128,
    }
)
_MAX_STREAMS = 4096
_LITERALS = _SCALARS | {float, int, bool, list, tuple, np.ndarray}
_BY_SCALAR_TYPE = {t: dtypes.as_dtype(t) for t in _SCALARS}


class EagerFrontEnd:
    """Runs ops immediately; pushed on the front-end stack by eager mode."""

    eager = True

    def __init__(self):
        self._rngs: dict = {}  # (op type, seed, seed2) -> generator stream

    @staticmethod
    def is_tensor(value) -> bool:
        return isinstance(value, EagerTensor)

    # -- running ops ------------------------------------------------------------------
    def apply(self, opdef, inputs, attrs, name):
        arity = len(inputs)
        if arity == 2 and (
            opdef.same_dtype or type(inputs[0]) is EagerTensor and type(inputs[1]) is EagerTensor
        ):  # the common case
            x, y = inputs
            if type(x) is not EagerTensor or type(y) is not EagerTensor:
                x, y = inputs = self._convert_pair(opdef, x, y)
            elif x.dtype is not y.dtype and opdef.same_dtype:
                _check_same_dtype(opdef, inputs)
            if x.dtype is not _F32 or y.dtype is not _F32:
                _check_dtypes(opdef, inputs, attrs)
            vals = (x._value, y._value)
        elif arity == 1 and type(inputs[0]) is EagerTensor:
            if inputs[0].dtype is not _F32:
                _check_dtypes(opdef, inputs, attrs)
            vals = (inputs[0]._value,)
        else:
            for x in inputs:
                if type(x) is not EagerTensor:
                    inputs = self._convert_inputs(opdef, inputs)
                    break
            else:
                if opdef.same_dtype and len(inputs) > 1:
                    _check_same_dtype(opdef, inputs)
            for x in inputs:
                if x.dtype is not _F32:
                    _check_dtypes(opdef, inputs, attrs)
                    break
            vals = [t._value for t in inputs]
        try:
            if opdef.stateful:
                out = self._run_stateful(opdef, vals, attrs)
            elif attrs:
                out = opdef.forward(*vals, **kernel_attrs(opdef, attrs))
            else:
                out = opdef.forward(*vals)
        except errors.OpError:
            raise
        except Exception as e:
            raise errors.InvalidArgumentError(
                None,
                None,
                f"{type(e).__name__} in {opdef.type} op{f' {name!r}' if name else ''}: {e}",
            ) from e
        if opdef.num_outputs == 1:
            dt = _BY_SCALAR_TYPE.get(type(out))  # a NumPy scalar: its type says its dtype
            if dt is None:
                if type(out) is np.ndarray:
                    if not out.ndim and out.dtype.kind in "biufc":
                        out = out[()]
                elif type(out) not in _SCALARS:
                    out = normalize(out)
                dt = dtype_of(out)
            result = EagerTensor(out, dt)
            if _tape.ACTIVE:
                _tape.record(opdef, inputs, (result,), attrs, self)
            return result
        n = opdef.outputs_for(attrs)
        outputs = tuple(_wrap(v) for v in out) if n else ()
        if _tape.ACTIVE:
            _tape.record(opdef, inputs, outputs, attrs, self)
        return outputs if n else None

    def _convert_inputs(self, opdef, inputs):
        out = [_read(x) for x in inputs]
        want = None  # literals take the dtype of the first tensor (or variable)
        if opdef.same_dtype:
            for x in out:
                if type(x) is EagerTensor or type(x) is VariableHandle:
                    want = x.dtype
                    break
        for i, x in enumerate(out):
            if type(x) is not EagerTensor and type(x) is not VariableHandle:
                out[i] = _literal(self, x, want) if want is not None else self.convert_to_tensor(x)
        if want is not None and len(out) > 1:
            _check_same_dtype(opdef, out)
        return out

    def _convert_pair(self, opdef, x, y):
        """The two inputs of a same-dtype op as tensors (a literal takes the other's dtype)."""
        if type(x) is not EagerTensor and type(x) not in _LITERALS:
            x = _read(x)
        if type(y) is not EagerTensor and type(y) not in _LITERALS:
            y = _read(y)
        x_is = type(x) is EagerTensor or type(x) is VariableHandle
        y_is = type(y) is EagerTensor or type(y) is VariableHandle
        if not x_is:
            x = self.convert_to_tensor(x) if not y_is else _literal(self, x, y.dtype)
        if not y_is:
            y = _literal(self, y, x.dtype)
        if x.dtype is not y.dtype:
            _check_same_dtype(opdef, (x, y))
        return x, y

    def read_variable(self, variable):
        """The variable's value: its buffer itself (copy-on-write, see the module doc)."""
        value = variable._slot.value
        if value is None:  # the kernel raises the uninitialized-value error
            return self.apply(lookup_op("VariableV2"), (), read_attrs(variable), None)
        if not value.ndim and value.dtype.kind in "biufc":
            value = value[()]  # a copy: no later update can change it
        t = EagerTensor(value, variable.dtype)
        if _tape.ACTIVE:
            _tape.record_read(variable, t)
        return t

    def _run_stateful(self, opdef, vals, attrs):
        kwargs = kernel_attrs(opdef, attrs) if attrs else _NO_ATTRS
        key = opdef.state_key(attrs) if opdef.state_key else None
        slot = getattr(key, "_slot", None)
        if slot is None:  # an RNG or other per-op state
            return opdef.forward(self._state(opdef, attrs), *vals, **kwargs)
        if opdef.extra.get("writes"):
            _own(slot)
            if "slot_vars" in kwargs:
                # Optimizer Apply ops also update the variables named in "slot_vars"
                # (accumulators, moments): their kernels receive those Slots, as in a
                # Session, and every buffer written is first made private.
                extra = tuple(v._slot for v in kwargs["slot_vars"])
                for s in extra:
                    _own(s)
                kwargs = dict(kwargs, slot_vars=extra)
        return opdef.forward(slot, *vals, **kwargs) if kwargs else opdef.forward(slot, *vals)

    def _state(self, opdef, attrs):
        key = (opdef.type, attrs.get("seed"), attrs.get("seed2"))
        state = self._rngs.get(key)
        if state is None:
            if len(self._rngs) >= _MAX_STREAMS:  # a global seed gives each call a new key
                del self._rngs[next(iter(self._rngs))]
            state = self._rngs[key] = opdef.make_state(attrs)
        return state

    def reset_random_streams(self):
        """Restarts the seeded random streams (TF does so when the global seed is set)."""
        for key in [k for k in self._rngs if k[1] is not None]:  # seed None: other state
            del self._rngs[key]

    def variable_handle(self, variable) -> VariableHandle:
        """The tape's stand-in for ``variable`` (one per variable)."""
        h = getattr(variable, "_tape_handle", None)  # kept on the variable: dies with it
        if h is None:
            h = variable._tape_handle = VariableHandle(variable)
        return h

    # -- conversion -------------------------------------------------------------------
    def convert_to_tensor(self, value, dtype=None, name=None, preferred_dtype=None):
        """An `EagerTensor` for ``value`` (variables are read; lists of tensors stacked).

        Raises:
            ValueError: a tensor of a different dtype than ``dtype`` was given.
        """
        if isinstance(value, EagerTensor):
            t = value
            if dtype is None or t.dtype is dtype:
                return t
        elif hasattr(value, "__tf_tensor__"):
            t = value.__tf_tensor__()
        elif isinstance(value, IndexedSlices):
            from miniflow.core.autodiff import densify

            t = densify(value)
        elif isinstance(value, list | tuple) and any(
            isinstance(v, EagerTensor) or hasattr(v, "__tf_tensor__") for v in value
        ):
            t = dispatch.apply_op("Pack", *value, axis=0)
        else:
            kind = type(value)
            if kind in _SCALARS and (
                dtype is None
                and preferred_dtype is None
                or type(dtype) is dtypes.DType
                and value.dtype == dtype.np
            ):
                return EagerTensor(value, dtype_of(value))  # NumPy scalars are immutable
            if (kind is float or kind is int) and dtype is None and preferred_dtype is None:
                arr = (
                    np.array(value, dtype=np.float32 if kind is float else np.int32)
                    if kind is float or -(2**31) <= value < 2**31
                    else as_array(value)
                )
            elif (
                (kind is float or kind is int) and dtype is not None and not isinstance(dtype, str)
            ):
                arr = np.array(value, dtype=dtype.np)
                if dtype.is_integer and kind is float and arr != value:
                    arr = as_array(value, dtype)  # raises the TypeError
            else:
                arr = as_array(value, dtype, preferred_dtype)
            return EagerTensor(normalize(arr), dtype_of(arr))
        if dtype is not None and t.dtype is not dtype:
            if t.dtype != dtypes.as_dtype(dtype):
                raise ValueError(
                    f"Tensor conversion requested dtype "
                    f"{dtypes.as_dtype(dtype).name} for Tensor with dtype "
                    f"{t.dtype.name}: {t!r}"
                )
        return t


def _own(slot):
    """Gives ``slot`` a buffer of its own before an in-place update, if anything besides
    the slot still holds the current one (a read tensor, a view, a tape record)."""
    buf = slot.value
    # 3 references: the slot, `buf`, and getrefcount's argument
    if buf is not None and sys.getrefcount(buf) > 3:
        slot.value = buf.copy()  # whoever shares the old buffer keeps it


def _read(x):
    """A variable (or other object with ``__tf_tensor__``) as its tensor; others as is."""
    kind = type(x)
    if kind is EagerTensor or kind in _LITERALS or not hasattr(x, "__tf_tensor__"):
        return x
    if getattr(x, "_eager", False):  # an eager variable: read it here, not via value()
        return FRONTEND.read_variable(x)
    return x.__tf_tensor__()


def _literal(frontend, value, want):
    """``value`` (not a tensor) as a tensor of the other operand's dtype ``want``."""
    np_want = want._np
    kind = type(value)
    if kind is np_want.type:
        return EagerTensor(value, want)  # NumPy scalars are immutable
    if kind is float and np_want.kind == "f" and value:  # (0.0 == -0.0: not cached)
        t = _FLOATS.get((value, np_want))  # `lr * grad` converts lr once, not every step
        if t is None:
            if len(_FLOATS) >= _MAX_FLOATS:
                _FLOATS.clear()
            t = _FLOATS[(value, np_want)] = EagerTensor(np_want.type(value), want)
        return t
    if kind is float and np_want.kind == "f":
        return EagerTensor(np_want.type(value), want)
    return frontend.convert_to_tensor(value, dtype=want)


_FLOATS: dict = {}  # (Python float, NumPy dtype) -> its (immutable) tensor
_MAX_FLOATS = 1024


def read_attrs(variable) -> dict:
    """The attrs of a VariableV2 op reading ``variable``."""
    return {"var": variable, "shape": variable.shape.as_tuple(), "dtype": variable.dtype}


def normalize(value):
    """A kernel's result as eager tensors hold it: an ndarray, or a NumPy scalar for 0-d
    numbers (immutable, and NumPy's scalar arithmetic is far cheaper than 0-d arrays')."""
    if type(value) is not np.ndarray and not isinstance(value, np.generic):
        arr = np.asarray(value)
        # bytes as NumPy's fixed-width 'S' lose trailing NULs: strings are object arrays
        value = as_array(value, dtypes.string) if arr.dtype.kind in "SU" else arr
    if type(value) is np.ndarray and not value.ndim and value.dtype.kind in "biufc":
        value = value[()]
    return value


def _wrap(value):
    value = normalize(value)
    dt = _BY_NP.get(value.dtype)
    return EagerTensor(value, dt if dt is not None else dtype_of(value))


_F32 = dtypes.float32  # every op that restricts its input dtypes accepts float32
_DTYPES_OK: set = set()  # (op type, input dtypes...) the op's shape rule accepted


class _Spec:
    """What a shape rule sees of an input: dtype and shape, never the value."""

    __slots__ = ("dtype", "shape")

    def __init__(self, t):
        self.dtype, self.shape = t.dtype, TensorShape(np.shape(t._value))


def _check_dtypes(opdef, inputs, attrs):
    """Raises TF's error for input dtypes the op does not allow, as its shape rule does at
    graph construction; runs the rule once per (op type, input dtypes)."""
    if opdef.infer is None:
        return
    key = (opdef.type, *[t.dtype for t in inputs])
    if key in _DTYPES_OK:
        return
    try:
        opdef.infer([_Spec(t) for t in inputs], attrs)
    except TypeError as e:
        if "allowed values" in str(e):
            raise errors.InvalidArgumentError(None, None, f"{e} [Op:{opdef.type}]") from None
    except Exception:  # shape problems: the kernel reports those with the values
        pass
    if len(_DTYPES_OK) >= _MAX_STREAMS:
        _DTYPES_OK.clear()
    _DTYPES_OK.add(key)


def _check_same_dtype(opdef, tensors):
    want = tensors[0].dtype
    if len(tensors) == 2 and tensors[1].dtype is want:
        return
    for i, t in enumerate(tensors):
        if t.dtype is not want and t.dtype != want:
            raise errors.InvalidArgumentError(
                None,
                None,
                f"cannot compute {opdef.type} as input #{i}(zero-based) was "
                f"expected to be a {want.name} tensor but is a {t.dtype.name} tensor",
            )


FRONTEND = EagerFrontEnd()
_tape.EXECUTOR = FRONTEND


def run_op(op_type: str, *inputs, **attrs):
    """Runs one op eagerly whatever the active front end is (used by tests)."""
    return FRONTEND.apply(lookup_op(op_type), inputs, attrs, None)
