"""Run-time checks (`tf.debugging`, `tf.assert_*`, `tf.Assert`, `tf.check_numerics`).

As in TF1: a violation known at graph construction (constant inputs, static shapes and
dtypes) raises at once; otherwise the check is an op (`Assert`, `CheckNumerics`) that
raises `InvalidArgumentError` when it runs, so it must be fetched or be a control
dependency of something fetched. In eager mode the check runs immediately, with TF's
eager messages.
"""

from __future__ import annotations

import collections.abc

import numpy as np

from miniflow import dtypes, errors
from miniflow.core.dispatch import apply_op, current_frontend
from miniflow.core.registry import not_differentiable, register_gradient, register_op
from miniflow.graph.graph import get_default_graph
from miniflow.ops import array_ops as _arr, math_ops as _math
from miniflow.ops.composite_math_ops import (
    is_non_decreasing as is_non_decreasing,  # noqa: F401
    is_strictly_increasing as is_strictly_increasing,
)
from miniflow.ops.control_flow_ops import control_dependencies, name_scope, no_op
from miniflow.ops.variables import global_variables, local_variables


def _eager() -> bool:
    return current_frontend().eager


# -- the two ops -------------------------------------------------------------------------


def _summarize(value, summarize) -> str:
    """TF's Tensor::SummarizeValue: the first ``summarize`` elements, nested by rank."""
    arr = np.asarray(value)
    if arr.dtype.kind in "SOU":
        flat = [v.decode() if isinstance(v, bytes) else str(v) for v in arr.reshape(-1)]
    else:
        flat = [_number(v) for v in arr.reshape(-1)]
    limit = arr.size if summarize is None or summarize < 0 else summarize
    if arr.ndim <= 1:
        return " ".join(flat[:limit]) + ("..." if arr.size > limit else "")
    count = [0]

    def block(dims, offset, top=False):
        if len(dims) == 1:
            take = max(0, min(dims[0], limit - count[0]))
            count[0] += take
            body = " ".join(flat[offset : offset + take]) + ("..." if take < dims[0] else "")
        else:
            step, parts = int(np.prod(dims[1:])), []
            for i in range(dims[0]):
                if count[0] >= limit:
                    parts.append("...")
                    break
                parts.append(block(dims[1:], offset + i * step))
            body = "".join(parts)
        return body if top else f"[{body}]"

    return block(arr.shape, 0, top=True)


def _number(v) -> str:
    if isinstance(v, np.bool_ | bool):
        return "1" if v else "0"
    if isinstance(v, np.floating):  # TF's FloatToBuffer: short if it round-trips
        digits = (6, 9) if v.dtype == np.float32 else (15, 17)
        short = f"{v:.{digits[0]}g}"
        return short if v.dtype.type(short) == v else f"{v:.{digits[1]}g}"
    return str(v)


@register_op("Assert", num_outputs=0)
def _assert(condition, *data, summarize=3):
    if not np.all(condition):
        raise errors.InvalidArgumentError(
            None,
            None,
            "assertion failed: " + " ".join(f"[{_summarize(d, summarize)}]" for d in data),
        )
    return ()


@register_op("CheckNumerics", infer=lambda i, a: [(i[0].shape.as_tuple(), i[0].dtype)])
def _check_numerics(x, message=""):
    nan, inf = bool(np.isnan(x).any()), bool(np.isinf(x).any())
    if nan or inf:
        what = "Inf and NaN" if nan and inf else ("NaN" if nan else "Inf")
        raise errors.InvalidArgumentError(None, None, f"{message} : Tensor had {what} values")
    return x


@register_gradient("CheckNumerics")
def _check_numerics_grad(op, grad):
    """The gradient is checked too (TF's rule)."""
    return [
        check_numerics(
            grad,
            "Not a number (NaN) or infinity (Inf) values detected in "
            f"gradient. {op.attrs['message']}",
        )
    ]


not_differentiable("Assert")


def Assert(condition, data, summarize=None, name=None):  # noqa: N802  TF's public name
    """Asserts that ``condition`` is true; prints ``data`` (first ``summarize`` entries of
    each, default 3) in the error. Graph mode: returns the `Assert` op."""
    summarize = 3 if summarize is None else int(summarize)
    if _eager():
        if not np.all(_value(condition)):
            shown = "\n".join(_summarize_eager(d, summarize) for d in data)
            raise errors.InvalidArgumentError(
                None,
                None,
                f"Expected '{_eager_str(condition)}' to be true. Summarized data: {shown}",
            )
        return None
    with name_scope(name, "Assert"):
        data = [_arr.convert_to_tensor(d) for d in data]
        return apply_op("Assert", condition, *data, summarize=summarize, name="Assert")


