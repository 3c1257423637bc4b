"""The `tf.image` cases compared with real TensorFlow (NumPy only, no TF import).

Each case is ``(key, function name in tf.image, positional args, keyword args)``; inputs
are drawn from fixed seeds, so `make_tf_reference.py` (run with TensorFlow) and
`test_tf_reference.py` (run with miniflow) build identical inputs. TF's outputs are
stored in ``tf_reference.npz``.
"""

from __future__ import annotations

import numpy as np

rng = np.random.RandomState(1234)


def _img(*shape, dtype=np.float32):
    if np.dtype(dtype).kind == "f":
        return rng.uniform(0, 1, shape).astype(dtype)
    return rng.randint(0, np.iinfo(dtype).max + 1, shape, dtype=np.int64).astype(dtype)


IMG4 = _img(2, 5, 7, 3)
IMG3 = _img(6, 4, 3)
U8_3 = _img(6, 5, 3, dtype=np.uint8)
U8_4 = _img(2, 4, 6, 3, dtype=np.uint8)
BIG = _img(2, 16, 14, 3)
BIG_U8 = _img(16, 14, 3, dtype=np.uint8)
NOISY = np.clip(BIG + rng.normal(0, 0.05, BIG.shape), 0, 1).astype(np.float32)

CASES = []


def case(key, fn, *args, **kwargs):
    CASES.append((key, fn, list(args), kwargs))


# -- resizing: every method, up and down, align_corners, half_pixel_centers
for size in ([3, 4], [9, 11], [5, 7], [1, 1], [2, 13]):
    tag = f"{size[0]}x{size[1]}"
    for align in (False, True):
        case(f"bilinear_{tag}_a{align:d}", "resize_bilinear", IMG4, size, align_corners=align)
        case(
            f"nearest_{tag}_a{align:d}", "resize_nearest_neighbor", IMG4, size, align_corners=align
        )
        case(f"bicubic_{tag}_a{align:d}", "resize_bicubic", IMG4, size, align_corners=align)
        case(f"area_{tag}_a{align:d}", "resize_area", IMG4, size, align_corners=align)
    case(f"bilinear_{tag}_half", "resize_bilinear", IMG4, size, half_pixel_centers=True)
    case(f"nearest_{tag}_half", "resize_nearest_neighbor", IMG4, size, half_pixel_centers=True)
    case(f"bicubic_{tag}_half", "resize_bicubic", IMG4, size, half_pixel_centers=True)
case("nearest_uint8", "resize_nearest_neighbor", U8_4, [7, 3])
case("bilinear_uint8", "resize_bilinear", U8_4, [7, 3])
case("bilinear_f64", "resize_bilinear", IMG4.astype(np.float64), [3, 9])
for method in range(4):
    case(f"resize_images_3d_m{method}", "resize_images", IMG3, [4, 9], method=method)
    case(f"resize_images_u8_m{method}", "resize_images", U8_3, [8, 3], method=method)
    case(
        f"resize_images_aspect_m{method}",
        "resize_images",
        IMG4,
        [10, 10],
        method=method,
        preserve_aspect_ratio=True,
    )
case("resize_images_same_u8", "resize_images", U8_3, [6, 5])
case("resize_images_align", "resize_images", IMG4, [9, 4], align_corners=True)
case(
    "crop_and_resize_bilinear",
    "crop_and_resize",
    IMG4,
    np.array(
        [[0.1, 0.2, 0.8, 0.9], [-0.1, 0.3, 0.5, 1.2], [0.9, 0.8, 0.1, 0.2], [0.5, 0.5, 0.5, 0.5]],
        np.float32,
    ),
    np.array([0, 1, 1, 0], np.int32),
    [3, 4],
)
case(
    "crop_and_resize_nearest",
    "crop_and_resize",
    IMG4,
    np.array([[0.1, 0.2, 0.8, 0.9], [-0.1, 0.3, 0.5, 1.2]], np.float32),
    np.array([1, 0], np.int32),
    [5, 2],
    method="nearest",
)
case(
    "crop_and_resize_extrapolate",
    "crop_and_resize",
    IMG4,
    np.array([[-0.5, -0.2, 1.5, 0.7]], np.float32),
    np.array([1], np.int32),
    [4, 3],
    extrapolation_value=-1.0,
)
case(
    "crop_and_resize_single",
    "crop_and_resize",
    U8_4,
    np.array([[0.2, 0.3, 0.6, 0.7]], np.float32),
    np.array([1], np.int32),
    [1, 1],
)

