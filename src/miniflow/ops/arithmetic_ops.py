"""Element-wise arithmetic, comparison and logic ops, `matmul` and `add_n`, with their
gradients; the dispatch of these functions to `tf.ragged`.
"""

from __future__ import annotations

import operator

import numpy as np

from miniflow import dtypes, errors
from miniflow.core.dispatch import apply_op
from miniflow.core.registry import not_differentiable, register_gradient, register_op
from miniflow.core.shapes import broadcast_dims
from miniflow.ops import activation_compiled, shape_rules as rules
from miniflow.ops.broadcast_ops import broadcast_like, unbroadcast
from miniflow.ops.constant_ops import cast, convert_pair, ones_like, zeros_like
from miniflow.ops.selection_ops import where
from miniflow.ops.shape_rules import dims


def clip_by_value(t, clip_value_min, clip_value_max, name=None):
    """Clips values to [min, max]; the gradient flows where the value is inside."""
    return minimum(maximum(t, clip_value_min), clip_value_max, name=name)


# ---------------------------------------------------------------------------------------
# Binary element-wise ops.


def _binary(op_type, kernel, infer=rules.broadcast):
    register_op(op_type, infer=infer, same_dtype=True)(kernel)


# Python's operators are these same ufuncs for arrays and NumPy scalars, but take NumPy's
# scalar fast path: 10x cheaper than calling the ufunc on two scalars (W1-sized models).
_binary("Add", operator.add)
_binary("Sub", operator.sub)
_binary("Mul", operator.mul)
_binary("RealDiv", operator.truediv)


def _integer_checked(ufunc):
    """An integer divisor of zero is TF's InvalidArgumentError (NumPy returns 0)."""

    def kernel(x, y):
        y = np.asarray(y)
        if y.dtype.kind in "iu" and not y.all():
            raise errors.InvalidArgumentError(None, None, "Integer division by zero")
        return ufunc(x, y)

    return kernel


_binary("FloorDiv", _integer_checked(np.floor_divide))
_binary("FloorMod", _integer_checked(np.mod))
_binary("Pow", np.power)
_binary("Maximum", np.maximum)
_binary("Minimum", np.minimum)
_binary("SquaredDifference", lambda x, y: np.square(np.subtract(x, y)))


@register_gradient("Add")
def _add_grad(op, grad):
    x, y = op.inputs
    return [unbroadcast(grad, x, y), unbroadcast(grad, y, x)]


@register_gradient("Sub")
def _sub_grad(op, grad):
    x, y = op.inputs
    return [unbroadcast(grad, x, y), unbroadcast(negative(grad), y, x)]


@register_gradient("Mul")
def _mul_grad(op, grad):
    x, y = op.inputs
    if x.dtype.is_complex:  # TF's convention for complex z: dL/dRe z + i dL/dIm z
        x, y = apply_op("Conj", x), apply_op("Conj", y)
        return [unbroadcast(grad * y, op.inputs[0], y), unbroadcast(x * grad, op.inputs[1], x)]
    return [unbroadcast(grad * y, x, y), unbroadcast(x * grad, y, x)]


@register_gradient("RealDiv")
def _div_grad(op, grad):
    """d(x/y) = g/y, g*(-x/y)/y (conjugated for complex inputs, as TF)."""
    x, y = op.inputs
    if x.dtype.is_complex:
        xc, yc = apply_op("Conj", x), apply_op("Conj", y)
        return [unbroadcast(grad / yc, x, y), unbroadcast(negative(grad) * xc / square(yc), y, x)]
    # TF's order, (-x / y) / y: its derivative stays finite (0) at y = +-inf
    return [unbroadcast(grad / y, x, y), unbroadcast(grad * (negative(x) / y / y), y, x)]


@register_gradient("FloorMod")
def _floormod_grad(op, grad):
    """x mod y = x - floor(x/y)*y."""
    x, y = op.inputs
    return [unbroadcast(grad, x, y), unbroadcast(negative(grad) * floordiv(x, y), y, x)]


