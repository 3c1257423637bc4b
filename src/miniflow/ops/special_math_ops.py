"""Special functions in NumPy (`tf.math.lgamma`, `digamma`, `polygamma`, `zeta`, `igamma`,
`igammac`, `betainc`, `erf`, `erfc`, `erfinv`, `ndtri`, `bessel_i0e`, `bessel_i1e`), computed
in float64 to ~1e-13 relative and cast back to the input's dtype; their gradients are
written with these same ops, so they are differentiable again."""

from __future__ import annotations

import math

import numpy as np

from miniflow.core.dispatch import apply_op
from miniflow.core.registry import not_differentiable, register_gradient, register_op
from miniflow.ops import array_ops as _arr, math_ops as _math
from miniflow.ops.math_ops import unbroadcast
from miniflow.ops.shape_rules import dims
from miniflow.ops.trig_ops import float_only, unary_function as _unary

_EPS = np.finfo(np.float64).eps


def _float_kernel(fn):
    """Runs ``fn`` on float64 copies of the (broadcast) inputs; result in x's dtype."""

    def kernel(*xs):
        dtype = np.asarray(xs[0]).dtype
        args = np.broadcast_arrays(*[np.asarray(x, dtype=np.float64) for x in xs])
        with np.errstate(all="ignore"):
            out = fn(*[np.array(a) for a in args])
        return np.asarray(out, dtype=np.float64).astype(dtype, copy=False)

    return kernel


# -- gamma family ------------------------------------------------------------------------


def _lgamma_scalar(v):
    try:
        return math.lgamma(v)
    except ValueError:  # a pole: 0, -1, -2, ...
        return math.inf


_lgamma = np.frompyfunc(_lgamma_scalar, 1, 1)


def _lgamma64(x):
    return np.asarray(_lgamma(x), dtype=np.float64)


def _digamma64(x):
    x = np.array(x, dtype=np.float64)
    out = np.zeros_like(x)
    pole = (x <= 0) & (x == np.floor(x))
    reflect = (x < 0) & ~pole
    # psi(x) = psi(1 - x) - pi / tan(pi x) for negative x
    out[reflect] = -np.pi / np.tan(np.pi * x[reflect])
    x = np.where(reflect, 1.0 - x, x)
    for _ in range(10):  # psi(x) = psi(x + 1) - 1/x, up to x >= 10
        low = x < 10
        out -= np.where(low, 1.0 / np.where(low, x, 1.0), 0.0)
        x = np.where(low, x + 1.0, x)
    z = 1.0 / (x * x)
    series = z * (
        1 / 12
        - z * (1 / 120 - z * (1 / 252 - z * (1 / 240 - z * (1 / 132 - z * (691 / 32760 - z / 12)))))
    )
    out += np.log(x) - 0.5 / x - series
    return np.where(pole | np.isnan(x), np.nan, out)


# (2k)! / B_2k for k = 1..12: the Euler-Maclaurin coefficients of the Hurwitz zeta function
_BERNOULLI = [
    1 / 6,
    -1 / 30,
    1 / 42,
    -1 / 30,
    5 / 66,
    -691 / 2730,
    7 / 6,
    -3617 / 510,
    43867 / 798,
    -174611 / 330,
    854513 / 138,
    -236364091 / 2730,
]
_ZETA_A = [math.factorial(2 * k + 2) / b for k, b in enumerate(_BERNOULLI)]


