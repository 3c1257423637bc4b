"""Gradient rows for the math / linalg ops of issue 13 (special functions, inverse trig,
safe divisions, scans, segment reductions, einsum, eigh, slogdet), in the `OpSpec` format
of `op_specs.py`; `test_op_gradients.py` runs them through `check_grads`."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from hypothesis import strategies as st

import miniflow as tf
from miniflow.ops import (
    bessel_ops as bes,
    complex_ops as cx,
    decomposition_ops as dec,
    fft_ops,
    matrix_function_ops as mfn,
    safe_math_ops,
    scan_ops,
    segment_ops,
    special_math_ops as sm,
    trig_ops,
)
from tests.ops.op_specs import (
    Case,
    OpSpec,
    away_from_zero,
    binary_broadcast,
    nonscalar_st,
    per_input,
    positive,
    small,
    unary,
)


def interval(lo, hi):
    return lambda rng, shape: rng.uniform(lo, hi, size=shape)


def distinct(rng, shape):
    """Values at least 0.05 apart (no ties for max / min)."""
    size = int(np.prod(shape))
    return (rng.permutation(size) * 0.05 + rng.uniform(0, 0.01)).reshape(shape) - size * 0.025


@st.composite
def scan_case(draw, exclusive=True):
    """An axis and the flags; ``exclusive=False`` for scans whose first exclusive value is
    infinite (logsumexp starts at -inf)."""
    shape = draw(nonscalar_st)
    return Case(
        (shape,),
        {
            "axis": draw(st.integers(-len(shape), len(shape) - 1)),
            "exclusive": exclusive and draw(st.booleans()),
            "reverse": draw(st.booleans()),
        },
    )


@st.composite
def segment_case(draw, sorted_ids):
    rows = draw(st.integers(1, 5))
    tail = draw(st.lists(st.integers(1, 3), max_size=1).map(tuple))
    ids = draw(st.lists(st.integers(-1 if not sorted_ids else 0, 3), min_size=rows, max_size=rows))
    ids = sorted(ids) if sorted_ids else ids
    kwargs = {"ids": ids} if sorted_ids else {"ids": ids, "n": 4}
    return Case(((rows,) + tail,), kwargs)


@st.composite
def einsum_case(draw):
    """One of a set of equations covering contraction, batch, ellipsis (with broadcasting),
    summed-out indices, outer products and three operands."""
    eq, shapes = draw(
        st.sampled_from(
            [
                ("ij,jk->ik", [(2, 3), (3, 4)]),
                ("bij,bjk->bik", [(2, 2, 3), (2, 3, 2)]),
                ("...ij,...jk->...ik", [(2, 1, 2, 3), (3, 3, 2)]),
                ("ij->j", [(3, 2)]),
                ("ij", [(2, 3)]),
                ("i,j->ij", [(3,), (2,)]),
                ("ij,jk,kl->il", [(2, 3), (3, 2), (2, 2)]),
                ("abc,cd->ad", [(2, 2, 3), (3, 2)]),
            ]
        )
    )
    return Case(tuple(shapes), {"equation": eq})


@st.composite
def rect_case(draw):
    """A (possibly batched) matrix: square, tall or wide."""
    m, n = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    batch = draw(st.lists(st.integers(1, 2), max_size=1).map(tuple))
    return Case((batch + (m, n),))


def spread_singular(rng, shape):
    """Matrices with well separated, non-zero singular values."""
    m, n = shape[-2:]
    k = min(m, n)
    u, _ = np.linalg.qr(rng.standard_normal(shape[:-2] + (m, k)))
    v, _ = np.linalg.qr(rng.standard_normal(shape[:-2] + (n, k)))
    s = np.arange(k, 0, -1) * 1.0 + 0.5 + rng.uniform(0, 0.1, shape[:-2] + (k,))
    return (u * s[..., None, :]) @ np.swapaxes(v, -1, -2)


def svd_parts(x):
    """Singular values, and u v^T (invariant to the joint sign choice of u and v)."""
    s, u, v = dec.svd(x)
    return [s, tf.matmul(u, v, transpose_b=True)]


def near_identity(rng, shape):
    return 2.0 * np.eye(shape[-1]) + 0.3 * rng.uniform(-1, 1, size=shape)


@st.composite
def matrix_case(draw):
    n = draw(st.integers(1, 4))
    batch = draw(st.lists(st.integers(1, 2), max_size=1).map(tuple))
    return Case((batch + (n, n),))


def finite_only(y):
    """y with the extreme fill of empty segments replaced by 0 (it would swamp the
    finite-difference loss)."""
    return tf.where(tf.abs(y) < 1e300, y, tf.zeros_like(y))


def well_conditioned(rng, shape):
    return rng.uniform(-1, 1, size=shape) + 3.0 * np.eye(shape[-1])


def symmetric_eigh(x):
    """Eigenvalues and sign-fixed eigenvectors of the symmetric part of x."""
    e, v = dec.eigh(0.5 * (x + tf.linalg.matrix_transpose(x)))
    sign = tf.sign(tf.reduce_sum(v, axis=-2, keepdims=True))
    return e, v * sign


def spread_eigs(rng, shape):
    """Symmetric matrices with well separated eigenvalues."""
    n = shape[-1]
    q, _ = np.linalg.qr(rng.standard_normal(shape))
    vals = np.arange(1, n + 1) * 1.5 + rng.uniform(0, 0.1, shape[:-1])
    return q @ (vals[..., None] * np.swapaxes(q, -1, -2))


@st.composite
def fft_case(draw, k, pair=True, low=1):
    """Shapes whose innermost ``k`` dims are transformed, after one batch dim (so a
    "partial" shape leaves them static); two equal shapes (real and imaginary parts) when
    ``pair``."""
    shape = (draw(st.integers(1, 2)),) + tuple(
        draw(st.lists(st.integers(low, 4), min_size=k, max_size=k))
    )
    return Case((shape, shape) if pair else (shape,))


def parts(z):
    """[Re z, Im z]: the real outputs finite differences can check."""
    return [cx.real(z), cx.imag(z)]


def _fft_rows():
    rows = []
    for k, suffix in ((1, ""), (2, "2D"), (3, "3D")):
        fwd, inv = (
            getattr(fft_ops, f"fft{suffix.lower()}"),
            getattr(fft_ops, f"ifft{suffix.lower()}"),
        )
        rfft = getattr(fft_ops, f"rfft{suffix.lower()}")
        irfft = getattr(fft_ops, f"irfft{suffix.lower()}")
        rows += [
            OpSpec(f"FFT{suffix}", lambda a, b, f=fwd: parts(f(cx.complex(a, b))), fft_case(k)),
            OpSpec(f"IFFT{suffix}", lambda a, b, f=inv: parts(f(cx.complex(a, b))), fft_case(k)),
            OpSpec(f"RFFT{suffix}", lambda a, f=rfft: parts(f(a)), fft_case(k, pair=False)),
            OpSpec(f"IRFFT{suffix}", lambda a, b, f=irfft: f(cx.complex(a, b)), fft_case(k, low=2)),
        ]
    rows.append(
        OpSpec("IRFFT", lambda a, b: fft_ops.irfft(cx.complex(a, b), [6]), fft_case(1), label="n6")
    )
    rows.append(
        OpSpec("RFFT", lambda a: parts(fft_ops.rfft(a, [5])), fft_case(1, False), label="n5")
    )
    return rows


SPECS = [
    OpSpec("Complex", lambda a, b: parts(cx.complex(a, b) * cx.complex(b, a)), binary_broadcast()),
    OpSpec("Real", lambda a, b: cx.real(cx.complex(a, b) * cx.complex(a, b)), binary_broadcast()),
    OpSpec("Imag", lambda a, b: cx.imag(cx.complex(a, b) * cx.complex(a, b)), binary_broadcast()),
    OpSpec(
        "Conj", lambda a, b: parts(cx.conj(cx.complex(a, b)) * cx.complex(b, a)), binary_broadcast()
    ),
    OpSpec("ComplexAbs", lambda a, b: tf.abs(cx.complex(a, b)), binary_broadcast(), away_from_zero),
    OpSpec("Angle", lambda a, b: cx.angle(cx.complex(a, b)), binary_broadcast(), positive),
    *_fft_rows(),
    OpSpec("Asin", trig_ops.asin, unary(), interval(-0.8, 0.8)),
    OpSpec("Acos", trig_ops.acos, unary(), interval(-0.8, 0.8)),
    OpSpec("Atan", trig_ops.atan, unary()),
    OpSpec("Sinh", trig_ops.sinh, unary()),
    OpSpec("Cosh", trig_ops.cosh, unary()),
    OpSpec("Asinh", trig_ops.asinh, unary()),
    OpSpec("Acosh", trig_ops.acosh, unary(), interval(1.2, 3.0)),
    OpSpec("Atanh", trig_ops.atanh, unary(), interval(-0.8, 0.8)),
    OpSpec("Atan2", trig_ops.atan2, binary_broadcast(), interval(0.5, 2.0)),
    OpSpec("Xlogy", safe_math_ops.xlogy, binary_broadcast(), per_input(small, positive)),
    OpSpec("Xdivy", safe_math_ops.xdivy, binary_broadcast(), per_input(small, positive)),
    OpSpec("Xlog1py", safe_math_ops.xlog1py, binary_broadcast(), per_input(small, positive)),
    OpSpec("MulNoNan", safe_math_ops.multiply_no_nan, binary_broadcast()),
    OpSpec("NextAfter", safe_math_ops.nextafter, binary_broadcast(), order=1),
    OpSpec("Cumsum", scan_ops.cumsum, scan_case()),
    OpSpec("Cumprod", scan_ops.cumprod, scan_case(), interval(0.5, 1.5)),
    OpSpec("CumulativeLogsumexp", scan_ops.cumulative_logsumexp, scan_case(False)),
    OpSpec("Lgamma", sm.lgamma, unary(), interval(0.3, 4.0)),
    OpSpec("Digamma", sm.digamma, unary(), interval(0.3, 4.0)),
    OpSpec(
        "Polygamma", lambda x: sm.polygamma(tf.ones_like(x) * 2.0, x), unary(), interval(0.3, 4.0)
    ),
    OpSpec("Zeta", lambda q: sm.zeta(tf.ones_like(q) * 3.0, q), unary(), interval(0.5, 3.0)),
    OpSpec("Igamma", lambda x: sm.igamma(tf.ones_like(x) * 1.7, x), unary(), interval(0.3, 4.0)),
    OpSpec("Igammac", lambda x: sm.igammac(tf.ones_like(x) * 0.8, x), unary(), interval(0.3, 4.0)),
    OpSpec("Igamma", sm.igamma, binary_broadcast(), interval(0.5, 3.0), order=1, label="a"),
    OpSpec("Igammac", sm.igammac, binary_broadcast(), interval(0.5, 3.0), order=1, label="a"),
    OpSpec(
        "Betainc",
        lambda x: sm.betainc(tf.ones_like(x) * 1.5, tf.ones_like(x) * 2.5, x),
        unary(),
        interval(0.1, 0.9),
    ),
    OpSpec("Erf", sm.erf, unary()),
    OpSpec("Erfc", sm.erfc, unary()),
    OpSpec("Erfinv", sm.erfinv, unary(), interval(-0.9, 0.9)),
    OpSpec("Ndtri", sm.ndtri, unary(), interval(0.05, 0.95)),
    OpSpec("BesselI0e", sm.bessel_i0e, unary(), interval(0.2, 3.0)),
    OpSpec("BesselI1e", sm.bessel_i1e, unary(), interval(-3.0, -0.2)),
    OpSpec("BesselJ0", bes.bessel_j0, unary(), interval(0.2, 6.0)),
    OpSpec("BesselJ1", bes.bessel_j1, unary(), interval(-6.0, 6.0)),
    OpSpec("BesselY0", bes.bessel_y0, unary(), interval(0.5, 6.0)),
    OpSpec("BesselY1", bes.bessel_y1, unary(), interval(0.5, 6.0)),
    OpSpec("BesselK0", bes.bessel_k0, unary(), interval(0.3, 4.0)),
    OpSpec("BesselK1", bes.bessel_k1, unary(), interval(0.3, 4.0)),
    OpSpec("BesselK0e", bes.bessel_k0e, unary(), interval(0.3, 4.0)),
    OpSpec("BesselK1e", bes.bessel_k1e, unary(), interval(0.3, 4.0)),
    OpSpec("Dawsn", bes.dawsn, unary(), interval(-3.0, 3.0)),
    OpSpec("Expint", bes.expint, unary(), interval(0.3, 4.0)),
    OpSpec("FresnelSin", bes.fresnel_sin, unary(), interval(-3.0, 3.0)),
    OpSpec("FresnelCos", bes.fresnel_cos, unary(), interval(-3.0, 3.0)),
    OpSpec("Spence", bes.spence, unary(), interval(0.2, 3.0)),
    OpSpec(
        "SegmentMax",
        lambda x, ids: segment_ops.segment_max(x, ids),
        segment_case(True),
        distinct,
        order=1,
    ),
    OpSpec(
        "SegmentMin",
        lambda x, ids: segment_ops.segment_min(x, ids),
        segment_case(True),
        distinct,
        order=1,
    ),
    OpSpec(
        "SegmentProd", lambda x, ids: segment_ops.segment_prod(x, ids), segment_case(True), order=1
    ),
    OpSpec(
        "UnsortedSegmentMax",
        lambda x, ids, n: finite_only(segment_ops.unsorted_segment_max(x, ids, n)),
        segment_case(False),
        distinct,
        order=1,
    ),
    OpSpec(
        "UnsortedSegmentMin",
        lambda x, ids, n: finite_only(segment_ops.unsorted_segment_min(x, ids, n)),
        segment_case(False),
        distinct,
        order=1,
    ),
    OpSpec(
        "UnsortedSegmentProd",
        lambda x, ids, n: segment_ops.unsorted_segment_prod(x, ids, n),
        segment_case(False),
        order=1,
    ),
    OpSpec("Einsum", lambda *xs, equation: tf.einsum(equation, *xs), einsum_case()),
    OpSpec(
        "SelfAdjointEigV2", lambda x: list(symmetric_eigh(x)), matrix_case(), spread_eigs, order=1
    ),
    OpSpec("Qr", lambda x: list(dec.qr(x)), rect_case(), spread_singular, order=1),
    OpSpec("Svd", svd_parts, rect_case(), spread_singular, order=1),
    OpSpec(
        "Svd",
        lambda x: dec.svd(x, compute_uv=False),
        rect_case(),
        spread_singular,
        order=1,
        label="values",
    ),
    OpSpec("Lu", lambda x: dec.lu(x)[0], matrix_case(), well_conditioned, order=1),
    OpSpec("MatrixExponential", mfn.expm, matrix_case()),
    OpSpec("MatrixSquareRoot", mfn.sqrtm, matrix_case(), near_identity, order=1),
    OpSpec("LogMatrixDeterminant", lambda x: dec.slogdet(x)[1], matrix_case(), well_conditioned),
]

# rows whose public functions need static sizes for the transformed dims (rfft/irfft
# choose the FFT length at graph construction), so not an unknown rank
STATIC_RANK = {s.id for s in SPECS if s.op_type.startswith(("RFFT", "IRFFT"))} | {
    "Qr",
    "Svd",
    "Svd-values",
    "MatrixExponential",
    "MatrixSquareRoot",
    "Lu",
}
# ... and static matrix sizes too (their gradients slice or build Kronecker products)
STATIC_ONLY = {"Qr", "Svd", "Svd-values", "MatrixExponential", "MatrixSquareRoot"}
SPECS = [
    replace(s, shape_modes=("static",))
    if s.id in STATIC_ONLY
    else replace(s, shape_modes=("static", "partial"))
    if s.id in STATIC_RANK
    else s
    for s in SPECS
]

COVERED_OP_TYPES = {s.op_type for s in SPECS}
MAX_EXAMPLES = 8
EAGER_PARITY = True