def check_numerics(tensor, message, name=None):
    """``tensor``, checked at run time for NaN and Inf (`InvalidArgumentError`)."""
    return apply_op("CheckNumerics", tensor, message=str(message), name=name)


def verify_tensor_all_finite(t=None, msg=None, name=None, x=None, message=None):
    """``t`` after a `check_numerics` on it (TF1's ``tf.verify_tensor_all_finite``)."""
    t, msg = (x if t is None else t), (message if msg is None else msg)
    if _eager():
        return check_numerics(t, msg)
    with name_scope(name, "VerifyFinite"):
        t = _arr.convert_to_tensor(t)
        with control_dependencies([check_numerics(t, msg)]):
            return _arr.identity(t, name="control_dependency")


assert_all_finite = verify_tensor_all_finite


# -- messages ---------------------------------------------------------------------------


def _value(x):
    v = _arr.get_static_value(x) if not isinstance(x, bool | np.bool_) else x
    return v


def _eager_str(x):
    return str(x) if isinstance(x, bool | np.bool_) else repr(x)


def _summarize_eager(d, summarize):
    arr = np.asarray(d.numpy() if hasattr(d, "numpy") else d)
    if arr.dtype.kind in "SOU":
        return ", ".join(
            repr(v if isinstance(v, bytes) else str(v).encode())
            for v in arr.reshape(-1)[:summarize]
        )
    flat = arr.reshape(-1)
    text = ", ".join(str(v) for v in flat[:summarize])
    return text + (", ..." if flat.size > summarize else "")


def _pretty_eager(item, summarize):
    """One line of an eager assertion message (TF's ``_pretty_print``)."""
    if hasattr(item, "numpy"):
        arr = item.numpy()
        if np.ndim(arr) == 0:
            return str(arr)
        flat = np.asarray(arr).reshape(-1)
        items = [str(v) for v in flat[:summarize]]
        return str(items + (["..."] if len(items) < flat.size else []))
    return str(item)


def _static_text(item):
    if isinstance(item, str):
        return item
    v = _arr.get_static_value(item)
    return str(item) if v is None else str(v)


def _tensor_label(x) -> str:
    if _eager():
        return f"shape={x.shape} dtype={x.dtype.name}"
    return x.name


def _check(condition, static, data, summarize, name):
    """Raises for a statically known violation, else returns the check (graph mode)."""
    if static is not None and not np.all(static):
        raise errors.InvalidArgumentError(
            None, None, "\n".join(_static_text(d) for d in data if d is not None)
        )
    return Assert(condition, [d for d in data if d is not None], summarize, name=name)


# -- comparisons --------------------------------------------------------------------------


def _binary(op, sym, np_op, x, y, data, summarize, message, name, default):
    if _eager():
        x, y = _convert_pair(x, y)
        test = op(x, y)
        if np.all(test.numpy()):
            return None
        summarize = 3 if summarize is None else (10**9 if summarize < 0 else summarize)
        if data is None:
            data = _eager_data(sym, x, y, test, summarize)
        if message is not None:
            data = [message] + list(data)
        raise errors.InvalidArgumentError(
            None, None, "\n".join(_pretty_eager(d, summarize) for d in data)
        )
    with name_scope(name, default):
        x, y = _convert_pair(x, y)
        if data is None:
            data = ([message] if message is not None else []) + [
                f"Condition x {sym} y did not hold element-wise:",
                f"x ({x.name}) = ",
                x,
                f"y ({y.name}) = ",
                y,
            ]
        elif message is not None:
            data = [message] + list(data)
        condition = _math.reduce_all(op(x, y))
        xs, ys = _arr.get_static_value(x), _arr.get_static_value(y)
        static = None if xs is None or ys is None else np_op(xs, ys)
        return _check(condition, static, data, summarize, None)


def _convert_pair(x, y):
    x = _arr.convert_to_tensor(x, name="x")
    return x, _arr.convert_to_tensor(y, dtype=x.dtype, name="y")


