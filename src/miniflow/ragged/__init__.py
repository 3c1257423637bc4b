"""`tf.ragged`: ragged tensors (rows of different lengths) and the operations on them.

TF applies `tf.reduce_sum`, `tf.concat`, `tf.gather`, ... to RaggedTensors through its
dispatch mechanism; miniflow offers the same operations here under the same names
(`tf.ragged.reduce_sum(rt, axis=1)`), see docs/ragged.md.
"""

from miniflow.ops.ragged_array_ops import (  # noqa: F401
    row_splits_to_segment_ids as row_splits_to_segment_ids,
    segment_ids_to_row_splits as segment_ids_to_row_splits,
)
from miniflow.ragged import ragged_dispatch  # noqa: F401  (tf.reduce_sum(rt), ... )
from miniflow.ragged.ragged_factory import (  # noqa: F401
    RaggedTensorSpec as RaggedTensorSpec,
    constant as constant,
    constant_value as constant_value,
    cross as cross,
    cross_hashed as cross_hashed,
    ragged_range as range,
    stack_dynamic_partitions as stack_dynamic_partitions,
)
from miniflow.ragged.ragged_ops import (  # noqa: F401
    boolean_mask as boolean_mask,
    concat as concat,
    convert_to_tensor_or_ragged_tensor as convert_to_tensor_or_ragged_tensor,
    gather as gather,
    map_flat_values as map_flat_values,
    reduce_all as reduce_all,
    reduce_any as reduce_any,
    reduce_max as reduce_max,
    reduce_mean as reduce_mean,
    reduce_min as reduce_min,
    reduce_prod as reduce_prod,
    reduce_sum as reduce_sum,
    stack as stack,
)
from miniflow.ragged.ragged_session import placeholder as placeholder  # noqa: F401
from miniflow.ragged.ragged_tensor import RaggedTensor as RaggedTensor  # noqa: F401
from miniflow.ragged.ragged_value import RaggedTensorValue as RaggedTensorValue  # noqa: F401
