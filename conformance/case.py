"""What a conformance case is: a public function path (the same in miniflow and in
``tf.compat.v1``), input generators, keyword arguments, which inputs are differentiable,
the dtypes to try and the tolerances per dtype. Cases are data; `harness.py` runs them."""

from __future__ import annotations

import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

FLOATS = ("float32", "float64")
NUMERIC = ("float32", "float64", "int32")

# (rtol, atol) for forward values and for gradients, per dtype
TOL = {
    "float16": ((1e-2, 1e-2), (5e-2, 5e-2)),
    "float32": ((2e-5, 1e-5), (2e-4, 1e-4)),
    "float64": ((1e-9, 1e-10), (1e-7, 1e-9)),
}


# -- domains: f(rng, shape, dtype) -> np.ndarray ------------------------------------------


def uniform(lo, hi, nonzero=False):
    """Uniform values in [lo, hi] (integers in that range for integer dtypes)."""

    def draw(rng, shape, dtype):
        dt = np.dtype(dtype)
        if dt.kind in "iu":
            v = rng.integers(int(np.ceil(lo)), int(np.floor(hi)) + 1, size=shape)
            if nonzero:
                v = np.where(v == 0, 1, v)
            return v.astype(dt)
        if dt.kind == "b":
            return rng.random(shape) < 0.5
        v = rng.uniform(lo, hi, size=shape)
        if nonzero:
            v = np.where(np.abs(v) < 0.25, np.copysign(0.5, v), v)
        return v.astype(dt)

    draw.__name__ = f"uniform({lo}, {hi}{', nonzero' if nonzero else ''})"
    return draw


real = uniform(-2.0, 2.0)
positive = uniform(0.5, 2.0)
nonzero = uniform(-2.0, 2.0, nonzero=True)
unit = uniform(-0.9, 0.9)


def booleans(rng, shape, dtype):
    return rng.random(shape) < 0.5


def specials(rng, shape, dtype):
    """Real values with NaN, +-Inf, +-0 sprinkled in (the NaN/Inf propagation variant)."""
    v = rng.uniform(-2.0, 2.0, size=shape).astype(dtype)
    flat = v.reshape(-1)
    picks = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0], dtype=dtype)
    flat[: min(flat.size, 5)] = picks[: min(flat.size, 5)]
    rng.shuffle(flat)
    return v


def const(value):
    """A fixed value, whatever the shape asked for (indices, masks ...)."""

    def draw(rng, shape, dtype):
        return np.asarray(value, dtype=dtype)

    return draw


def integers(lo, hi):
    """Integers in [lo, hi) (indices): always int, whatever the case's dtype."""

    def draw(rng, shape, dtype):
        return rng.integers(lo, hi, size=shape).astype(dtype)

    return draw


@dataclass(frozen=True)
class Arg:
    """A tensor input, fed through a placeholder of its full static shape.

    ``dtype`` None takes the case's dtype; ``diff`` marks it differentiable (floats only).
    """

    domain: Callable = real
    dtype: str | None = None
    diff: bool = True


@dataclass(frozen=True)
class Variant:
    """One concrete call: a shape per `Arg`, keyword arguments, optional dtype overrides."""

    shapes: tuple
    kwargs: dict = field(default_factory=dict)
    dtypes: tuple | None = None  # per-Arg dtypes (mixed-dtype and promotion variants)
    label: str = ""
    domain: Callable | None = None  # overrides every float Arg's domain (specials)

    def name(self, dtype: str) -> str:
        s = "x".join("(" + ",".join(map(str, sh)) + ")" for sh in self.shapes)
        kw = ",".join(f"{k}={v}" for k, v in sorted(self.kwargs.items()))
        parts = [p for p in (self.label, dtype, s, kw) if p]
        return "|".join(parts)


