"""Image filters and quality measures (`total_variation`, `image_gradients`,
`sobel_edges`, `psnr`, `ssim`), composed from slicing, padding, `Conv2D` and
reductions with TF's formulas, so they are differentiable."""

from __future__ import annotations

import numpy as np

from miniflow import dtypes
from miniflow.ops import array_ops as _arr, conv_ops as _conv, math_ops as _math
from miniflow.ops.control_flow_ops import name_scope
from miniflow.ops.image_color_ops import convert_image_dtype
from miniflow.ops.shape_rules import dims


def total_variation(images, name=None):
    """Sum of absolute differences between neighbouring pixels (per image for a batch)."""
    with name_scope(name, "total_variation"):
        images = _arr.convert_to_tensor(images, name="images")
        d = dims(images)
        if d is None or len(d) not in (3, 4):
            raise ValueError("'images' must be either 3 or 4-dimensional.")
        if len(d) == 3:
            dy = images[1:, :, :] - images[:-1, :, :]
            dx = images[:, 1:, :] - images[:, :-1, :]
            axis = None
        else:
            dy = images[:, 1:, :, :] - images[:, :-1, :, :]
            dx = images[:, :, 1:, :] - images[:, :, :-1, :]
            axis = [1, 2, 3]
        return _math.reduce_sum(_math.abs(dy), axis=axis) + _math.reduce_sum(
            _math.abs(dx), axis=axis
        )


def _rank4(image, what):
    d = dims(image)
    if d is None or len(d) != 4:
        raise ValueError(f"{what} expects a 4D tensor [batch_size, h, w, d], not {image.shape}.")


def image_gradients(image):
    """(dy, dx): forward differences along height and width, zero in the last row/column."""
    image = _arr.convert_to_tensor(image, name="image")
    _rank4(image, "image_gradients")
    dy = image[:, 1:, :, :] - image[:, :-1, :, :]
    dx = image[:, :, 1:, :] - image[:, :, :-1, :]
    return (
        _arr.pad(dy, [[0, 0], [0, 1], [0, 0], [0, 0]]),
        _arr.pad(dx, [[0, 0], [0, 0], [0, 1], [0, 0]]),
    )


_SOBEL = np.array(
    [[[-1, -2, -1], [0, 0, 0], [1, 2, 1]], [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]], np.float64
)


def sobel_edges(image):
    """Vertical and horizontal Sobel responses per channel (reflect-padded):
    [batch, h, w, depth, 2]."""
    image = _arr.convert_to_tensor(image, name="image")
    _rank4(image, "sobel_edges")
    padded = _arr.pad(image, [[0, 0], [1, 1], [1, 1], [0, 0]], mode="REFLECT")
    edges = []
    for kernel in _SOBEL:
        total = None
        for i in range(3):
            for j in range(3):
                if kernel[i, j]:
                    tap = padded[:, i : i - 2 or None, j : j - 2 or None, :] * _arr.cast(
                        kernel[i, j], image.dtype
                    )
                    total = tap if total is None else total + tap
        edges.append(total)
    return _arr.stack(edges, axis=-1)


def psnr(a, b, max_val, name=None):
    """Peak signal-to-noise ratio between images ``a`` and ``b`` (per image, in dB)."""
    with name_scope(name, "PSNR"):
        a = _arr.convert_to_tensor(a, name="a")
        b = _arr.convert_to_tensor(b, name="b")
        max_val = convert_image_dtype(_arr.cast(max_val, a.dtype), dtypes.float32)
        a, b = convert_image_dtype(a, dtypes.float32), convert_image_dtype(b, dtypes.float32)
        mse = _math.reduce_mean(_math.squared_difference(a, b), axis=[-3, -2, -1])
        return 20 * _math.log(max_val) / np.float32(np.log(10.0)) - np.float32(
            10 / np.log(10)
        ) * _math.log(mse)


def _gauss(size, sigma):
    coords = np.arange(size, dtype=np.float32) - np.float32(size - 1) / np.float32(2)
    g = np.square(coords) * (np.float32(-0.5) / np.square(np.float32(sigma)))
    g = (g[None, :] + g[:, None]).reshape(-1)
    g = np.exp(g - g.max())
    return (g / g.sum()).reshape(size, size).astype(np.float32)