# -- geometry
for name, img in (("3d", IMG3), ("4d", IMG4)):
    case(f"flip_lr_{name}", "flip_left_right", img)
    case(f"flip_ud_{name}", "flip_up_down", img)
    case(f"transpose_{name}", "transpose_image", img)
    for k in (0, 1, 2, 3, -1, 5):
        case(f"rot90_{name}_{k}", "rot90", img, k)
    case(f"crop_box_{name}", "crop_to_bounding_box", img, 1, 2, 3, 2)
    case(f"pad_box_{name}", "pad_to_bounding_box", img, 2, 1, 9, 8)
    for frac in (0.5, 0.33, 0.9, 1.0):
        case(f"central_crop_{name}_{frac}", "central_crop", img, frac)
    for th, tw in ((3, 3), (8, 9), (4, 10), (9, 2)):
        case(f"crop_or_pad_{name}_{th}x{tw}", "resize_image_with_crop_or_pad", img, th, tw)
        case(f"with_pad_{name}_{th}x{tw}", "resize_image_with_pad", img, th, tw)
case("with_pad_nearest", "resize_image_with_pad", U8_3, 10, 7, method=1)

# -- colour
case("gray_f", "rgb_to_grayscale", IMG4)
case("gray_u8", "rgb_to_grayscale", U8_3)
case("gray_to_rgb", "grayscale_to_rgb", IMG3[..., :1])
HSV_EDGE = np.array(
    [
        [
            [0, 0, 0],
            [1, 1, 1],
            [0.5, 0.5, 0.5],
            [1, 0, 0],
            [0, 1, 0],
            [0, 0, 1],
            [1, 1, 0],
            [0.2, 0.2, 0.7],
        ]
    ],
    np.float32,
)
for name, img in (("rand", IMG4), ("edge", HSV_EDGE)):
    case(f"rgb_to_hsv_{name}", "rgb_to_hsv", img)
    case(f"hsv_to_rgb_{name}", "hsv_to_rgb", img)
    case(f"rgb_to_yiq_{name}", "rgb_to_yiq", img)
    case(f"yiq_to_rgb_{name}", "yiq_to_rgb", img)
    case(f"rgb_to_yuv_{name}", "rgb_to_yuv", img)
    case(f"yuv_to_rgb_{name}", "yuv_to_rgb", img)
case("rgb_to_hsv_f64", "rgb_to_hsv", IMG3.astype(np.float64))
for name, img in (("f", IMG4), ("u8", U8_3)):
    case(f"brightness_{name}", "adjust_brightness", img, 0.3)
    case(f"brightness_neg_{name}", "adjust_brightness", img, -0.2)
    case(f"contrast_{name}", "adjust_contrast", img, 1.7)
    case(f"contrast_low_{name}", "adjust_contrast", img, 0.4)
    case(f"gamma_{name}", "adjust_gamma", img, 2.2, 1.3)
    case(f"gamma_inv_{name}", "adjust_gamma", img, 0.5)
    case(f"hue_{name}", "adjust_hue", img, 0.2)
    case(f"hue_neg_{name}", "adjust_hue", img, -0.45)
    case(f"saturation_{name}", "adjust_saturation", img, 1.8)
    case(f"saturation_low_{name}", "adjust_saturation", img, 0.3)
    case(f"standardize_{name}", "per_image_standardization", img)
