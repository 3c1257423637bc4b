"""`tf.image` (TF1's `tf.compat.v1.image`): resizing, crops and pads, flips and
rotations, colour conversions and adjustments, filters and quality measures, bounding
boxes, patches, and PNG/JPEG/GIF/BMP codecs (the codecs need the ``image`` extra)."""

from miniflow.ops.image_box_ops import (  # noqa: F401
    combined_non_max_suppression as combined_non_max_suppression,
    draw_bounding_boxes as draw_bounding_boxes,
    non_max_suppression as non_max_suppression,
    non_max_suppression_overlaps as non_max_suppression_overlaps,
    non_max_suppression_padded as non_max_suppression_padded,
    non_max_suppression_with_scores as non_max_suppression_with_scores,
    sample_distorted_bounding_box as sample_distorted_bounding_box,
)
from miniflow.ops.image_codec_ops import (  # noqa: F401
    adjust_jpeg_quality as adjust_jpeg_quality,
    decode_and_crop_jpeg as decode_and_crop_jpeg,
    decode_bmp as decode_bmp,
    decode_gif as decode_gif,
    decode_image as decode_image,
    decode_jpeg as decode_jpeg,
    decode_png as decode_png,
    decode_webp as decode_webp,
    encode_jpeg as encode_jpeg,
    encode_png as encode_png,
    extract_jpeg_shape as extract_jpeg_shape,
    is_jpeg as is_jpeg,
    random_jpeg_quality as random_jpeg_quality,
)
from miniflow.ops.image_color_ops import (  # noqa: F401
    adjust_brightness as adjust_brightness,
    adjust_contrast as adjust_contrast,
    adjust_gamma as adjust_gamma,
    adjust_hue as adjust_hue,
    adjust_saturation as adjust_saturation,
    convert_image_dtype as convert_image_dtype,
    grayscale_to_rgb as grayscale_to_rgb,
    hsv_to_rgb as hsv_to_rgb,
    per_image_standardization as per_image_standardization,
    random_brightness as random_brightness,
    random_contrast as random_contrast,
    random_hue as random_hue,
    random_saturation as random_saturation,
    rgb_to_grayscale as rgb_to_grayscale,
    rgb_to_hsv as rgb_to_hsv,
    rgb_to_yiq as rgb_to_yiq,
    rgb_to_yuv as rgb_to_yuv,
    yiq_to_rgb as yiq_to_rgb,
    yuv_to_rgb as yuv_to_rgb,
)
from miniflow.ops.image_filter_ops import (  # noqa: F401
    image_gradients as image_gradients,
    psnr as psnr,
    sobel_edges as sobel_edges,
    ssim as ssim,
    ssim_multiscale as ssim_multiscale,
    total_variation as total_variation,
)
from miniflow.ops.image_ops import (  # noqa: F401
    central_crop as central_crop,
    crop_to_bounding_box as crop_to_bounding_box,
    flip_left_right as flip_left_right,
    flip_up_down as flip_up_down,
    pad_to_bounding_box as pad_to_bounding_box,
    random_crop as random_crop,
    random_flip_left_right as random_flip_left_right,
    random_flip_up_down as random_flip_up_down,
    resize_image_with_crop_or_pad as resize_image_with_crop_or_pad,
    resize_image_with_pad as resize_image_with_pad,
    resize_with_crop_or_pad as resize_with_crop_or_pad,
    rot90 as rot90,
    transpose as transpose,
    transpose_image as transpose_image,
)
from miniflow.ops.image_patch_ops import (  # noqa: F401
    extract_glimpse as extract_glimpse,
    extract_image_patches as extract_image_patches,
    extract_patches as extract_patches,
)
from miniflow.ops.image_resize_ops import (  # noqa: F401
    ResizeMethod as ResizeMethod,
    crop_and_resize as crop_and_resize,
    resize as resize,
    resize_area as resize_area,
    resize_bicubic as resize_bicubic,
    resize_bilinear as resize_bilinear,
    resize_images as resize_images,
    resize_nearest_neighbor as resize_nearest_neighbor,
)
