"""Image colour: dtype conversion with TF's scaling rules, colour-space conversions,
brightness/contrast/gamma/hue/saturation adjustments (and their random versions),
per-image standardization. All composed from math ops, so differentiable where the
math is (TF's RGB<->HSV formulas are used, piecewise in the channel maxima)."""

from __future__ import annotations

import numpy as np

from miniflow import dtypes
from miniflow.ops import array_ops as _arr, math_ops as _math, random_ops as _random
from miniflow.ops.control_flow_ops import name_scope
from miniflow.ops.shape_rules import dims


def _bound(value, dtype, toward):
    """``value`` in ``dtype``, stepped toward ``toward`` if rounding overshot it (the
    largest float32 not above int32's max is 2147483520)."""
    v = np.asarray(value).astype(dtype.np)
    while (float(v) > value) if toward < value else (float(v) < value):  # exact compare
        v = np.nextafter(v, np.asarray(toward, dtype.np))
    return v


def _saturate_cast(x, dtype):
    """Clamps ``x`` to ``dtype``'s range, then casts (TF's `saturate_cast`)."""
    lo, hi = dtype.min, dtype.max
    if x.dtype.min < lo:
        x = _math.maximum(
            x, _bound(lo, x.dtype, 0) if x.dtype.is_floating else _arr.cast(lo, x.dtype)
        )
    if x.dtype.max > hi:
        x = _math.minimum(
            x, _bound(hi, x.dtype, 0) if x.dtype.is_floating else _arr.cast(hi, x.dtype)
        )
    return _arr.cast(x, dtype)


