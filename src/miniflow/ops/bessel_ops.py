"""The rest of `tf.math.special` in NumPy: Bessel functions J0, J1, Y0, Y1, K0, K1 (and
the scaled K0e, K1e), Dawson's integral, the exponential integral Ei, the Fresnel integrals
and Spence's function. Each is computed in float64 (series, quadrature or asymptotic
expansions, ~1e-13 against scipy.special) and has TF's gradient written with these ops."""

from __future__ import annotations

import functools
import math

import numpy as np

from miniflow.core.dispatch import apply_op
from miniflow.core.registry import register_gradient, register_op
from miniflow.ops import array_ops as _arr, math_ops as _math
from miniflow.ops.special_math_ops import _EPS, _float_kernel
from miniflow.ops.trig_ops import float_only

_EULER = 0.5772156649015329


@functools.cache
def _gauss_legendre():
    """128 nodes and weights, built on first use (about 40 ms, so not at import)."""
    return np.polynomial.legendre.leggauss(128)


def _gauss(fn, lo, hi):
    """Gauss-Legendre quadrature of fn over [lo, hi] (arrays of intervals)."""
    nodes, weights = _gauss_legendre()
    mid, half = (hi + lo) / 2.0, (hi - lo) / 2.0
    t = mid[..., None] + half[..., None] * nodes
    return half * np.sum(weights * fn(t), axis=-1)