def _ssim_per_channel(x, y, max_val, filter_size, filter_sigma, k1, k2):
    """(mean SSIM, mean contrast-structure) per image and channel."""
    d = dims(x)
    if d is None or len(d) < 3 or d[-1] is None:
        raise ValueError(f"ssim needs images of known rank (>= 3) and depth, got {x.shape}")
    for n in d[-3:-1]:
        if n is not None and n < filter_size:
            raise ValueError(
                f"ssim: image height and width ({list(d[-3:-1])}) must be at "
                f"least filter_size ({filter_size})"
            )
    depth = d[-1]
    kernel = (
        _gauss(filter_size, filter_sigma)[:, :, None, None]
        * np.eye(depth, dtype=np.float32)[None, None]
    )

    def reducer(t):
        shape = _arr.shape(t)
        flat = _arr.reshape(t, _arr.concat([[-1], shape[-3:]], 0))
        out = _conv.conv2d(flat, kernel, [1, 1, 1, 1], "VALID")
        return _arr.reshape(out, _arr.concat([shape[:-3], _arr.shape(out)[1:]], 0))

    c1 = (k1 * max_val) ** 2
    c2 = (k2 * max_val) ** 2
    mean0, mean1 = reducer(x), reducer(y)
    num0 = mean0 * mean1 * 2.0
    den0 = _math.square(mean0) + _math.square(mean1)
    luminance = (num0 + c1) / (den0 + c1)
    num1 = reducer(x * y) * 2.0
    den1 = reducer(_math.square(x) + _math.square(y))
    cs = (num1 - num0 + c2) / (den1 - den0 + c2)
    return (_math.reduce_mean(luminance * cs, axis=[-3, -2]), _math.reduce_mean(cs, axis=[-3, -2]))


def ssim(img1, img2, max_val, filter_size=11, filter_sigma=1.5, k1=0.01, k2=0.03):
    """Structural similarity of ``img1`` and ``img2`` (Gaussian window; mean over the
    image and its channels), one value per image."""
    with name_scope(None, "SSIM"):
        img1 = _arr.convert_to_tensor(img1, name="img1")
        img2 = _arr.convert_to_tensor(img2, name="img2")
        max_val = convert_image_dtype(_arr.cast(max_val, img1.dtype), dtypes.float32)
        img1 = convert_image_dtype(img1, dtypes.float32)
        img2 = convert_image_dtype(img2, dtypes.float32)
        value, _ = _ssim_per_channel(img1, img2, max_val, filter_size, filter_sigma, k1, k2)
        return _math.reduce_mean(value, axis=[-1])


_MSSSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)


def ssim_multiscale(
    img1,
    img2,
    max_val,
    power_factors=_MSSSIM_WEIGHTS,
    filter_size=11,
    filter_sigma=1.5,
    k1=0.01,
    k2=0.03,
):
    """Multi-scale SSIM: contrast-structure at each of ``len(power_factors)`` scales
    (halved by 2x2 average pooling, odd sizes padded symmetrically) and SSIM at the last,
    combined as a weighted geometric mean; one value per image."""
    with name_scope(None, "MS-SSIM"):
        img1 = _arr.convert_to_tensor(img1, name="img1")
        img2 = _arr.convert_to_tensor(img2, name="img2")
        max_val = convert_image_dtype(_arr.cast(max_val, img1.dtype), dtypes.float32)
        imgs = [
            convert_image_dtype(img1, dtypes.float32),
            convert_image_dtype(img2, dtypes.float32),
        ]
        d = dims(imgs[0])
        if d is None or len(d) < 3 or None in d[-3:]:
            raise NotImplementedError(
                "ssim_multiscale needs images whose height, width and "
                f"depth are known when the graph is built, got {d}"
            )
        head, (h, w, c) = list(d[:-3]), d[-3:]
        mcs = []
        for k in range(len(power_factors)):
            if k > 0:
                flat = [_arr.reshape(x, [-1, h, w, c]) for x in imgs]
                if h % 2 or w % 2:
                    pads = [[0, 0], [0, h % 2], [0, w % 2], [0, 0]]
                    flat = [_arr.pad(x, pads, mode="SYMMETRIC") for x in flat]
                h, w = (h + h % 2) // 2, (w + w % 2) // 2
                pooled = [_conv.avg_pool(x, [1, 2, 2, 1], [1, 2, 2, 1], "VALID") for x in flat]
                shape = [-1 if v is None else v for v in head] + [h, w, c]
                imgs = [_arr.reshape(x, shape) for x in pooled]
            ssim_per_channel, cs = _ssim_per_channel(
                *imgs, max_val, filter_size, filter_sigma, k1, k2
            )
            mcs.append(_math.relu(cs))
        mcs.pop()
        stacked = _arr.stack(mcs + [_math.relu(ssim_per_channel)], axis=-1)
        weights = np.array(power_factors, np.float32)
        return _math.reduce_mean(
            _math.reduce_prod(_math.pow(stacked, weights), axis=[-1]), axis=[-1]
        )
