"""Fused LSTM cell (TF's `LSTMBlockCell` / `LSTMBlockCellGrad` ops): one kernel for the
gate matmul and every element-wise step of the cell, one for its backward pass, instead
of ~20 small ops each way. `BasicLSTMCell` and `LSTMCell` (without peepholes, clipping or
projection) build it; its values agree with the unfused cell's to float32 rounding.

Forward, with xh = [x, h_prev] and gates i, ci, f, o = xh @ w + b (TF's order)::

    i = s(i + wci cs_prev)      f = s(f + forget_bias + wcf cs_prev)      ci = tanh(ci)
    cs = clip(ci i + cs_prev f, cell_clip)      o = s(o + wco cs)      co = tanh(cs)
    h = co o

(the peephole terms only with ``use_peephole``; no clipping when ``cell_clip`` <= 0).
As in TF, the backward pass does not mask the gradient where the cell was clipped.
"""

from __future__ import annotations

import numpy as np

from miniflow import errors
from miniflow.core.dispatch import apply_op
from miniflow.core.registry import not_differentiable, register_gradient, register_op
from miniflow.ops import array_ops, lstm_compiled, math_ops
from miniflow.ops.shape_rules import dims

_OUTPUTS = ("i", "cs", "f", "o", "ci", "co", "h")


_EXP_MAX = {np.dtype(np.float16): 11.09, np.dtype(np.float32): 88.72, np.dtype(np.float64): 709.7}


def _sigmoid(x):
    """1 / (1 + exp(-x)) with -x capped below exp's overflow: one exp, in place. Within an
    ulp of Sigmoid; below -88.7 (float32) it gives ~3e-39 where the exact value is smaller."""
    t = np.negative(x)
    np.minimum(t, t.dtype.type(_EXP_MAX.get(t.dtype, 88.72)), out=t)
    np.exp(t, out=t)
    t += t.dtype.type(1)
    np.reciprocal(t, out=t)
    return t


def _check(x, cs_prev, h_prev, w, b):
    units = cs_prev.shape[1]
    if w.shape != (x.shape[1] + h_prev.shape[1], 4 * units) or b.shape != (4 * units,):
        raise errors.InvalidArgumentError(
            None,
            None,
            f"LSTMBlockCell: w must be [input_size + cell_size, 4 * cell_size] = "
            f"[{x.shape[1] + h_prev.shape[1]}, {4 * units}] and b [{4 * units}], got "
            f"w {list(w.shape)} and b {list(b.shape)}",
        )
    if not x.shape[0] == cs_prev.shape[0] == h_prev.shape[0]:
        raise errors.InvalidArgumentError(
            None, None, "LSTMBlockCell: x, cs_prev and h_prev must have the same batch size"
        )


def _check_peepholes(units, wci, wcf, wco, use_peephole):
    if use_peephole and not wci.shape == wcf.shape == wco.shape == (units,):
        raise errors.InvalidArgumentError(
            None,
            None,
            f"LSTMBlockCell: wci, wcf and wco must be [cell_size] = [{units}], got "
            f"{list(wci.shape)}, {list(wcf.shape)} and {list(wco.shape)}",
        )


def _lstm_block_cell(
    x, cs_prev, h_prev, w, wci, wcf, wco, b, forget_bias=1.0, cell_clip=-1.0, use_peephole=False
):
    _check(x, cs_prev, h_prev, w, b)
    _check_peepholes(cs_prev.shape[1], wci, wcf, wco, use_peephole)
    u = cs_prev.shape[1]
    gates = np.matmul(np.concatenate([x, h_prev], 1), w)
    if lstm_compiled.enabled(gates.dtype):
        out = lstm_compiled.cell_forward(
            gates, b, cs_prev, wci, wcf, wco, forget_bias, cell_clip, use_peephole
        )
        if out is not None:
            return out
    gates += b
    one = x.dtype.type
    pre_i, pre_ci, pre_f, pre_o = (gates[:, k * u : (k + 1) * u] for k in range(4))
    pre_f += one(forget_bias)
    if use_peephole:
        pre_i, pre_f = pre_i + cs_prev * wci, pre_f + cs_prev * wcf
    i, f, ci = _sigmoid(pre_i), _sigmoid(pre_f), np.tanh(pre_ci)
    cs = ci * i
    cs += cs_prev * f
    if cell_clip > 0:
        np.clip(cs, -one(cell_clip), one(cell_clip), out=cs)
    o = _sigmoid(pre_o + cs * wco if use_peephole else pre_o)
    co = np.tanh(cs)
    return i, cs, f, o, ci, co, co * o


