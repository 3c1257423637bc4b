"""`tf.einsum` (any subscripts, ellipsis included) as one op whose gradient is again an
einsum of the output gradient with the other operands; `tf.tensordot` composed from it."""

from __future__ import annotations

import string

import numpy as np

from miniflow.core.dispatch import apply_op
from miniflow.core.registry import register_gradient, register_op
from miniflow.core.shapes import broadcast_dims
from miniflow.ops import array_ops as _arr, math_ops as _math
from miniflow.ops.math_ops import broadcast_like, unbroadcast
from miniflow.ops.shape_rules import dims


def parse_equation(equation, n_inputs):
    """(input subscripts, output subscripts) of an einsum equation, made explicit."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    subs = lhs.split(",")
    if len(subs) != n_inputs:
        raise ValueError(
            f"einsum equation {equation!r} names {len(subs)} operands but {n_inputs} were given"
        )
    for s in subs + [rhs]:
        bad = set(s.replace("...", "")) - set(string.ascii_letters)
        if bad or s.replace("...", "").count(".") or s.count("...") > 1:
            raise ValueError(f"Invalid einsum subscripts {s!r} in {equation!r}")
    if not arrow:
        letters = "".join(subs).replace("...", "")
        rhs = ("..." if "..." in lhs else "") + "".join(
            sorted(c for c in set(letters) if letters.count(c) == 1)
        )
    for c in rhs.replace("...", ""):
        if c not in lhs:
            raise ValueError(f"Output subscript {c!r} of {equation!r} is not in any input")
    return subs, rhs


def _split(sub, d):
    """(dims before the ellipsis, ellipsis dims, dims after) of a static shape."""
    if "..." not in sub:
        return d, (), ()
    pre, post = sub.split("...")
    n_ell = len(d) - len(pre) - len(post)
    return d[: len(pre)], d[len(pre) : len(pre) + n_ell], d[len(pre) + n_ell :]


def _einsum_infer(inputs, attrs):
    subs, rhs = attrs["subscripts"], attrs["output"]
    shapes = [dims(t) for t in inputs]
    dtype = inputs[0].dtype
    if any(s is None for s in shapes):
        return [(None, dtype)]
    sizes, ell = {}, ()
    for sub, d in zip(subs, shapes):
        letters = sub.replace("...", "")
        if len(d) < len(letters) or ("..." not in sub and len(d) != len(letters)):
            raise ValueError(f"einsum operand with subscripts {sub!r} has rank {len(d)}")
        pre, mid, post = _split(sub, d)
        ell = broadcast_dims(ell, mid)
        for c, n in zip(letters, tuple(pre) + tuple(post)):
            if n is not None and sizes.get(c) not in (None, 1, n) and n != 1:
                raise ValueError(
                    f"einsum: dimension {c!r} is {sizes[c]} in one operand and {n} in another"
                )
            if n is not None and (sizes.get(c) in (None, 1)):
                sizes[c] = n
            sizes.setdefault(c, None)
    pre, _, post = rhs.partition("...")
    out = (
        tuple(sizes[c] for c in pre)
        + (tuple(ell) if "..." in rhs else ())
        + tuple(sizes[c] for c in post)
    )
    return [(out, dtype)]


@register_op("Einsum", infer=_einsum_infer, same_dtype=True)
def _einsum(*xs, subscripts=(), output=""):
    return np.asarray(np.einsum(",".join(subscripts) + "->" + output, *xs, optimize=True))


@register_gradient("Einsum")
def _einsum_grad(op, grad):
    """d/dx_i: einsum(grad, the other operands -> x_i's subscripts), broadcast over the
    letters only x_i has (they were summed out)."""
    subs, rhs = op.attrs["subscripts"], op.attrs["output"]
    grads = []
    for i, (x, sub) in enumerate(zip(op.inputs, subs)):
        letters = sub.replace("...", "")
        others = [(s, t) for j, (s, t) in enumerate(zip(subs, op.inputs)) if j != i]
        if len(set(letters)) != len(letters):
            grads.append(_repeated_grad(grad, x, sub, rhs, others))
            continue
        elsewhere = set(rhs) | {c for s, _ in others for c in s}
        target = "".join(c for c in sub if c in elsewhere or c == ".")
        g = apply_op(
            "Einsum",
            grad,
            *[t for _, t in others],
            subscripts=(rhs,) + tuple(s for s, _ in others),
            output=target,
        )
        pre, _, post = sub.partition("...")
        for pos, c in enumerate(pre):
            if c not in elsewhere:
                g = _arr.expand_dims(g, pos)
        for k in range(len(post), 0, -1):
            if post[-k] not in elsewhere:
                g = _arr.expand_dims(g, -k)
        if target != sub:
            g = broadcast_like(g, x) if "..." not in sub else g * _arr.ones_like(x)
        if "..." in sub and sub.startswith("..."):
            g = unbroadcast(g, x)
        grads.append(g)
    return grads


def _repeated_grad(grad, x, sub, rhs, others):
    """The gradient for an operand with a repeated subscript ('ii'): the gradient of its
    diagonal, placed back on the diagonal by an einsum with identity matrices."""
    if "..." in sub:
        raise NotImplementedError(
            f"The gradient of einsum with a repeated subscript and an ellipsis ({sub!r}) "
            "is not supported; take the diagonal first (tf.linalg.diag_part)"
        )
    used = set(sub) | set(rhs) | {c for s, _ in others for c in s}
    fresh = iter(c for c in string.ascii_letters if c not in used)
    elsewhere = set(rhs) | {c for s, _ in others for c in s}
    target = "".join(dict.fromkeys(c for c in sub if c in elsewhere))
    h = apply_op(
        "Einsum",
        grad,
        *[t for _, t in others],
        subscripts=(rhs,) + tuple(s for s, _ in others),
        output=target,
    )
    shape = _arr.shape(x)
    out, ops, op_subs = [], [h], [target]
    for pos, c in enumerate(sub):
        size = shape[pos]
        if c in out:  # a later occurrence: tie it to the first with an identity matrix
            f = next(fresh)
            r = _arr.range(size)
            ops.append(
                _math.cast(_math.equal(_arr.expand_dims(r, 1), _arr.expand_dims(r, 0)), x.dtype)
            )
            op_subs.append(c + f)
            out.append(f)
            continue
        if c not in elsewhere and sub.count(c) == 1:  # summed out: constant along it
            ops.append(_arr.ones(_arr.reshape(size, [1]), dtype=x.dtype))
            op_subs.append(c)
        out.append(c)
    return apply_op("Einsum", *ops, subscripts=tuple(op_subs), output="".join(out))


def einsum(equation, *inputs, **kwargs):
    """Sums of products over the indices an einsum equation names, e.g. 'ij,jk->ik'."""
    name = kwargs.pop("name", None)
    if kwargs:
        raise TypeError(f"einsum got unexpected keyword arguments {sorted(kwargs)}")
    if len(inputs) == 1 and isinstance(inputs[0], list | tuple):
        inputs = tuple(inputs[0])
    subs, rhs = parse_equation(equation, len(inputs))
    return apply_op("Einsum", *inputs, subscripts=tuple(subs), output=rhs, name=name)


def tensordot(a, b, axes, name=None):
    """Sums a's ``axes[0]`` against b's ``axes[1]`` (an int N: a's last N with b's first N)."""
    a, b = _arr.convert_to_tensor(a), _arr.convert_to_tensor(b)
    ra, rb = len(dims(a)), len(dims(b))
    if isinstance(axes, int) or np.ndim(axes) == 0:
        n = int(axes)
        if n < 0 or n > min(ra, rb):
            raise ValueError(f"tensordot: axes={n} must be in [0, {min(ra, rb)}]")
        axes_a, axes_b = list(range(ra - n, ra)), list(range(n))
    else:
        axes_a, axes_b = (
            [int(axes[0])] if np.ndim(axes[0]) == 0 else list(axes[0]),
            [int(axes[1])] if np.ndim(axes[1]) == 0 else list(axes[1]),
        )
        if len(axes_a) != len(axes_b):
            raise ValueError(f"tensordot: {axes_a} and {axes_b} differ in length")
        axes_a, axes_b = [x % ra for x in axes_a], [x % rb for x in axes_b]
    letters = iter(string.ascii_letters)
    sa = [next(letters) for _ in range(ra)]
    sb = [next(letters) for _ in range(rb)]
    for i, j in zip(axes_a, axes_b):
        sb[j] = sa[i]
    out = [c for k, c in enumerate(sa) if k not in axes_a] + [
        c for k, c in enumerate(sb) if k not in axes_b
    ]
    return apply_op(
        "Einsum",
        a,
        b,
        subscripts=("".join(sa), "".join(sb)),
        output="".join(out),
        name=name or "Tensordot",
    )
