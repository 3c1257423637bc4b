"""Image resizing (`tf.image.resize_*`, `resize_images`, `crop_and_resize`).

Every resize method TF1 has is linear in the image and separable: the output is
``Wy @ image @ Wx^T`` per batch and channel, where ``Wy``/``Wx`` hold TF's interpolation
weights (computed in float32 exactly as TF's kernels compute them). The gradient op
(`ResizeBilinearGrad`, ...) applies the transposed weights; its own gradient is the
forward resize again, so resize gradients are differentiable to any order.
"""

from __future__ import annotations

import functools

import numpy as np

from miniflow import dtypes, errors
from miniflow.core.dispatch import apply_op
from miniflow.core.registry import not_differentiable, register_gradient, register_op
from miniflow.ops import array_ops as _arr, math_ops as _math
from miniflow.ops.control_flow_ops import name_scope
from miniflow.ops.shape_rules import dims

# ---------------------------------------------------------------------------------------
# Interpolation weights, one [out, in] matrix per spatial axis.


def _scale(n_in, n_out, align_corners):
    if align_corners and n_out > 1:
        return np.float32(n_in - 1) / np.float32(n_out - 1)
    return np.float32(n_in) / np.float32(n_out)


def _dense(rows, cols, weights, n_out, n_in):
    w = np.zeros((n_out, n_in), np.float64)
    np.add.at(w, (rows, cols), weights)
    return w


def _bilinear(n_in, n_out, align_corners, half_pixel_centers):
    s, i = _scale(n_in, n_out, align_corners), np.arange(n_out, dtype=np.float32)
    src = (i + np.float32(0.5)) * s - np.float32(0.5) if half_pixel_centers else i * s
    low = np.floor(src)
    lerp = (src - low).astype(np.float64)
    lo = np.maximum(low, 0).astype(np.int64)
    hi = np.minimum(np.ceil(src), n_in - 1).astype(np.int64)
    rows = np.arange(n_out)
    return _dense(np.r_[rows, rows], np.r_[lo, hi], np.r_[1 - lerp, lerp], n_out, n_in)


def _nearest(n_in, n_out, align_corners, half_pixel_centers):
    s, i = _scale(n_in, n_out, align_corners), np.arange(n_out, dtype=np.float32)
    src = (i + np.float32(0.5)) * s if half_pixel_centers else i * s
    idx = np.floor(src)
    if align_corners:  # C's roundf: halves away from zero
        idx = idx + (src - idx >= 0.5)
    idx = np.minimum(idx.astype(np.int64), n_in - 1)
    if half_pixel_centers:
        idx = np.maximum(idx, 0)
    return idx


@functools.lru_cache(maxsize=2)
def _cubic_table(a):
    """TF's 1025-entry table of the Keys cubic kernel (positions quantised to 1/1024)."""
    x = np.arange(1025, dtype=np.float64) / 1024
    near = ((a + 2) * x - (a + 3)) * x * x + 1
    x = x + 1
    far = ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return near.astype(np.float32), far.astype(np.float32)


def _bicubic(n_in, n_out, align_corners, half_pixel_centers):
    s, i = _scale(n_in, n_out, align_corners), np.arange(n_out, dtype=np.float32)
    src = (i + np.float32(0.5)) * s - np.float32(0.5) if half_pixel_centers else i * s
    base = np.floor(src).astype(np.int64)
    off = np.rint((src - base) * np.float32(1024)).astype(np.int64)
    near, far = _cubic_table(-0.5 if half_pixel_centers else -0.75)
    taps = np.stack([base - 1, base, base + 1, base + 2], axis=1)
    w = np.stack([far[off], near[off], near[1024 - off], far[1024 - off]], axis=1)
    w = w.astype(np.float64)
    bounded = np.clip(taps, 0, n_in - 1)
    if half_pixel_centers:  # taps outside the image get no weight; the rest renormalised
        w = np.where(bounded == taps, w, 0.0)
        w = w / w.sum(axis=1, keepdims=True)
    rows = np.repeat(np.arange(n_out), 4)
    return _dense(rows, bounded.reshape(-1), w.reshape(-1), n_out, n_in)


