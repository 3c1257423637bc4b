"""Image geometry (`tf.image` flips, transposes, rotations, crops, pads) composed from
array ops: slicing with negative strides, `Transpose`, `Pad`, `StridedSlice`, so every
function is differentiable through those ops' gradients. Images are 3-D
``[height, width, channels]`` or 4-D ``[batch, height, width, channels]``."""

from __future__ import annotations

import numpy as np

from miniflow import dtypes
from miniflow.core.dispatch import current_frontend
from miniflow.ops import (
    array_ops as _arr,
    functional_ops as _functional,
    math_ops as _math,
    random_ops as _random,
)
from miniflow.ops.control_flow_ops import name_scope
from miniflow.ops.image_resize_ops import ResizeMethod, resize_images
from miniflow.ops.shape_rules import dims


def image_rank(image, allow=(3, 4), what="image"):
    """The static rank of ``image``; ValueError unless it is one of ``allow``."""
    d = dims(image)
    if d is None:
        raise ValueError(f"'{what}' contains no shape.")
    if len(d) < 3:
        raise ValueError(f"'{what}' (shape {tuple(d)}) must be at least three-dimensional.")
    if len(d) not in allow:
        want = " or ".join(str(a) for a in allow)
        raise ValueError(f"'{what}' (shape {tuple(d)}) must have either {want} dimensions.")
    return len(d)


def _hwc(image):
    """(height, width, depth) axes of a 3-D or 4-D image."""
    return (0, 1, 2) if image_rank(image) == 3 else (1, 2, 3)


def _flip(image, axis):
    key = [slice(None)] * image_rank(image)
    key[axis] = slice(None, None, -1)
    return image[tuple(key)]


def flip_left_right(image):
    """Mirrors ``image`` horizontally (reverses the width axis)."""
    with name_scope(None, "flip_left_right"):
        image = _arr.convert_to_tensor(image, name="image")
        return _flip(image, _hwc(image)[1])


def flip_up_down(image):
    """Mirrors ``image`` vertically (reverses the height axis)."""
    with name_scope(None, "flip_up_down"):
        image = _arr.convert_to_tensor(image, name="image")
        return _flip(image, _hwc(image)[0])


def _random_flip(image, axis_of, seed, scope):
    with name_scope(None, scope):
        image = _arr.convert_to_tensor(image, name="image")
        rank = image_rank(image)
        n = [] if rank == 3 else _arr.shape(image)[:1]
        u = _random.random_uniform(n, 0, 1.0, seed=seed)
        flipped = _flip(image, axis_of(image))
        return _arr.where(_math.less(u, 0.5), flipped, image)  # per image for a batch


def random_flip_left_right(image, seed=None):
    """Flips ``image`` (each image of a batch) horizontally with probability 1/2."""
    return _random_flip(image, lambda im: _hwc(im)[1], seed, "random_flip_left_right")


def random_flip_up_down(image, seed=None):
    """Flips ``image`` (each image of a batch) vertically with probability 1/2."""
    return _random_flip(image, lambda im: _hwc(im)[0], seed, "random_flip_up_down")


def transpose_image(image, name=None):
    """Swaps the height and width axes of ``image``."""
    with name_scope(name, "transpose"):
        image = _arr.convert_to_tensor(image, name="image")
        perm = [1, 0, 2] if image_rank(image) == 3 else [0, 2, 1, 3]
        return _arr.transpose(image, perm)


transpose = transpose_image


def _rot90_static(image, k):
    h, w, _ = _hwc(image)
    if k == 1:
        return transpose_image(_flip(image, w))
    if k == 2:
        return _flip(_flip(image, h), w)
    if k == 3:
        return _flip(transpose_image(image), w)
    return image


def rot90(image, k=1, name=None):
    """Rotates ``image`` counter-clockwise by ``k`` quarter turns."""
    with name_scope(name, "rot90"):
        image = _arr.convert_to_tensor(image, name="image")
        image_rank(image)
        k = _arr.convert_to_tensor(k, dtypes.int32, name="k")
        if dims(k) is not None and len(dims(k)) != 0:
            raise ValueError(f"Shape {tuple(dims(k))} must have rank 0 (rot90's k)")
        value = _arr.get_static_value(k)
        if value is not None:
            return _rot90_static(image, int(value) % 4)
        k = _math.floormod(k, 4)

        def turns(n):
            return lambda: _rot90_static(image, n)

        return _functional.cond(
            _math.equal(k, 0),
            turns(0),
            lambda: _functional.cond(
                _math.equal(k, 1),
                turns(1),
                lambda: _functional.cond(_math.equal(k, 2), turns(2), turns(3)),
            ),
        )


# ---------------------------------------------------------------------------------------
# Crops and pads.


