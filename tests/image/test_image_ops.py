"""`tf.image` behaviour besides the values (those are compared with TensorFlow in
test_tf_reference.py): static shapes and names, TF's error classes at graph construction
and at run time (each checked against TensorFlow 2.21), the random functions, and the
gradients of the composed functions against finite differences."""

from __future__ import annotations

import numpy as np
import pytest

import miniflow as tf
from miniflow.testing import check_grads

IMG = np.random.RandomState(0).uniform(0, 1, (4, 5, 3)).astype(np.float32)
IMG4 = np.random.RandomState(1).uniform(0, 1, (2, 4, 5, 3)).astype(np.float32)


def test_names_and_static_shapes():
    assert tf.image.resize_bilinear(IMG4, [2, 3]).name == "ResizeBilinear:0"
    out = tf.image.resize_images(IMG, [2, 2])
    assert out.name.startswith("resize/") and out.shape.as_list() == [2, 2, 3]
    size = tf.placeholder(tf.int32, [2])
    assert tf.image.resize_images(IMG4, size).shape.as_list() == [2, None, None, 3]
    x = tf.placeholder(tf.uint8, [None, None, None, 3])
    out = tf.image.resize_nearest_neighbor(x, [7, 3])
    assert out.dtype == tf.uint8 and out.shape.as_list() == [None, 7, 3, 3]
    assert tf.image.resize_area(x, [7, 3]).dtype == tf.float32
    assert tf.image.central_crop(IMG, 0.5).shape.as_list() == [2, 3, 3]
    assert tf.image.ResizeMethod.AREA == 3


def test_resize_images_to_the_same_size_is_the_input():
    """TF skips the resize, so a uint8 image stays uint8 even for bilinear."""
    x = tf.constant(np.zeros((4, 5, 3), np.uint8))
    assert tf.image.resize_images(x, [4, 5]).dtype == tf.uint8


CONSTRUCTION_ERRORS = [  # (builder, TF's exception class, part of TF's message)
    (
        lambda: tf.image.resize_images(tf.zeros([4, 5]), [2, 2]),
        ValueError,
        "must have either 3 or 4 dimensions",
    ),
    (lambda: tf.image.resize_images(IMG, [2, 2, 2]), ValueError, "1-D Tensor of 2 elements"),
    (
        lambda: tf.image.resize_images(IMG, [2, 2], method=7),
        ValueError,
        "Resize method is not implemented: 7",
    ),
    (lambda: tf.image.resize_bilinear(IMG, [2, 2]), ValueError, "rank 4"),
    (
        lambda: tf.image.crop_to_bounding_box(IMG, 1, 1, 4, 2),
        ValueError,
        r"height must be >= target \+ offset",
    ),
    (
        lambda: tf.image.crop_to_bounding_box(IMG, -1, 1, 2, 2),
        ValueError,
        "offset_height must be >= 0",
    ),
    (
        lambda: tf.image.pad_to_bounding_box(IMG, 1, 1, 4, 5),
        ValueError,
        "width must be <= target - offset",
    ),
    (lambda: tf.image.central_crop(IMG, 0.0), ValueError, r"within \(0, 1\]"),
    (lambda: tf.image.flip_left_right(tf.zeros([3, 3])), ValueError, "at least three-dimensional"),
    (lambda: tf.image.rot90(IMG, [1, 2]), ValueError, "must have rank 0"),
    (
        lambda: tf.image.draw_bounding_boxes(tf.zeros([1, 4, 4, 3], tf.uint8), tf.zeros([1, 1, 4])),
        TypeError,
        "uint8",
    ),
    (lambda: tf.image.rgb_to_grayscale(tf.zeros([4, 4, 2])), ValueError, "3 channels"),
    (lambda: tf.image.rgb_to_hsv(tf.zeros([4, 4, 3], tf.uint8)), TypeError, "float"),
    (lambda: tf.image.adjust_gamma(IMG, -1.0), ValueError, "Gamma should be a non-negative"),
    (lambda: tf.image.random_brightness(IMG, -1.0), ValueError, "max_delta must be non-neg"),
    (lambda: tf.image.random_contrast(IMG, 0.5, 0.2), ValueError, "upper must be > lower"),
    (
        lambda: tf.image.per_image_standardization(tf.zeros([3, 3])),
        ValueError,
        "at least three-dimensional",
    ),
    (lambda: tf.image.total_variation(tf.zeros([3, 3])), ValueError, "either 3 or 4"),
    (lambda: tf.image.image_gradients(IMG), ValueError, "expects a 4D tensor"),
    (
        lambda: tf.image.extract_image_patches(
            IMG4, [1, 2, 2, 1], [1, 1, 1, 1], [1, 1, 1, 1], "FOO"
        ),
        ValueError,
        "padding",
    ),
    (
        lambda: tf.image.extract_image_patches(IMG4, [2, 2], [1, 1, 1, 1], [1, 1, 1, 1], "VALID"),
        ValueError,
        "ksizes",
    ),
    (
        lambda: tf.image.crop_and_resize(IMG4, [[0, 0, 1, 1]], [0], [2, 2], method="bicubic"),
        ValueError,
        "method",
    ),
    (
        lambda: tf.image.convert_image_dtype(IMG, tf.string),
        AttributeError,
        "floating point or integer",
    ),
]