case("brightness_f64", "adjust_brightness", IMG3.astype(np.float64), 0.1)
case("standardize_uniform", "per_image_standardization", np.full((3, 4, 2), 0.5, np.float32))
SPREAD = np.array([[-0.5, 0.0, 0.2], [0.5, 0.999, 1.0], [1.2, 0.0019, 0.0021]], np.float32)
SPREAD = SPREAD.reshape(1, 3, 3)
for dtype in ("uint8", "int16", "int32", "uint16"):
    case(f"convert_f_to_{dtype}", "convert_image_dtype", SPREAD.clip(0, 1), dtype)
    case(f"convert_f_to_{dtype}_sat", "convert_image_dtype", SPREAD, dtype, saturate=True)
case("convert_u8_to_f", "convert_image_dtype", U8_3, "float32")
case("convert_u8_to_f64", "convert_image_dtype", U8_3, "float64")
case("convert_u8_to_i32", "convert_image_dtype", U8_3, "int32")
case("convert_u8_to_u16", "convert_image_dtype", U8_3, "uint16")
case(
    "convert_i32_to_u8",
    "convert_image_dtype",
    np.array([[[0, 2**24, 2**31 - 1]]], np.int32),
    "uint8",
)
case(
    "convert_u16_to_u8",
    "convert_image_dtype",
    np.array([[[0, 255, 256, 65535]]], np.uint16),
    "uint8",
)
case(
    "convert_i32_to_f",
    "convert_image_dtype",
    np.array([[[0, 2**24, 2**31 - 1]]], np.int32),
    "float32",
)
case("convert_f64_to_f16", "convert_image_dtype", IMG3.astype(np.float64), "float16")

# -- filters and quality
case("tv_3d", "total_variation", IMG3)
case("tv_4d", "total_variation", IMG4)
case("image_gradients", "image_gradients", IMG4)
case("sobel", "sobel_edges", IMG4)
case("psnr_f", "psnr", BIG, NOISY, 1.0)
case("psnr_u8", "psnr", U8_4, U8_4[::-1], 255)
case("ssim_f", "ssim", BIG, NOISY, 1.0)
case("ssim_u8", "ssim", BIG_U8, BIG_U8[::-1], 255)
case("ssim_small_filter", "ssim", IMG4, IMG4[::-1], 1.0, filter_size=3, filter_sigma=0.8)

# -- patches
for k, s, r, pad in (
    ([1, 2, 2, 1], [1, 1, 1, 1], [1, 1, 1, 1], "VALID"),
    ([1, 3, 2, 1], [1, 2, 3, 1], [1, 1, 1, 1], "SAME"),
    ([1, 2, 3, 1], [1, 1, 2, 1], [1, 2, 1, 1], "VALID"),
    ([1, 3, 3, 1], [1, 2, 2, 1], [1, 2, 2, 1], "SAME"),
):
    case(
        f"patches_{k[1]}{k[2]}_{s[1]}{s[2]}_{r[1]}{r[2]}_{pad}",
        "extract_image_patches",
        IMG4,
        k,
        s,
        r,
        pad,
    )

