"""miniflow: a TensorFlow-1.x-compatible library on NumPy. ``import miniflow as tf``.

This module is the public TF1 namespace: explicit re-exports only.
"""

# The graph front end registers itself first; then the op definitions register theirs.
from miniflow.graph import builder as _builder  # noqa: F401
from miniflow.ops import array_ops as _array_ops
from miniflow.ops import math_ops as _math_ops
from miniflow.ops import operators as _operators
from miniflow.ops import state_ops as _state_ops  # noqa: F401
from miniflow.graph.operation import Tensor as Tensor
from miniflow.graph.operation import Operation as Operation
from miniflow.ops.variables import Variable as Variable

_operators.install(Tensor)
_operators.install(Variable)

from miniflow import dtypes as _dtypes  # noqa: E402
from miniflow import errors as errors  # noqa: E402
from miniflow import nn as nn  # noqa: E402
from miniflow import train as train  # noqa: E402
from miniflow.core.indexed_slices import IndexedSlices as IndexedSlices  # noqa: E402
from miniflow.core.indexed_slices import IndexedSlicesValue as IndexedSlicesValue  # noqa: E402
from miniflow.core.registry import register_gradient as _register_gradient  # noqa: E402
from miniflow.core.shapes import Dimension as Dimension  # noqa: E402
from miniflow.core.shapes import TensorShape as TensorShape  # noqa: E402
from miniflow.dtypes import DType as DType  # noqa: E402
from miniflow.dtypes import as_dtype as as_dtype  # noqa: E402
from miniflow.dtypes import (  # noqa: E402
    bool as bool,  # noqa: A004
    complex64 as complex64,
    complex128 as complex128,
    double as double,
    float16 as float16,
    float32 as float32,
    float64 as float64,
    half as half,
    int8 as int8,
    int16 as int16,
    int32 as int32,
    int64 as int64,
    string as string,
    uint8 as uint8,
    uint16 as uint16,
)
from miniflow.extend import RegisterGradient as RegisterGradient  # noqa: E402
from miniflow.extend import NotDifferentiable as NotDifferentiable  # noqa: E402
from miniflow.graph.gradients import gradients as gradients  # noqa: E402
from miniflow.graph.graph import Graph as Graph  # noqa: E402
from miniflow.graph.graph import GraphKeys as GraphKeys  # noqa: E402
from miniflow.graph.graph import get_default_graph as get_default_graph  # noqa: E402
from miniflow.graph.graph import reset_default_graph as reset_default_graph  # noqa: E402
from miniflow.graph.session import InteractiveSession as InteractiveSession  # noqa: E402
from miniflow.graph.session import Session as Session  # noqa: E402
from miniflow.graph.session import get_default_session as get_default_session  # noqa: E402
from miniflow.ops.array_ops import (  # noqa: E402
    argmax as argmax,
    argmin as argmin,
    boolean_mask as boolean_mask,
    broadcast_to as broadcast_to,
    cast as cast,
    clip_by_value as clip_by_value,
    concat as concat,
    constant as constant,
    convert_to_tensor as convert_to_tensor,
    expand_dims as expand_dims,
    fill as fill,
    gather as gather,
    get_static_value as get_static_value,
    identity as identity,
    one_hot as one_hot,
    ones as ones,
    ones_like as ones_like,
    pad as pad,
    placeholder as placeholder,
    placeholder_with_default as placeholder_with_default,
    range as range,  # noqa: A004
    rank as rank,
    reshape as reshape,
    shape as shape,
    size as size,
    slice as slice,  # noqa: A004
    split as split,
    squeeze as squeeze,
    stack as stack,
    stop_gradient as stop_gradient,
    strided_slice as strided_slice,
    tile as tile,
    to_double as to_double,
    to_float as to_float,
    to_int32 as to_int32,
    to_int64 as to_int64,
    transpose as transpose,
    unstack as unstack,
    where as where,
    where_v2 as where_v2,
    zeros as zeros,
    zeros_like as zeros_like,
)
from miniflow.ops.control_flow_ops import (  # noqa: E402
    control_dependencies as control_dependencies,
    group as group,
    name_scope as name_scope,
    no_op as no_op,
    tuple as tuple,  # noqa: A004
)
from miniflow.ops.init_ops import (  # noqa: E402
    constant_initializer as constant_initializer,
    glorot_normal_initializer as glorot_normal_initializer,
    glorot_uniform_initializer as glorot_uniform_initializer,
    ones_initializer as ones_initializer,
    random_normal_initializer as random_normal_initializer,
    random_uniform_initializer as random_uniform_initializer,
    truncated_normal_initializer as truncated_normal_initializer,
    variance_scaling_initializer as variance_scaling_initializer,
    zeros_initializer as zeros_initializer,
)
from miniflow.ops.math_ops import (  # noqa: E402
    abs as abs,  # noqa: A004
    add as add,
    add_n as add_n,
    ceil as ceil,
    cos as cos,
    div as div,
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
    matmul as matmul,
    maximum as maximum,
    minimum as minimum,
    mod as mod,
    multiply as multiply,
    negative as negative,
    not_equal as not_equal,
    pow as pow,  # noqa: A004
    realdiv as realdiv,
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
from miniflow.ops.random_ops import (  # noqa: E402
    random_normal as random_normal,
    random_shuffle as random_shuffle,
    random_uniform as random_uniform,
    set_random_seed as set_random_seed,
    truncated_normal as truncated_normal,
)
from miniflow.ops.state_ops import (  # noqa: E402
    assign as assign,
    assign_add as assign_add,
    assign_sub as assign_sub,
    is_variable_initialized as is_variable_initialized,
)
from miniflow.ops.variable_scope import AUTO_REUSE as AUTO_REUSE  # noqa: E402
from miniflow.ops.variable_scope import VariableScope as VariableScope  # noqa: E402
from miniflow.ops.variable_scope import get_variable as get_variable  # noqa: E402
from miniflow.ops.variable_scope import get_variable_scope as get_variable_scope  # noqa: E402
from miniflow.ops.variable_scope import variable_scope as variable_scope  # noqa: E402
from miniflow.ops.variables import (  # noqa: E402
    all_variables as all_variables,
    global_variables as global_variables,
    global_variables_initializer as global_variables_initializer,
    initialize_all_variables as initialize_all_variables,
    local_variables as local_variables,
    local_variables_initializer as local_variables_initializer,
    model_variables as model_variables,
    trainable_variables as trainable_variables,
    variables_initializer as variables_initializer,
)


def add_to_collection(name, value):
    """Adds ``value`` to the default graph's collection ``name``."""
    get_default_graph().add_to_collection(name, value)


def add_to_collections(names, value):
    get_default_graph().add_to_collections(names, value)


def get_collection(key, scope=None):
    """The items of the default graph's collection ``key`` (filtered by ``scope``)."""
    return get_default_graph().get_collection(key, scope)


def get_collection_ref(key):
    return get_default_graph().get_collection_ref(key)


def gradient_override_map(op_type_map):
    return get_default_graph().gradient_override_map(op_type_map)


newaxis = None
__version__ = "0.1.0"
VERSION = "1.15.0-miniflow"


# -- Training and sparse (issue 5): clipping, sparse tensors, scatter ops ----------------
from miniflow.ops.clip_ops import (  # noqa: E402
    clip_by_global_norm as clip_by_global_norm,
    clip_by_norm as clip_by_norm,
    global_norm as global_norm,
)
from miniflow import sparse as sparse  # noqa: E402
from miniflow.ops.sparse_ops import (  # noqa: E402
    SparseTensor as SparseTensor,
    SparseTensorValue as SparseTensorValue,
    segment_sum as segment_sum,
    sparse_add as sparse_add,
    sparse_placeholder as sparse_placeholder,
    sparse_reduce_sum as sparse_reduce_sum,
    sparse_reorder as sparse_reorder,
    sparse_tensor_dense_matmul as sparse_tensor_dense_matmul,
    sparse_tensor_to_dense as sparse_tensor_to_dense,
    sparse_to_dense as sparse_to_dense,
    unsorted_segment_sum as unsorted_segment_sum,
)
from miniflow.train.moving_averages import (  # noqa: E402
    moving_average_variables as moving_average_variables,
)
from miniflow.ops.scatter_ops import (  # noqa: E402
    scatter_add as scatter_add,
    scatter_div as scatter_div,
    scatter_max as scatter_max,
    scatter_min as scatter_min,
    scatter_mul as scatter_mul,
    scatter_nd_add as scatter_nd_add,
    scatter_nd_sub as scatter_nd_sub,
    scatter_nd_update as scatter_nd_update,
    scatter_sub as scatter_sub,
    scatter_update as scatter_update,
)

# -- Eager execution and the neural-network API (issue 4) ---------------------------------
from miniflow.eager.tensor import EagerTensor as _EagerTensor  # noqa: E402

_operators.install(_EagerTensor)

from miniflow.eager.context import eager_mode as eager_mode  # noqa: E402
from miniflow.eager.context import enable_eager_execution as enable_eager_execution  # noqa: E402
from miniflow.eager.context import disable_eager_execution as disable_eager_execution  # noqa: E402
from miniflow.eager.context import executing_eagerly as executing_eagerly  # noqa: E402
from miniflow.eager.context import graph_mode as graph_mode  # noqa: E402
from miniflow.eager.tape import GradientTape as GradientTape  # noqa: E402
from miniflow import math as math  # noqa: E402
from miniflow import random as random  # noqa: E402
from miniflow.ops.nn_ops import div_no_nan as div_no_nan  # noqa: E402
from miniflow.ops.nn_ops import log_sigmoid as log_sigmoid  # noqa: E402
from miniflow.ops.nn_ops import reduce_logsumexp as reduce_logsumexp  # noqa: E402
from miniflow import linalg as linalg  # noqa: E402
from miniflow.ops.linalg_ops import cholesky as cholesky  # noqa: E402
from miniflow.ops.linalg_ops import eye as eye  # noqa: E402
from miniflow.ops.linalg_ops import matrix_band_part as matrix_band_part  # noqa: E402
from miniflow.ops.linalg_ops import matrix_determinant as matrix_determinant  # noqa: E402
from miniflow.ops.linalg_ops import matrix_inverse as matrix_inverse  # noqa: E402
from miniflow.ops.linalg_ops import matrix_solve as matrix_solve  # noqa: E402
from miniflow.ops.linalg_ops import trace as trace  # noqa: E402
from miniflow.ops.functional_ops import case as case  # noqa: E402
from miniflow.ops.functional_ops import cond as cond  # noqa: E402
from miniflow.ops.functional_ops import map_fn as map_fn  # noqa: E402
from miniflow.ops.functional_ops import while_loop as while_loop  # noqa: E402
from miniflow import layers as layers  # noqa: E402
from miniflow import contrib as contrib  # noqa: E402
from miniflow import losses as losses  # noqa: E402
from miniflow import metrics as metrics  # noqa: E402
from miniflow.ops.script_ops import Print as Print  # noqa: E402
from miniflow.ops.script_ops import numpy_function as numpy_function  # noqa: E402
from miniflow.ops.script_ops import print as print  # noqa: E402, A004
from miniflow.ops.script_ops import py_func as py_func  # noqa: E402

# -- persistence, tf.data, program utilities, TensorBoard (issue 5) ------------------------
from miniflow import app as app  # noqa: E402
from miniflow import compat as compat  # noqa: E402
from miniflow import data as data  # noqa: E402
from miniflow import flags as flags  # noqa: E402
from miniflow import gfile as gfile  # noqa: E402
from miniflow import io as io  # noqa: E402
from miniflow import logging_api as logging  # noqa: E402
from miniflow import saved_model as saved_model  # noqa: E402
from miniflow import summary as summary  # noqa: E402
from miniflow.config_protos import ConfigProto as ConfigProto  # noqa: E402
from miniflow.config_protos import GPUOptions as GPUOptions  # noqa: E402
from miniflow.config_protos import GraphOptions as GraphOptions  # noqa: E402
from miniflow.config_protos import OptimizerOptions as OptimizerOptions  # noqa: E402
from miniflow.config_protos import RunMetadata as RunMetadata  # noqa: E402
from miniflow.config_protos import RunOptions as RunOptions  # noqa: E402
