"""The array ops of TF's `array_ops` module, defined by family in `constant_ops`,
`shaping_ops`, `concat_split_ops`, `slicing_ops` and `selection_ops` and re-exported here
(``from miniflow.ops import array_ops as _arr`` is how other modules use them).
"""

from miniflow.ops.arithmetic_ops import (
    clip_by_value as clip_by_value,
)
from miniflow.ops.concat_split_ops import (
    concat as concat,
    split as split,
    stack as stack,
    unstack as unstack,
)
from miniflow.ops.constant_ops import (
    _const_value as _const_value,
    _shape_from_tensor as _shape_from_tensor,
    cast as cast,
    constant as constant,
    convert_pair as convert_pair,
    convert_to_tensor as convert_to_tensor,
    get_static_value as get_static_value,
    identity as identity,
    ones_like as ones_like,
    placeholder as placeholder,
    placeholder_with_default as placeholder_with_default,
    range as range,
    stop_gradient as stop_gradient,
    to_double as to_double,
    to_float as to_float,
    to_int32 as to_int32,
    to_int64 as to_int64,
    zeros_like as zeros_like,
)
from miniflow.ops.selection_ops import (
    argmax as argmax,
    argmin as argmin,
    one_hot as one_hot,
    where as where,
    where_v1 as where_v1,
    where_v2 as where_v2,
)
from miniflow.ops.shaping_ops import (
    _int_tensor as _int_tensor,
    broadcast_to as broadcast_to,
    expand_dims as expand_dims,
    fill as fill,
    ones as ones,
    pad as pad,
    rank as rank,
    reshape as reshape,
    shape as shape,
    size as size,
    squeeze as squeeze,
    tile as tile,
    transpose as transpose,
    zeros as zeros,
)
from miniflow.ops.slicing_ops import (
    _as_index as _as_index,
    boolean_mask as boolean_mask,
    gather as gather,
    getitem as getitem,
    slice as slice,
    strided_slice as strided_slice,
)