def _lstm_block_cell_grad(
    x,
    cs_prev,
    h_prev,
    w,
    wci,
    wcf,
    wco,
    b,
    i,
    cs,
    f,
    o,
    ci,
    co,
    cs_grad,
    h_grad,
    use_peephole=False,
):
    """(cs_prev_grad, dicfo, wci_grad, wcf_grad, wco_grad), as TF's LSTMBlockCellGrad."""
    u = cs.shape[1]
    _check_peepholes(u, wci, wcf, wco, use_peephole)
    if any(a.shape != cs_prev.shape for a in (i, cs, f, o, ci, co, cs_grad, h_grad)):
        raise errors.InvalidArgumentError(
            None,
            None,
            "LSTMBlockCellGrad: the cell's outputs and gradients must be "
            f"[batch, cell_size] = {list(cs_prev.shape)}",
        )
    if lstm_compiled.enabled(cs.dtype):
        cs_prev_grad, dicfo = lstm_compiled.cell_backward(
            cs_prev, i, f, o, ci, co, cs_grad, h_grad, wci, wcf, wco, use_peephole
        )
        return (
            cs_prev_grad,
            dicfo,
            *_peephole_grads(dicfo, cs_prev, cs, wci, wcf, wco, use_peephole),
        )
    one = cs.dtype.type(1)
    dicfo = np.empty((cs.shape[0], 4 * u), cs.dtype)
    di, dci, df, do = (dicfo[:, k * u : (k + 1) * u] for k in range(4))
    np.multiply(h_grad, co, out=do)
    do *= o
    do *= one - o
    dcs = one - co * co
    dcs *= h_grad
    dcs *= o
    dcs += cs_grad
    if use_peephole:
        dcs += do * wco
    np.multiply(dcs, i, out=dci)
    dci *= one - ci * ci
    np.multiply(dcs, cs_prev, out=df)
    df *= f
    df *= one - f
    np.multiply(dcs, ci, out=di)
    di *= i
    di *= one - i
    cs_prev_grad = dcs * f
    if use_peephole:
        cs_prev_grad += di * wci
        cs_prev_grad += df * wcf
    return (cs_prev_grad, dicfo, *_peephole_grads(dicfo, cs_prev, cs, wci, wcf, wco, use_peephole))


def _peephole_grads(dicfo, cs_prev, cs, wci, wcf, wco, use_peephole):
    """(wci_grad, wcf_grad, wco_grad): zeros without peepholes, as in TF."""
    if not use_peephole:
        return np.zeros_like(wci), np.zeros_like(wcf), np.zeros_like(wco)
    u = cs.shape[1]
    di, df, do = dicfo[:, :u], dicfo[:, 2 * u : 3 * u], dicfo[:, 3 * u :]
    return ((di * cs_prev).sum(0), (df * cs_prev).sum(0), (do * cs).sum(0))


def _cell_infer(inputs, attrs):
    x, cs = dims(inputs[0]), dims(inputs[1])
    batch = None if x is None else x[0]
    units = None if cs is None else cs[1]
    if units is None and dims(inputs[3]) is not None and dims(inputs[3])[1] is not None:
        units = dims(inputs[3])[1] // 4
    return [((batch, units), inputs[0].dtype)] * 7


def _grad_infer(inputs, attrs):
    cs = dims(inputs[1])
    batch, units = (None, None) if cs is None else cs
    four = None if units is None else 4 * units
    return [((batch, units), inputs[0].dtype), ((batch, four), inputs[0].dtype)] + [
        ((units,), inputs[0].dtype)
    ] * 3


register_op("LSTMBlockCell", infer=_cell_infer, num_outputs=7, same_dtype=True)(_lstm_block_cell)
register_op("LSTMBlockCellGrad", infer=_grad_infer, num_outputs=5)(_lstm_block_cell_grad)
not_differentiable("LSTMBlockCellGrad")


@register_gradient("LSTMBlockCell", accepts_none=True)
def _lstm_block_cell_gradient(op, *grads):
    x, cs_prev, h_prev, w, wci, wcf, wco, b = op.inputs
    i, cs, f, o, ci, co, h = op.outputs
    cs_grad = grads[1] if grads[1] is not None else array_ops.zeros_like(cs)
    h_grad = grads[6] if grads[6] is not None else array_ops.zeros_like(h)
    cs_prev_grad, dicfo, wci_grad, wcf_grad, wco_grad = apply_op(
        "LSTMBlockCellGrad",
        *op.inputs,
        i,
        cs,
        f,
        o,
        ci,
        co,
        cs_grad,
        h_grad,
        use_peephole=op.attrs["use_peephole"],
    )
    xh = array_ops.concat([x, h_prev], 1)
    xh_grad = math_ops.matmul(dicfo, w, transpose_b=True)
    depth = dims(x)[1] if dims(x) is not None and dims(x)[1] is not None else None
    if depth is None:
        depth = array_ops.shape(x)[1]
    x_grad, h_prev_grad = xh_grad[:, :depth], xh_grad[:, depth:]
    return [
        x_grad,
        cs_prev_grad,
        h_prev_grad,
        math_ops.matmul(xh, dicfo, transpose_a=True),
        wci_grad,
        wcf_grad,
        wco_grad,
        math_ops.reduce_sum(dicfo, 0),
    ]


def lstm_block_cell(
    x,
    cs_prev,
    h_prev,
    w,
    b,
    wci=None,
    wcf=None,
    wco=None,
    forget_bias=1.0,
    cell_clip=-1.0,
    use_peephole=False,
    name=None,
):
    """One fused LSTM step (TF's `lstm_block_cell`); without peepholes ``wci``, ``wcf``,
    ``wco`` may be None.

    Returns:
        (i, cs, f, o, ci, co, h), each [batch, cell_size].
    """
    if use_peephole and (wci is None or wcf is None or wco is None):
        raise ValueError("use_peephole=True needs wci, wcf and wco")
    x, cs_prev = array_ops.convert_to_tensor(x), array_ops.convert_to_tensor(cs_prev)
    if wci is None or wcf is None or wco is None:
        units = dims(cs_prev)[1] if dims(cs_prev) is not None else None
        if units is None:
            zero = array_ops.zeros_like(b)[: array_ops.shape(cs_prev)[1]]
        else:
            zero = array_ops.zeros([units], dtype=x.dtype)
        wci = zero if wci is None else wci
        wcf = zero if wcf is None else wcf
        wco = zero if wco is None else wco
    return apply_op(
        "LSTMBlockCell",
        x,
        cs_prev,
        h_prev,
        w,
        wci,
        wcf,
        wco,
        b,
        forget_bias=float(forget_bias),
        cell_clip=float(cell_clip),
        use_peephole=bool(use_peephole),
        name=name,
    )