@register_gradient("Pow")
def _pow_grad(op, grad):
    """d(x^y) = y*x^(y-1) dx + x^y*log(x) dy (log taken as 0 where x <= 0)."""
    x, y = op.inputs
    z = op.outputs[0]
    gx = grad * y * pow(x, y - 1)
    safe_log = where(x > 0, log(where(x > 0, x, ones_like(x))), zeros_like(x))
    gy = grad * z * safe_log
    return [unbroadcast(gx, x, y), unbroadcast(gy, y, x)]


def _select_grad(cmp):
    def grad_fn(op, grad):
        x, y = op.inputs
        mask = cmp(x, y)
        zeros = zeros_like(grad)
        return [
            unbroadcast(where(mask, grad, zeros), x, y),
            unbroadcast(where(mask, zeros, grad), y, x),
        ]

    return grad_fn


register_gradient("Maximum")(_select_grad(lambda x, y: broadcast_like(x >= y, x * y)))
register_gradient("Minimum")(_select_grad(lambda x, y: broadcast_like(x <= y, x * y)))


@register_gradient("SquaredDifference")
def _sqdiff_grad(op, grad):
    x, y = op.inputs
    d = grad * 2.0 * (x - y)
    return [unbroadcast(d, x, y), unbroadcast(negative(d), y, x)]


not_differentiable("FloorDiv")

for _t, _k in [
    ("Equal", np.equal),
    ("NotEqual", np.not_equal),
    ("Less", np.less),
    ("LessEqual", np.less_equal),
    ("Greater", np.greater),
    ("GreaterEqual", np.greater_equal),
]:
    _binary(_t, _k, infer=rules.broadcast_bool)
    not_differentiable(_t)
for _t, _k in [
    ("LogicalAnd", np.logical_and),
    ("LogicalOr", np.logical_or),
    ("LogicalXor", np.logical_xor),
]:
    _binary(_t, _k, infer=rules.logical)
    not_differentiable(_t)

# ---------------------------------------------------------------------------------------
# Unary element-wise ops. Gradients use the output where that is cheaper and stable.


def _unary(op_type, kernel, infer=rules.same_as_first):
    register_op(op_type, infer=infer)(kernel)


_FLOATS = "bfloat16, float16, float32, float64"


def dtype_rule(kinds, allowed, param="x", rule=rules.same_as_first):
    """``rule`` for ops defined only for some dtypes: another input dtype is TF's
    TypeError at graph construction (NumPy would quietly compute in float64)."""

    def infer(inputs, attrs):
        dt = inputs[0].dtype
        if dt.np.kind not in kinds:
            raise TypeError(
                f"Value passed to parameter '{param}' has DataType {dt.name} not "
                f"in list of allowed values: {allowed}"
            )
        return rule(inputs, attrs)

    return infer


float_rule = dtype_rule("fc", _FLOATS + ", complex64, complex128")
real_float_rule = dtype_rule("f", _FLOATS)
numeric_rule = dtype_rule("iufc", _FLOATS + ", int8, int16, int32, int64, complex64, complex128")


def _sigmoid(x):
    # exp of a non-positive number only, so large |x| gives no overflow warning
    if activation_compiled.usable(x):  # the same values in 3 passes instead of 7
        return activation_compiled.sigmoid(x)
    if isinstance(x, np.ndarray) and x.dtype.kind == "f" and x.size > 64:
        # (x >= 0 ? 1 : e) / (1 + e) with e = exp(-|x|): the same values as below (bit
        # for bit), one exp pass (max(e, x >= 0) picks 1 or e, as e is in (0, 1]), in
        # place and without np.where (issue 22; 1.7x the two-exp form it replaced)
        e = np.abs(x)
        np.negative(e, out=e)
        np.exp(e, out=e)
        num = np.maximum(e, x >= 0, dtype=x.dtype)
        e += x.dtype.type(1)
        num /= e
        return num
    e = np.exp(-np.abs(x))
    dtype = np.asarray(x).dtype
    dtype = dtype if dtype.kind == "f" else np.float32  # float16 stays float16
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(dtype, copy=False)