# -- boxes
BOXES = np.array(
    [
        [0, 0, 1, 1],
        [0, 0.1, 1, 1.1],
        [0, -0.1, 1, 0.9],
        [0, 10, 1, 11],
        [0, 10.1, 1, 11.1],
        [0, 100, 1, 101],
        [0.5, 0.5, 0.2, 0.2],
        [0.3, 0.3, 0.3, 0.9],
    ],
    np.float32,
)
SCORES = np.array([0.9, 0.75, 0.6, 0.95, 0.5, 0.3, 0.8, 0.85], np.float32)
case("nms", "non_max_suppression", BOXES, SCORES, 5)
case("nms_iou", "non_max_suppression", BOXES, SCORES, 10, 0.3)
case("nms_score", "non_max_suppression", BOXES, SCORES, 10, 0.5, 0.7)
case("nms_zero", "non_max_suppression", BOXES, SCORES, 0)
case("nms_scores", "non_max_suppression_with_scores", BOXES, SCORES, 6)
case("nms_soft", "non_max_suppression_with_scores", BOXES, SCORES, 6, 0.5, 0.2, soft_nms_sigma=0.5)
case("nms_padded", "non_max_suppression_padded", BOXES, SCORES, 6, 0.4, pad_to_max_output_size=True)
OVERLAPS = rng.uniform(0, 1, (6, 6)).astype(np.float32)
case("nms_overlaps", "non_max_suppression_overlaps", OVERLAPS, SCORES[:6], 4, 0.6)
DRAW = np.array(
    [
        [[0.1, 0.2, 0.7, 0.8], [0.5, -0.3, 1.4, 0.5], [0.6, 0.6, 0.2, 0.9]],
        [[0.0, 0.0, 1.0, 1.0], [1.5, 0.2, 1.8, 0.4], [0.25, 0.25, 0.5, 0.5]],
    ],
    np.float32,
)
case("draw_f", "draw_bounding_boxes", IMG4, DRAW)
case("draw_gray", "draw_bounding_boxes", IMG4[..., :1], DRAW)
case(
    "draw_rgba_colors",
    "draw_bounding_boxes",
    _img(2, 5, 6, 4),
    DRAW,
    colors=np.array([[0.1, 0.2, 0.3, 0.4], [0.9, 0.8, 0.7, 0.6]], np.float32),
)

# -- gradients: d/d(first input) of sum(out * cos(arange)), compared with tf.gradients
GRAD_CASES = []


def grad_case(key, fn, *args, **kwargs):
    GRAD_CASES.append((key, fn, list(args), kwargs))


def cotangent(shape):
    return np.cos(np.arange(int(np.prod(shape)))).reshape(shape).astype(np.float32)


for method in ("bilinear", "nearest_neighbor", "bicubic"):
    grad_case(f"grad_{method}", f"resize_{method}", IMG4, [8, 4])
    grad_case(f"grad_{method}_align", f"resize_{method}", IMG4, [3, 9], align_corners=True)
    grad_case(f"grad_{method}_half", f"resize_{method}", IMG4, [4, 10], half_pixel_centers=True)
grad_case(
    "grad_crop_and_resize",
    "crop_and_resize",
    IMG4,
    np.array([[0.1, 0.2, 0.8, 0.9], [-0.1, 0.3, 0.5, 1.2]], np.float32),
    np.array([1, 1], np.int32),
    [3, 4],
)
grad_case(
    "grad_crop_and_resize_nearest",
    "crop_and_resize",
    IMG4,
    np.array([[0.1, 0.2, 0.8, 0.9], [-0.1, 0.3, 0.5, 1.2]], np.float32),
    np.array([1, 0], np.int32),
    [3, 1],
    method="nearest",
)
BOX_GRAD_BOXES = np.array(
    [[0.1, 0.2, 0.8, 0.9], [-0.1, 0.3, 0.5, 1.2], [0.33, 0.4, 0.6, 0.47], [0.5, 0.5, 0.5, 0.5]],
    np.float32,
)
BOX_GRAD_CASES = [
    ("box_grad_bilinear", dict(crop_size=[3, 4])),
    ("box_grad_single", dict(crop_size=[1, 1])),
    ("box_grad_nearest", dict(crop_size=[2, 5], method="nearest")),
]
grad_case(
    "grad_patches", "extract_image_patches", IMG4, [1, 3, 2, 1], [1, 2, 1, 1], [1, 1, 2, 1], "SAME"
)
grad_case("grad_standardize", "per_image_standardization", IMG4)
grad_case("grad_tv", "total_variation", IMG4)
grad_case("grad_flip", "flip_left_right", IMG4)
grad_case("grad_rot90", "rot90", IMG4, 3)
grad_case("grad_contrast", "adjust_contrast", IMG4, 1.5)
grad_case("grad_brightness", "adjust_brightness", IMG4, 0.2)
grad_case("grad_gamma", "adjust_gamma", IMG4, 1.7, 0.8)
grad_case("grad_gray", "rgb_to_grayscale", IMG4)
grad_case("grad_hsv", "rgb_to_hsv", IMG4)
grad_case("grad_yiq", "rgb_to_yiq", IMG4)
grad_case("grad_sobel", "sobel_edges", IMG4)
grad_case("grad_ssim", "ssim", BIG, NOISY, 1.0)
grad_case("grad_psnr", "psnr", BIG, NOISY, 1.0)
grad_case("grad_crop_or_pad", "resize_image_with_crop_or_pad", IMG4, 3, 9)
grad_case("grad_resize_images_area_free", "resize_images", IMG4, [6, 6], method=1)