@pytest.mark.parametrize(
    "build,error,match",
    CONSTRUCTION_ERRORS,
    ids=[f"{i}-{c[1].__name__}" for i, c in enumerate(CONSTRUCTION_ERRORS)],
)
def test_construction_errors_match_tf(build, error, match):
    with pytest.raises(error, match=match):
        build()


RUN_ERRORS = [
    (lambda: tf.image.resize_bilinear(IMG4, tf.constant([-1, 2])), tf.errors.InvalidArgumentError),
    (
        lambda: tf.image.non_max_suppression(tf.zeros([2, 4]), tf.zeros([2]), 2, 1.5),
        tf.errors.InvalidArgumentError,
    ),
    (
        lambda: tf.image.crop_and_resize(IMG4, tf.zeros([1, 4]), [5], [2, 2]),
        tf.errors.OutOfRangeError,
    ),
]


@pytest.mark.parametrize("build,error", RUN_ERRORS, ids=["resize", "nms", "crop_and_resize"])
def test_run_time_errors_match_tf(build, error):
    with tf.Session() as sess, pytest.raises(error):
        sess.run(build())
    with tf.eager_mode(), pytest.raises(error):
        build()


def test_crops_and_pads_of_images_of_runtime_size():
    """A decoded image has no static height or width; offsets may be tensors too."""
    image = tf.placeholder(tf.float32, [None, None, 3])
    offset = tf.placeholder(tf.int32, [])
    crop = tf.image.crop_to_bounding_box(image, offset, 1, 2, 3)
    pad = tf.image.pad_to_bounding_box(image, 1, offset, 7, 9)
    crop_or_pad = tf.image.resize_image_with_crop_or_pad(image, 3, 8)
    assert crop.shape.as_list() == [2, 3, 3] and pad.shape.as_list() == [7, 9, 3]
    assert crop_or_pad.shape.as_list() == [3, 8, 3]
    (g,) = tf.gradients(tf.reduce_sum(pad * pad) + tf.reduce_sum(crop_or_pad), image)
    with tf.Session() as sess:
        c, p, cp, grad = sess.run([crop, pad, crop_or_pad, g], {image: IMG, offset: 2})
    np.testing.assert_array_equal(c, IMG[2:4, 1:4])
    np.testing.assert_array_equal(p, np.pad(IMG, [[1, 2], [2, 2], [0, 0]]))
    np.testing.assert_array_equal(cp, np.pad(IMG[0:3], [[0, 0], [1, 2], [0, 0]]))
    want = 2 * IMG
    want[0:3] += 1
    np.testing.assert_allclose(grad, want, rtol=1e-6)


def test_rot90_by_a_runtime_k():
    k = tf.placeholder(tf.int32, [])
    x = tf.constant(IMG4)
    out = tf.image.rot90(x, k)
    (g,) = tf.gradients(tf.reduce_sum(out * out), x)
    with tf.Session() as sess:
        for turns in (0, 1, 2, 3, -1, 6):
            np.testing.assert_array_equal(
                sess.run(out, {k: turns}), np.rot90(IMG4, turns, axes=(1, 2))
            )
            np.testing.assert_allclose(sess.run(g, {k: turns}), 2 * IMG4, rtol=1e-6)


def test_resize_area_has_no_gradient_as_in_tf():
    x = tf.constant(IMG4)
    assert tf.gradients(tf.reduce_sum(tf.image.resize_area(x, [3, 3])), x) == [None]


# -- random functions ---------------------------------------------------------------------


def _run(t, n=1):
    with tf.Session() as sess:
        return [sess.run(t) for _ in range(n)]