_unary("Neg", operator.neg)
_unary("Abs", np.abs, numeric_rule)
_unary("Sign", np.sign, numeric_rule)
_unary("Square", lambda x: x * x, numeric_rule)  # np.square's result, scalar fast path
_unary("Sqrt", np.sqrt, float_rule)
_unary("Rsqrt", lambda x: 1 / np.sqrt(x), float_rule)


def _reciprocal(x):
    if np.asarray(x).dtype.kind in "iu":  # TF's op def allows ints but has no such kernel
        raise errors.InvalidArgumentError(
            None,
            None,
            f"No OpKernel was registered to support Op 'Reciprocal' with these "
            f"attrs: T={dtypes.as_dtype(np.asarray(x).dtype).name}",
        )
    return np.reciprocal(x)


_unary("Reciprocal", _reciprocal, numeric_rule)
_unary("Exp", np.exp, float_rule)
_unary("Expm1", np.expm1, float_rule)
_unary("Log", np.log, float_rule)
_unary("Log1p", np.log1p, float_rule)
_unary("Sigmoid", _sigmoid, float_rule)
_unary("Tanh", np.tanh, float_rule)


def _relu(x):
    if activation_compiled.usable(x):
        return activation_compiled.relu(x)
    return np.maximum(x, 0).astype(x.dtype, copy=False)


_unary("Relu", _relu, dtype_rule("iuf", _FLOATS + ", int8, int16, int32, int64", "features"))
_unary("Sin", np.sin, float_rule)
_unary("Cos", np.cos, float_rule)
_unary("Tan", np.tan, float_rule)
_unary("Floor", np.floor, real_float_rule)
_unary("Ceil", np.ceil, real_float_rule)
_unary("Round", np.round, numeric_rule)
register_op("LogicalNot", infer=rules.logical)(np.logical_not)
for _t, _k in [("IsNan", np.isnan), ("IsInf", np.isinf), ("IsFinite", np.isfinite)]:
    register_op(_t, infer=dtype_rule("f", _FLOATS, rule=rules.broadcast_bool))(_k)
not_differentiable("Floor", "Ceil", "Round", "LogicalNot", "IsNan", "IsInf", "IsFinite")


@register_gradient("Sign")
def _sign_grad(op, grad):
    """Zero (not None, as in TF): the sign is piecewise constant."""
    return [zeros_like(op.inputs[0])]


@register_gradient("Neg")
def _neg_grad(op, grad):
    return [negative(grad)]


@register_gradient("Abs")
def _abs_grad(op, grad):
    return [grad * sign(op.inputs[0])]


@register_gradient("Square")
def _square_grad(op, grad):
    x = op.inputs[0]
    return [grad * (2.0 * (apply_op("Conj", x) if x.dtype.is_complex else x))]


@register_gradient("Sqrt")
def _sqrt_grad(op, grad):
    return [grad * 0.5 / op.outputs[0]]


@register_gradient("Rsqrt")
def _rsqrt_grad(op, grad):
    y = op.outputs[0]
    return [grad * -0.5 * y * y * y]


@register_gradient("Reciprocal")
def _reciprocal_grad(op, grad):
    y = op.outputs[0]
    return [negative(grad) * y * y]


@register_gradient("Exp")
def _exp_grad(op, grad):
    return [grad * op.outputs[0]]


@register_gradient("Expm1")
def _expm1_grad(op, grad):
    return [grad * exp(op.inputs[0])]


@register_gradient("Log")
def _log_grad(op, grad):
    return [grad / op.inputs[0]]


@register_gradient("Log1p")
def _log1p_grad(op, grad):
    return [grad / (1.0 + op.inputs[0])]


@register_gradient("Sigmoid")
def _sigmoid_grad(op, grad):
    return [apply_op("SigmoidGrad", op.outputs[0], grad)]


@register_op("SigmoidGrad", infer=rules.broadcast, same_dtype=True)
def _sigmoid_backprop(y, dy):
    """TF's SigmoidGrad(y, dy) = dy * y * (1 - y): one kernel instead of three ops."""
    if activation_compiled.usable(y, dy):
        return activation_compiled.sigmoid_grad(y, dy)
    dt = np.result_type(y, dy)
    out = np.multiply(dy, y, dtype=dt)
    out *= np.subtract(dt.type(1), y, dtype=dt)
    return out


