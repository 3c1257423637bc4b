"""`tf.math`: element-wise math, reductions and comparisons, as TF 1.15 exposes them."""

from miniflow.ops.array_ops import argmax as argmax  # noqa: F401
from miniflow.ops.array_ops import argmin as argmin
from miniflow.ops.math_ops import (
    abs as abs,  # noqa: A004
    add as add,
    add_n as add_n,
    ceil as ceil,
    cos as cos,
    divide as divide,
    equal as equal,
    exp as exp,
    expm1 as expm1,
    floor as floor,
    floordiv as floordiv,
    floormod as floormod,
    greater as greater,
    greater_equal as greater_equal,
    is_finite as is_finite,
    is_inf as is_inf,
    is_nan as is_nan,
    less as less,
    less_equal as less_equal,
    log as log,
    log1p as log1p,
    logical_and as logical_and,
    logical_not as logical_not,
    logical_or as logical_or,
    logical_xor as logical_xor,
    maximum as maximum,
    minimum as minimum,
    mod as mod,
    multiply as multiply,
    negative as negative,
    not_equal as not_equal,
    pow as pow,  # noqa: A004
    reciprocal as reciprocal,
    reduce_all as reduce_all,
    reduce_any as reduce_any,
    reduce_max as reduce_max,
    reduce_mean as reduce_mean,
    reduce_min as reduce_min,
    reduce_prod as reduce_prod,
    reduce_sum as reduce_sum,
    round as round,  # noqa: A004
    rsqrt as rsqrt,
    sigmoid as sigmoid,
    sign as sign,
    sin as sin,
    sqrt as sqrt,
    square as square,
    squared_difference as squared_difference,
    subtract as subtract,
    tan as tan,
    tanh as tanh,
    truediv as truediv,
)
from miniflow.ops.nn_ops import (
    div_no_nan as divide_no_nan,
    in_top_k as in_top_k,
    l2_normalize as l2_normalize,
    log_sigmoid as log_sigmoid,
    log_softmax as log_softmax,
    reduce_logsumexp as reduce_logsumexp,
    softmax as softmax,
    softplus as softplus,
    softsign as softsign,
    top_k as top_k,
)
from miniflow.ops.composite_math_ops import (
    accumulate_n as accumulate_n,
    bincount as bincount,
    confusion_matrix as confusion_matrix,
    count_nonzero as count_nonzero,
    is_non_decreasing as is_non_decreasing,
    is_strictly_increasing as is_strictly_increasing,
    polyval as polyval,
    reduce_euclidean_norm as reduce_euclidean_norm,
    reduce_std as reduce_std,
    reduce_variance as reduce_variance,
    scalar_mul as scalar_mul,
)
from miniflow.ops.index_ops import invert_permutation as invert_permutation
from miniflow.ops.nn_compose_ops import zero_fraction as zero_fraction
from miniflow.ops.safe_math_ops import (
    multiply_no_nan as multiply_no_nan,
    nextafter as nextafter,
    reciprocal_no_nan as reciprocal_no_nan,
    rint as rint,
    xdivy as xdivy,
    xlog1py as xlog1py,
    xlogy as xlogy,
)
from miniflow.ops.scan_ops import (
    cumprod as cumprod,
    cumsum as cumsum,
    cumulative_logsumexp as cumulative_logsumexp,
)
from miniflow.ops.segment_ops import (
    segment_max as segment_max,
    segment_mean as segment_mean,
    segment_min as segment_min,
    segment_prod as segment_prod,
    unsorted_segment_max as unsorted_segment_max,
    unsorted_segment_mean as unsorted_segment_mean,
    unsorted_segment_min as unsorted_segment_min,
    unsorted_segment_prod as unsorted_segment_prod,
    unsorted_segment_sqrt_n as unsorted_segment_sqrt_n,
)
from miniflow.ops.sparse_ops import (
    segment_sum as segment_sum,
    unsorted_segment_sum as unsorted_segment_sum,
)
from miniflow.ops.special_math_ops import (
    bessel_i0 as bessel_i0,
    bessel_i0e as bessel_i0e,
    bessel_i1 as bessel_i1,
    bessel_i1e as bessel_i1e,
    betainc as betainc,
    digamma as digamma,
    erf as erf,
    erfc as erfc,
    erfcinv as erfcinv,
    erfinv as erfinv,
    igamma as igamma,
    igammac as igammac,
    lbeta as lbeta,
    lgamma as lgamma,
    ndtri as ndtri,
    polygamma as polygamma,
    zeta as zeta,
)
from miniflow.ops.trig_ops import (
    acos as acos,
    acosh as acosh,
    asin as asin,
    asinh as asinh,
    atan as atan,
    atan2 as atan2,
    atanh as atanh,
    cosh as cosh,
    sinh as sinh,
)
from miniflow.ops.complex_ops import (
    angle as angle,
    conj as conj,
    imag as imag,
    real as real,
)
from miniflow.ops.sort_ops import approx_max_k as approx_max_k
from miniflow.ops.sort_ops import approx_min_k as approx_min_k

from miniflow import math_special as special  # noqa: E402
from miniflow.ops.sobol_ops import sobol_sample as sobol_sample  # noqa: E402
