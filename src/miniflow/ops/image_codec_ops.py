"""Image codecs (`tf.image.decode_*`, `encode_png`, `encode_jpeg`, `is_jpeg`,
`extract_jpeg_shape`) over scalar `tf.string` tensors of bytes, through Pillow (the
optional ``miniflow[image]`` extra). Pillow is imported when a codec kernel first runs,
so building graphs and everything else in `tf.image` work without it."""

from __future__ import annotations

import io

import numpy as np

from miniflow import dtypes, errors
from miniflow.core.dispatch import apply_op
from miniflow.core.registry import not_differentiable, register_op
from miniflow.ops import array_ops as _arr, random_ops as _random
from miniflow.ops.control_flow_ops import name_scope
from miniflow.ops.image_color_ops import convert_image_dtype
from miniflow.ops.shape_rules import dims


def _pil():
    try:
        from PIL import Image
    except ImportError:
        raise errors.UnimplementedError(
            None,
            None,
            "Image encoding and decoding need Pillow: install the image extra "
            "with `pip install miniflow[image]` (or `pip install pillow`)",
        ) from None
    return Image


def _bytes(contents, what="contents"):
    value = np.asarray(contents)
    if value.ndim != 0:
        raise errors.InvalidArgumentError(
            None, None, f"{what} must be scalar, got shape {list(value.shape)}"
        )
    value = value.item()
    return value.encode() if isinstance(value, str) else bytes(value)


