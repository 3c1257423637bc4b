"""`tf.initializers`: TF1's initializer namespace (the same objects as the top-level
``*_initializer`` names)."""

from miniflow.ops.init_ops import (
    Constant as constant,  # noqa: F401
    Ones as ones,  # noqa: F401
    RandomNormal as random_normal,  # noqa: F401
    RandomUniform as random_uniform,  # noqa: F401
    TruncatedNormal as truncated_normal,  # noqa: F401
    VarianceScaling as variance_scaling,  # noqa: F401
    Zeros as zeros,  # noqa: F401
    glorot_normal_initializer as glorot_normal,  # noqa: F401
    glorot_uniform_initializer as glorot_uniform,  # noqa: F401
    he_normal as he_normal,  # noqa: F401
    he_uniform as he_uniform,  # noqa: F401
)
from miniflow.ops.lookup_ops import tables_initializer as tables_initializer  # noqa: F401
from miniflow.ops.more_init_ops import (
    Identity as identity,  # noqa: F401
    UniformUnitScaling as uniform_unit_scaling,  # noqa: F401
    lecun_normal as lecun_normal,  # noqa: F401
    lecun_uniform as lecun_uniform,  # noqa: F401
)
from miniflow.ops.orthogonal_init import Orthogonal as orthogonal  # noqa: F401
from miniflow.ops.variables import (
    global_variables_initializer as global_variables,  # noqa: F401
    local_variables_initializer as local_variables,  # noqa: F401
    variables_initializer as variables,  # noqa: F401
)