@dataclass
class Case:
    """One public function checked against TensorFlow.

    ``fn`` is a dotted path resolved in both ``miniflow`` and ``tf.compat.v1`` (e.g.
    ``"nn.softmax"``) or a callable ``fn(tf, *inputs, **kwargs)`` for compositions
    (variables, control flow). ``args`` lists `Arg` inputs and plain Python values in
    call order. ``order``: 0 forward only, 1 first gradients, 2 second gradients too.
    ``compare``: "values", "stats" (random ops: shape, dtype, mean, std) or "shape".
    """

    fn: str | Callable
    args: tuple
    variants: list
    dtypes: tuple = FLOATS
    order: int = 2
    label: str = ""
    tol: float = 1.0  # multiplies the default tolerances
    compare: str = "values"
    specials: bool = False  # add a NaN/Inf variant per float dtype
    eager: bool = True  # also compare miniflow eager with miniflow graph
    all_dtypes_all_variants: bool = False

    def __post_init__(self):
        n = sum(isinstance(a, Arg) for a in self.args)
        for v in self.variants:
            if len(v.shapes) != n:
                raise ValueError(
                    f"case {self.id}: variant {v.shapes} gives {len(v.shapes)} "
                    f"shapes for {n} Arg inputs"
                )

    @property
    def path(self) -> str:
        return self.fn if isinstance(self.fn, str) else self.fn.__name__

    @property
    def id(self) -> str:
        return f"{self.path}[{self.label}]" if self.label else self.path

    def expanded(self):
        """(dtype, variant) pairs: every variant for the first dtype, the first three for
        the others, plus a NaN/Inf variant per float dtype when ``specials``."""
        out = []
        for i, dtype in enumerate(self.dtypes):
            vs = self.variants if i == 0 or self.all_dtypes_all_variants else self.variants[:3]
            out += [(dtype, v) for v in vs]
            if self.specials and np.dtype(dtype).kind == "f":
                v = self.variants[min(2, len(self.variants) - 1)]
                out.append((dtype, Variant(v.shapes, v.kwargs, v.dtypes, "nan-inf", specials)))
        return out

    def inputs(self, dtype: str, variant: Variant):
        """The concrete arrays of the `Arg` inputs (deterministic per case and variant)."""
        seed = zlib.crc32(f"{self.id}/{variant.name(dtype)}".encode())
        rng = np.random.default_rng(seed)
        arrays, k = [], 0
        for a in self.args:
            if isinstance(a, Arg):
                dt = (variant.dtypes[k] if variant.dtypes else None) or a.dtype or dtype
                dom = a.domain
                if variant.domain is not None and np.dtype(dt).kind == "f" and a.diff:
                    dom = variant.domain
                dt = object if dt == "string" else dt
                arrays.append(np.asarray(dom(rng, variant.shapes[k], dt)))
                k += 1
        return arrays

    def diff_mask(self, arrays):
        flags = [a.diff for a in self.args if isinstance(a, Arg)]
        return [f and np.asarray(x).dtype.kind == "f" for f, x in zip(flags, arrays)]

    def tolerances(self, dtype: str):
        (fr, fa), (gr, ga) = TOL.get(dtype, ((0, 0), (0, 0)))
        t = self.tol
        return (fr * t, fa * t), (gr * t, ga * t)


def seeded(name: str) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(name.encode()))


# -- shape families -----------------------------------------------------------------------

UNARY = [(), (1,), (3,), (2, 3), (0,), (2, 0, 3), (1, 1, 4), (3, 1, 2)]
BINARY = [
    ((), ()),
    ((3,), (3,)),
    ((2, 3), (3,)),
    ((2, 1), (1, 3)),
    ((1,), (2, 3)),
    ((), (2, 2)),
    ((0, 3), (3,)),
    ((2, 0, 1), (1, 4)),
    ((4, 1, 3), (2, 1)),
    ((2, 3, 1), (1,)),
]


def random_shapes(name: str, n: int, rank=(0, 3), dim=(0, 4)):
    """``n`` random shapes (size-0 and size-1 dims included), reproducible by name."""
    rng = seeded(name)
    ranks = rng.integers(rank[0], rank[1] + 1, size=n)
    return [tuple(int(d) for d in rng.integers(dim[0], dim[1] + 1, r)) for r in ranks]


def random_broadcast_pairs(name: str, n: int):
    """``n`` random pairs of shapes that broadcast together."""
    rng = seeded(name)
    pairs = []
    for _ in range(n):
        base = tuple(int(d) for d in rng.integers(1, 4, rng.integers(1, 4)))
        keep = int(rng.integers(0, len(base) + 1))
        small = tuple(1 if rng.random() < 0.5 else d for d in base[len(base) - keep :])
        pairs.append((base, small) if rng.random() < 0.5 else (small, base))
    return pairs


def unary_variants(name, extra=2, **kwargs):
    return [Variant((s,), dict(kwargs)) for s in UNARY + random_shapes(name, extra)]


def binary_variants(name, extra=2, **kwargs):
    return [Variant(p, dict(kwargs)) for p in BINARY + random_broadcast_pairs(name, extra)]