def _static_int(v, what):
    if current_frontend().is_tensor(v):
        value = _arr.get_static_value(v)
        if value is None:
            raise NotImplementedError(
                f"{what} must be known when the graph is built (a "
                "Python int or a constant) in miniflow"
            )
        v = value
    return int(v)


def _int(v):
    """``v`` as a Python int when it is known now, else as an int32 scalar tensor."""
    if current_frontend().is_tensor(v):
        value = _arr.get_static_value(v)
        return _arr.cast(v, dtypes.int32) if value is None else int(value)
    return int(v)


def _known(*values):
    return all(isinstance(v, int) for v in values)


def _dim(image, axis):
    """A static dimension as an int, an unknown one as a runtime scalar."""
    d = dims(image)[axis]
    return d if d is not None else _arr.shape(image)[axis]


def _hw(image):
    hx, wx, _ = _hwc(image)
    return _dim(image, hx), _dim(image, wx)


def _refine(t, image, height, width):
    """Sets the static height/width that a runtime computation lost (graph mode)."""
    if not current_frontend().eager:
        shape = list(dims(t) or dims(image))
        hx, wx, _ = _hwc(image)
        shape[hx] = height if isinstance(height, int) else None
        shape[wx] = width if isinstance(width, int) else None
        t.set_shape(shape)
    return t


def _check_nonnegative(**values):
    for what, v in values.items():
        if isinstance(v, int) and v < 0:
            raise ValueError(f"{what} must be >= 0.")


def _check_positive(target_height, target_width):
    if isinstance(target_width, int) and target_width <= 0:
        raise ValueError("target_width must be > 0.")
    if isinstance(target_height, int) and target_height <= 0:
        raise ValueError("target_height must be > 0.")


def crop_to_bounding_box(image, offset_height, offset_width, target_height, target_width):
    """The ``target_height`` x ``target_width`` window of ``image`` whose top-left corner
    is at (``offset_height``, ``offset_width``); any of them may be a tensor."""
    with name_scope(None, "crop_to_bounding_box"):
        image = _arr.convert_to_tensor(image, name="image")
        rank = image_rank(image)
        oh, ow, th, tw = (
            _int(v) for v in (offset_height, offset_width, target_height, target_width)
        )
        _check_nonnegative(offset_height=oh, offset_width=ow)
        _check_positive(th, tw)
        h, w = _hw(image)
        if _known(w, ow, tw) and w < ow + tw:
            raise ValueError("width must be >= target + offset.")
        if _known(h, oh, th) and h < oh + th:
            raise ValueError("height must be >= target + offset.")
        hx, wx, _ = _hwc(image)
        begin, size = [0] * rank, [-1] * rank
        begin[hx], begin[wx], size[hx], size[wx] = oh, ow, th, tw
        return _refine(_arr.slice(image, begin, size), image, th, tw)


def _zeros_like_along(image, axis, n):
    shape = [_dim(image, i) for i in range(len(dims(image)))]
    shape[axis] = n
    return _arr.zeros(
        _arr.stack([_arr.cast(d, dtypes.int32) if not isinstance(d, int) else d for d in shape]),
        dtype=image.dtype,
    )


def pad_to_bounding_box(image, offset_height, offset_width, target_height, target_width):
    """``image`` padded with zeros to ``target_height`` x ``target_width``, with
    ``offset_height`` rows above and ``offset_width`` columns to the left; any of them
    may be a tensor."""
    with name_scope(None, "pad_to_bounding_box"):
        image = _arr.convert_to_tensor(image, name="image")
        rank = image_rank(image)
        oh, ow, th, tw = (
            _int(v) for v in (offset_height, offset_width, target_height, target_width)
        )
        h, w = _hw(image)
        after_h, after_w = th - oh - h, tw - ow - w
        _check_nonnegative(offset_height=oh, offset_width=ow)
        if isinstance(after_w, int) and after_w < 0:
            raise ValueError("width must be <= target - offset")
        if isinstance(after_h, int) and after_h < 0:
            raise ValueError("height must be <= target - offset")
        if _known(oh, ow, after_h, after_w):
            pads = [[oh, after_h], [ow, after_w], [0, 0]]
            return _arr.pad(image, [[0, 0]] + pads if rank == 4 else pads)
        hx, wx, _ = _hwc(image)
        out = _arr.concat(
            [_zeros_like_along(image, hx, oh), image, _zeros_like_along(image, hx, after_h)],
            axis=hx,
        )
        out = _arr.concat(
            [_zeros_like_along(out, wx, ow), out, _zeros_like_along(out, wx, after_w)], axis=wx
        )
        return _refine(out, image, th, tw)