def _zeta64(x, q):
    """Hurwitz zeta sum_k (k + q)^-x, by Euler-Maclaurin summation (as Cephes)."""
    x, q = np.broadcast_arrays(np.asarray(x, np.float64), np.asarray(q, np.float64))
    s = np.power(q, -x)
    a = q.copy()
    shifts = np.maximum(9, np.ceil(9 - q)).astype(np.int64)
    b = np.zeros_like(s)
    for i in range(int(shifts.max(initial=0))):
        live = i < shifts
        a = np.where(live, a + 1.0, a)
        b = np.where(live, np.power(a, -x), b)
        s = s + np.where(live, b, 0.0)
    w = a
    s = s + b * w / (x - 1.0) - 0.5 * b
    fac, k = np.ones_like(s), 0.0
    live = np.ones(s.shape, dtype=bool)
    for coef in _ZETA_A:
        fac = fac * (x + k)
        b = b / w
        t = fac * b / coef
        s = s + np.where(live, t, 0.0)
        live &= np.abs(t) > _EPS * np.abs(s)
        k += 1.0
        fac = fac * (x + k)
        b = b / w
        k += 1.0
    integer_q = (q <= 0) & (q == np.floor(q))
    even_x = (x == np.floor(x)) & (np.mod(x, 2.0) == 0)
    s = np.where(integer_q, np.where(even_x, np.inf, np.nan), s)  # as Eigen's zeta
    s = np.where((q <= 0) & ~integer_q & (x != np.floor(x)), np.nan, s)
    s = np.where(q == np.inf, 0.0, s)  # every term vanishes (inf / inf above)
    s = np.where(x == 1.0, np.inf, s)
    return np.where(x < 1.0, np.nan, s)


def _polygamma64(n, x):
    n, x = np.broadcast_arrays(np.asarray(n, np.float64), np.asarray(x, np.float64))
    valid = (n >= 0) & (n == np.floor(n))
    safe_n = np.where(valid, n, 1.0)
    fact = np.asarray(_lgamma(safe_n + 1.0), dtype=np.float64)
    sign = np.where(np.mod(safe_n, 2) == 0, -1.0, 1.0)
    higher = sign * np.exp(fact) * _zeta64(safe_n + 1.0, x)
    out = np.where(n == 0, _digamma64(x), higher)
    return np.where(valid, out, np.nan)


def _igamma_series(a, x):
    """P(a, x) by its power series (x < a + 1)."""
    r, c, total = a.copy(), np.ones_like(a), np.ones_like(a)
    for _ in range(5000):
        r = r + 1.0
        c = c * x / r
        total = total + c
        if np.all(np.abs(c) <= _EPS * np.abs(total)):
            break
    return total * np.exp(a * np.log(x) - x - _lgamma64(a)) / a


def _igammac_fraction(a, x):
    """Q(a, x) by its continued fraction (modified Lentz; x >= a + 1)."""
    tiny = 1e-300
    b = x + 1.0 - a
    c = np.full_like(a, 1.0 / tiny)
    d = 1.0 / b
    h = d.copy()
    for i in range(1, 5000):
        an = -i * (i - a)
        b = b + 2.0
        d = an * d + b
        d = np.where(np.abs(d) < tiny, tiny, d)
        c = b + an / c
        c = np.where(np.abs(c) < tiny, tiny, c)
        d = 1.0 / d
        delta = d * c
        h = h * delta
        if np.all(np.abs(delta - 1.0) <= _EPS):
            break
    return np.exp(a * np.log(x) - x - _lgamma64(a)) * h


def _igamma_pair(a, x):
    """(P, Q): regularized lower and upper incomplete gamma functions."""
    a, x = np.broadcast_arrays(np.asarray(a, np.float64), np.asarray(x, np.float64))
    p, q = np.full(a.shape, np.nan), np.full(a.shape, np.nan)
    ok = (a > 0) & (x >= 0) & ~np.isnan(a) & ~np.isnan(x)
    zero, inf = ok & (x == 0), ok & np.isinf(x)
    p[zero], q[zero], p[inf], q[inf] = 0.0, 1.0, 1.0, 0.0
    ser = ok & ~zero & ~inf & (x < a + 1.0)
    frac = ok & ~zero & ~inf & ~ser
    if ser.any():
        p[ser] = _igamma_series(a[ser], x[ser])
        q[ser] = 1.0 - p[ser]
    if frac.any():
        q[frac] = _igammac_fraction(a[frac], x[frac])
        p[frac] = 1.0 - q[frac]
    return p, q