@register_gradient("SigmoidGrad")
def _sigmoid_backprop_grad(op, grad):
    """As TF's _SigmoidGradGrad: d/dy = grad * dy * (1 - 2y), d/ddy = SigmoidGrad(y, grad)."""
    y, dy = op.inputs
    gb = grad * dy
    return [gb - 2.0 * gb * y, apply_op("SigmoidGrad", y, grad)]


@register_gradient("Tanh")
def _tanh_grad(op, grad):
    y = op.outputs[0]
    return [grad * (1.0 - y * y)]


@register_gradient("Relu")
def _relu_grad(op, grad):
    return [apply_op("ReluGrad", grad, op.inputs[0])]


@register_op("ReluGrad", infer=rules.same_as_first)
def _relu_backprop(g, x):
    """g where x > 0, else 0 (one kernel instead of compare + zeros + select)."""
    if activation_compiled.usable(g, x):
        return activation_compiled.relu_grad(g, x)
    return np.multiply(g, x > 0, dtype=g.dtype)


@register_gradient("ReluGrad")
def _relu_backprop_grad(op, grad):
    """Linear in g; piecewise constant in x (zero almost everywhere)."""
    return [apply_op("ReluGrad", grad, op.inputs[1]), None]


@register_gradient("Sin")
def _sin_grad(op, grad):
    return [grad * cos(op.inputs[0])]


@register_gradient("Cos")
def _cos_grad(op, grad):
    return [negative(grad) * sin(op.inputs[0])]


@register_gradient("Tan")
def _tan_grad(op, grad):
    y = op.outputs[0]
    return [grad * (1.0 + y * y)]


# ---------------------------------------------------------------------------------------
# Matrix multiplication.


def _matmul_infer(inputs, attrs):
    a, b = dims(inputs[0]), dims(inputs[1])
    if a is not None and b is not None:
        if len(a) < 2 or len(b) < 2:
            raise ValueError(f"Shape must be rank 2 (or more) but is rank {min(len(a), len(b))}")
        ak = a[-2] if attrs.get("transpose_a") else a[-1]
        bk = b[-1] if attrs.get("transpose_b") else b[-2]
        if ak is not None and bk is not None and ak != bk:
            raise ValueError(f"Dimensions must be equal, but are {ak} and {bk}")
        m = a[-1] if attrs.get("transpose_a") else a[-2]
        n = b[-2] if attrs.get("transpose_b") else b[-1]
        batch = broadcast_dims(a[:-2], b[:-2])
        return [(batch + (m, n), inputs[0].dtype)]
    return [(None, inputs[0].dtype)]


@register_op("MatMul", infer=_matmul_infer, same_dtype=True)
def _matmul(a, b, transpose_a=False, transpose_b=False):
    if transpose_a:
        a = np.swapaxes(a, -1, -2)
    if transpose_b:
        b = np.swapaxes(b, -1, -2)
    return np.matmul(a, b)


@register_gradient("MatMul")
def _matmul_grad(op, grad):
    a, b = op.inputs
    ta, tb = op.attrs["transpose_a"], op.attrs["transpose_b"]
    if not ta and not tb:
        ga, gb = matmul(grad, b, transpose_b=True), matmul(a, grad, transpose_a=True)
    elif not ta and tb:
        ga, gb = matmul(grad, b), matmul(grad, a, transpose_a=True)
    elif ta and not tb:
        ga, gb = matmul(b, grad, transpose_b=True), matmul(a, grad)
    else:
        ga = matmul(b, grad, transpose_a=True, transpose_b=True)
        gb = matmul(grad, a, transpose_a=True, transpose_b=True)
    if len(dims(a) or ()) == 2 and len(dims(b) or ()) == 2:
        return [ga, gb]  # plain matrices: no batch dimensions to broadcast
    return [unbroadcast(ga, a), unbroadcast(gb, b)]


# ---------------------------------------------------------------------------------------
# AddN.


def _addn_infer(inputs, attrs):
    return rules.broadcast(inputs, attrs)