def _hankel(x, n):
    """sqrt(2/(pi x)) (P cos chi - Q sin chi, P sin chi + Q cos chi): the asymptotic
    (J_n, Y_n) for large x."""
    mu = 4.0 * n * n
    p, q = np.ones_like(x), np.zeros_like(x)
    term = np.ones_like(x)
    for k in range(1, 40):
        term = term * (mu - (2 * k - 1) ** 2) / (k * 8.0 * x)
        if k % 2:
            q = q + (term if (k // 2) % 2 == 0 else -term)
        else:
            p = p + (-term if (k // 2) % 2 else term)
    chi = x - (0.5 * n + 0.25) * np.pi
    scale = np.sqrt(2.0 / (np.pi * x))
    return scale * (p * np.cos(chi) - q * np.sin(chi)), scale * (p * np.sin(chi) + q * np.cos(chi))


_TRAP = np.linspace(0.0, 2.0 * np.pi, 64, endpoint=False)


def _bessel_j64(x, n):
    x = np.asarray(x, np.float64)
    ax = np.abs(x)
    out = np.empty_like(ax)
    small = ax < 25.0
    if small.any():  # the periodic trapezoid rule is exact to rounding here
        v = ax[small][..., None]
        out[small] = np.mean(np.cos(n * _TRAP - v * np.sin(_TRAP)), axis=-1)
    big = ~small & ~np.isnan(ax)
    if big.any():
        out[big] = _hankel(ax[big], n)[0]
    out[np.isnan(ax)] = np.nan
    return out * np.sign(x) if n == 1 else out


def _y_series(x, n):
    """Y0 / Y1 by their power series (0 < x < 2)."""
    t = (x / 2.0) ** 2
    log_term = (2.0 / np.pi) * (np.log(x / 2.0) + _EULER) * _bessel_j64(x, n)
    total, term, harmonic = np.zeros_like(x), np.ones_like(x), 0.0
    if n == 0:
        for k in range(1, 40):
            term = term * -t / (k * k)
            harmonic += 1.0 / k
            total = total - term * harmonic
        return log_term + (2.0 / np.pi) * total
    # Y1 = 2/pi J1 (ln(x/2) + gamma) - 2/(pi x) - 1/pi sum_k (-t)^k (H_k + H_{k+1}) (x/2) /
    #      (k! (k+1)!), with the gamma terms folded into the first part
    h_next = 1.0
    term = x / 2.0
    total = term * (0.0 + h_next)
    for k in range(1, 40):
        term = term * -t / (k * (k + 1))
        harmonic_k = harmonic + 1.0 / k
        harmonic = harmonic_k
        total = total + term * (harmonic_k + harmonic_k + 1.0 / (k + 1))
    return log_term - 2.0 / (np.pi * x) - total / np.pi


def _y_integral(x, n):
    """Y_n = 1/pi int_0^pi sin(x sin t - n t) dt
    - 1/pi int_0^inf (e^{nt} + (-1)^n e^{-nt}) e^{-x sinh t} dt."""
    zeros, pis = np.zeros_like(x), np.full_like(x, np.pi)
    first = _gauss(lambda t: np.sin(x[..., None] * np.sin(t) - n * t), zeros, pis)
    upper = np.arcsinh(45.0 / x) + 1.0
    second = _gauss(
        lambda t: (np.exp(n * t) + (-1) ** n * np.exp(-n * t)) * np.exp(-x[..., None] * np.sinh(t)),
        zeros,
        upper,
    )
    return (first - second) / np.pi


def _bessel_y64(x, n):
    x = np.asarray(x, np.float64)
    out = np.full_like(x, -np.inf)
    out[np.isnan(x)] = np.nan
    for mask, fn in (
        ((x > 0) & (x < 2.0), lambda v: _y_series(v, n)),
        ((x >= 2.0) & (x < 25.0), lambda v: _y_integral(v, n)),
        (x >= 25.0, lambda v: _hankel(v, n)[1]),
    ):
        if mask.any():
            out[mask] = fn(x[mask])
    return out


def _bessel_ke64(x, n):
    """exp(x) K_n(x) = int_0^inf exp(-x (cosh t - 1)) cosh(n t) dt by the trapezoid rule
    (exponentially accurate for this even, analytic integrand)."""
    x = np.asarray(x, np.float64)
    out = np.full_like(x, np.inf)
    out[np.isnan(x)] = np.nan
    out[x == np.inf] = 0.0  # exp(x) K_n(x) ~ sqrt(pi / 2x)
    pos = (x > 0) & (x < np.inf)
    if pos.any():
        v = x[pos]
        end = np.arccosh(1.0 + 60.0 / v)  # the integrand is below exp(-60) beyond
        h = np.minimum(0.05, end / 200.0)  # resolves the peak's width ~ 1 / sqrt(x)
        t = np.arange(int(np.ceil(np.max(end / h))) + 1)[None, :] * h[:, None]
        f = np.exp(-v[:, None] * (np.cosh(t) - 1.0)) * np.cosh(n * t)
        out[pos] = h * (np.sum(f, axis=-1) - 0.5 * f[:, 0])
    return out


# -- Dawson, Ei, Fresnel, Spence -----------------------------------------------------------


def _dawsn64(x):
    """Dawson's integral: Taylor series near 0, else Rybicki's sum (h = 0.2; the
    discretization error is ~exp(-(pi / 2h)^2) = 1e-27)."""
    x = np.asarray(x, np.float64)
    out = np.empty_like(x)
    small = np.abs(x) < 0.2
    if small.any():
        v = x[small]
        term, total = v.copy(), v.copy()
        for k in range(1, 20):
            term = term * -2.0 * v * v / (2 * k + 1)
            total = total + term
        out[small] = total
    rest = ~small & np.isfinite(x)
    if rest.any():
        v = np.abs(x[rest])
        h = 0.2
        n0 = 2 * np.round(v / (2 * h)).astype(np.int64) + 1  # nearest odd n to x / h
        total = np.zeros_like(v)
        for j in range(-40, 41):
            n = n0 + 2 * j
            total = total + np.exp(-((v - n * h) ** 2)) / n
        out[rest] = np.sign(x[rest]) * total / np.sqrt(np.pi)
    out[np.isinf(x)] = 0.0
    out[np.isnan(x)] = np.nan
    return out


def _expint64(x):
    """Ei(x) for x > 0 (series below 40, asymptotic above); -inf at 0, NaN below (as TF)."""
    x = np.asarray(x, np.float64)
    out = np.full_like(x, np.nan)
    out[x == 0] = -np.inf
    small = (x > 0) & (x <= 40.0)
    if small.any():
        v = x[small]
        term, total = np.ones_like(v), np.zeros_like(v)
        for k in range(1, 200):
            term = term * v / k
            total = total + term / k
            if np.all(term / k <= _EPS * total):
                break
        out[small] = _EULER + np.log(v) + total
    big = x > 40.0
    if big.any():
        v = x[big]
        term, total = np.ones_like(v), np.ones_like(v)
        for k in range(1, 40):
            term = term * k / v
            total = total + term
        out[big] = np.exp(v) / v * total
    return out


def _fresnel64(x):
    """(S(x), C(x)): quadrature below |x| = 8, the auxiliary-function expansion above."""
    x = np.asarray(x, np.float64)
    ax = np.abs(x)
    s, c = np.empty_like(ax), np.empty_like(ax)
    small = ax < 8.0
    if small.any():
        v = ax[small]
        s[small] = _gauss(lambda t: np.sin(np.pi / 2 * t * t), np.zeros_like(v), v)
        c[small] = _gauss(lambda t: np.cos(np.pi / 2 * t * t), np.zeros_like(v), v)
    big = ~small & np.isfinite(ax)
    if big.any():
        v = ax[big]
        u = (np.pi * v * v) ** -2
        f, g = np.ones_like(v), np.ones_like(v)
        tf_, tg = np.ones_like(v), np.ones_like(v)
        for k in range(1, 30):
            tf_ = tf_ * -u * (4 * k - 1) * (4 * k - 3)
            tg = tg * -u * (4 * k + 1) * (4 * k - 1)
            f, g = f + tf_, g + tg
        f = f / (np.pi * v)
        g = g / (np.pi**2 * v**3)
        phase = np.pi / 2 * v * v
        c[big] = 0.5 + f * np.sin(phase) - g * np.cos(phase)
        s[big] = 0.5 - f * np.cos(phase) - g * np.sin(phase)
    s[np.isinf(ax)], c[np.isinf(ax)] = 0.5, 0.5
    return np.sign(x) * s, np.sign(x) * c


def _li2_small(y):
    """Li2(y) = sum y^k / k^2 for |y| <= 1/2."""
    term, total = y.copy(), y.copy()
    for k in range(2, 60):
        term = term * y
        total = total + term / (k * k)
    return total


def _li2(y):
    """The dilogarithm for real y <= 1."""
    y = np.asarray(y, np.float64)
    out = np.empty_like(y)
    a = np.abs(y) <= 0.5
    out[a] = _li2_small(y[a])
    b = (y > 0.5) & (y <= 1.0)  # reflection
    if b.any():
        v = y[b]
        with np.errstate(divide="ignore", invalid="ignore"):
            logs = np.where(v == 1.0, 0.0, np.log(v) * np.log1p(-v))
        out[b] = np.pi**2 / 6 - logs - _li2_small(1.0 - v)
    c = (y < -0.5) & (y >= -1.0)  # Landen: y / (y - 1) in (1/3, 1/2]
    if c.any():
        v = y[c]
        out[c] = -_li2_small(v / (v - 1.0)) - 0.5 * np.log1p(-v) ** 2
    d = y < -1.0  # inversion into [-1, 0)
    if d.any():
        v = y[d]
        out[d] = -(np.pi**2) / 6 - 0.5 * np.log(-v) ** 2 - _li2(1.0 / v)
    return out


def _spence64(x):
    """Spence's function int_1^x log(t) / (1 - t) dt = Li2(1 - x), for x >= 0."""
    x = np.asarray(x, np.float64)
    out = np.full_like(x, np.nan)
    ok = x >= 0
    out[ok] = _li2(1.0 - x[ok])
    return out


_FUNCTIONS = {
    "BesselJ0": lambda x: _bessel_j64(x, 0),
    "BesselJ1": lambda x: _bessel_j64(x, 1),
    "BesselY0": lambda x: _bessel_y64(x, 0),
    "BesselY1": lambda x: _bessel_y64(x, 1),
    "BesselK0e": lambda x: _bessel_ke64(x, 0),
    "BesselK1e": lambda x: _bessel_ke64(x, 1),
    "BesselK0": lambda x: _bessel_ke64(x, 0) * np.exp(-np.asarray(x, np.float64)),
    "BesselK1": lambda x: _bessel_ke64(x, 1) * np.exp(-np.asarray(x, np.float64)),
    "Dawsn": _dawsn64,
    "Expint": _expint64,
    "Spence": _spence64,
    "FresnelSin": lambda x: _fresnel64(x)[0],
    "FresnelCos": lambda x: _fresnel64(x)[1],
}
for _t, _f in _FUNCTIONS.items():
    register_op(_t, infer=float_only)(_float_kernel(_f))


def _op(op_type):
    def fn(x, name=None):
        return apply_op(op_type, x, name=name)

    return fn


bessel_j0, bessel_j1 = _op("BesselJ0"), _op("BesselJ1")
bessel_y0, bessel_y1 = _op("BesselY0"), _op("BesselY1")
bessel_k0, bessel_k1 = _op("BesselK0"), _op("BesselK1")
bessel_k0e, bessel_k1e = _op("BesselK0e"), _op("BesselK1e")
dawsn, expint, spence = _op("Dawsn"), _op("Expint"), _op("Spence")
fresnel_sin, fresnel_cos = _op("FresnelSin"), _op("FresnelCos")
for _fn, _doc in [
    (bessel_j0, "The Bessel function J0."),
    (bessel_j1, "The Bessel function J1."),
    (bessel_y0, "The Bessel function Y0 (-inf for x <= 0, as TF)."),
    (bessel_y1, "The Bessel function Y1 (-inf for x <= 0, as TF)."),
    (bessel_k0, "The modified Bessel function K0 (inf for x <= 0)."),
    (bessel_k1, "The modified Bessel function K1 (inf for x <= 0)."),
    (bessel_k0e, "exp(x) K0(x)."),
    (bessel_k1e, "exp(x) K1(x)."),
    (dawsn, "Dawson's integral exp(-x^2) int_0^x exp(t^2) dt."),
    (expint, "The exponential integral Ei(x) (x > 0)."),
    (spence, "Spence's function int_1^x log(t) / (1 - t) dt (x >= 0)."),
    (fresnel_sin, "The Fresnel integral int_0^x sin(pi t^2 / 2) dt."),
    (fresnel_cos, "The Fresnel integral int_0^x cos(pi t^2 / 2) dt."),
]:
    _fn.__doc__ = _doc


def _safe_reciprocal(x):
    zero = _math.equal(x, _arr.zeros_like(x))
    return zero, _math.reciprocal(_math.where(zero, _arr.ones_like(x), x))


@register_gradient("BesselJ0")
def _j0_grad(op, grad):
    return [_math.negative(grad) * bessel_j1(op.inputs[0])]


@register_gradient("BesselJ1")
def _j1_grad(op, grad):
    """J0(x) - J1(x) / x, and 1/2 at 0."""
    x, y = op.inputs[0], op.outputs[0]
    zero, inv = _safe_reciprocal(x)
    d = _math.where(zero, 0.5 * _arr.ones_like(x), bessel_j0(x) - y * inv)
    return [grad * d]


@register_gradient("BesselY0")
def _y0_grad(op, grad):
    return [_math.negative(grad) * bessel_y1(op.inputs[0])]


@register_gradient("BesselY1")
def _y1_grad(op, grad):
    x, y = op.inputs[0], op.outputs[0]
    return [grad * (bessel_y0(x) - y / x)]


@register_gradient("BesselK0")
def _k0_grad(op, grad):
    return [_math.negative(grad) * bessel_k1(op.inputs[0])]


@register_gradient("BesselK0e")
def _k0e_grad(op, grad):
    x, y = op.inputs[0], op.outputs[0]
    return [grad * (y - bessel_k1e(x))]


@register_gradient("BesselK1")
def _k1_grad(op, grad):
    x, y = op.inputs[0], op.outputs[0]
    return [grad * (_math.negative(bessel_k0(x)) - y / x)]


@register_gradient("BesselK1e")
def _k1e_grad(op, grad):
    x, y = op.inputs[0], op.outputs[0]
    return [grad * (_math.negative(bessel_k0e(x)) + y - y / x)]


@register_gradient("Dawsn")
def _dawsn_grad(op, grad):
    x, y = op.inputs[0], op.outputs[0]
    return [grad * (1.0 - 2.0 * x * y)]


@register_gradient("Expint")
def _expint_grad(op, grad):
    x = op.inputs[0]
    return [grad * _math.exp(x) / x]


@register_gradient("FresnelSin")
def _fresnel_sin_grad(op, grad):
    x = op.inputs[0]
    return [grad * _math.sin(math.pi / 2 * x * x)]


@register_gradient("FresnelCos")
def _fresnel_cos_grad(op, grad):
    x = op.inputs[0]
    return [grad * _math.cos(math.pi / 2 * x * x)]


@register_gradient("Spence")
def _spence_grad(op, grad):
    """log(x) / (1 - x), and -1 at x = 1."""
    x = op.inputs[0]
    one = _math.equal(x, _arr.ones_like(x))
    safe = _math.where(one, 2.0 * _arr.ones_like(x), x)
    d = _math.where(one, _math.negative(_arr.ones_like(x)), _math.log(safe) / (1.0 - safe))
    return [grad * d]
