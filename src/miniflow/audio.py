"""`tf.audio`: WAV files (16-bit PCM) to float32 samples and back."""

from miniflow.ops.audio_ops import (
    decode_wav as decode_wav,  # noqa: F401
    encode_wav as encode_wav,  # noqa: F401
)