@register_op("AddN", infer=_addn_infer, same_dtype=True)
def _addn(*xs):
    out = np.add(xs[0], xs[1]) if len(xs) > 1 else np.array(xs[0])
    for x in xs[2:]:
        out += x
    return out


@register_gradient("AddN")
def _addn_grad(op, grad):
    return [unbroadcast(grad, x) for x in op.inputs]


# ---------------------------------------------------------------------------------------
# Public functions.


def _plain(op_type):
    """Marks a public function that is exactly ``apply_op(op_type, x, y, name=name)``, so
    Python operators may dispatch to the op directly (`operators.install`)."""

    def mark(fn):
        fn.op_type = op_type
        return fn

    return mark


@_plain("Add")
def add(x, y, name=None):
    """x + y element-wise, with broadcasting."""
    return apply_op("Add", x, y, name=name)


@_plain("Sub")
def subtract(x, y, name=None):
    """x - y element-wise, with broadcasting."""
    return apply_op("Sub", x, y, name=name)


@_plain("Mul")
def multiply(x, y, name=None):
    """x * y element-wise, with broadcasting."""
    return apply_op("Mul", x, y, name=name)


def truediv(x, y, name=None):
    """x / y; integer inputs are first cast to float (float64 for int32/int64, as TF)."""
    x, y = convert_pair(x, y)
    if x.dtype != y.dtype:
        raise TypeError(f"`x` and `y` must have the same dtype, got {x.dtype!r} != {y.dtype!r}.")
    if x.dtype.is_integer:
        target = dtypes.float32 if x.dtype.np.itemsize <= 2 else dtypes.float64
        x, y = cast(x, target), cast(y, target)
    return apply_op("RealDiv", x, y, name=name)


divide = truediv


def div(x, y, name=None):
    """TF1's `tf.div`: floor division for integers, true division for floats."""
    x, y = convert_pair(x, y)
    if x.dtype.is_integer:
        return floordiv(x, y, name=name)
    return apply_op("RealDiv", x, y, name=name)


def realdiv(x, y, name=None):
    return apply_op("RealDiv", x, y, name=name)


def floordiv(x, y, name=None):
    """Floor of x / y element-wise."""
    x, y = convert_pair(x, y)
    if x.dtype.is_floating:
        return floor(apply_op("RealDiv", x, y), name=name)
    return apply_op("FloorDiv", x, y, name=name)


@_plain("FloorMod")
def floormod(x, y, name=None):
    """x mod y with the sign of y (Python semantics)."""
    return apply_op("FloorMod", x, y, name=name)


mod = floormod


@_plain("Pow")
def pow(x, y, name=None):  # noqa: A001  TF's public name
    """x ** y element-wise."""
    return apply_op("Pow", x, y, name=name)


def maximum(x, y, name=None):
    return apply_op("Maximum", x, y, name=name)


def minimum(x, y, name=None):
    return apply_op("Minimum", x, y, name=name)


def squared_difference(x, y, name=None):
    return apply_op("SquaredDifference", x, y, name=name)


# -- dispatch to tf.ragged: TF hands RaggedTensor arguments of tf.reduce_sum, tf.square,
# tf.gather, tf.concat, ... to the ragged implementations. The dense path pays nothing:
# the check runs only after the conversion of a RaggedTensor has raised its TypeError
# (a `try` costs no instructions in Python 3.11).
_RAGGED_IMPLS: dict = {}  # public dense function -> its tf.ragged implementation
_RAGGED_TYPES: list = []


def register_ragged_dispatch(fn, impl, ragged_type):
    """Makes ``fn`` call ``impl`` when given an instance of ``ragged_type`` (registered
    by `miniflow.ragged`, which sits above the ops)."""
    _RAGGED_IMPLS[fn] = impl
    if ragged_type not in _RAGGED_TYPES:
        _RAGGED_TYPES.append(ragged_type)


def ragged_impl(fn, *values):
    """The ragged implementation of ``fn`` if any of ``values`` (or of the elements of a
    list among them) is ragged, else None (the caller re-raises its error)."""
    flat = [e for v in values for e in (v if isinstance(v, list | tuple) else (v,))]
    if any(isinstance(v, tuple(_RAGGED_TYPES)) for v in flat):
        return _RAGGED_IMPLS.get(fn)
    return None