def _area(n_in, n_out, align_corners, half_pixel_centers):
    s = _scale(n_in, n_out, align_corners)
    w = np.zeros((n_out, n_in), np.float64)
    for o in range(n_out):
        start, stop = np.float32(o) * s, np.float32(o + 1) * s
        for k in range(int(np.floor(start)), int(np.ceil(stop))):
            if k < start:
                part = s if k + 1 > stop else k + 1 - start
            else:
                part = stop - k if k + 1 > stop else 1.0
            w[o, min(k, n_in - 1)] += part
    return w / np.float64(s)


_WEIGHTS = {"ResizeBilinear": _bilinear, "ResizeBicubic": _bicubic, "ResizeArea": _area}


@functools.lru_cache(maxsize=64)
def _matrix(op_type, n_in, n_out, align_corners, half_pixel_centers):
    if op_type == "ResizeNearestNeighbor":
        idx = _nearest(n_in, n_out, align_corners, half_pixel_centers)
        return _dense(np.arange(n_out), idx, np.ones(n_out), n_out, n_in)
    return _WEIGHTS[op_type](n_in, n_out, align_corners, half_pixel_centers)


def _matrices(op_type, in_hw, out_hw, attrs):
    a, h = attrs.get("align_corners", False), attrs.get("half_pixel_centers", False)
    return (
        _matrix(op_type, in_hw[0], out_hw[0], a, h),
        _matrix(op_type, in_hw[1], out_hw[1], a, h),
    )


def _separable(x, wy, wx):
    """``out[b, y, x, c] = sum wy[y, h] wx[x, w] img[b, h, w, c]`` as two matmuls, in
    float64 for float64 images and float32 otherwise."""
    ftype = np.float64 if x.dtype == np.float64 else np.float32
    x = np.asarray(x, ftype)
    b, h, w, c = x.shape
    oh, ow = wy.shape[0], wx.shape[0]
    rows = np.matmul(wy.astype(ftype), x.reshape(b, h, w * c)).reshape(b, oh, w, c)
    cols = rows.transpose(0, 1, 3, 2).reshape(-1, w) @ wx.T.astype(ftype)  # one GEMM
    return cols.reshape(b, oh, c, ow).transpose(0, 1, 3, 2)


# ---------------------------------------------------------------------------------------
# The four resize ops and their gradient ops.


def _check_size(size, what="size"):
    size = np.asarray(size).reshape(-1)
    if size.shape != (2,):
        raise errors.InvalidArgumentError(
            None, None, f"{what} must be 1-dimensional with 2 elements, got {size.tolist()}"
        )
    if np.any(size <= 0):
        raise errors.InvalidArgumentError(
            None, None, f"output dimensions must be positive, got {size.tolist()}"
        )
    return int(size[0]), int(size[1])


def _check_images(x):
    if np.ndim(x) != 4:
        raise errors.InvalidArgumentError(
            None, None, f"input must be 4-dimensional, got shape {list(np.shape(x))}"
        )
    if 0 in np.shape(x)[1:3]:
        raise errors.InvalidArgumentError(
            None, None, f"input image must be of non-zero size, got shape {list(np.shape(x))}"
        )


def _resize_infer(op_type):
    def infer(inputs, attrs):
        x = dims(inputs[0])
        if x is not None and len(x) != 4:
            raise ValueError(
                f"Shape must be rank 4 but is rank {len(x)} for '{op_type}' "
                f"(images of shape [batch, height, width, channels])"
            )
        size = _arr._const_value(inputs[1])
        oh, ow = (None, None) if size is None else (int(s) for s in np.reshape(size, -1)[:2])
        out = dtypes.float32 if op_type != "ResizeNearestNeighbor" else inputs[0].dtype
        return [((None if x is None else x[0], oh, ow, None if x is None else x[3]), out)]

    return infer


