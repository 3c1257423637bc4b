"""`tf.initializers`: TF1's initializer namespace (the same objects as the top-level
``*_initializer`` names)."""

from miniflow.ops.init_ops import Constant as constant  # noqa: F401
from miniflow.ops.init_ops import Ones as ones  # noqa: F401
from miniflow.ops.init_ops import RandomNormal as random_normal  # noqa: F401
from miniflow.ops.init_ops import RandomUniform as random_uniform  # noqa: F401
from miniflow.ops.init_ops import TruncatedNormal as truncated_normal  # noqa: F401
from miniflow.ops.init_ops import VarianceScaling as variance_scaling  # noqa: F401
from miniflow.ops.init_ops import Zeros as zeros  # noqa: F401
from miniflow.ops.init_ops import glorot_normal_initializer as glorot_normal  # noqa: F401
from miniflow.ops.init_ops import glorot_uniform_initializer as glorot_uniform  # noqa: F401
from miniflow.ops.init_ops import he_normal as he_normal  # noqa: F401
from miniflow.ops.init_ops import he_uniform as he_uniform  # noqa: F401
from miniflow.ops.more_init_ops import Identity as identity  # noqa: F401
from miniflow.ops.more_init_ops import UniformUnitScaling as uniform_unit_scaling  # noqa: F401
from miniflow.ops.more_init_ops import lecun_normal as lecun_normal  # noqa: F401
from miniflow.ops.more_init_ops import lecun_uniform as lecun_uniform  # noqa: F401
from miniflow.ops.orthogonal_init import Orthogonal as orthogonal  # noqa: F401
from miniflow.ops.variables import global_variables_initializer as global_variables  # noqa: F401
from miniflow.ops.variables import local_variables_initializer as local_variables  # noqa: F401
from miniflow.ops.variables import variables_initializer as variables  # noqa: F401
from miniflow.ops.lookup_ops import tables_initializer as tables_initializer  # noqa: F401