def _betacf(a, b, x):
    """The continued fraction of I_x(a, b) (modified Lentz)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = np.ones_like(a)
    d = 1.0 - qab * x / qap
    d = 1.0 / np.where(np.abs(d) < tiny, tiny, d)
    h = d.copy()
    for m in range(1, 10000):
        m2 = 2.0 * m
        for aa in (
            m * (b - m) * x / ((qam + m2) * (a + m2)),
            -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2)),
        ):
            d = 1.0 + aa * d
            d = 1.0 / np.where(np.abs(d) < tiny, tiny, d)
            c = 1.0 + aa / c
            c = np.where(np.abs(c) < tiny, tiny, c)
            delta = d * c
            h = h * delta
        if np.all(np.abs(delta - 1.0) <= _EPS):
            break
    return h


def _betainc64(a, b, x):
    a, b, x = np.broadcast_arrays(*[np.asarray(v, np.float64) for v in (a, b, x)])
    out = np.full(a.shape, np.nan)
    ok = (a > 0) & (b > 0) & (x >= 0) & (x <= 1)
    out[ok & (x == 0)] = 0.0
    out[ok & (x == 1)] = 1.0
    inner = ok & (x > 0) & (x < 1)
    if inner.any():
        a, b, x = a[inner], b[inner], x[inner]
        log_front = (
            _lgamma64(a + b) - _lgamma64(a) - _lgamma64(b) + a * np.log(x) + b * np.log1p(-x)
        )
        direct = x < (a + 1.0) / (a + b + 2.0)
        res = np.empty_like(a)
        res[direct] = (
            np.exp(log_front[direct]) * _betacf(a[direct], b[direct], x[direct]) / a[direct]
        )
        rd = ~direct
        res[rd] = 1.0 - (np.exp(log_front[rd]) * _betacf(b[rd], a[rd], 1.0 - x[rd]) / b[rd])
        out[inner] = res
    return out


# -- error function family ---------------------------------------------------------------

_erf = np.frompyfunc(math.erf, 1, 1)
_erfc = np.frompyfunc(math.erfc, 1, 1)


def _erf64(x):
    return np.asarray(_erf(x), dtype=np.float64)


def _erfc64(x):
    return np.asarray(_erfc(x), dtype=np.float64)


def _giles_guess(w, x):
    """Giles' single-precision erfinv(x) from w = -log((1 - x)(1 + x)): a starting point."""
    lo = w - 2.5
    p_lo = 2.81022636e-08
    for c in (
        3.43273939e-07,
        -3.5233877e-06,
        -4.39150654e-06,
        0.00021858087,
        -0.00125372503,
        -0.00417768164,
        0.246640727,
        1.50140941,
    ):
        p_lo = c + p_lo * lo
    hi = np.sqrt(np.maximum(w, 0.0)) - 3.0
    p_hi = -0.000200214257
    for c in (
        0.000100950558,
        0.00134934322,
        -0.00367342844,
        0.00573950773,
        -0.0076224613,
        0.00943887047,
        1.00167406,
        2.83297682,
    ):
        p_hi = c + p_hi * hi
    return np.where(w < 5.0, p_lo, p_hi) * x


def _erfcinv64(z):
    """y with erfc(y) = z for z in (0, 2), by Halley steps on erfc (accurate in the tail)."""
    z = np.asarray(z, np.float64)
    upper = z > 1.0
    zz = np.where(upper, 2.0 - z, z)  # solve for the non-negative root, then mirror
    w = -np.log(zz * (2.0 - zz))
    y = np.maximum(_giles_guess(w, 1.0 - zz), 0.0)
    tail = np.sqrt(np.maximum(-np.log(zz), 1.0))  # erfc(y) ~ exp(-y^2) / (y sqrt(pi))
    for _ in range(3):
        tail = np.sqrt(np.maximum(-np.log(zz * tail * np.sqrt(np.pi)), 1.0))
    y = np.where(w > 12.0, tail, y)
    for _ in range(8):
        f = _erfc64(y) - zz
        df = -2.0 / np.sqrt(np.pi) * np.exp(-y * y)
        u = f / df
        y = y - u / (1.0 + y * u)
    y = np.where(upper, -y, y)
    y = np.where(z == 0.0, np.inf, np.where(z == 2.0, -np.inf, y))
    return np.where((z < 0) | (z > 2), np.nan, y)