def _eager_data(sym, x, y, test, summarize):
    data = [f"Condition x {sym} y did not hold."]
    xv, yv, ok = x.numpy(), y.numpy(), np.asarray(test.numpy())
    if summarize > 0:
        if xv.shape == yv.shape and xv.ndim:
            bad = np.argwhere(~ok)
            n = min(summarize, len(bad))
            data += [
                f"Indices of first {n} different values:",
                bad[:n],
                "Corresponding x values:",
                xv[~ok].reshape(-1)[:n],
                "Corresponding y values:",
                yv[~ok].reshape(-1)[:n],
            ]
        fx, fy = xv.reshape(-1), yv.reshape(-1)
        data += [
            f"First {min(fx.size, summarize)} elements of x:",
            fx[:summarize],
            f"First {min(fy.size, summarize)} elements of y:",
            fy[:summarize],
        ]
    return data


def _binary_assert(op, sym, np_op, default):
    def check(x, y, data=None, summarize=None, message=None, name=None):
        return _binary(op, sym, np_op, x, y, data, summarize, message, name, default)

    check.__name__ = default
    check.__doc__ = (
        f"Asserts ``x {sym} y`` element-wise (static violations raise at once; "
        "otherwise an op failing at run time)."
    )
    return check


assert_equal = _binary_assert(_math.equal, "==", np.equal, "assert_equal")
assert_none_equal = _binary_assert(_math.not_equal, "!=", np.not_equal, "assert_none_equal")
assert_less = _binary_assert(_math.less, "<", np.less, "assert_less")
assert_less_equal = _binary_assert(_math.less_equal, "<=", np.less_equal, "assert_less_equal")
assert_greater = _binary_assert(_math.greater, ">", np.greater, "assert_greater")
assert_greater_equal = _binary_assert(
    _math.greater_equal, ">=", np.greater_equal, "assert_greater_equal"
)


def _sign_assert(sym, cmp, swap, default):
    def check(x, data=None, summarize=None, message=None, name=None):
        with name_scope(name, default):
            x = _arr.convert_to_tensor(x)
            if data is None:
                # TF's texts, including its missing separator for assert_non_positive
                cond = f"Condition x {sym} 0 did not hold element-wise:"
                label = f"x ({_tensor_label(x)}) = "
                data = (
                    [message or "", cond + label, x]
                    if default == "assert_non_positive"
                    else [message or "", cond, label, x]
                )
            zero = _arr.zeros([], dtype=x.dtype)
            a, b = (zero, x) if swap else (x, zero)
            return cmp(a, b, data=data, summarize=summarize)

    check.__name__ = default
    check.__doc__ = f"Asserts ``x {sym} 0`` element-wise."
    return check


assert_positive = _sign_assert(">", assert_less, True, "assert_positive")
assert_negative = _sign_assert("<", assert_less, False, "assert_negative")
assert_non_negative = _sign_assert(">=", assert_less_equal, True, "assert_non_negative")
assert_non_positive = _sign_assert("<=", assert_less_equal, False, "assert_non_positive")


def assert_near(x, y, rtol=None, atol=None, data=None, summarize=None, message=None, name=None):
    """Asserts ``|x - y| <= atol + rtol * |y|`` element-wise (default tolerances: 10
    machine epsilons of the dtype)."""
    with name_scope(name, "assert_near"):
        x, y = _convert_pair(x, y)
        eps = np.finfo(x.dtype.np).eps
        rtol = _arr.convert_to_tensor(10 * eps if rtol is None else rtol, dtype=x.dtype)
        atol = _arr.convert_to_tensor(10 * eps if atol is None else atol, dtype=x.dtype)
        if data is None:
            data = [
                message or "",
                f"x and y not equal to tolerance rtol = {_show(rtol)}, atol = {_show(atol)}",
                f"x ({_tensor_label(x)}) = ",
                x,
                f"y ({_tensor_label(y)}) = ",
                y,
            ]
        tol = atol + rtol * _math.abs(y)
        condition = _math.reduce_all(_math.less_equal(_math.abs(x - y), tol))
        if _eager():
            return Assert(condition, data, summarize)
        xs, ys = _arr.get_static_value(x), _arr.get_static_value(y)
        rs, ats = _arr.get_static_value(rtol), _arr.get_static_value(atol)
        static = (
            None
            if any(v is None for v in (xs, ys, rs, ats))
            else (np.abs(xs - ys) <= ats + rs * np.abs(ys))
        )
        return _check(condition, static, data, summarize, None)


def _show(t):
    v = _arr.get_static_value(t)
    return str(t) if v is None else str(v)


# -- ranks, shapes and dtypes --------------------------------------------------------------