def _attrs(op):
    return dict(
        align_corners=op.attrs.get("align_corners", False),
        half_pixel_centers=op.attrs.get("half_pixel_centers", False),
    )


def _register_resize(op_type):
    @register_op(op_type, infer=_resize_infer(op_type))
    def _forward(images, size, align_corners=False, half_pixel_centers=False):
        _check_images(images)
        out_hw = _check_size(size)
        if op_type == "ResizeNearestNeighbor":  # a gather: exact for every dtype
            a = align_corners, half_pixel_centers
            iy = _nearest(images.shape[1], out_hw[0], *a)
            ix = _nearest(images.shape[2], out_hw[1], *a)
            return np.asarray(images)[:, iy][:, :, ix]
        wy, wx = _matrices(
            op_type,
            images.shape[1:3],
            out_hw,
            dict(align_corners=align_corners, half_pixel_centers=half_pixel_centers),
        )
        return _separable(np.asarray(images), wy, wx).astype(np.float32, copy=False)

    if op_type == "ResizeArea":
        not_differentiable(op_type)
        return
    grad_type = op_type + "Grad"

    @register_op(grad_type, infer=lambda i, a: [(dims(i[1]), i[1].dtype)])
    def _backward(grads, original, align_corners=False, half_pixel_centers=False):
        wy, wx = _matrices(
            op_type,
            original.shape[1:3],
            grads.shape[1:3],
            dict(align_corners=align_corners, half_pixel_centers=half_pixel_centers),
        )
        g = _separable(
            np.asarray(grads, original.dtype if original.dtype == np.float64 else np.float32),
            wy.T,
            wx.T,
        )
        return g.astype(original.dtype, copy=False)

    @register_gradient(op_type)
    def _forward_grad(op, grad):
        return [apply_op(grad_type, grad, op.inputs[0], **_attrs(op)), None]

    @register_gradient(grad_type)
    def _backward_grad(op, grad):
        """The transposed map's adjoint is the resize itself."""
        grads = op.inputs[0]
        d = dims(grads)
        size = list(d[1:3]) if d is not None and None not in d[1:3] else _arr.shape(grads)[1:3]
        out = apply_op(op_type, grad, size, **_attrs(op))
        return [_arr.cast(out, grads.dtype) if out.dtype != grads.dtype else out, None]


for _t in ("ResizeBilinear", "ResizeNearestNeighbor", "ResizeBicubic", "ResizeArea"):
    _register_resize(_t)


def _size_tensor(size):
    return _arr.convert_to_tensor(size, dtype=dtypes.int32)


def resize_bilinear(images, size, align_corners=False, name=None, half_pixel_centers=False):
    """Bilinear resize of 4-D ``images`` to ``size`` = [new_height, new_width] (float32)."""
    return apply_op(
        "ResizeBilinear",
        images,
        _size_tensor(size),
        align_corners=align_corners,
        half_pixel_centers=half_pixel_centers,
        name=name,
    )


def resize_nearest_neighbor(images, size, align_corners=False, name=None, half_pixel_centers=False):
    """Nearest-neighbour resize of 4-D ``images`` to ``size`` (keeps the dtype)."""
    return apply_op(
        "ResizeNearestNeighbor",
        images,
        _size_tensor(size),
        align_corners=align_corners,
        half_pixel_centers=half_pixel_centers,
        name=name,
    )


def resize_bicubic(images, size, align_corners=False, name=None, half_pixel_centers=False):
    """Bicubic resize (Keys kernel; a = -0.75, or -0.5 with half-pixel centers)."""
    return apply_op(
        "ResizeBicubic",
        images,
        _size_tensor(size),
        align_corners=align_corners,
        half_pixel_centers=half_pixel_centers,
        name=name,
    )