def _erfinv64(x):
    x = np.asarray(x, np.float64)
    small = np.abs(x) < 0.5
    y = _giles_guess(-np.log((1.0 - x) * (1.0 + x)), x)
    for _ in range(4):  # Halley steps on erf itself near 0, where 1 - x would lose digits
        f = _erf64(y) - x
        u = f / (2.0 / np.sqrt(np.pi) * np.exp(-y * y))
        y = y - u / (1.0 + y * u)
    return np.where(small, y, np.where(x >= 0, _erfcinv64(1.0 - x), -_erfcinv64(1.0 + x)))


def _ndtri64(p):
    return -np.sqrt(2.0) * _erfcinv64(2.0 * np.asarray(p, np.float64))


# -- modified Bessel functions, exponentially scaled --------------------------------------


def _bessel_ie64(x, nu):
    """exp(-|x|) I_nu(|x|) for nu in {0, 1}: power series below 20, asymptotic above."""
    ax = np.abs(np.asarray(x, np.float64))
    out = np.empty_like(ax)
    small = ax < 20.0
    if small.any():
        t = ax[small] / 2.0
        term = t**nu / math.factorial(nu)
        total = term.copy()
        for k in range(1, 200):
            term = term * t * t / (k * (k + nu))
            total = total + term
            if np.all(term <= _EPS * total):
                break
        out[small] = total * np.exp(-ax[small])
    big = ~small & ~np.isnan(ax)
    if big.any():
        v = ax[big]
        term, total = np.ones_like(v), np.ones_like(v)
        mu = 4.0 * nu * nu
        for k in range(1, 40):
            term = term * -(mu - (2 * k - 1) ** 2) / (k * 8.0 * v)
            total = total + term
        out[big] = total / np.sqrt(2.0 * np.pi * v)
    out[np.isnan(ax)] = np.nan
    return out


register_op("Lgamma", infer=float_only)(_float_kernel(_lgamma64))
register_op("Digamma", infer=float_only)(_float_kernel(_digamma64))
register_op("Polygamma", infer=float_only, same_dtype=True)(_float_kernel(_polygamma64))
register_op("Zeta", infer=float_only, same_dtype=True)(_float_kernel(_zeta64))
register_op("Igamma", infer=float_only, same_dtype=True)(
    _float_kernel(lambda a, x: _igamma_pair(a, x)[0])
)
register_op("Igammac", infer=float_only, same_dtype=True)(
    _float_kernel(lambda a, x: _igamma_pair(a, x)[1])
)


def _betainc_shapes(inputs):
    """TF's rule: the non-scalar inputs have one shape (no broadcasting)."""
    shapes = [
        d
        for d in (
            dims(t) if hasattr(t, "shape") and not isinstance(t, np.ndarray) else np.shape(t)
            for t in inputs
        )
        if d != ()
    ]
    known = [d for d in shapes if d is not None]
    for d in known[1:]:
        if len(d) != len(known[0]):
            raise ValueError(
                f"Shapes must be equal rank, but are {len(known[0])} and {len(d)} for 'Betainc'"
            )
        for i, (m, n) in enumerate(zip(known[0], d)):
            if m is not None and n is not None and m != n:
                raise ValueError(
                    f"Dimension {i} in both shapes must be equal, but are {m} and {n} for 'Betainc'"
                )


