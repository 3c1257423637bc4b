"""Gradient rows for the image ops with their own gradient (`miniflow.ops.image_*_ops`):
the resize ops, `CropAndResize` and `ExtractImagePatches`, plus their gradient ops
(rows that build the gradient op directly, so its own gradient rule is checked).

The resize and crop ops output float32 whatever the input (as TF's do), so their rows
run in float32 with float32 tolerances; they are linear in the image, so the finite
differences are exact up to rounding. `test_op_gradients.py` runs every row
through `miniflow.testing.check_grads`.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import miniflow as tf
from miniflow.extend import apply_op
from miniflow.ops.conv_ops import _geometry
from tests.ops.op_specs import Case, OpSpec

F32_TOL = dict(eps=1e-2, rtol=2e-3, atol=2e-3)  # linear ops: the step size costs nothing


@st.composite
def resize_case(draw, area=False):
    b, c = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    h, w = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    size = (draw(st.integers(1, 5)), draw(st.integers(1, 5)))
    align = draw(st.booleans())
    half = False if align or area else draw(st.booleans())
    return Case(((b, h, w, c),), dict(size=size, align_corners=align, half_pixel_centers=half))


@st.composite
def resize_grad_case(draw):
    case = draw(resize_case())
    b, h, w, c = case.shapes[0]
    oh, ow = case.kwargs["size"]
    kwargs = dict(case.kwargs, original=np.ones((b, h, w, c), np.float32))
    del kwargs["size"]
    return Case(((b, oh, ow, c),), kwargs)


def _resize(fn):
    return lambda x, size, align_corners, half_pixel_centers: fn(
        x, size, align_corners=align_corners, half_pixel_centers=half_pixel_centers
    )


def _resize_grad(op_type):
    return lambda g, original, align_corners, half_pixel_centers: apply_op(
        op_type,
        g,
        tf.constant(original),
        align_corners=align_corners,
        half_pixel_centers=half_pixel_centers,
    )


@st.composite
def crop_case(draw):
    b, h, w, c = (
        draw(st.integers(1, 2)),
        draw(st.integers(1, 4)),
        draw(st.integers(1, 4)),
        draw(st.integers(1, 2)),
    )
    n = draw(st.integers(1, 3))
    coords = st.sampled_from(np.linspace(-0.25, 1.25, 13).tolist())
    boxes = np.array([[draw(coords) for _ in range(4)] for _ in range(n)], np.float32)
    box_ind = np.array([draw(st.integers(0, b - 1)) for _ in range(n)], np.int32)
    crop = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    return Case(
        ((b, h, w, c),),
        dict(
            boxes=boxes,
            box_ind=box_ind,
            crop_size=crop,
            method=draw(st.sampled_from(["bilinear", "nearest"])),
        ),
    )


def _crop_grad(g, boxes, box_ind, original, method):
    return apply_op(
        "CropAndResizeGradImage",
        g,
        tf.constant(boxes),
        tf.constant(box_ind),
        tf.constant(original),
        method=method,
    )


@st.composite
def crop_grad_case(draw):
    case = draw(crop_case())
    b, h, w, c = case.shapes[0]
    kw = case.kwargs
    shape = (len(kw["boxes"]),) + tuple(kw["crop_size"]) + (c,)
    return Case(
        (shape,),
        dict(
            boxes=kw["boxes"],
            box_ind=kw["box_ind"],
            method=kw["method"],
            original=np.ones((b, h, w, c), np.float32),
        ),
    )


@st.composite
def patches_case(draw):
    shape = (
        draw(st.integers(1, 2)),
        draw(st.integers(1, 5)),
        draw(st.integers(1, 5)),
        draw(st.integers(1, 2)),
    )
    k = [1, draw(st.integers(1, 3)), draw(st.integers(1, 3)), 1]
    s = [1, draw(st.integers(1, 2)), draw(st.integers(1, 2)), 1]
    r = [1, draw(st.integers(1, 2)), draw(st.integers(1, 2)), 1]
    padding = draw(st.sampled_from(["SAME", "VALID"]))
    if padding == "VALID" and any((k[i] - 1) * r[i] + 1 > shape[i] for i in (1, 2)):
        padding = "SAME"
    return Case((shape,), dict(ksizes=k, strides=s, rates=r, padding=padding))


def _patches(x, ksizes, strides, rates, padding):
    return tf.image.extract_image_patches(x, ksizes, strides, rates, padding)


@st.composite
def patches_grad_case(draw):
    case = draw(patches_case())
    shape, kw = case.shapes[0], case.kwargs
    oh, ow, _, _ = _geometry(
        shape,
        kw["ksizes"][1],
        kw["ksizes"][2],
        tuple(kw["strides"][1:3]),
        tuple(kw["rates"][1:3]),
        kw["padding"],
    )
    out = (shape[0], oh, ow, kw["ksizes"][1] * kw["ksizes"][2] * shape[3])
    return Case((out,), dict(kw, original=np.zeros(shape)))


def _patches_grad(g, original, ksizes, strides, rates, padding):
    return apply_op(
        "ExtractImagePatchesGrad",
        g,
        tf.constant(original),
        ksizes=tuple(ksizes[1:3]),
        strides=tuple(strides[1:3]),
        rates=tuple(rates[1:3]),
        padding=padding,
    )


SPECS = [
    OpSpec(
        "ResizeBilinear",
        _resize(tf.image.resize_bilinear),
        resize_case(),
        dtype=np.float32,
        tol=F32_TOL,
    ),
    OpSpec(
        "ResizeNearestNeighbor",
        _resize(tf.image.resize_nearest_neighbor),
        resize_case(),
        dtype=np.float32,
        tol=F32_TOL,
    ),
    OpSpec(
        "ResizeBicubic",
        _resize(tf.image.resize_bicubic),
        resize_case(),
        dtype=np.float32,
        tol=F32_TOL,
    ),
    OpSpec(
        "ResizeBilinearGrad",
        _resize_grad("ResizeBilinearGrad"),
        resize_grad_case(),
        dtype=np.float32,
        tol=F32_TOL,
    ),
    OpSpec(
        "ResizeNearestNeighborGrad",
        _resize_grad("ResizeNearestNeighborGrad"),
        resize_grad_case(),
        dtype=np.float32,
        tol=F32_TOL,
    ),
    OpSpec(
        "ResizeBicubicGrad",
        _resize_grad("ResizeBicubicGrad"),
        resize_grad_case(),
        dtype=np.float32,
        tol=F32_TOL,
    ),
    OpSpec(
        "CropAndResize",
        lambda x, boxes, box_ind, crop_size, method: tf.image.crop_and_resize(
            x, boxes, box_ind, crop_size, method=method
        ),
        crop_case(),
        dtype=np.float32,
        tol=F32_TOL,
    ),
    OpSpec("CropAndResizeGradImage", _crop_grad, crop_grad_case(), dtype=np.float32, tol=F32_TOL),
    OpSpec("ExtractImagePatches", _patches, patches_case()),
    OpSpec("ExtractImagePatchesGrad", _patches_grad, patches_grad_case()),
]

COVERED_OP_TYPES = {s.op_type for s in SPECS}