def convert_image_dtype(image, dtype, saturate=False, name=None):
    """Converts ``image`` to ``dtype``, rescaling: floats are in [0, 1], integers in
    [0, dtype.max] (TF's rules, including its integer rounding)."""
    image = _arr.convert_to_tensor(image, name="image")
    dtype = dtypes.as_dtype(dtype)
    if not (dtype.is_floating or dtype.is_integer):
        raise AttributeError("dtype must be either floating point or integer")
    if not (image.dtype.is_floating or image.dtype.is_integer):
        raise AttributeError("image dtype must be either floating point or integer")
    if dtype == image.dtype:
        return _arr.identity(image, name=name)
    with name_scope(name, "convert_image"):
        src = image.dtype
        if src.is_integer and dtype.is_integer:
            if src.max > dtype.max:
                scaled = _math.floordiv(image, _arr.cast((src.max + 1) // (dtype.max + 1), src))
                return _saturate_cast(scaled, dtype) if saturate else _arr.cast(scaled, dtype)
            cast = _saturate_cast(image, dtype) if saturate else _arr.cast(image, dtype)
            return cast * _arr.cast((dtype.max + 1) // (src.max + 1), dtype)
        if src.is_floating and dtype.is_floating:
            return _arr.cast(image, dtype)
        if src.is_integer:
            return _arr.cast(image, dtype) * _arr.cast(1.0 / src.max, dtype)
        scaled = image * _arr.cast(dtype.max + 0.5, src)
        return _saturate_cast(scaled, dtype) if saturate else _arr.cast(scaled, dtype)


def _float_image(image):
    """(float image, original dtype): float16/float32 stay, others become float32."""
    image = _arr.convert_to_tensor(image, name="image")
    if image.dtype in (dtypes.float16, dtypes.float32):
        return image, image.dtype
    return convert_image_dtype(image, dtypes.float32), image.dtype


def _channels(image, n=3, what="image"):
    d = dims(image)
    if d is not None and (not d or (d[-1] is not None and d[-1] != n)):
        raise ValueError(
            f"'{what}' must have {n} channels in its last dimension, got shape {list(d)}"
        )


def _split3(x):
    return x[..., 0], x[..., 1], x[..., 2]


# ---------------------------------------------------------------------------------------
# Colour spaces.


def rgb_to_grayscale(images, name=None):
    """Luma (0.2989 R + 0.587 G + 0.114 B) of RGB ``images``; the last dim becomes 1."""
    with name_scope(name, "rgb_to_grayscale"):
        images = _arr.convert_to_tensor(images, name="images")
        _channels(images)
        flt = convert_image_dtype(images, dtypes.float32)
        gray = _math.reduce_sum(
            flt * np.array([0.2989, 0.5870, 0.1140], np.float32), axis=-1, keepdims=True
        )
        return convert_image_dtype(gray, images.dtype)


def grayscale_to_rgb(images, name=None):
    """Repeats the single channel of ``images`` three times."""
    with name_scope(name, "grayscale_to_rgb"):
        images = _arr.convert_to_tensor(images, name="images")
        _channels(images, 1)
        return _arr.concat([images, images, images], axis=-1)


def rgb_to_hsv(images, name=None):
    """RGB in [0, 1] to HSV in [0, 1] (float images; TF's formula)."""
    images = _arr.convert_to_tensor(images, name="images")
    _channels(images)
    if not images.dtype.is_floating:
        raise TypeError(
            f"rgb_to_hsv takes float images, got {images.dtype.name}; use "
            "tf.image.convert_image_dtype first"
        )
    with name_scope(name, "rgb_to_hsv"):
        r, g, b = _split3(images)
        v = _math.maximum(_math.maximum(r, g), b)
        rng = v - _math.minimum(_math.minimum(r, g), b)
        zero, one = _arr.zeros_like(v), _arr.ones_like(v)
        s = _arr.where(v > 0, rng / _arr.where(v > 0, v, one), zero)
        norm = 1.0 / (6.0 * _arr.where(rng > 0, rng, one))
        h = _arr.where(
            _math.equal(r, v),
            norm * (g - b),
            _arr.where(_math.equal(g, v), norm * (b - r) + 2.0 / 6.0, norm * (r - g) + 4.0 / 6.0),
        )
        h = _arr.where(rng > 0, h, zero)
        h = _arr.where(h < 0, h + 1.0, h)
        return _arr.stack([h, s, v], axis=-1)


def hsv_to_rgb(images, name=None):
    """HSV in [0, 1] to RGB (float images; TF's formula)."""
    images = _arr.convert_to_tensor(images, name="images")
    _channels(images)
    if not images.dtype.is_floating:
        raise TypeError(f"hsv_to_rgb takes float images, got {images.dtype.name}")
    with name_scope(name, "hsv_to_rgb"):
        h, s, v = _split3(images)
        dh = h * 6.0

        def clip01(t):
            return _math.minimum(_math.maximum(t, 0.0), 1.0)

        dr = clip01(_math.abs(dh - 3.0) - 1.0)
        dg = clip01(2.0 - _math.abs(dh - 2.0))
        db = clip01(2.0 - _math.abs(dh - 4.0))
        one_s = 1.0 - s
        return _arr.stack(
            [(one_s + s * dr) * v, (one_s + s * dg) * v, (one_s + s * db) * v], axis=-1
        )


def _linear_colour(matrix, scope):
    kernel = np.array(matrix, np.float64)

    def convert(images):
        images = _arr.convert_to_tensor(images, name="images")
        _channels(images)
        if not images.dtype.is_floating:
            raise TypeError(f"{scope} takes float images, got {images.dtype.name}")
        with name_scope(None, scope):
            k = _arr.constant(kernel.astype(images.dtype.np), name="kernel")
            flat = _arr.reshape(images, [-1, 3])
            out = _math.matmul(flat, k)
            return _arr.reshape(out, _arr.shape(images))

    convert.__name__ = scope
    convert.__doc__ = f"Converts 3-channel float images ({scope.replace('_', ' ')})."
    return convert


_YIQ = [
    [0.299, 0.59590059, 0.2115],
    [0.587, -0.27455667, -0.52273617],
    [0.114, -0.32134392, 0.31119955],
]
_YUV = [
    [0.299, -0.14714119, 0.61497538],
    [0.587, -0.28886916, -0.51496512],
    [0.114, 0.43601035, -0.10001026],
]
_YIQ_INV = [[1, 1, 1], [0.95598634, -0.27201283, -1.10674021], [0.6208248, -0.64720424, 1.70423049]]
_YUV_INV = [[1, 1, 1], [0, -0.394642334, 2.03206185], [1.13988303, -0.58062185, 0]]
rgb_to_yiq = _linear_colour(_YIQ, "rgb_to_yiq")
yiq_to_rgb = _linear_colour(_YIQ_INV, "yiq_to_rgb")
rgb_to_yuv = _linear_colour(_YUV, "rgb_to_yuv")
yuv_to_rgb = _linear_colour(_YUV_INV, "yuv_to_rgb")


# ---------------------------------------------------------------------------------------
# Adjustments.


def adjust_brightness(image, delta):
    """Adds ``delta`` to every pixel (in the [0, 1] float scale; saturated on the way
    back to an integer dtype)."""
    with name_scope(None, "adjust_brightness"):
        flt, orig = _float_image(image)
        adjusted = flt + _arr.cast(delta, flt.dtype)
        return convert_image_dtype(adjusted, orig, saturate=True)


def adjust_contrast(images, contrast_factor):
    """``(x - mean) * contrast_factor + mean``, the mean taken per image and channel."""
    with name_scope(None, "adjust_contrast"):
        flt, orig = _float_image(images)
        d = dims(flt)
        if d is None or len(d) < 3:
            raise ValueError(f"'images' must be at least 3-D, got shape {d}")
        mean = _math.reduce_mean(flt, axis=[-3, -2], keepdims=True)
        factor = _arr.cast(contrast_factor, flt.dtype)
        return convert_image_dtype((flt - mean) * factor + mean, orig, saturate=True)


def adjust_gamma(image, gamma=1, gain=1):
    """``gain * image ** gamma`` in the [0, 1] float scale."""
    with name_scope(None, "adjust_gamma"):
        flt, orig = _float_image(image)
        g = _arr.get_static_value(_arr.convert_to_tensor(gamma))
        if g is not None and np.any(np.asarray(g) < 0):
            raise ValueError("Gamma should be a non-negative real number.")
        adjusted = _arr.cast(gain, flt.dtype) * _math.pow(flt, _arr.cast(gamma, flt.dtype))
        return convert_image_dtype(adjusted, orig, saturate=True)


def _via_hsv(image, change):
    flt, orig = _float_image(image)
    _channels(flt)
    h, s, v = _split3(rgb_to_hsv(flt))
    return convert_image_dtype(hsv_to_rgb(_arr.stack(change(h, s, v), axis=-1)), orig)


def adjust_hue(image, delta, name=None):
    """Rotates the hue of RGB ``image`` by ``delta`` (a fraction of a turn, in [-1, 1])."""
    with name_scope(name, "adjust_hue"):

        def shift(h, s, v):
            h = h + _arr.cast(delta, h.dtype)
            return [h - _math.floor(h), s, v]

        return _via_hsv(image, shift)


def adjust_saturation(image, saturation_factor, name=None):
    """Multiplies the saturation of RGB ``image`` by ``saturation_factor`` (clipped to
    [0, 1])."""
    with name_scope(name, "adjust_saturation"):

        def scale(h, s, v):
            s = s * _arr.cast(saturation_factor, s.dtype)
            return [h, _math.minimum(_math.maximum(s, 0.0), 1.0), v]

        return _via_hsv(image, scale)


def _uniform(lo, hi, seed):
    return _random.random_uniform([], lo, hi, seed=seed)


def random_brightness(image, max_delta, seed=None):
    """`adjust_brightness` by a delta drawn uniformly from [-max_delta, max_delta)."""
    if max_delta < 0:
        raise ValueError("max_delta must be non-negative.")
    return adjust_brightness(image, _uniform(-max_delta, max_delta, seed))


def random_contrast(image, lower, upper, seed=None):
    """`adjust_contrast` by a factor drawn uniformly from [lower, upper)."""
    if upper <= lower:
        raise ValueError("upper must be > lower.")
    if lower < 0:
        raise ValueError("lower must be non-negative.")
    return adjust_contrast(image, _uniform(lower, upper, seed))


def random_hue(image, max_delta, seed=None):
    """`adjust_hue` by a delta drawn uniformly from [-max_delta, max_delta]."""
    if max_delta > 0.5:
        raise ValueError("max_delta must be <= 0.5.")
    if max_delta < 0:
        raise ValueError("max_delta must be non-negative.")
    return adjust_hue(image, _uniform(-max_delta, max_delta, seed))


def random_saturation(image, lower, upper, seed=None):
    """`adjust_saturation` by a factor drawn uniformly from [lower, upper)."""
    if upper <= lower:
        raise ValueError("upper must be > lower.")
    if lower < 0:
        raise ValueError("lower must be non-negative.")
    return adjust_saturation(image, _uniform(lower, upper, seed))


def per_image_standardization(image):
    """``(x - mean) / max(stddev, 1/sqrt(num_pixels))`` per image (float32 out)."""
    with name_scope(None, "per_image_standardization"):
        image = _arr.convert_to_tensor(image, name="image")
        d = dims(image)
        if d is not None and len(d) < 3:
            raise ValueError(f"'image' (shape {list(d)}) must be at least three-dimensional.")
        image = _arr.cast(image, dtypes.float32)
        axes = [-1, -2, -3]
        mean = _math.reduce_mean(image, axis=axes, keepdims=True)
        centered = image - mean
        stddev = _math.sqrt(_math.reduce_mean(_math.square(centered), axis=axes, keepdims=True))
        pixels = _arr.cast(_math.reduce_prod(_arr.shape(image)[-3:]), dtypes.float32)
        return centered / _math.maximum(stddev, _math.rsqrt(pixels))
