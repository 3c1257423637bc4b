"""PNG/JPEG/GIF/BMP codecs: bytes TensorFlow 2.21 encoded (and GIF/BMP files Pillow
wrote) decode to exactly what TensorFlow decoded them to (stored in
``tf_reference.npz`` by `make_tf_reference.py`); miniflow's own encodings round-trip.

JPEG: miniflow (Pillow) always uses libjpeg's accurate integer IDCT, so it matches TF's
``dct_method="INTEGER_ACCURATE"`` exactly and TF's default (fast IDCT) within a few
levels."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import miniflow as tf
from tests.image.cases import CODEC_IMAGES

REF = np.load(Path(__file__).with_name("tf_reference.npz"))


def _data(key):
    return REF[key].tobytes()


def _both(build):
    """The value of ``build()`` in graph mode, checked equal to eager mode's."""
    with tf.Graph().as_default():
        t = build()
        with tf.Session() as sess:
            graph = sess.run(t)
        static = t.shape
    with tf.eager_mode():
        eager = build().numpy()
    np.testing.assert_array_equal(np.asarray(graph), np.asarray(eager))
    assert static.is_compatible_with(np.shape(graph))
    return np.asarray(graph)


def _same(got, want):
    assert got.dtype == want.dtype and got.shape == want.shape, (
        f"{got.dtype}{got.shape} vs TF {want.dtype}{want.shape}"
    )
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("name", sorted(CODEC_IMAGES))
def test_decode_png_of_tf_bytes(name):
    png = _data(f"codec/{name}/png")
    for c in (0, 1, 3, 4):
        key = f"codec/{name}/png_c{c}"
        if key in REF.files:
            _same(_both(lambda c=c: tf.image.decode_png(png, channels=c)), REF[key])
    _same(_both(lambda: tf.image.decode_image(png)), REF[f"codec/{name}/png_c0"])
    assert not _both(lambda: tf.image.is_jpeg(png))


@pytest.mark.parametrize("name", ["gray", "rgb", "smooth"])
def test_decode_jpeg_of_tf_bytes(name):
    jpeg = _data(f"codec/{name}/jpeg")
    for c in (0, 1, 3):
        _same(
            _both(lambda c=c: tf.image.decode_jpeg(jpeg, channels=c)),
            REF[f"codec/{name}/jpeg_c{c}"],
        )
    for r in (2, 4):
        _same(
            _both(lambda r=r: tf.image.decode_jpeg(jpeg, ratio=r)),
            REF[f"codec/{name}/jpeg_ratio{r}"],
        )
    default = REF[f"codec/{name}/jpeg_default"].astype(int)
    assert np.abs(_both(lambda: tf.image.decode_jpeg(jpeg)).astype(int) - default).max() <= 8
    _same(_both(lambda: tf.image.extract_jpeg_shape(jpeg)), REF[f"codec/{name}/jpeg_shape"])
    crop = _both(lambda: tf.image.decode_and_crop_jpeg(jpeg, [1, 2, 3, 2]))
    _same(crop, REF[f"codec/{name}/jpeg_c0"][1:4, 2:4])
    # TF decodes only the window: with subsampled chroma its edges differ a little
    want = REF[f"codec/{name}/jpeg_crop"]
    if name == "gray":
        _same(crop, want)
    assert np.abs(crop.astype(int) - want).max() <= 12
    assert _both(lambda: tf.image.is_jpeg(jpeg))


@pytest.mark.parametrize("fmt", ["bmp", "gif"])
def test_decode_bmp_and_gif(fmt):
    data = _data(f"codec/rgb/{fmt}")
    decode = tf.image.decode_bmp if fmt == "bmp" else tf.image.decode_gif
    _same(_both(lambda: decode(data)), REF[f"codec/rgb/{fmt}_decoded"])
    _same(_both(lambda: tf.image.decode_image(data)), REF[f"codec/rgb/{fmt}_image"])