def resize_area(images, size, align_corners=False, name=None):
    """Area (box-average) resize of 4-D ``images`` to ``size`` (float32)."""
    return apply_op(
        "ResizeArea", images, _size_tensor(size), align_corners=align_corners, name=name
    )


class ResizeMethod:
    """TF1's resize method constants (`tf.image.ResizeMethod`)."""

    BILINEAR = 0
    NEAREST_NEIGHBOR = 1
    BICUBIC = 2
    AREA = 3


_BY_METHOD = {0: resize_bilinear, 1: resize_nearest_neighbor, 2: resize_bicubic, 3: resize_area}


def as_batch(images):
    """(4-D images, whether the input was a batch); ValueError unless rank 3 or 4."""
    images = _arr.convert_to_tensor(images, name="images")
    d = dims(images)
    if d is None:
        raise ValueError("'images' contains no shape.")
    if len(d) == 3:
        return _arr.expand_dims(images, 0), False
    if len(d) != 4:
        raise ValueError("'images' must have either 3 or 4 dimensions.")
    return images, True


def unbatch(images, is_batch):
    return images if is_batch else _arr.squeeze(images, axis=[0])


def resize_images(
    images,
    size,
    method=ResizeMethod.BILINEAR,
    align_corners=False,
    preserve_aspect_ratio=False,
    name=None,
):
    """Resizes 3-D or 4-D ``images`` to ``size`` with ``method`` (TF1 `resize_images`)."""
    if method not in _BY_METHOD:
        raise ValueError(f"Resize method is not implemented: {method}")
    with name_scope(name, "resize"):
        images, is_batch = as_batch(images)
        height, width = dims(images)[1:3]
        try:
            size = _size_tensor(size)
        except (TypeError, ValueError):
            raise ValueError("'size' must be a 1-D int32 Tensor") from None
        if dims(size) is None or dims(size) not in ((2,), (None,)):
            raise ValueError("'size' must be a 1-D Tensor of 2 elements: new_height, new_width")
        if preserve_aspect_ratio:
            size = _aspect_size(images, size)
        value = _arr._const_value(size)
        new = (None, None) if value is None else tuple(int(v) for v in np.reshape(value, -1))
        if None not in (height, width) and new == (height, width):
            return unbatch(images, is_batch)  # TF skips the resize (and keeps the dtype)
        out = _BY_METHOD[method](images, size, align_corners=align_corners)
        return unbatch(out, is_batch)


def _aspect_size(images, size):
    hw = _arr.cast(_arr.shape(images)[1:3], dtypes.float32)
    target = _arr.cast(size, dtypes.float32)
    factor = _math.reduce_min(target / hw)
    return _arr.cast(_math.round(factor * hw), dtypes.int32)


resize = resize_images


# ---------------------------------------------------------------------------------------
# Crop and resize: bilinear or nearest samples of boxes, differentiable in the image.


def _crop_infer(inputs, attrs):
    x, boxes = dims(inputs[0]), dims(inputs[1])
    size = _arr._const_value(inputs[3])
    oh, ow = (None, None) if size is None else (int(s) for s in np.reshape(size, -1)[:2])
    n = None if boxes is None else boxes[0]
    return [((n, oh, ow, None if x is None else x[3]), dtypes.float32)]


def _crop_coords(boxes, image_shape, crop_size):
    """Per box, the sampled source rows [n, ch] and columns [n, cw], as TF computes them."""
    _, h, w, _ = image_shape
    ch, cw = crop_size
    boxes = np.asarray(boxes, np.float32)
    y1, x1, y2, x2 = (boxes[:, i : i + 1] for i in range(4))

    def coords(a, b, n_in, n_out):
        k = np.arange(n_out, dtype=np.float32)[None]
        if n_out > 1:
            return a * np.float32(n_in - 1) + k * (
                (b - a) * np.float32(n_in - 1) / np.float32(n_out - 1)
            )
        return np.broadcast_to(np.float32(0.5) * (a + b) * np.float32(n_in - 1), (len(a), n_out))

    return coords(y1, y2, h, ch), coords(x1, x2, w, cw)


