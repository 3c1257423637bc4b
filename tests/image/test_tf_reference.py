"""`tf.image` against real TensorFlow: every case of `cases.py`, in graph and eager mode,
compared with the outputs TensorFlow 2.21 (`tf.compat.v1`, graph mode) produced for the
same inputs, stored in ``tf_reference.npz`` by `make_tf_reference.py`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import miniflow as tf
from tests.image.cases import BOX_GRAD_BOXES, BOX_GRAD_CASES, CASES, GRAD_CASES, IMG4, cotangent

REF = np.load(Path(__file__).with_name("tf_reference.npz"))
TOL = {"float16": 1e-3, "float32": 2e-5, "float64": 2e-5}
LOOSER = {"ssim": 1e-4, "psnr": 1e-4, "hue": 2e-5, "saturation": 2e-5}


def _run(fn, args, kwargs, eager):
    if eager:
        with tf.eager_mode():
            out = getattr(tf.image, fn)(
                *[tf.constant(a) if isinstance(a, np.ndarray) else a for a in args], **kwargs
            )
            outs = out if isinstance(out, tuple | list) else [out]
            return [np.asarray(o.numpy()) for o in outs], outs
    with tf.Graph().as_default():
        out = getattr(tf.image, fn)(
            *[tf.constant(a) if isinstance(a, np.ndarray) else a for a in args], **kwargs
        )
        outs = out if isinstance(out, tuple | list) else [out]
        with tf.Session() as sess:
            return [np.asarray(v) for v in sess.run(list(outs))], outs


def _compare(key, got, want):
    assert got.shape == want.shape, f"{key}: shape {got.shape}, TF {want.shape}"
    assert got.dtype == want.dtype, f"{key}: dtype {got.dtype}, TF {want.dtype}"
    if got.dtype.kind == "f":
        tol = next((t for k, t in LOOSER.items() if k in key), TOL[got.dtype.name])
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol, err_msg=key)
    else:
        np.testing.assert_array_equal(got, want, err_msg=key)


@pytest.mark.filterwarnings("ignore:invalid value encountered in cast")  # TF's overflow too
@pytest.mark.parametrize("eager", [False, True], ids=["graph", "eager"])
@pytest.mark.parametrize("key,fn,args,kwargs", CASES, ids=[c[0] for c in CASES])
def test_matches_tensorflow(key, fn, args, kwargs, eager):
    values, tensors = _run(fn, args, kwargs, eager)
    n = sum(1 for k in REF.files if k.startswith(key + "/"))
    assert len(values) == n, f"{key}: {len(values)} outputs, TF has {n}"
    for i, (value, tensor) in enumerate(zip(values, tensors)):
        _compare(f"{key}/{i}", value, REF[f"{key}/{i}"])
        if not eager:
            assert tensor.shape.is_compatible_with(value.shape), (
                f"{key}: static shape {tensor.shape}, value {value.shape}"
            )


@pytest.mark.parametrize("eager", [False, True], ids=["graph", "eager"])
@pytest.mark.parametrize("key,fn,args,kwargs", GRAD_CASES, ids=[c[0] for c in GRAD_CASES])
def test_gradient_matches_tensorflow(key, fn, args, kwargs, eager):
    """The gradient of sum(out * cotangent) in the first input, against tf.gradients.
    Where TF has no gradient (AdjustContrastv2), miniflow's composed one is checked against
    finite differences in test_image_ops.py instead."""
    if f"{key}/nograd" in REF.files:
        pytest.skip("TF has no gradient here (miniflow's is checked by finite differences)")

    def rest():
        return [tf.constant(a) if isinstance(a, np.ndarray) else a for a in args[1:]]

    if eager:
        with tf.eager_mode():
            x = tf.constant(args[0])
            with tf.GradientTape() as tape:
                tape.watch(x)
                out = getattr(tf.image, fn)(x, *rest(), **kwargs)
                loss = tf.reduce_sum(out * cotangent(out.numpy().shape))
            got = tape.gradient(loss, x).numpy()
    else:
        with tf.Graph().as_default():
            x = tf.constant(args[0])
            out = getattr(tf.image, fn)(x, *rest(), **kwargs)
            with tf.Session() as sess:
                shape = sess.run(out).shape
                got = sess.run(tf.gradients(tf.reduce_sum(out * cotangent(shape)), x)[0])
    want = REF[f"{key}/grad"]
    assert got.shape == want.shape and got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5, err_msg=key)


@pytest.mark.parametrize("key,kwargs", BOX_GRAD_CASES, ids=[c[0] for c in BOX_GRAD_CASES])
def test_crop_and_resize_box_gradient_matches_tensorflow(key, kwargs):
    with tf.Graph().as_default():
        boxes = tf.constant(BOX_GRAD_BOXES)
        out = tf.image.crop_and_resize(tf.constant(IMG4), boxes, [0, 1, 1, 0], **kwargs)
        with tf.Session() as sess:
            shape = sess.run(out).shape
            got = sess.run(tf.gradients(tf.reduce_sum(out * cotangent(shape)), boxes)[0])
    np.testing.assert_allclose(got, REF[f"{key}/grad"], rtol=1e-4, atol=1e-5)