def test_random_flips_each_image_independently():
    batch = np.arange(40 * 2 * 3, dtype=np.float32).reshape(40, 2, 3, 1)
    for fn, axis in ((tf.image.random_flip_left_right, 2), (tf.image.random_flip_up_down, 1)):
        (out,) = _run(fn(batch, seed=3))
        flipped = np.array([np.array_equal(o, np.flip(b, axis - 1)) for o, b in zip(out, batch)])
        kept = np.array([np.array_equal(o, b) for o, b in zip(out, batch)])
        assert np.all(flipped ^ kept) and 5 < flipped.sum() < 35
    single = _run(tf.image.random_flip_left_right(IMG, seed=1), 20)
    assert all(np.array_equal(s, IMG) or np.array_equal(s, IMG[:, ::-1]) for s in single)
    assert len({s.tobytes() for s in single}) == 2
    with tf.eager_mode():
        out = tf.image.random_flip_up_down(IMG).numpy()
    assert np.array_equal(out, IMG) or np.array_equal(out, IMG[::-1])


def test_random_adjustments_stay_in_their_range():
    for out in _run(tf.image.random_brightness(IMG, 0.2), 10):
        delta = out - IMG
        assert np.allclose(delta, delta.flat[0], atol=1e-6) and abs(delta.flat[0]) <= 0.2
    for out in _run(tf.image.random_contrast(IMG, 0.5, 0.8), 10):
        mean = IMG.mean(axis=(0, 1))
        factor = (out - mean) / (IMG - mean)
        assert np.allclose(factor, factor.flat[0], atol=1e-3) and 0.5 <= factor.flat[0] < 0.8
    hue = tf.image.random_hue(IMG, 0.1)
    sat = tf.image.random_saturation(IMG, 0.5, 1.5)
    for h, s in zip(_run(hue, 5), _run(sat, 5)):
        v0 = IMG.max(axis=-1)
        assert np.allclose(h.max(axis=-1), v0, atol=1e-5)  # hue keeps the value channel
        assert np.allclose(s.max(axis=-1), v0, atol=1e-5)
    with pytest.raises(ValueError, match="max_delta must be <= 0.5"):
        tf.image.random_hue(IMG, 0.6)