def _axis_weights(src, n_in, method):
    """Dense [n, out, in] weights sampling ``src`` and the mask of in-range samples."""
    valid = (src >= 0) & (src <= n_in - 1)
    n, n_out = src.shape
    w = np.zeros((n, n_out, n_in), np.float64)
    b, o = np.meshgrid(np.arange(n), np.arange(n_out), indexing="ij")
    if method == "bilinear":
        top = np.floor(src)
        lerp = (src - top).astype(np.float64)
        lo = np.clip(top, 0, n_in - 1).astype(np.int64)
        hi = np.clip(np.ceil(src), 0, n_in - 1).astype(np.int64)
        np.add.at(w, (b, o, lo), np.where(valid, 1 - lerp, 0))
        np.add.at(w, (b, o, hi), np.where(valid, lerp, 0))
    else:
        idx = np.floor(src)
        idx = np.clip(idx + (src - idx >= 0.5), 0, n_in - 1).astype(np.int64)  # roundf
        np.add.at(w, (b, o, idx), np.where(valid, 1.0, 0.0))
    return w, valid


def _per_box(x, wy, wx):
    """``out[n, y, x, c] = sum wy[n, y, h] wx[n, x, w] img[n, h, w, c]`` (batched
    matmuls)."""
    n, h, w, c = x.shape
    rows = np.matmul(wy, x.reshape(n, h, w * c)).reshape(n, wy.shape[1], w, c)
    return np.matmul(wx[:, None], rows)


@register_op("CropAndResize", infer=_crop_infer)
def _crop_and_resize(image, boxes, box_ind, crop_size, method="bilinear", extrapolation_value=0.0):
    ch, cw = _check_size(crop_size, "crop_size")
    box_ind = np.asarray(box_ind).reshape(-1)
    if np.shape(boxes) != (len(box_ind), 4):
        raise errors.InvalidArgumentError(
            None,
            None,
            f"boxes must be [num_boxes, 4] with one box_ind each, got boxes "
            f"{list(np.shape(boxes))} and box_ind {list(np.shape(box_ind))}",
        )
    if len(box_ind) and (box_ind.min() < 0 or box_ind.max() >= np.shape(image)[0]):
        raise errors.OutOfRangeError(
            None, None, f"box_ind has values outside [0, {np.shape(image)[0]}): {box_ind.tolist()}"
        )
    ys, xs = _crop_coords(boxes, np.shape(image), (ch, cw))
    wy, vy = _axis_weights(ys, np.shape(image)[1], method)
    wx, vx = _axis_weights(xs, np.shape(image)[2], method)
    x = np.asarray(image, np.float64)[box_ind]
    out = _per_box(x, wy, wx)
    inside = (vy[:, :, None] & vx[:, None, :])[..., None]
    return np.where(inside, out, extrapolation_value).astype(np.float32)


@register_op("CropAndResizeGradImage", infer=lambda i, a: [(dims(i[3]), i[3].dtype)])
def _crop_and_resize_grad_image(grads, boxes, box_ind, image, method="bilinear"):
    box_ind = np.asarray(box_ind).reshape(-1)
    ys, xs = _crop_coords(boxes, np.shape(image), np.shape(grads)[1:3])
    wy, _ = _axis_weights(ys, np.shape(image)[1], method)
    wx, _ = _axis_weights(xs, np.shape(image)[2], method)
    per_box = _per_box(np.asarray(grads, np.float64), wy.transpose(0, 2, 1), wx.transpose(0, 2, 1))
    out = np.zeros(np.shape(image), np.float64)
    np.add.at(out, box_ind, per_box)
    return out.astype(np.asarray(image).dtype)


