"""tf.image: resizing, crops, patches, boxes, colour conversions and the codecs."""

from __future__ import annotations

from conformance.case import FLOATS, Arg, Case, Variant, const, integers, uniform

pixels = uniform(0.0, 1.0)
bytes_ = integers(0, 256)


def _resize(kind):
    def fn(tf, images, size=(5, 7), align_corners=False):
        return getattr(tf.image, kind)(images, list(size), align_corners=align_corners)

    fn.__name__ = f"image.{kind}"
    return fn


def resize_images(tf, images, method=0, size=(5, 3)):
    return tf.image.resize_images(images, list(size), method=method)


def crop_and_resize(tf, image, boxes, method="bilinear"):
    return tf.image.crop_and_resize(image, boxes, [0, 1, 0], [3, 2], method=method)


def extract_image_patches(tf, images, padding="VALID", rates=(1, 1, 1, 1)):
    return tf.image.extract_image_patches(images, [1, 2, 2, 1], [1, 1, 2, 1], list(rates), padding)


def non_max_suppression(tf, boxes, scores, max_out=3, iou=0.5):
    return tf.image.non_max_suppression(boxes, scores, max_out, iou)


def draw_bounding_boxes(tf, images, boxes):
    return tf.image.draw_bounding_boxes(images, boxes)


def png_roundtrip(tf, image):
    return tf.image.decode_png(tf.image.encode_png(image))


def jpeg_shape(tf, image):
    data = tf.image.encode_jpeg(image)
    return tf.image.decode_jpeg(data), tf.image.extract_jpeg_shape(data), tf.image.is_jpeg(data)


def _image(kind, **kw):
    def fn(tf, x):
        return getattr(tf.image, kind)(x, **kw)

    fn.__name__ = f"image.{kind}"
    return fn


BOXES = Arg(
    const([[0.1, 0.2, 0.6, 0.9], [0.0, 0.0, 1.0, 1.0], [0.3, 0.3, 0.5, 0.4]]), "float32", diff=False
)
NMS_BOXES = Arg(
    const(
        [
            [0, 0, 1, 1],
            [0, 0.1, 1, 1.1],
            [0, -0.1, 1, 0.9],
            [0, 10, 1, 11],
            [0, 10.1, 1, 11.1],
            [0, 100, 1, 101],
        ]
    ),
    diff=False,
)


def _v(*pairs):
    return [Variant(shapes, kwargs) for shapes, kwargs in pairs]


IMG = (((1, 4, 6, 2),), {})
CASES = [
    *[
        Case(
            _resize(k),
            (Arg(pixels),),
            _v(
                IMG, (((2, 3, 3, 1),), {"align_corners": True}), (((1, 4, 6, 1),), {"size": (2, 3)})
            ),
            FLOATS,
            1 if k != "resize_area" else 0,
            tol=10,
        )
        for k in ("resize_bilinear", "resize_nearest_neighbor", "resize_bicubic", "resize_area")
    ],
    Case(
        resize_images,
        (Arg(pixels),),
        [Variant(((1, 4, 6, 1),), {"method": m}) for m in range(4)],
        ("float32",),
        0,
    ),
    Case(
        crop_and_resize,
        (Arg(pixels), BOXES),
        _v((((2, 5, 4, 1), (3, 4)), {}), (((2, 5, 4, 2), (3, 4)), {"method": "nearest"})),
        FLOATS,
        1,
    ),
    Case(
        extract_image_patches,
        (Arg(pixels),),
        _v(
            (((1, 4, 5, 2),), {}),
            (((2, 3, 3, 1),), {"padding": "SAME"}),
            (((1, 5, 5, 1),), {"rates": (1, 2, 2, 1)}),
        ),
        FLOATS,
        1,
    ),
    Case(
        non_max_suppression,
        (NMS_BOXES, Arg(const([0.9, 0.75, 0.6, 0.95, 0.5, 0.3]))),
        _v((((6, 4), (6,)), {}), (((6, 4), (6,)), {"max_out": 6, "iou": 0.0})),
        ("float32",),
        0,
    ),
    Case(
        draw_bounding_boxes,
        (Arg(pixels), Arg(const([[[0.1, 0.1, 0.8, 0.7]]]), diff=False)),
        _v((((1, 5, 5, 3), (1, 1, 4)), {})),
        ("float32",),
        0,
    ),
    Case(
        png_roundtrip,
        (Arg(bytes_, "uint8"),),
        _v((((4, 5, 3),), {}), (((3, 2, 1),), {})),
        ("uint8",),
        0,
    ),
    Case(
        jpeg_shape, (Arg(bytes_, "uint8"),), _v((((8, 8, 3),), {})), ("uint8",), 0, compare="shape"
    ),
    *[
        Case(_image(k), (Arg(pixels),), _v((((2, 4, 3, 3),), {}), (((4, 3, 3),), {})), FLOATS, 1)
        for k in (
            "flip_left_right",
            "flip_up_down",
            "rot90",
            "transpose_image",
            "rgb_to_grayscale",
            "rgb_to_yiq",
            "rgb_to_yuv",
            "per_image_standardization",
            "total_variation",
        )
    ],
    *[
        Case(_image(k), (Arg(pixels),), _v((((2, 4, 3, 3),), {})), FLOATS, 0, tol=10)
        for k in ("rgb_to_hsv", "hsv_to_rgb")
    ],
    Case(_image("adjust_brightness", delta=0.2), (Arg(pixels),), _v((((4, 3, 3),), {}))),
    Case(_image("adjust_contrast", contrast_factor=1.5), (Arg(pixels),), _v((((4, 3, 3),), {}))),
    Case(_image("adjust_gamma", gamma=2.0), (Arg(pixels),), _v((((4, 3, 3),), {}))),
    Case(
        _image("adjust_saturation", saturation_factor=0.5),
        (Arg(pixels),),
        _v((((4, 3, 3),), {})),
        order=0,
        tol=10,
    ),
    Case(_image("adjust_hue", delta=0.2), (Arg(pixels),), _v((((4, 3, 3),), {})), order=0, tol=10),
    Case(
        _image("central_crop", central_fraction=0.5),
        (Arg(pixels),),
        _v((((4, 6, 3),), {}), (((2, 4, 6, 1),), {})),
    ),
    Case(
        _image("resize_with_crop_or_pad", target_height=3, target_width=8),
        (Arg(pixels),),
        _v((((4, 6, 1),), {})),
    ),
    Case(
        _image(
            "pad_to_bounding_box", offset_height=1, offset_width=2, target_height=6, target_width=9
        ),
        (Arg(pixels),),
        _v((((4, 6, 1),), {})),
    ),
    Case(
        _image(
            "crop_to_bounding_box", offset_height=1, offset_width=2, target_height=2, target_width=3
        ),
        (Arg(pixels),),
        _v((((4, 6, 1),), {})),
    ),
    Case(
        _image("convert_image_dtype", dtype="uint8"),
        (Arg(pixels),),
        _v((((4, 3, 1),), {})),
        ("float32",),
        0,
    ),
    Case(_image("sobel_edges"), (Arg(pixels),), _v((((1, 4, 5, 1),), {})), ("float32",), 1),
    Case(_image("image_gradients"), (Arg(pixels),), _v((((1, 4, 5, 1),), {})), ("float32",), 1),
]