def _unary_fn(op_type, doc):
    def fn(x, name=None):
        try:
            return apply_op(op_type, x, name=name)
        except TypeError:
            impl = ragged_impl(fn, x)
            if impl is None:
                raise
            return impl(x, name=name)

    fn.__doc__ = doc
    return fn


negative = _unary_fn("Neg", "-x element-wise.")


def abs(x, name=None):  # noqa: A001  TF's public name
    """|x| element-wise (complex x: the real magnitude, TF's ComplexAbs)."""
    if getattr(getattr(x, "dtype", None), "is_complex", False):
        if ragged_impl(abs, x) is not None:
            return ragged_impl(abs, x)(x, name=name)
        return apply_op("ComplexAbs", x, name=name)  # registered in ops/complex_ops.py
    try:
        return apply_op("Abs", x, name=name)
    except TypeError:
        if ragged_impl(abs, x) is None:
            raise
        return ragged_impl(abs, x)(x, name=name)


sign = _unary_fn("Sign", "-1, 0 or 1 by the sign of x.")
square = _unary_fn("Square", "x * x element-wise.")
sqrt = _unary_fn("Sqrt", "Square root element-wise.")
rsqrt = _unary_fn("Rsqrt", "1 / sqrt(x) element-wise.")
reciprocal = _unary_fn("Reciprocal", "1 / x element-wise.")
exp = _unary_fn("Exp", "e ** x element-wise.")
expm1 = _unary_fn("Expm1", "e ** x - 1 element-wise.")
log = _unary_fn("Log", "Natural logarithm element-wise.")
log1p = _unary_fn("Log1p", "log(1 + x) element-wise.")
sigmoid = _unary_fn("Sigmoid", "1 / (1 + exp(-x)), computed without overflow.")
tanh = _unary_fn("Tanh", "Hyperbolic tangent element-wise.")
relu = _unary_fn("Relu", "max(x, 0) element-wise.")
sin = _unary_fn("Sin", "Sine element-wise.")
cos = _unary_fn("Cos", "Cosine element-wise.")
tan = _unary_fn("Tan", "Tangent element-wise.")
floor = _unary_fn("Floor", "Largest integer not greater than x.")
ceil = _unary_fn("Ceil", "Smallest integer not less than x.")
round = _unary_fn("Round", "Round half to even, element-wise.")  # noqa: A001
logical_not = _unary_fn("LogicalNot", "NOT x element-wise.")
is_nan = _unary_fn("IsNan", "True where x is NaN.")
is_inf = _unary_fn("IsInf", "True where x is +-inf.")
is_finite = _unary_fn("IsFinite", "True where x is finite.")


def _cmp_fn(op_type):
    def fn(x, y, name=None):
        return apply_op(op_type, x, y, name=name)

    return fn


equal = _cmp_fn("Equal")
not_equal = _cmp_fn("NotEqual")
less = _cmp_fn("Less")
less_equal = _cmp_fn("LessEqual")
greater = _cmp_fn("Greater")
greater_equal = _cmp_fn("GreaterEqual")
logical_and = _cmp_fn("LogicalAnd")
logical_or = _cmp_fn("LogicalOr")
logical_xor = _cmp_fn("LogicalXor")


def matmul(
    a,
    b,
    transpose_a=False,
    transpose_b=False,
    adjoint_a=False,
    adjoint_b=False,
    a_is_sparse=False,
    b_is_sparse=False,
    name=None,
):
    """Matrix product of the last two dims (batched over leading dims, broadcast)."""
    return apply_op(
        "MatMul",
        a,
        b,
        transpose_a=bool(transpose_a or adjoint_a),
        transpose_b=bool(transpose_b or adjoint_b),
        name=name,
    )


def add_n(inputs, name=None):
    """Sum of a list of tensors of the same shape and dtype."""
    inputs = list(inputs)
    if not inputs:
        raise ValueError("inputs must be a non-empty list of tensors")
    return apply_op("AddN", *inputs, name=name)