def central_crop(image, central_fraction):
    """The central ``central_fraction`` (in (0, 1]) of ``image`` along height and width."""
    with name_scope(None, "central_crop"):
        image = _arr.convert_to_tensor(image, name="image")
        fraction = float(central_fraction)
        if fraction <= 0.0 or fraction > 1.0:
            raise ValueError("central_fraction must be within (0, 1]")
        if fraction == 1.0:
            return image
        image_rank(image)
        h, w = _hw(image)
        if not _known(h, w):
            raise NotImplementedError(
                "central_crop needs the image's height and width when "
                "the graph is built in miniflow"
            )
        top = int((float(h) - float(h) * fraction) / 2)
        left = int((float(w) - float(w) * fraction) / 2)
        return crop_to_bounding_box(image, top, left, h - 2 * top, w - 2 * left)


def _max(a, b):
    return max(a, b) if _known(a, b) else _math.maximum(a, b)


def _min(a, b):
    return min(a, b) if _known(a, b) else _math.minimum(a, b)


def _half(a):
    return a // 2 if _known(a) else _math.floordiv(a, 2)


def resize_image_with_crop_or_pad(image, target_height, target_width):
    """Centrally crops or zero-pads ``image`` to ``target_height`` x ``target_width``."""
    with name_scope(None, "resize_image_with_crop_or_pad"):
        image = _arr.convert_to_tensor(image, name="image")
        image_rank(image)
        th, tw = _int(target_height), _int(target_width)
        _check_positive(th, tw)
        h, w = _hw(image)
        dh, dw = th - h, tw - w
        cropped = crop_to_bounding_box(
            image, _max(_half(-dh), 0), _max(_half(-dw), 0), _min(th, h), _min(tw, w)
        )
        out = pad_to_bounding_box(cropped, _max(_half(dh), 0), _max(_half(dw), 0), th, tw)
        return _refine(out, image, th, tw)


resize_with_crop_or_pad = resize_image_with_crop_or_pad


def resize_image_with_pad(
    image, target_height, target_width, method=ResizeMethod.BILINEAR, align_corners=False
):
    """Resizes ``image`` to fit in ``target_height`` x ``target_width`` keeping its aspect
    ratio, then zero-pads it (centred) to exactly that size."""
    with name_scope(None, "resize_image_with_pad"):
        image = _arr.convert_to_tensor(image, name="image")
        image_rank(image)
        th, tw = (
            _static_int(target_height, "target_height"),
            _static_int(target_width, "target_width"),
        )
        if th <= 0 or tw <= 0:
            raise ValueError(
                "target_width must be > 0." if tw <= 0 else "target_height must be > 0."
            )
        h, w = _hw(image)
        if not _known(h, w):
            raise NotImplementedError(
                "resize_image_with_pad needs the image's height and "
                "width when the graph is built in miniflow"
            )
        f32 = np.float32
        ratio = max(f32(w) / f32(tw), f32(h) / f32(th))
        rh, rw = f32(h) / ratio, f32(w) / ratio
        pad_h = max(0, int(np.floor((f32(th) - rh) / f32(2))))
        pad_w = max(0, int(np.floor((f32(tw) - rw) / f32(2))))
        resized = resize_images(
            image,
            [int(np.floor(rh)), int(np.floor(rw))],
            method=method,
            align_corners=align_corners,
        )
        return pad_to_bounding_box(resized, pad_h, pad_w, th, tw)


def random_crop(value, size, seed=None, name=None):
    """A uniformly placed crop of ``value`` with shape ``size`` (one offset per dim; the
    value's shape may be known only at run time)."""
    with name_scope(name, "random_crop"):
        value = _arr.convert_to_tensor(value, name="value")
        size = _arr.get_static_value(_arr.convert_to_tensor(size, dtypes.int32))
        if size is None:
            raise NotImplementedError(
                "random_crop: size must be known when the graph is "
                "built (a list of ints or a constant) in miniflow"
            )
        size = [int(s) for s in np.reshape(size, -1)]
        d = dims(value)
        if d is None or len(d) != len(size):
            raise ValueError(
                f"random_crop needs one size per dimension of the value, got "
                f"shape {d} and size {size}"
            )
        if any(n is not None and s > n for s, n in zip(size, d)):
            raise ValueError(f"Need value.shape >= size, got {list(d)} and {size}")
        if None in d:
            limit = _arr.cast(_arr.shape(value) - np.array(size, np.int32) + 1, dtypes.float32)
        else:
            limit = np.array([n - s + 1 for n, s in zip(d, size)], np.float32)
        u = _random.random_uniform([len(size)], 0, 1.0, seed=seed)
        offset = _arr.cast(_math.floor(u * limit), dtypes.int32)
        out = _arr.slice(value, [offset[i] for i in range(len(size))], size)
        if not current_frontend().eager:
            out.set_shape(size)
        return out