def _rank_assert(x, ranks, how, data, summarize, message, name, default):
    with name_scope(name, default):
        x = _arr.convert_to_tensor(x)
        label = "" if _eager() else x.name
        wanted = [
            int(r) if _arr.get_static_value(r) is None else int(_arr.get_static_value(r))
            for r in ranks
        ]
        ok = {
            "==": lambda r: r == wanted[0],
            ">=": lambda r: r >= wanted[0],
            "in": lambda r: r in wanted,
        }[how]
        text = {
            "==": f"rank {wanted[0]}",
            ">=": f"rank at least {wanted[0]}",
            "in": f"rank in {tuple(wanted)}",
        }[how]
        prefix = f"{message}.  " if message else ""
        if x.shape.ndims is not None:
            if not ok(x.shape.ndims):
                raise ValueError(
                    f"{prefix}Tensor {label} must have {text}.  Received rank "
                    f"{x.shape.ndims}, shape {x.shape}"
                )
            return None if _eager() else no_op(name="static_checks_determined_all_ok")
        rank = _arr.rank(x)
        cond = {
            "==": lambda: _math.equal(rank, wanted[0]),
            ">=": lambda: _math.greater_equal(rank, wanted[0]),
            "in": lambda: _math.reduce_any(_math.equal(rank, wanted)),
        }[how]()
        if data is None:
            data = [
                message or "",
                f"Tensor {label} must have {text.rsplit(' ', 1)[0]}",
                _arr.constant(wanted if how == "in" else wanted[0]),
                "Received shape: ",
                _arr.shape(x),
            ]
        return Assert(cond, data, summarize)


def assert_rank(x, rank, data=None, summarize=None, message=None, name=None):
    """Asserts that ``x`` has rank ``rank`` (`ValueError` when known statically)."""
    return _rank_assert(x, [rank], "==", data, summarize, message, name, "assert_rank")


def assert_rank_at_least(x, rank, data=None, summarize=None, message=None, name=None):
    """Asserts that ``x`` has rank ``rank`` or more."""
    return _rank_assert(x, [rank], ">=", data, summarize, message, name, "assert_rank_at_least")


def assert_rank_in(x, ranks, data=None, summarize=None, message=None, name=None):
    """Asserts that the rank of ``x`` is one of ``ranks``."""
    return _rank_assert(x, list(ranks), "in", data, summarize, message, name, "assert_rank_in")


def assert_scalar(tensor, name=None, message=None):
    """``tensor`` if it is statically a scalar, else `ValueError`."""
    tensor = _arr.convert_to_tensor(tensor)
    if tensor.shape.ndims != 0:
        prefix = f"{message}.  " if message else ""
        label = "tensor" if _eager() else tensor.name
        raise ValueError(f"{prefix}Expected scalar shape for {label}, saw shape: {tensor.shape}.")
    return tensor


def assert_type(tensor, tf_type, message=None, name=None):
    """Statically asserts ``tensor``'s dtype (`TypeError`)."""
    tensor = _arr.convert_to_tensor(tensor)
    tf_type = dtypes.as_dtype(tf_type)
    if tensor.dtype != tf_type:
        prefix = f"{message}.  " if message else ""
        label = "tensor" if _eager() else tensor.name
        raise TypeError(f"{prefix}{label} must be of type {tf_type!r}; got {tensor.dtype!r}")
    if _eager():
        return None
    with name_scope(name, "assert_type"):
        return no_op(name="statically_determined_correct_type")


def assert_integer(x, message=None, name=None):
    """Statically asserts that ``x`` has an integer dtype (`TypeError`)."""
    x = _arr.convert_to_tensor(x)
    if not x.dtype.is_integer:
        prefix = f"{message}.  " if message else ""
        label = "tensor" if _eager() else x.name
        raise TypeError(
            f'{prefix}Expected "x" to be integer type.  Found: {label} of dtype '
            f"<dtype: '{x.dtype.name}'>"
        )
    if _eager():
        return None
    with name_scope(name, "assert_integer"):
        return no_op(name="statically_determined_was_integer")


def assert_proper_iterable(values):
    """`TypeError` unless ``values`` is an iterable other than a tensor, array or string."""
    unintentional = (np.ndarray, bytes, str)
    if isinstance(values, unintentional) or hasattr(values, "dtype") and hasattr(values, "shape"):
        raise TypeError(
            f'Expected argument "values" to be a "proper" iterable.  Found: {type(values)}'
        )
    if not isinstance(values, collections.abc.Iterable):
        raise TypeError(f'Expected argument "values" to be iterable.  Found: {type(values)}')