@pytest.mark.parametrize("name", ["rgb", "smooth"])
def test_decode_webp_of_pillow_bytes(name):
    data = _data(f"codec/{name}/webp")
    _same(_both(lambda: tf.image.decode_webp(data)), REF[f"codec/{name}/webp_decoded"])
    _same(_both(lambda: tf.image.decode_webp(data, channels=3)), REF[f"codec/{name}/webp_decoded"])
    with (
        tf.Session() as sess,
        pytest.raises(tf.errors.InvalidArgumentError, match="does not match"),
    ):
        sess.run(tf.image.decode_webp(data, channels=4))


@pytest.mark.parametrize("name", sorted(CODEC_IMAGES))
def test_png_round_trip(name):
    image = CODEC_IMAGES[name]
    png = _both(lambda: tf.image.encode_png(image))
    assert isinstance(png, bytes | np.ndarray)
    out = _both(lambda: tf.image.decode_png(png.item() if isinstance(png, np.ndarray) else png))
    _same(out, image)


def test_png_16_bit_round_trip():
    image = (np.arange(12, dtype=np.uint16) * 5000).reshape(3, 4, 1)
    png = _both(lambda: tf.image.encode_png(image))
    out = _both(lambda: tf.image.decode_png(png.item(), dtype=tf.uint16))
    _same(out, image)


def test_jpeg_round_trip_is_close():
    image = CODEC_IMAGES["smooth"]
    jpeg = _both(lambda: tf.image.encode_jpeg(image, quality=95)).item()
    out = _both(lambda: tf.image.decode_jpeg(jpeg))
    assert out.shape == image.shape
    assert np.abs(out.astype(int) - image).mean() < 2.0
    assert _both(lambda: tf.image.is_jpeg(jpeg))


def test_random_jpeg_quality_and_bad_quality():
    image = CODEC_IMAGES["smooth"]
    with tf.Session() as sess:
        out = sess.run(tf.image.random_jpeg_quality(image, 60, 90))
        assert out.shape == image.shape and np.abs(out.astype(int) - image).mean() < 4
        with pytest.raises(tf.errors.InvalidArgumentError, match="quality"):
            sess.run(tf.image.adjust_jpeg_quality(image, 101))
        with pytest.raises(tf.errors.InvalidArgumentError, match="crop window"):
            sess.run(tf.image.decode_and_crop_jpeg(_data("codec/rgb/jpeg"), [5, 5, 9, 9]))


def test_decode_from_a_fed_string_placeholder():
    png = _data("codec/rgb/png")
    contents = tf.placeholder(tf.string, [])
    image = tf.image.decode_png(contents, channels=3)
    assert image.shape.as_list() == [None, None, 3] and image.dtype == tf.uint8
    with tf.Session() as sess:
        _same(sess.run(image, {contents: png}), REF["codec/rgb/png_c3"])


def test_decode_image_to_float():
    png = _data("codec/rgb/png")
    out = _both(lambda: tf.image.decode_image(png, dtype=tf.float32))
    np.testing.assert_allclose(out, REF["codec/rgb/png_c0"] / np.float32(255), rtol=1e-6)


def test_bad_bytes_raise_invalid_argument():
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="DecodePng"):
            sess.run(tf.image.decode_png(b"not an image"))


def test_bad_arguments_raise_at_construction():
    with pytest.raises(ValueError, match="channels"):
        tf.image.decode_png(b"", channels=2)
    with pytest.raises(TypeError, match="uint8"):
        tf.image.encode_jpeg(np.zeros((2, 2, 3), np.float32))
    with pytest.raises(ValueError, match="rank 0"):
        tf.image.decode_png(tf.constant([b"a", b"b"]))


def test_without_pillow_the_error_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(tf.errors.UnimplementedError, match=r"miniflow\[image\]"):
        with tf.Session() as sess:
            sess.run(tf.image.decode_png(_data("codec/rgb/png")))


def test_decoders_are_in_tf_io():
    for name in (
        "decode_png",
        "decode_jpeg",
        "decode_gif",
        "decode_bmp",
        "decode_image",
        "decode_webp",
        "decode_and_crop_jpeg",
        "encode_png",
        "encode_jpeg",
        "is_jpeg",
        "extract_jpeg_shape",
    ):
        assert getattr(tf.io, name) is getattr(tf.image, name)
