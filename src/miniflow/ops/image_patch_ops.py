"""Image patches (`tf.image.extract_image_patches` / `extract_patches`): every
``ksize`` window (strided, dilated by ``rates``, VALID or SAME padded) flattened into the
depth dimension, in (row, column, channel) order. The gradient op scatters the windows
back; its own gradient is the extraction again. Also `extract_glimpse`."""

from __future__ import annotations

import numpy as np

from miniflow import dtypes, errors
from miniflow.core.dispatch import apply_op
from miniflow.core.registry import not_differentiable, register_gradient, register_op
from miniflow.ops import array_ops as _arr
from miniflow.ops.conv_ops import _geometry, _out_and_pad, _pad_hw, _windows
from miniflow.ops.shape_rules import dims


def _patches_infer(inputs, attrs):
    x = dims(inputs[0])
    if x is None:
        return [((None,) * 4, inputs[0].dtype)]
    if len(x) != 4:
        raise ValueError(
            f"Shape must be rank 4 but is rank {len(x)} for "
            f"'ExtractImagePatches' (images [batch, rows, cols, depth])"
        )
    (kh, kw), (sh, sw), (rh, rw) = attrs["ksizes"], attrs["strides"], attrs["rates"]
    out = [
        None if n is None else _out_and_pad(n, k, s, r, attrs["padding"])[0]
        for n, k, s, r in ((x[1], kh, sh, rh), (x[2], kw, sw, rw))
    ]
    depth = None if x[3] is None else kh * kw * x[3]
    return [((x[0], *out, depth), inputs[0].dtype)]


@register_op("ExtractImagePatches", infer=_patches_infer)
def _extract_patches(x, ksizes=(1, 1), strides=(1, 1), rates=(1, 1), padding="VALID"):
    (kh, kw) = ksizes
    oh, ow, ph, pw = _geometry(x.shape, kh, kw, strides, rates, padding)
    cols = _windows(_pad_hw(np.asarray(x), ph, pw), oh, ow, kh, kw, *strides, *rates)
    return cols.reshape(x.shape[0], oh, ow, kh * kw * x.shape[3])


@register_op("ExtractImagePatchesGrad", infer=lambda i, a: [(dims(i[1]), i[1].dtype)])
def _extract_patches_grad(g, x, ksizes=(1, 1), strides=(1, 1), rates=(1, 1), padding="VALID"):
    (kh, kw), (sh, sw), (rh, rw) = ksizes, strides, rates
    n, h, w, c = x.shape
    oh, ow, ph, pw = _geometry(x.shape, kh, kw, strides, rates, padding)
    cols = np.reshape(g, (n, oh, ow, kh, kw, c))
    out = np.zeros((n, h + sum(ph), w + sum(pw), c), dtype=np.asarray(g).dtype)
    for i in range(kh):  # one strided add per tap
        for j in range(kw):
            out[
                :,
                i * rh : i * rh + sh * (oh - 1) + 1 : sh,
                j * rw : j * rw + sw * (ow - 1) + 1 : sw,
                :,
            ] += cols[:, :, :, i, j, :]
    return out[:, ph[0] : ph[0] + h, pw[0] : pw[0] + w, :].astype(x.dtype, copy=False)


def _attrs(op):
    return {k: op.attrs[k] for k in ("ksizes", "strides", "rates", "padding")}


@register_gradient("ExtractImagePatches")
def _extract_patches_grad_rule(op, grad):
    return [apply_op("ExtractImagePatchesGrad", grad, op.inputs[0], **_attrs(op))]


@register_gradient("ExtractImagePatchesGrad")
def _extract_patches_grad_grad(op, grad):
    """Scattering windows back is the adjoint of extracting them."""
    return [apply_op("ExtractImagePatches", grad, **_attrs(op)), None]


def _four(v, what):
    v = [int(e) for e in v]
    if len(v) != 4 or v[0] != 1 or v[3] != 1:
        raise ValueError(f"{what} must be a list [1, rows, cols, 1], got {v}")
    return v[1], v[2]


