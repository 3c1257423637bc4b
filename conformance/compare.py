"""Compares two outcomes of one (case, dtype, variant): errors (class and stage), forward
values (shape, dtype, values with NaN/Inf in the same places), first and second
gradients. Each comparison yields a `Check`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from conformance.case import Case
from conformance.harness import Outcome

_PHASE = {
    "build": "error",
    "run": "error",
    "grad-build": "grad1",
    "grad-run": "grad1",
    "grad2": "grad2",
    "eager": "error",
}


@dataclass
class Check:
    check: str  # error | forward | grad1 | grad2 | eager
    ok: bool
    detail: str = ""


def _short(a) -> str:
    a = np.asarray(a)
    return np.array2string(a.reshape(-1)[:6], precision=5, threshold=6) + (
        "..." if a.size > 6 else ""
    )


def same_values(got, want, rtol: float, atol: float) -> str | None:
    """None when ``got`` matches ``want`` (shape, dtype, values); else what differs."""
    if got is None or want is None:
        return (
            None
            if got is None and want is None
            else f"{'no gradient' if got is None else _short(got)} vs "
            f"{'no gradient' if want is None else _short(want)}"
        )
    got, want = np.asarray(got), np.asarray(want)
    if got.shape != want.shape:
        return f"shape {got.shape} vs {want.shape}"
    if got.dtype != want.dtype:
        return f"dtype {got.dtype} vs {want.dtype}"
    if got.dtype.kind in "fc":
        g, w = (
            got.astype(np.complex128 if got.dtype.kind == "c" else np.float64),
            want.astype(np.complex128 if got.dtype.kind == "c" else np.float64),
        )
        nan_g, nan_w = np.isnan(g), np.isnan(w)
        if not np.array_equal(nan_g, nan_w):
            return f"NaN at different places: {_short(got)} vs {_short(want)}"
        inf_g, inf_w = np.isinf(g), np.isinf(w)
        if not np.array_equal(inf_g, inf_w) or not np.array_equal(g[inf_g], w[inf_w]):
            return f"Inf differs: {_short(got)} vs {_short(want)}"
        fin = ~(nan_g | inf_g)
        if not np.allclose(g[fin], w[fin], rtol=rtol, atol=atol):
            err = np.max(np.abs(g[fin] - w[fin]))
            return f"max abs err {err:.3g}: {_short(got)} vs {_short(want)}"
        return None
    if got.dtype == object:
        eq = [_text(a) == _text(b) for a, b in zip(got.reshape(-1), want.reshape(-1))]
        return None if all(eq) else f"{_short(got)} vs {_short(want)}"
    return None if np.array_equal(got, want) else f"{_short(got)} vs {_short(want)}"


def _text(x):
    return x.decode() if isinstance(x, bytes) else x


def same_shape(got, want) -> str | None:
    got, want = np.asarray(got), np.asarray(want)
    if got.shape != want.shape or got.dtype != want.dtype:
        return f"{got.dtype}{got.shape} vs {want.dtype}{want.shape}"
    return None


def same_stats(got, want) -> str | None:
    """Random outputs: same shape and dtype, mean and spread within sampling error."""
    got, want = np.asarray(got), np.asarray(want)
    if got.shape != want.shape or got.dtype != want.dtype:
        return f"{got.dtype}{got.shape} vs {want.dtype}{want.shape}"
    if got.size < 100 or got.dtype.kind not in "fiu":
        return None
    g, w = got.astype(np.float64), want.astype(np.float64)
    scale = max(w.std(), 1e-6)
    if abs(g.mean() - w.mean()) > 0.2 * scale or abs(g.std() - w.std()) > 0.15 * scale:
        return f"mean/std {g.mean():.4g}/{g.std():.4g} vs {w.mean():.4g}/{w.std():.4g}"
    return None


def _none_as_zeros(g, w):
    if g is None and w is not None:
        return np.zeros_like(np.asarray(w)), w
    if w is None and g is not None:
        return g, np.zeros_like(np.asarray(g))
    return g, w


def _tol(case: Case, want, which: int, eager: bool):
    """(rtol, atol) for a value of ``want``'s dtype (an output's dtype need not be the
    case's: resize ops return float32 for float64 images); which: 0 forward, 1 gradient."""
    dtype = np.asarray(want).dtype.name if want is not None else "float64"
    rtol, atol = case.tolerances(dtype)[which]
    return (rtol * 10 + 1e-12, atol * 10) if eager else (rtol, atol)


def _errors(got: Outcome, want: Outcome, phase: str, eager: bool) -> Check | None:
    ge = got.error if got.error and _PHASE[got.error[0]] == phase else None
    we = want.error if want.error and _PHASE[want.error[0]] == phase else None
    if ge is None and we is None:
        return None
    if eager:  # eager raises at once: only "both raise" is comparable
        ok = ge is not None and we is not None
    else:
        ok = ge is not None and we is not None and ge[:2] == we[:2]

    def describe(e):
        return "no error" if e is None else f"{e[1]} at {e[0]}: {e[2]}"

    return Check(
        "eager" if eager else phase,
        ok,
        "" if ok else f"miniflow {describe(ge)} | reference {describe(we)}",
    )


def compare(case: Case, dtype: str, got: Outcome, want: Outcome, eager=False) -> list[Check]:
    """The checks of ``got`` (miniflow) against ``want`` (the reference)."""
    checks = []
    c = _errors(got, want, "error", eager)
    if c is not None:
        return [c]
    name = "eager" if eager else "forward"
    if len(got.forward) != len(want.forward):
        return [Check(name, False, f"{len(got.forward)} outputs vs {len(want.forward)}")]
    problems = [
        same_stats(g, w)
        if case.compare == "stats"
        else same_shape(g, w)
        if case.compare == "shape"
        else same_values(g, w, *_tol(case, w, 0, eager))
        for g, w in zip(got.forward, want.forward)
    ]
    bad = [f"output {i}: {p}" for i, p in enumerate(problems) if p]
    checks.append(Check(name, not bad, "; ".join(bad)))
    for phase, gv, wv in (("grad1", got.grad1, want.grad1), ("grad2", got.grad2, want.grad2)):
        if eager and phase == "grad2":
            break
        c = _errors(got, want, phase, eager)
        if c is not None:
            checks.append(Check("eager" if eager else phase, c.ok, c.detail))
            break
        if gv is None and wv is None:
            continue
        if gv is None or wv is None:
            checks.append(
                Check(
                    "eager" if eager else phase,
                    False,
                    f"{'no' if gv is None else 'some'} gradients vs "
                    f"{'no' if wv is None else 'some'}",
                )
            )
            break
        if phase == "grad2":  # TF's second-order graphs often stay connected through
            # ops whose gradient is zero (Select, ReluGrad): None and zeros mean the same
            gv, wv = zip(*[_none_as_zeros(g, w) for g, w in zip(gv, wv)])
        bad = [
            f"input {i}: {p}"
            for i, (g, w) in enumerate(zip(gv, wv))
            if (p := same_values(g, w, *_tol(case, w, 1, eager)))
        ]
        checks.append(Check("eager" if eager else phase, not bad, "; ".join(bad)))
    return checks
