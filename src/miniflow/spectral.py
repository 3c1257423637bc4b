"""`tf.spectral`: TF1's older name of the FFT part of `tf.signal` (the same functions)."""

from miniflow.signal import dct as dct  # noqa: F401
from miniflow.signal import fft as fft  # noqa: F401
from miniflow.signal import fft2d as fft2d  # noqa: F401
from miniflow.signal import fft3d as fft3d  # noqa: F401
from miniflow.signal import idct as idct  # noqa: F401
from miniflow.signal import ifft as ifft  # noqa: F401
from miniflow.signal import ifft2d as ifft2d  # noqa: F401
from miniflow.signal import ifft3d as ifft3d  # noqa: F401
from miniflow.signal import irfft as irfft  # noqa: F401
from miniflow.signal import irfft2d as irfft2d  # noqa: F401
from miniflow.signal import irfft3d as irfft3d  # noqa: F401
from miniflow.signal import rfft as rfft  # noqa: F401
from miniflow.signal import rfft2d as rfft2d  # noqa: F401
from miniflow.signal import rfft3d as rfft3d  # noqa: F401
