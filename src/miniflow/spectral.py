"""`tf.spectral`: TF1's older name of the FFT part of `tf.signal` (the same functions)."""

from miniflow.signal import (
    dct as dct,  # noqa: F401
    fft as fft,  # noqa: F401
    fft2d as fft2d,  # noqa: F401
    fft3d as fft3d,  # noqa: F401
    idct as idct,  # noqa: F401
    ifft as ifft,  # noqa: F401
    ifft2d as ifft2d,  # noqa: F401
    ifft3d as ifft3d,  # noqa: F401
    irfft as irfft,  # noqa: F401
    irfft2d as irfft2d,  # noqa: F401
    irfft3d as irfft3d,  # noqa: F401
    rfft as rfft,  # noqa: F401
    rfft2d as rfft2d,  # noqa: F401
    rfft3d as rfft3d,  # noqa: F401
)