def test_random_crop_is_a_window_of_the_input():
    value = np.arange(6 * 7 * 2).reshape(6, 7, 2)
    outs = _run(tf.random_crop(value, [3, 4, 2], seed=5), 10)
    for out in outs:
        assert out.shape == (3, 4, 2)
        i, j = divmod(int(out[0, 0, 0]) // 2, 7)
        np.testing.assert_array_equal(out, value[i : i + 3, j : j + 4])
    assert len({o.tobytes() for o in outs}) > 1
    fed = tf.placeholder(tf.int64, [None, None, 2])
    crop = tf.image.random_crop(fed, [3, 4, 2])
    assert crop.shape.as_list() == [3, 4, 2]
    with tf.Session() as sess:
        for _ in range(5):
            out = sess.run(crop, {fed: value})
            i, j = divmod(int(out[0, 0, 0]) // 2, 7)
            np.testing.assert_array_equal(out, value[i : i + 3, j : j + 4])
    with pytest.raises(ValueError, match="value.shape >= size"):
        tf.image.random_crop(value, [7, 4, 2])


def test_sample_distorted_bounding_box_covers_the_object():
    boxes = tf.constant([[[0.2, 0.3, 0.6, 0.9]]])
    begin, size, bbox = tf.image.sample_distorted_bounding_box(
        [40, 50, 3], boxes, min_object_covered=0.5, seed=7
    )
    assert bbox.shape.as_list() == [1, 1, 4] and begin.dtype == tf.int32
    areas = []
    for b, s, box in _run((begin, size, bbox), 20):
        assert b[2] == 0 and s[2] == -1 and 0 <= b[0] and b[0] + s[0] <= 40
        assert 0 <= b[1] and b[1] + s[1] <= 50
        np.testing.assert_allclose(
            box[0, 0], [b[0] / 40, b[1] / 50, (b[0] + s[0]) / 40, (b[1] + s[1]) / 50], rtol=1e-6
        )
        y0, x0, y1, x1 = 8, 15, 24, 45  # the object in pixels
        inter = max(min(b[0] + s[0], y1) - max(b[0], y0), 0) * max(
            min(b[1] + s[1], x1) - max(b[1], x0), 0
        )
        assert inter / ((y1 - y0) * (x1 - x0)) >= 0.5
        areas.append(s[0] * s[1])
    assert len(set(areas)) > 1
    with (
        tf.Session() as sess,
        pytest.raises(tf.errors.InvalidArgumentError, match="No bounding boxes"),
    ):
        sess.run(tf.image.sample_distorted_bounding_box([4, 4, 3], tf.zeros([1, 0, 4]))[0])
    whole = tf.image.sample_distorted_bounding_box(
        [4, 4, 3], tf.zeros([1, 0, 4]), use_image_if_no_bounding_boxes=True
    )
    assert _run(whole[1])[0][2] == -1


def test_extract_glimpse_fills_the_outside_with_noise():
    x = np.arange(80, dtype=np.float32).reshape(1, 8, 10, 1)
    for uniform in (True, False):
        (out,) = _run(tf.image.extract_glimpse(x, [3, 4], [[-0.9, 0.9]], uniform_noise=uniform))
        np.testing.assert_array_equal(out[0, 1:, :3, 0], [[7, 8, 9], [17, 18, 19]])
        noise = np.r_[out[0, 0, :, 0], out[0, 1:, 3, 0]]
        assert not np.isin(noise, x).all()
        if uniform:
            assert noise.min() >= 0 and noise.max() <= 79


# -- gradients of the composed functions ---------------------------------------------------

F32 = dict(eps=1e-3, rtol=2e-2, atol=2e-3)
COMPOSED = [
    ("flip_left_right", tf.image.flip_left_right, {}),
    ("flip_up_down", tf.image.flip_up_down, {}),
    ("rot90", lambda x: tf.image.rot90(x, 1), {}),
    ("transpose", tf.image.transpose_image, {}),
    ("crop_to_bounding_box", lambda x: tf.image.crop_to_bounding_box(x, 1, 1, 2, 3), {}),
    ("pad_to_bounding_box", lambda x: tf.image.pad_to_bounding_box(x, 1, 2, 6, 8), {}),
    ("central_crop", lambda x: tf.image.central_crop(x, 0.6), {}),
    ("crop_or_pad", lambda x: tf.image.resize_image_with_crop_or_pad(x, 3, 7), {}),
    ("with_pad", lambda x: tf.image.resize_image_with_pad(x, 6, 6), F32),
    ("resize_images_bicubic", lambda x: tf.image.resize_images(x, [3, 7], method=2), F32),
    ("rgb_to_hsv", tf.image.rgb_to_hsv, {}),
    ("hsv_to_rgb", tf.image.hsv_to_rgb, {}),
    ("yuv", lambda x: tf.image.yuv_to_rgb(tf.image.rgb_to_yuv(x)), {}),
    ("grayscale", tf.image.rgb_to_grayscale, F32),
    ("contrast", lambda x: tf.image.adjust_contrast(x, 1.4), F32),
    ("brightness", lambda x: tf.image.adjust_brightness(x, -0.1), F32),
    ("gamma", lambda x: tf.image.adjust_gamma(x, 1.5, 0.9), F32),
    ("hue", lambda x: tf.image.adjust_hue(x, 0.15), F32),
    ("saturation", lambda x: tf.image.adjust_saturation(x, 0.7), F32),
    ("standardization", tf.image.per_image_standardization, F32),
    ("total_variation", tf.image.total_variation, {}),
    ("image_gradients", lambda x: tf.image.image_gradients(x[None]), {}),
    ("sobel", lambda x: tf.image.sobel_edges(x[None]), {}),
    ("psnr", lambda x: tf.image.psnr(x, tf.ones_like(x) * 0.5, 1.0), F32),
    ("ssim", lambda x: tf.image.ssim(x, tf.ones_like(x) * 0.4, 1.0, filter_size=3), F32),
]


@pytest.mark.parametrize("fn,tol", [c[1:] for c in COMPOSED], ids=[c[0] for c in COMPOSED])
def test_composed_gradients_match_finite_differences(fn, tol):
    """Away from the kinks of max/min/abs (distinct, well separated channel values)."""
    rng = np.random.default_rng(4)
    x = rng.permutation(60).reshape(4, 5, 3) / 60.0 * 0.8 + 0.1037
    x = x.astype(np.float32 if tol else np.float64)
    check_grads(lambda t: fn(t), [x], order=1, **tol)


def test_repeated_eager_gradients_agree():
    """A training loop differentiates the same structure every step (gradient plans take
    over from the third); the results must not change."""
    boxes = np.array([[0.1, 0.2, 0.8, 0.9]], np.float32)
    with tf.eager_mode():
        x = tf.constant(IMG4)
        results = []
        for _ in range(5):
            with tf.GradientTape() as tape:
                tape.watch(x)
                y = (
                    tf.reduce_sum(tf.image.resize_bicubic(x, [7, 3]) ** 2)
                    + tf.reduce_sum(tf.image.crop_and_resize(x, boxes, [1], [3, 3]) ** 2)
                    + tf.reduce_sum(
                        tf.image.extract_image_patches(
                            x, [1, 2, 2, 1], [1, 1, 1, 1], [1, 1, 1, 1], "SAME"
                        )
                        ** 2
                    )
                    + tf.reduce_sum(tf.image.adjust_hue(x, 0.1) * tf.image.flip_left_right(x))
                )
            results.append(tape.gradient(y, x).numpy())
    for r in results[1:]:
        np.testing.assert_allclose(r, results[0], rtol=1e-6)
