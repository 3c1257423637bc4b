"""`tf.math.sobol_sample`: points of the Sobol low-discrepancy sequence (Gray-code order,
the all-zero first point skipped, as TF), from the Joe-Kuo direction numbers of the first
dimensions."""

from __future__ import annotations

import numpy as np

from miniflow import dtypes
from miniflow.core.dispatch import apply_op
from miniflow.core.registry import not_differentiable, register_op

# (s, a, m_1..m_s) of dimensions 2, 3, ... (Joe & Kuo, new-joe-kuo-6.21201)
_JOE_KUO = [
    (1, 0, [1]),
    (2, 1, [1, 3]),
    (3, 1, [1, 3, 1]),
    (3, 2, [1, 1, 1]),
    (4, 1, [1, 1, 3, 3]),
    (4, 4, [1, 3, 5, 13]),
    (5, 2, [1, 1, 5, 5, 17]),
    (5, 4, [1, 1, 5, 5, 5]),
    (5, 7, [1, 1, 7, 11, 19]),
    (5, 11, [1, 1, 5, 1, 1]),
    (5, 13, [1, 1, 1, 3, 11]),
    (5, 14, [1, 3, 5, 5, 31]),
    (6, 1, [1, 3, 3, 9, 7, 49]),
    (6, 13, [1, 1, 1, 15, 21, 21]),
    (6, 16, [1, 3, 1, 13, 27, 49]),
    (6, 19, [1, 1, 1, 15, 7, 5]),
    (6, 22, [1, 3, 1, 15, 13, 25]),
    (6, 25, [1, 1, 5, 5, 19, 61]),
    (7, 1, [1, 3, 7, 11, 23, 15, 103]),
    (7, 4, [1, 3, 7, 13, 13, 15, 69]),
]
MAX_DIM = len(_JOE_KUO) + 1
_BITS = 32


def _directions(dim):
    """[dim, BITS] direction numbers V_k scaled to 2^BITS."""
    v = np.zeros((dim, _BITS), dtype=np.uint64)
    v[0] = [1 << (_BITS - k) for k in range(1, _BITS + 1)]
    for j in range(1, dim):
        s, a, m = _JOE_KUO[j - 1]
        for k in range(1, _BITS + 1):
            if k <= s:
                v[j, k - 1] = m[k - 1] << (_BITS - k)
            else:
                value = int(v[j, k - s - 1]) ^ (int(v[j, k - s - 1]) >> s)
                for i in range(1, s):
                    if (a >> (s - 1 - i)) & 1:
                        value ^= int(v[j, k - i - 1])
                v[j, k - 1] = value
    return v


@register_op("SobolSample", infer=lambda i, a: [((a["num_results"], a["dim"]), a["dtype"])])
def _sobol(dim=1, num_results=1, skip=0, dtype=dtypes.float32):
    v = _directions(dim)
    n_total = skip + num_results
    x = np.zeros(dim, dtype=np.uint64)
    out = np.empty((num_results, dim), dtype=np.float64)
    for n in range(1, n_total + 1):
        c = (~(n - 1) & n).bit_length()  # 1 + the lowest zero bit of n - 1
        x ^= v[:, c - 1]
        if n > skip:
            out[n - skip - 1] = x / float(1 << _BITS)
    return out.astype(dtypes.as_dtype(dtype).np)


not_differentiable("SobolSample")


def sobol_sample(dim, num_results, skip=0, dtype=dtypes.float32, name=None):
    """[num_results, dim] Sobol points in [0, 1)^dim (dim <= 21 for now)."""
    dim, num_results, skip = int(dim), int(num_results), int(skip)
    if not 1 <= dim <= MAX_DIM:
        raise ValueError(
            f"sobol_sample supports 1 <= dim <= {MAX_DIM} (the direction "
            f"numbers miniflow ships), got dim={dim}"
        )
    if num_results < 0 or skip < 0:
        raise ValueError(f"num_results and skip must be >= 0, got {num_results}, {skip}")
    return apply_op(
        "SobolSample",
        dim=dim,
        num_results=num_results,
        skip=skip,
        dtype=dtypes.as_dtype(dtype),
        name=name,
    )