register_op("Betainc", infer=float_only, same_dtype=True)(_float_kernel(_betainc64))
register_op("Erf", infer=float_only)(_float_kernel(_erf64))
register_op("Erfc", infer=float_only)(_float_kernel(_erfc64))
register_op("Erfinv", infer=float_only)(_float_kernel(_erfinv64))
register_op("Ndtri", infer=float_only)(_float_kernel(_ndtri64))
register_op("BesselI0e", infer=float_only)(_float_kernel(lambda x: _bessel_ie64(x, 0)))
register_op("BesselI1e", infer=float_only)(_float_kernel(lambda x: np.sign(x) * _bessel_ie64(x, 1)))


@register_gradient("Lgamma")
def _lgamma_grad(op, grad):
    return [grad * digamma(op.inputs[0])]


@register_gradient("Digamma")
def _digamma_grad(op, grad):
    x = op.inputs[0]
    return [grad * polygamma(_arr.ones_like(x), x)]


@register_gradient("Polygamma")
def _polygamma_grad(op, grad):
    """d/dx polygamma(n, x) = polygamma(n + 1, x); none for the order n (as TF)."""
    n, x = op.inputs
    return [None, unbroadcast(grad * polygamma(n + 1.0, x), x, n)]


@register_gradient("Zeta")
def _zeta_grad(op, grad):
    """d/dq zeta(x, q) = -x zeta(x + 1, q); none for x (as TF)."""
    x, q = op.inputs
    return [None, unbroadcast(grad * _math.negative(x) * zeta(x + 1.0, q), q, x)]


def _gamma_density(a, x):
    """x^(a-1) exp(-x) / Gamma(a): d/dx of igamma(a, x)."""
    return _math.exp((a - 1.0) * _math.log(x) - x - lgamma(a))


def _igamma_grad_a64(a, x):
    """d/da P(a, x) by Richardson-extrapolated central differences of the float64 P
    (~1e-10 relative; TF sums a series)."""
    a, x = np.broadcast_arrays(np.asarray(a, np.float64), np.asarray(x, np.float64))
    h = 1e-3 * np.maximum(np.abs(a), 1.0)
    h = np.minimum(h, 0.5 * a)  # stay inside a > 0

    def central(step):
        return (_igamma_pair(a + step, x)[0] - _igamma_pair(a - step, x)[0]) / (2 * step)

    return (4.0 * central(h / 2) - central(h)) / 3.0


register_op("IgammaGradA", infer=float_only, same_dtype=True)(_float_kernel(_igamma_grad_a64))
not_differentiable("IgammaGradA")  # as TF: no second derivative in a


@register_gradient("Igamma")
def _igamma_grad(op, grad):
    a, x = op.inputs
    ga = grad * apply_op("IgammaGradA", a, x)
    return [unbroadcast(ga, a, x), unbroadcast(grad * _gamma_density(a, x), x, a)]


@register_gradient("Igammac")
def _igammac_grad(op, grad):
    a, x = op.inputs
    ga = _math.negative(grad) * apply_op("IgammaGradA", a, x)
    return [unbroadcast(ga, a, x), unbroadcast(_math.negative(grad) * _gamma_density(a, x), x, a)]


@register_gradient("Betainc")
def _betainc_grad(op, grad):
    """d/dx I_x(a, b) = x^(a-1) (1-x)^(b-1) / B(a, b); none for a and b (as TF)."""
    a, b, x = op.inputs
    log_beta = lgamma(a) + lgamma(b) - lgamma(a + b)
    density = _math.exp(
        (a - 1.0) * _math.log(x) + (b - 1.0) * _math.log1p(_math.negative(x)) - log_beta
    )
    return [None, None, unbroadcast(grad * density, x, a + b)]


@register_gradient("Erf")
def _erf_grad(op, grad):
    x = op.inputs[0]
    return [grad * (2.0 / np.sqrt(np.pi)) * _math.exp(_math.negative(x * x))]


@register_gradient("Erfc")
def _erfc_grad(op, grad):
    x = op.inputs[0]
    return [grad * (-2.0 / np.sqrt(np.pi)) * _math.exp(_math.negative(x * x))]