def assert_same_float_dtype(tensors=None, dtype=None):
    """The common floating dtype of ``tensors`` (and ``dtype``); float32 if none given.

    Raises:
        ValueError: the dtypes differ or are not floating.
    """
    first = None
    for t in tensors or []:
        if t is None:
            continue
        if first is None:
            first = t
            if dtype is None:
                dtype = t.dtype
            elif t.dtype != dtypes.as_dtype(dtype):
                raise ValueError(
                    f"{t.name}, type={_dt(t.dtype)}, must be of the same type "
                    f"({_dt(dtypes.as_dtype(dtype))})."
                )
        elif t.dtype != dtype:
            raise ValueError(
                f"{t.name}, type={_dt(t.dtype)}, must be of the same type "
                f"({_dt(dtype)}) as {first.name}."
            )
    if dtype is None:
        return dtypes.float32
    dtype = dtypes.as_dtype(dtype)
    if not dtype.is_floating:
        raise ValueError(f"Expected floating point type, got {_dt(dtype)}.")
    return dtype


def _dt(d):
    return f"<dtype: '{d.name}'>"


def assert_shapes(shapes, data=None, summarize=None, message=None, name=None):
    """Asserts that ``[(tensor, dims)]`` have the given dimensions, where a dimension is an
    int or a symbol (a string) that must take the same size everywhere."""
    pairs = list(shapes.items()) if isinstance(shapes, dict) else list(shapes)
    sizes: dict = {}
    checks = []
    with name_scope(name, "assert_shapes"):
        for tensor, spec in pairs:
            tensor = _arr.convert_to_tensor(tensor)
            label = "" if _eager() else tensor.name
            spec = list(spec)
            if tensor.shape.ndims is not None and tensor.shape.ndims != len(spec):
                raise ValueError(
                    f"Tensor {label} must have rank {len(spec)}.  Received rank "
                    f"{tensor.shape.ndims}, shape {tensor.shape}"
                )
            for i, want in enumerate(spec):
                got = None if tensor.shape.ndims is None else tensor.shape.as_list()[i]
                if isinstance(want, str):
                    if want not in sizes:
                        sizes[want] = (got, label, i, tensor)
                        continue
                    size, src, j, src_t = sizes[want]
                    origin = f"Specified by tensor {src} dimension {j}.  "
                else:
                    size, origin, src_t = int(want), "", None
                if size is not None and got is not None:
                    if size != got:
                        raise ValueError(
                            f"{origin}Tensor {label} dimension {i} must have "
                            f"size {size}.  Received size {got}, shape "
                            f"{tensor.shape}"
                        )
                    continue
                want_t = _arr.constant(size) if size is not None else _arr.shape(src_t)[j]
                checks.append(
                    assert_equal(
                        _arr.shape(tensor)[i],
                        want_t,
                        data=data,
                        summarize=summarize,
                        message=message,
                    )
                )
    if _eager():
        return None
    return checks[0] if len(checks) == 1 else no_op() if not checks else _group(checks)


def _group(ops):
    with control_dependencies(ops):
        return no_op()


# -- predicates ---------------------------------------------------------------------------


def add_check_numerics_ops():
    """A group of `check_numerics` over every floating tensor of the default graph."""
    checks = []
    for op in list(get_default_graph().get_operations()):
        for t in op.outputs:
            if t.dtype.is_floating:
                with control_dependencies(checks[-1:]):  # one at a time, as TF chains them
                    checks.append(check_numerics(t, f"{op.name}:{t.value_index}"))
    return _group(checks)


def assert_variables_initialized(var_list=None):
    """An op (the variables' ranks) whose run raises `FailedPreconditionError` naming an
    uninitialized variable of ``var_list`` (default: global and local variables); None
    when there are no variables."""
    if var_list is None:
        var_list = global_variables() + local_variables()
    if not var_list:
        return None
    with name_scope(None, "assert_variables_initialized"):
        ranks = [_arr.rank(_arr.identity(v)) for v in var_list]
        return ranks[0] if len(ranks) == 1 else _arr.stack(ranks)


def is_numeric_tensor(tensor) -> bool:
    """True for a tensor of a numeric (not bool or string) dtype."""
    dtype = getattr(tensor, "dtype", None)
    return (
        current_frontend().is_tensor(tensor)
        and isinstance(dtype, dtypes.DType)
        and (dtype.is_floating or dtype.is_integer or dtype.is_complex)
    )
