"""Writes ``tf_reference.npz``: real TensorFlow's outputs for every case in `cases.py`.

Run from the repository root in the benchmark environment (it has TensorFlow and Pillow):
``benchmarks/.venv-bench/bin/python tests/image/make_tf_reference.py``.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import numpy as np
import tensorflow.compat.v1 as tf
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from tests.image.cases import (
    BOX_GRAD_BOXES,
    BOX_GRAD_CASES,
    CASES,
    CODEC_IMAGES,
    GRAD_CASES,
    IMG4,
    cotangent,
)

tf.disable_eager_execution()
OUT = Path(__file__).with_name("tf_reference.npz")


def _bytes(data: bytes) -> np.ndarray:
    return np.frombuffer(data, np.uint8)


def main():
    ref = {}
    with tf.Graph().as_default(), tf.Session() as sess:
        for key, fn, args, kwargs in CASES:
            args = [tf.constant(a) if isinstance(a, np.ndarray) else a for a in args]
            out = getattr(tf.image, fn)(*args, **kwargs)
            outs = out if isinstance(out, (tuple, list)) else [out]
            for i, value in enumerate(sess.run(list(outs))):
                ref[f"{key}/{i}"] = np.asarray(value)
        for key, fn, args, kwargs in GRAD_CASES:
            x = tf.constant(args[0])
            rest = [tf.constant(a) if isinstance(a, np.ndarray) else a for a in args[1:]]
            out = getattr(tf.image, fn)(x, *rest, **kwargs)
            loss = tf.reduce_sum(out * cotangent(sess.run(out).shape))
            try:
                ref[f"{key}/grad"] = sess.run(tf.gradients(loss, x)[0])
            except LookupError:  # TF has no gradient for this op (miniflow has one)
                ref[f"{key}/nograd"] = np.array(True)
        for key, kwargs in BOX_GRAD_CASES:
            boxes = tf.constant(BOX_GRAD_BOXES)
            out = tf.image.crop_and_resize(tf.constant(IMG4), boxes, [0, 1, 1, 0], **kwargs)
            loss = tf.reduce_sum(out * cotangent(sess.run(out).shape))
            ref[f"{key}/grad"] = sess.run(tf.gradients(loss, boxes)[0])
        for name, image in CODEC_IMAGES.items():
            png = sess.run(tf.image.encode_png(image))
            ref[f"codec/{name}/png"] = _bytes(png)
            channels = [0, 1, 3, 4] if name != "gray" else [0, 1, 3]
            for c in channels:
                ref[f"codec/{name}/png_c{c}"] = sess.run(tf.image.decode_png(png, channels=c))
            if image.shape[2] in (1, 3):
                jpeg = sess.run(tf.image.encode_jpeg(image))
                ref[f"codec/{name}/jpeg"] = _bytes(jpeg)
                accurate = dict(dct_method="INTEGER_ACCURATE")
                for c in (0, 1, 3):
                    ref[f"codec/{name}/jpeg_c{c}"] = sess.run(
                        tf.image.decode_jpeg(jpeg, channels=c, **accurate)
                    )
                ref[f"codec/{name}/jpeg_crop"] = sess.run(
                    tf.image.decode_and_crop_jpeg(jpeg, [1, 2, 3, 2], **accurate)
                )
                ref[f"codec/{name}/jpeg_default"] = sess.run(tf.image.decode_jpeg(jpeg))
                for r in (2, 4):
                    ref[f"codec/{name}/jpeg_ratio{r}"] = sess.run(
                        tf.image.decode_jpeg(jpeg, ratio=r, **accurate)
                    )
                ref[f"codec/{name}/jpeg_shape"] = sess.run(tf.image.extract_jpeg_shape(jpeg))
                ref[f"codec/{name}/is_jpeg"] = sess.run(tf.image.is_jpeg(jpeg))
                ref[f"codec/{name}/png_is_jpeg"] = sess.run(tf.image.is_jpeg(png))
            if image.shape[2] == 3:
                buf = io.BytesIO()
                Image.fromarray(image).save(buf, format="WEBP", quality=80)
                ref[f"codec/{name}/webp"] = _bytes(buf.getvalue())
                ref[f"codec/{name}/webp_decoded"] = sess.run(tf.image.decode_webp(buf.getvalue()))
                for fmt in ("BMP", "GIF"):
                    buf = io.BytesIO()
                    frames = [Image.fromarray(image), Image.fromarray(image[::-1])]
                    if fmt == "GIF":
                        frames[0].save(buf, format=fmt, save_all=True, append_images=frames[1:])
                        decoded = tf.image.decode_gif(buf.getvalue())
                    else:
                        frames[0].save(buf, format=fmt)
                        decoded = tf.image.decode_bmp(buf.getvalue())
                    ref[f"codec/{name}/{fmt.lower()}"] = _bytes(buf.getvalue())
                    ref[f"codec/{name}/{fmt.lower()}_decoded"] = sess.run(decoded)
                    ref[f"codec/{name}/{fmt.lower()}_image"] = sess.run(
                        tf.image.decode_image(buf.getvalue())
                    )
    np.savez_compressed(OUT, **ref)
    print(f"wrote {len(ref)} arrays to {OUT}")


if __name__ == "__main__":
    main()