def _open(data, what, draft=None):
    """The decoded Pillow image; ``draft`` = (mode, ratio) asks the JPEG decoder itself for
    grayscale output or a 1/ratio DCT-scaled image, as TF asks libjpeg. Pillow always
    uses libjpeg's accurate integer IDCT (TF's ``dct_method="INTEGER_ACCURATE"``)."""
    try:
        image = _pil().open(io.BytesIO(data))
        if draft is not None and image.format == "JPEG":
            mode, ratio = draft
            image.draft(mode, (max(1, image.width // ratio), max(1, image.height // ratio)))
        image.load()
    except errors.OpError:
        raise
    except Exception as e:
        raise errors.InvalidArgumentError(
            None, None, f"{what}: invalid or unsupported image data ({e})"
        ) from None
    return image


_MODES = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}


def _to_array(image, channels):
    """``image`` as [h, w, c]: ``channels`` 0 keeps the file's channels."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I") and channels in (0, 1):
        return np.asarray(image, dtype=np.uint16)[:, :, None]
    if image.mode not in _MODES.values():
        has_alpha = "A" in image.mode or "transparency" in image.info
        image = image.convert("RGBA" if has_alpha else "RGB")
    if channels == 1 and image.mode in ("RGB", "RGBA"):
        rgb = np.asarray(image, dtype=np.int64)[:, :, :3]  # libpng's fixed-point weights
        gray = (9797 * rgb[..., 0] + 19234 * rgb[..., 1] + 3737 * rgb[..., 2]) >> 15
        return gray.astype(np.uint8)[:, :, None]
    if channels:
        image = image.convert(_MODES[channels]) if image.mode != _MODES[channels] else image
    array = np.asarray(image, dtype=np.uint8)
    return array[:, :, None] if array.ndim == 2 else array


def _check_channels(channels, allowed=(0, 1, 3, 4)):
    if channels not in allowed:
        raise ValueError(f"channels must be one of {list(allowed)}, got {channels}")
    return channels


def _decoded(channels, dtype=dtypes.uint8, rank=3):
    def infer(inputs, attrs):
        d = dims(inputs[0])
        if d is not None and len(d) != 0:
            raise ValueError(
                f"Shape must be rank 0 but is rank {len(d)} (contents must be a scalar string)"
            )
        c = attrs.get("channels") or None
        return [((None,) * (rank - 1) + (c,), dtypes.as_dtype(attrs.get("dtype", dtype)))]

    return infer


@register_op("DecodePng", infer=_decoded(0))
def _decode_png(contents, channels=0, dtype=dtypes.uint8):
    array = _to_array(_open(_bytes(contents), "DecodePng"), channels)
    if dtype == dtypes.uint16 and array.dtype == np.uint8:
        return array.astype(np.uint16) * 257
    if dtype == dtypes.uint8 and array.dtype == np.uint16:
        return (array // 257).astype(np.uint8)
    return array.astype(dtype.np, copy=False)


@register_op("DecodeJpeg", infer=_decoded(0))
def _decode_jpeg(contents, channels=0, ratio=1):
    image = _open(_bytes(contents), "DecodeJpeg", ("L" if channels == 1 else "RGB", ratio))
    return _to_array(image, channels)


@register_op("DecodeBmp", infer=_decoded(0))
def _decode_bmp(contents, channels=0):
    return _to_array(_open(_bytes(contents), "DecodeBmp"), channels)


@register_op("DecodeGif", infer=lambda i, a: [((None, None, None, 3), dtypes.uint8)])
def _decode_gif(contents):
    image = _open(_bytes(contents), "DecodeGif")
    frames = []
    for k in range(getattr(image, "n_frames", 1)):
        image.seek(k)
        frames.append(np.asarray(image.convert("RGB"), dtype=np.uint8))
    return np.stack(frames)


@register_op(
    "DecodeWebP", infer=lambda i, a: [((None, None, None, a["channels"] or None), dtypes.uint8)]
)
def _decode_webp(contents, channels=0):
    image = _open(_bytes(contents), "DecodeWebP")
    has = 4 if "A" in image.getbands() else 3
    if channels not in (0, has):
        raise errors.InvalidArgumentError(
            None,
            None,
            f"Number of channels requested does not match input: {channels} "
            f"requested, the image has {has}",
        )
    frames = []
    for k in range(getattr(image, "n_frames", 1)):
        image.seek(k)
        frames.append(np.asarray(image.convert("RGBA" if has == 4 else "RGB"), np.uint8))
    return np.stack(frames)


def _image_array(image, what):
    array = np.asarray(image)
    if array.ndim != 3 or array.shape[2] not in (1, 2, 3, 4):
        raise errors.InvalidArgumentError(
            None,
            None,
            f"{what}: image must be 3-dimensional [height, width, channels] with "
            f"1 to 4 channels, got shape {list(array.shape)}",
        )
    return array


def _encoded(data):
    return np.array(data, dtype=object)


@register_op("EncodePng", infer=lambda i, a: [((), dtypes.string)])
def _encode_png(image, compression=-1):
    array = _image_array(image, "EncodePng")
    level = 6 if compression == -1 else int(compression)
    if array.dtype == np.uint16 and array.shape[2] != 1:
        raise errors.UnimplementedError(
            None, None, "EncodePng: miniflow writes 16-bit PNGs with one channel only"
        )
    if array.dtype not in (np.uint8, np.uint16):
        raise errors.InvalidArgumentError(
            None, None, f"EncodePng: image must be uint8 or uint16, got {array.dtype}"
        )
    pil = _pil().fromarray(np.ascontiguousarray(array[:, :, 0] if array.shape[2] == 1 else array))
    out = io.BytesIO()
    pil.save(out, format="PNG", compress_level=level)
    return _encoded(out.getvalue())


@register_op("EncodeJpegVariableQuality", infer=lambda i, a: [((), dtypes.string)])
def _encode_jpeg_variable_quality(image, quality):
    quality = int(np.asarray(quality))
    if not 0 <= quality <= 100:
        raise errors.InvalidArgumentError(None, None, f"quality must be in [0,100], got {quality}")
    return _encode_jpeg(image, quality=quality)


@register_op("EncodeJpeg", infer=lambda i, a: [((), dtypes.string)])
def _encode_jpeg(
    image,
    format="",
    quality=95,
    progressive=False,
    optimize_size=False,  # noqa: A002
    chroma_downsampling=True,
):
    array = _image_array(image, "EncodeJpeg")
    if array.shape[2] not in (1, 3):
        raise errors.InvalidArgumentError(
            None, None, f"EncodeJpeg: image must have 1 or 3 channels, got {array.shape[2]}"
        )
    mode = {"grayscale": "L", "rgb": "RGB"}.get(format) or ("L" if array.shape[2] == 1 else "RGB")
    pil = _pil().fromarray(array[:, :, 0] if array.shape[2] == 1 else array)
    pil = pil.convert(mode)
    out = io.BytesIO()
    pil.save(
        out,
        format="JPEG",
        quality=int(quality),
        progressive=bool(progressive),
        optimize=bool(optimize_size),
        subsampling=2 if chroma_downsampling else 0,
    )
    return _encoded(out.getvalue())


@register_op("ExtractJpegShape", infer=lambda i, a: [((3,), a["output_type"])])
def _extract_jpeg_shape(contents, output_type=dtypes.int32):
    image = _open(_bytes(contents), "ExtractJpegShape")
    channels = {"L": 1, "RGB": 3, "CMYK": 4}.get(image.mode, len(image.getbands()))
    return np.array([image.height, image.width, channels], dtype=output_type.np)


def _is_jpeg(contents):
    return np.bool_(_bytes(contents)[:3] == b"\xff\xd8\xff")


register_op("IsJpeg", infer=lambda i, a: [((), dtypes.bool)])(_is_jpeg)


@register_op("DecodeAndCropJpeg", infer=_decoded(0))
def _decode_and_crop_jpeg(contents, crop_window, channels=0, ratio=1):
    image = _decode_jpeg(contents, channels=channels, ratio=ratio)
    y, x, h, w = (int(v) for v in np.asarray(crop_window).reshape(-1))
    if y < 0 or x < 0 or h <= 0 or w <= 0 or y + h > image.shape[0] or x + w > image.shape[1]:
        raise errors.InvalidArgumentError(
            None,
            None,
            f"Invalid JPEG data or crop window: crop window [{y}, {x}, {h}, {w}] "
            f"is not inside the {image.shape[0]}x{image.shape[1]} image",
        )
    return image[y : y + h, x : x + w]


not_differentiable(
    "DecodePng",
    "DecodeJpeg",
    "DecodeBmp",
    "DecodeGif",
    "EncodePng",
    "EncodeJpeg",
    "EncodeJpegVariableQuality",
    "ExtractJpegShape",
    "IsJpeg",
    "DecodeAndCropJpeg",
    "DecodeWebP",
)


def _string(contents):
    return _arr.convert_to_tensor(contents, dtype=dtypes.string, name="contents")


def decode_png(contents, channels=0, dtype=dtypes.uint8, name=None):
    """Decodes PNG bytes to a uint8 (or uint16) [height, width, channels] tensor."""
    dtype = dtypes.as_dtype(dtype)
    if dtype not in (dtypes.uint8, dtypes.uint16):
        raise TypeError(f"decode_png: dtype must be uint8 or uint16, got {dtype.name}")
    return apply_op(
        "DecodePng", _string(contents), channels=_check_channels(channels), dtype=dtype, name=name
    )


def decode_jpeg(
    contents,
    channels=0,
    ratio=1,
    fancy_upscaling=True,
    try_recover_truncated=False,
    acceptable_fraction=1,
    dct_method="",
    name=None,
):
    """Decodes JPEG bytes to a uint8 [height, width, channels] tensor."""
    if ratio not in (1, 2, 4, 8):
        raise ValueError(f"ratio must be 1, 2, 4 or 8, got {ratio}")
    return apply_op(
        "DecodeJpeg",
        _string(contents),
        channels=_check_channels(channels, (0, 1, 3)),
        ratio=ratio,
        name=name,
    )


def decode_bmp(contents, channels=0, name=None):
    """Decodes BMP bytes to a uint8 [height, width, channels] tensor."""
    return apply_op("DecodeBmp", _string(contents), channels=_check_channels(channels), name=name)


def decode_gif(contents, name=None):
    """Decodes (animated) GIF bytes to a uint8 [frames, height, width, 3] tensor."""
    return apply_op("DecodeGif", _string(contents), name=name)


def decode_webp(contents, channels=0, dtype=dtypes.uint8, name=None):
    """Decodes (animated) WebP bytes to [frames, height, width, 3 or 4]."""
    if dtypes.as_dtype(dtype) != dtypes.uint8:
        raise TypeError(f"decode_webp: miniflow decodes to uint8 only, got {dtype}")
    return apply_op(
        "DecodeWebP", _string(contents), channels=_check_channels(channels, (0, 3, 4)), name=name
    )


def encode_png(image, compression=-1, name=None):
    """PNG bytes of a uint8/uint16 [height, width, channels] image."""
    if not -1 <= int(compression) <= 9:
        raise ValueError(f"compression must be in [-1, 9], got {compression}")
    return apply_op("EncodePng", image, compression=int(compression), name=name)


def encode_jpeg(
    image,
    format="",
    quality=95,
    progressive=False,  # noqa: A002
    optimize_size=False,
    chroma_downsampling=True,
    density_unit="in",
    x_density=300,
    y_density=300,
    xmp_metadata="",
    name=None,
):
    """JPEG bytes of a uint8 [height, width, 1 or 3] image."""
    if format not in ("", "grayscale", "rgb"):
        raise ValueError(f"format must be '', 'grayscale' or 'rgb', got {format!r}")
    image = _arr.convert_to_tensor(image, name="image")
    if image.dtype != dtypes.uint8:
        raise TypeError(f"encode_jpeg takes a uint8 image, got {image.dtype.name}")
    return apply_op(
        "EncodeJpeg",
        image,
        format=format,
        quality=int(quality),
        progressive=bool(progressive),
        optimize_size=bool(optimize_size),
        chroma_downsampling=bool(chroma_downsampling),
        name=name,
    )


def decode_and_crop_jpeg(
    contents,
    crop_window,
    channels=0,
    ratio=1,
    fancy_upscaling=True,
    try_recover_truncated=False,
    acceptable_fraction=1,
    dct_method="",
    name=None,
):
    """The ``crop_window`` [y, x, height, width] of the decoded JPEG ``contents``."""
    return apply_op(
        "DecodeAndCropJpeg",
        _string(contents),
        _arr.convert_to_tensor(crop_window, dtype=dtypes.int32),
        channels=_check_channels(channels, (0, 1, 3)),
        ratio=ratio,
        name=name,
    )


def adjust_jpeg_quality(image, jpeg_quality, dct_method="", name=None):
    """``image`` after a JPEG round trip at ``jpeg_quality`` (0-100), in its own dtype."""
    with name_scope(name, "adjust_jpeg_quality"):
        image = _arr.convert_to_tensor(image, name="image")
        d = dims(image)
        if d is None or len(d) != 3 or d[-1] not in (1, 3):
            raise ValueError(
                f"adjust_jpeg_quality takes a [height, width, 1 or 3] image, got shape {d}"
            )
        orig = image.dtype
        image = convert_image_dtype(image, dtypes.uint8, saturate=True)
        data = apply_op(
            "EncodeJpegVariableQuality",
            image,
            _arr.convert_to_tensor(jpeg_quality, dtype=dtypes.int32),
        )
        decoded = apply_op("DecodeJpeg", data, channels=d[-1], ratio=1)
        return convert_image_dtype(decoded, orig, saturate=True)


def random_jpeg_quality(image, min_jpeg_quality, max_jpeg_quality, seed=None):
    """`adjust_jpeg_quality` at a quality drawn uniformly from [min, max)."""
    if not 0 <= min_jpeg_quality < max_jpeg_quality <= 100:
        raise ValueError("jpeg_quality must be in [0, 100] and min_jpeg_quality < max_jpeg_quality")
    quality = _random.random_uniform(
        [], min_jpeg_quality, max_jpeg_quality, seed=seed, dtype=dtypes.int32
    )
    return adjust_jpeg_quality(image, quality)


def is_jpeg(contents, name=None):
    """True when ``contents`` starts with the JPEG magic bytes."""
    return apply_op("IsJpeg", _string(contents), name=name)


def extract_jpeg_shape(contents, output_type=dtypes.int32, name=None):
    """[height, width, channels] of JPEG bytes, read from the header."""
    return apply_op(
        "ExtractJpegShape", _string(contents), output_type=dtypes.as_dtype(output_type), name=name
    )


def _decode_image_infer(inputs, attrs):
    _decoded(0)(inputs, attrs)
    if attrs["expand_animations"]:
        return [(None, dtypes.uint8)]  # GIFs decode to 4-D
    return [((None, None, attrs["channels"] or None), dtypes.uint8)]


@register_op("DecodeImage", infer=_decode_image_infer)
def _decode_image(contents, channels=0, expand_animations=True):
    data = _bytes(contents)
    image = _open(data, "DecodeImage")
    if image.format == "GIF":
        if channels not in (0, 3):
            raise errors.InvalidArgumentError(
                None, None, f"channels must be 0 or 3 for GIF, got {channels}"
            )
        frames = _decode_gif(np.array(data, dtype=object))
        return frames if expand_animations else frames[0]
    if image.format not in ("PNG", "JPEG", "BMP"):
        raise errors.InvalidArgumentError(
            None, None, "Unknown image file format. One of JPEG, PNG, GIF, BMP required."
        )
    return _to_array(image, channels)


not_differentiable("DecodeImage")


def decode_image(contents, channels=None, dtype=dtypes.uint8, name=None, expand_animations=True):
    """Decodes BMP, GIF, JPEG or PNG bytes (detected from the data); GIFs are 4-D
    unless ``expand_animations`` is False. A float ``dtype`` rescales to [0, 1]."""
    with name_scope(name, "decode_image"):
        out = apply_op(
            "DecodeImage",
            _string(contents),
            channels=_check_channels(channels or 0),
            expand_animations=bool(expand_animations),
        )
        dtype = dtypes.as_dtype(dtype)
        return out if dtype == dtypes.uint8 else convert_image_dtype(out, dtype)