# -- codecs: TF's encoded bytes are stored too, and decoded by both
CODEC_IMAGES = {
    "rgb": _img(7, 9, 3, dtype=np.uint8),
    "gray": _img(5, 4, 1, dtype=np.uint8),
    "rgba": _img(3, 6, 4, dtype=np.uint8),
    "smooth": (np.add.outer(np.arange(16), np.arange(20))[:, :, None] * [4, 6, 2]).astype(np.uint8),
}

# -- JPEG round trips (TF's accurate IDCT, which miniflow always uses)
case(
    "jpeg_quality_u8",
    "adjust_jpeg_quality",
    CODEC_IMAGES["smooth"],
    50,
    dct_method="INTEGER_ACCURATE",
)
case(
    "jpeg_quality_f",
    "adjust_jpeg_quality",
    CODEC_IMAGES["rgb"].astype(np.float32) / 255,
    20,
    dct_method="INTEGER_ACCURATE",
)
case(
    "jpeg_quality_gray",
    "adjust_jpeg_quality",
    CODEC_IMAGES["gray"],
    80,
    dct_method="INTEGER_ACCURATE",
)

# -- multi-scale SSIM (needs images of at least 11 * 2**4 pixels a side)
MS_A = _img(2, 180, 181, 3)
MS_B = np.clip(MS_A + rng.normal(0, 0.1, MS_A.shape), 0, 1).astype(np.float32)
case("ssim_multiscale", "ssim_multiscale", MS_A, MS_B, 1.0)
case(
    "ssim_multiscale_u8_3d",
    "ssim_multiscale",
    (MS_A[0] * 255).astype(np.uint8),
    (MS_B[0] * 255).astype(np.uint8),
    255,
    power_factors=(0.5, 0.3, 0.2),
    filter_size=7,
)

# -- glimpses inside the image (outside it TF draws random noise)
GLIMPSE_IN = np.arange(2 * 8 * 10 * 2, dtype=np.float32).reshape(2, 8, 10, 2)
for off, centered, normalized in (
    ([[0, 0], [0.3, -0.2]], True, True),
    ([[2, 3], [2.6, 3.4]], False, False),
    ([[0.25, 0.5], [0.13, 0.61]], False, True),
    ([[1.5, -2.5], [-3.1, 4.2]], True, False),
):
    case(
        f"glimpse_{centered:d}{normalized:d}",
        "extract_glimpse",
        GLIMPSE_IN,
        [3, 4],
        np.array(off, np.float32),
        centered=centered,
        normalized=normalized,
    )

# -- combined (per-class, batched) NMS; distinct scores, so the merge order is unique
C_BOXES = np.concatenate([BOXES[None, :, None], (BOXES[None, :, None] * 0.9 + 0.05)], 0)
C_SCORES = rng.permutation(2 * 8 * 3).reshape(2, 8, 3).astype(np.float32) / 48.0
case("combined_nms", "combined_non_max_suppression", C_BOXES, C_SCORES, 3, 7)
case("combined_nms_thresholds", "combined_non_max_suppression", C_BOXES, C_SCORES, 4, 20, 0.3, 0.4)
case(
    "combined_nms_pad_per_class",
    "combined_non_max_suppression",
    C_BOXES,
    C_SCORES,
    2,
    20,
    pad_per_class=True,
)
case(
    "combined_nms_q",
    "combined_non_max_suppression",
    np.repeat(C_BOXES, 3, axis=2) * np.array([1, 1.1, 0.8], np.float32)[None, None, :, None],
    C_SCORES,
    3,
    5,
    clip_boxes=False,
)