@register_gradient("Erfinv")
def _erfinv_grad(op, grad):
    y = op.outputs[0]
    return [grad * (np.sqrt(np.pi) / 2.0) * _math.exp(y * y)]


@register_gradient("Ndtri")
def _ndtri_grad(op, grad):
    y = op.outputs[0]
    return [grad * np.sqrt(2.0 * np.pi) * _math.exp(0.5 * y * y)]


@register_gradient("BesselI0e")
def _bessel_i0e_grad(op, grad):
    x, y = op.inputs[0], op.outputs[0]
    return [grad * (bessel_i1e(x) - _math.sign(x) * y)]


@register_gradient("BesselI1e")
def _bessel_i1e_grad(op, grad):
    """i0e(x) - i1e(x) (sign(x) + 1/x), and 1/2 at x = 0."""
    x, y = op.inputs[0], op.outputs[0]
    zero = _math.equal(x, _arr.zeros_like(x))
    safe_x = _math.where(zero, _arr.ones_like(x), x)
    d = bessel_i0e(x) - y * (_math.sign(x) + _math.reciprocal(safe_x))
    return [grad * _math.where(zero, 0.5 * _arr.ones_like(x), d)]


lgamma = _unary("Lgamma", "log|Gamma(x)| element-wise (inf at the poles 0, -1, -2, ...).")
digamma = _unary("Digamma", "psi(x) = d/dx lgamma(x) element-wise.")
erf = _unary("Erf", "The Gauss error function element-wise.")
erfc = _unary("Erfc", "1 - erf(x), accurate where erf(x) is close to 1.")
erfinv = _unary("Erfinv", "The inverse of erf on (-1, 1).")
ndtri = _unary("Ndtri", "The inverse of the standard normal CDF on (0, 1).")
bessel_i0e = _unary("BesselI0e", "exp(-|x|) I0(x): the scaled modified Bessel function.")
bessel_i1e = _unary("BesselI1e", "exp(-|x|) I1(x): the scaled modified Bessel function.")


def polygamma(a, x, name=None):
    """The a-th derivative of digamma at x (a a non-negative integer, as float)."""
    return apply_op("Polygamma", a, x, name=name)


def zeta(x, q, name=None):
    """The Hurwitz zeta function sum_k (k + q)^-x."""
    return apply_op("Zeta", x, q, name=name)


def igamma(a, x, name=None):
    """The regularized lower incomplete gamma function P(a, x)."""
    return apply_op("Igamma", a, x, name=name)


def igammac(a, x, name=None):
    """The regularized upper incomplete gamma function Q(a, x) = 1 - P(a, x)."""
    return apply_op("Igammac", a, x, name=name)


def betainc(a, b, x, name=None):
    """The regularized incomplete beta function I_x(a, b)."""
    _betainc_shapes((a, b, x))
    return apply_op("Betainc", a, b, x, name=name)


def erfcinv(x, name=None):
    """The inverse of erfc on (0, 2): -ndtri(x / 2) / sqrt(2)."""
    x = _arr.convert_to_tensor(x)
    return _math.multiply(ndtri(x * 0.5), -1.0 / np.sqrt(2.0), name=name)


def bessel_i0(x, name=None):
    """The modified Bessel function I0(x) = i0e(x) exp(|x|)."""
    x = _arr.convert_to_tensor(x)
    return _math.multiply(bessel_i0e(x), _math.exp(_math.abs(x)), name=name)


def bessel_i1(x, name=None):
    """The modified Bessel function I1(x) = i1e(x) exp(|x|)."""
    x = _arr.convert_to_tensor(x)
    return _math.multiply(bessel_i1e(x), _math.exp(_math.abs(x)), name=name)


def lbeta(x, name=None):
    """log|B(x)| over the last axis: sum(lgamma(x)) - lgamma(sum(x))."""
    x = _arr.convert_to_tensor(x)
    return _math.subtract(
        _math.reduce_sum(lgamma(x), axis=-1), lgamma(_math.reduce_sum(x, axis=-1)), name=name
    )