def extract_image_patches(
    images, ksizes=None, strides=None, rates=None, padding=None, name=None, sizes=None
):
    """Patches of ``images`` [batch, rows, cols, depth] gathered into the depth
    dimension: [batch, out_rows, out_cols, ksize_rows * ksize_cols * depth]."""
    ksizes = sizes if ksizes is None else ksizes
    if ksizes is None or strides is None or rates is None or padding is None:
        raise TypeError("extract_image_patches needs ksizes (or sizes), strides, rates and padding")
    padding = padding.upper() if isinstance(padding, str) else padding
    if padding not in ("VALID", "SAME"):
        raise ValueError(f"padding must be 'VALID' or 'SAME', got {padding!r}")
    return apply_op(
        "ExtractImagePatches",
        images,
        ksizes=_four(ksizes, "ksizes"),
        strides=_four(strides, "strides"),
        rates=_four(rates, "rates"),
        padding=padding,
        name=name,
    )


def extract_patches(images, sizes, strides, rates, padding, name=None):
    """`extract_image_patches` with TF2's argument names."""
    return extract_image_patches(images, sizes, strides, rates, padding, name=name)


# ---------------------------------------------------------------------------------------
# Glimpses: one window per image, centred at an offset; outside the image, noise.


def _glimpse(rng, x, size, offsets, centered=True, normalized=True, uniform_noise=True):
    size = np.asarray(size).reshape(-1)
    offsets = np.asarray(offsets, np.float32)
    n, h, w, c = np.shape(x)
    if size.shape != (2,) or np.shape(offsets) != (n, 2):
        raise errors.InvalidArgumentError(
            None,
            None,
            f"size must be [2] and offsets [batch, 2], got {list(size.shape)} and "
            f"{list(np.shape(offsets))} for a batch of {n}",
        )
    gh, gw = int(size[0]), int(size[1])
    out = np.empty((n, gh, gw, c), np.asarray(x).dtype)
    for b in range(n):
        y0, x0 = offsets[b]
        if normalized:
            y0, x0 = y0 * np.float32(h), x0 * np.float32(w)
        if centered:
            y0, x0 = y0 / np.float32(2) + np.float32(h / 2), x0 / np.float32(2) + np.float32(w / 2)
        top, left = int(y0 - np.float32(gh / 2)), int(x0 - np.float32(gw / 2))  # truncation
        image = np.asarray(x[b], np.float64)
        if uniform_noise:
            noise = rng.uniform(image.min(axis=(0, 1)), image.max(axis=(0, 1)), (gh, gw, c))
        else:
            noise = rng.normal(image.mean(axis=(0, 1)), image.std(axis=(0, 1)), (gh, gw, c))
        rows, cols = np.arange(top, top + gh), np.arange(left, left + gw)
        inside = ((rows >= 0) & (rows < h))[:, None] & ((cols >= 0) & (cols < w))[None]
        sample = image[np.clip(rows, 0, h - 1)][:, np.clip(cols, 0, w - 1)]
        out[b] = np.where(inside[..., None], sample, noise)
    return out


def _glimpse_infer(inputs, attrs):
    x, size = dims(inputs[0]), _arr._const_value(inputs[1])
    if x is not None and len(x) != 4:
        raise ValueError(f"Shape must be rank 4 but is rank {len(x)} for 'ExtractGlimpse'")
    gh, gw = (None, None) if size is None else (int(v) for v in np.reshape(size, -1)[:2])
    n, c = (None, None) if x is None else (x[0], x[3])
    return [((n, gh, gw, c), inputs[0].dtype)]


register_op(
    "ExtractGlimpse",
    stateful=True,
    make_state=lambda attrs: np.random.default_rng(),
    infer=_glimpse_infer,
)(_glimpse)
not_differentiable("ExtractGlimpse")


def extract_glimpse(
    input,
    size,
    offsets,
    centered=True,
    normalized=True,  # noqa: A002
    uniform_noise=True,
    name=None,
):
    """Windows of ``size`` [h, w] from a float batch [batch, height, width, channels]
    centred at ``offsets`` [batch, 2] (y, x); pixels outside the image are random noise
    (uniform in the channel's range, or normal with its mean and deviation)."""
    return apply_op(
        "ExtractGlimpse",
        _arr.convert_to_tensor(input, dtype=dtypes.float32),
        _arr.convert_to_tensor(size, dtype=dtypes.int32),
        _arr.convert_to_tensor(offsets, dtype=dtypes.float32),
        centered=bool(centered),
        normalized=bool(normalized),
        uniform_noise=bool(uniform_noise),
        name=name,
    )