@register_op("CropAndResizeGradBoxes", infer=lambda i, a: [(dims(i[2]), dtypes.float32)])
def _crop_and_resize_grad_boxes(grads, image, boxes, box_ind):
    """TF's box gradient: the bilinear sampling's slope at each sample (one-sided where a
    sample falls on a pixel), for either method; samples outside the image add nothing."""
    box_ind = np.asarray(box_ind).reshape(-1)
    _, h, w, _ = np.shape(image)
    grads = np.asarray(grads, np.float64)
    ch, cw = grads.shape[1:3]
    ys, xs = _crop_coords(boxes, np.shape(image), (ch, cw))
    img = np.asarray(image, np.float64)[box_ind]
    n = np.arange(len(box_ind))[:, None, None]

    def split(src, size):
        low = np.floor(src)
        return (
            np.clip(low, 0, size - 1).astype(np.int64),
            np.clip(np.ceil(src), 0, size - 1).astype(np.int64),
            (src - low).astype(np.float64),
            (src >= 0) & (src <= size - 1),
        )

    top, bottom, yl, vy = split(ys, h)
    left, right, xl, vx = split(xs, w)
    tl, tr = img[n, top[:, :, None], left[:, None]], img[n, top[:, :, None], right[:, None]]
    bl, br = img[n, bottom[:, :, None], left[:, None]], img[n, bottom[:, :, None], right[:, None]]
    yl, xl = yl[:, :, None, None], xl[:, None, :, None]
    inside = (vy[:, :, None] & vx[:, None, :])[..., None]
    grad_y = np.where(inside, ((1 - xl) * (bl - tl) + xl * (br - tr)) * grads, 0).sum((2, 3))
    grad_x = np.where(inside, ((1 - yl) * (tr - tl) + yl * (br - bl)) * grads, 0).sum((1, 3))

    def ends(g, size, n_out):
        if n_out > 1:
            k = np.arange(n_out) * ((size - 1) / (n_out - 1))
            return (g * (size - 1 - k)).sum(1), (g * k).sum(1)
        half = g.sum(1) * 0.5 * (size - 1)
        return half, half

    dy1, dy2 = ends(grad_y, h, ch)
    dx1, dx2 = ends(grad_x, w, cw)
    return np.stack([dy1, dx1, dy2, dx2], axis=1).astype(np.float32)


not_differentiable("CropAndResizeGradBoxes")


@register_gradient("CropAndResize")
def _crop_and_resize_grad(op, grad):
    """Gradients in the image and (as TF: from bilinear sampling) in the boxes."""
    image, boxes, box_ind, _ = op.inputs
    return [
        apply_op("CropAndResizeGradImage", grad, boxes, box_ind, image, method=op.attrs["method"]),
        apply_op("CropAndResizeGradBoxes", grad, image, boxes, box_ind),
        None,
        None,
    ]


@register_gradient("CropAndResizeGradImage")
def _crop_and_resize_grad_image_grad(op, grad):
    grads, boxes, box_ind, _ = op.inputs
    out = apply_op(
        "CropAndResize", grad, boxes, box_ind, _arr.shape(grads)[1:3], method=op.attrs["method"]
    )
    return [_arr.cast(out, grads.dtype), None, None, None]


def crop_and_resize(
    image,
    boxes,
    box_ind=None,
    crop_size=None,
    method="bilinear",
    extrapolation_value=0,
    name=None,
    box_indices=None,
):
    """Crops normalized ``boxes`` [y1, x1, y2, x2] out of ``image[box_ind]`` and resizes
    each crop to ``crop_size`` (bilinear or nearest); float32 [num_boxes, h, w, c]."""
    if method not in ("bilinear", "nearest"):
        raise ValueError(f"method must be 'bilinear' or 'nearest', got {method!r}")
    box_ind = box_indices if box_ind is None else box_ind
    return apply_op(
        "CropAndResize",
        image,
        _arr.convert_to_tensor(boxes, dtypes.float32),
        _arr.convert_to_tensor(box_ind, dtypes.int32),
        _size_tensor(crop_size),
        method=method,
        extrapolation_value=float(extrapolation_value),
        name=name,
    )
