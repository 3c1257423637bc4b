"""miniflow: a TensorFlow-1.x-compatible library on NumPy. ``import miniflow as tf``.

This module is the public TF1 namespace: explicit re-exports only.
"""

# The graph front end registers itself first; then the op definitions register theirs,
# and importing `ops.operators` gives tensors and variables their Python operators.
from miniflow.graph import builder as _builder  # noqa: F401
from miniflow.ops import operators as _operators  # noqa: F401
from miniflow.ops import state_ops as _state_ops  # noqa: F401
from miniflow.graph.operation import Tensor as Tensor
from miniflow.graph.operation import Operation as Operation
from miniflow.ops.variables import Variable as Variable
from miniflow import errors as errors
from miniflow import nn as nn
from miniflow import train as train
from miniflow.core.indexed_slices import IndexedSlices as IndexedSlices
from miniflow.core.indexed_slices import IndexedSlicesValue as IndexedSlicesValue
from miniflow.core.shapes import Dimension as Dimension
from miniflow.core.shapes import TensorShape as TensorShape
from miniflow.dtypes import DType as DType
from miniflow.dtypes import as_dtype as as_dtype
from miniflow.dtypes import (
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
from miniflow.extend import RegisterGradient as RegisterGradient
from miniflow.extend import NotDifferentiable as NotDifferentiable
from miniflow.graph.gradients import gradients as gradients
from miniflow.graph.graph import Graph as Graph
from miniflow.graph.graph import GraphKeys as GraphKeys
from miniflow.graph.graph import get_default_graph as get_default_graph
from miniflow.graph.graph import reset_default_graph as reset_default_graph
from miniflow.graph.session import InteractiveSession as InteractiveSession
from miniflow.graph.session import Session as Session
from miniflow.graph.session import get_default_session as get_default_session
from miniflow.ops.array_ops import (
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
    where_v2 as where_v2,
    zeros as zeros,
    zeros_like as zeros_like,
)
from miniflow.ops.control_flow_ops import (
    control_dependencies as control_dependencies,
    group as group,
    name_scope as name_scope,
    no_op as no_op,
    tuple as tuple,  # noqa: A004
)
from miniflow.ops.init_ops import (
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
from miniflow.ops.math_ops import (
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
from miniflow.ops.random_ops import (
    random_normal as random_normal,
    random_shuffle as random_shuffle,
    random_uniform as random_uniform,
    set_random_seed as set_random_seed,
    truncated_normal as truncated_normal,
)
from miniflow.ops.state_ops import (
    assign as assign,
    assign_add as assign_add,
    assign_sub as assign_sub,
    is_variable_initialized as is_variable_initialized,
)
from miniflow.ops.variable_scope import AUTO_REUSE as AUTO_REUSE
from miniflow.ops.variable_scope import VariableScope as VariableScope
from miniflow.ops.variable_scope import get_variable as get_variable
from miniflow.ops.variable_scope import get_variable_scope as get_variable_scope
from miniflow.ops.variable_scope import variable_scope as variable_scope
from miniflow.ops.variables import (
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
from miniflow.graph.collections_api import add_to_collection as add_to_collection
from miniflow.graph.collections_api import add_to_collections as add_to_collections
from miniflow.graph.collections_api import get_collection as get_collection
from miniflow.graph.collections_api import get_collection_ref as get_collection_ref
from miniflow.graph.collections_api import (
    gradient_override_map as gradient_override_map,
)
from miniflow.version import VERSION as VERSION

# -- Training and sparse (issue 5): clipping, sparse tensors, scatter ops ----------------
from miniflow.ops.clip_ops import (
    clip_by_global_norm as clip_by_global_norm,
    clip_by_norm as clip_by_norm,
    global_norm as global_norm,
)
from miniflow import sparse as sparse
from miniflow.ops.sparse_ops import (
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
from miniflow.train.moving_averages import (
    moving_average_variables as moving_average_variables,
)
from miniflow.ops.scatter_ops import (
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
from miniflow.eager.context import eager_mode as eager_mode
from miniflow.eager.context import enable_eager_execution as enable_eager_execution
from miniflow.eager.context import disable_eager_execution as disable_eager_execution
from miniflow.eager.context import executing_eagerly as executing_eagerly
from miniflow.eager.context import graph_mode as graph_mode
from miniflow.eager.tape import GradientTape as GradientTape
from miniflow import math as math
from miniflow import random as random
from miniflow.ops.nn_ops import div_no_nan as div_no_nan
from miniflow.ops.nn_ops import log_sigmoid as log_sigmoid
from miniflow.ops.nn_ops import reduce_logsumexp as reduce_logsumexp
from miniflow import linalg as linalg
from miniflow.ops.linalg_ops import cholesky as cholesky
from miniflow.ops.linalg_ops import eye as eye
from miniflow.ops.linalg_ops import matrix_band_part as matrix_band_part
from miniflow.ops.linalg_ops import matrix_determinant as matrix_determinant
from miniflow.ops.linalg_ops import matrix_inverse as matrix_inverse
from miniflow.ops.linalg_ops import matrix_solve as matrix_solve
from miniflow.ops.linalg_ops import trace as trace
from miniflow.ops.functional_ops import case as case
from miniflow.ops.functional_ops import cond as cond
from miniflow.ops.higher_order_ops import map_fn as map_fn
from miniflow.ops.functional_ops import while_loop as while_loop
from miniflow import layers as layers
from miniflow import contrib as contrib
from miniflow import losses as losses
from miniflow import metrics as metrics
from miniflow.ops.script_ops import Print as Print
from miniflow.ops.script_ops import numpy_function as numpy_function
from miniflow.ops.script_ops import print as print  # noqa: A004
from miniflow.ops.script_ops import py_func as py_func

# -- persistence, tf.data, program utilities, TensorBoard (issue 5) ------------------------
from miniflow import app as app
from miniflow import compat as compat
from miniflow import data as data
from miniflow import flags as flags
from miniflow import gfile as gfile
from miniflow import io as io
from miniflow import logging_api as logging
from miniflow import saved_model as saved_model
from miniflow import summary as summary
from miniflow.config_protos import ConfigProto as ConfigProto
from miniflow.config_protos import GPUOptions as GPUOptions
from miniflow.config_protos import GraphOptions as GraphOptions
from miniflow.config_protos import OptimizerOptions as OptimizerOptions
from miniflow.config_protos import RunMetadata as RunMetadata
from miniflow.config_protos import RunOptions as RunOptions

# -- issue 13: array ops and nn ------------------------------------------------------------
from miniflow.ops.embedding_ops import dynamic_partition as dynamic_partition
from miniflow.ops.embedding_ops import dynamic_stitch as dynamic_stitch
from miniflow.ops.gather_scatter_ops import (
    batch_gather as batch_gather,
    batch_scatter_update as batch_scatter_update,
    gather_nd as gather_nd,
    scatter_nd as scatter_nd,
    tensor_scatter_add as tensor_scatter_add,
    tensor_scatter_nd_add as tensor_scatter_nd_add,
    tensor_scatter_nd_max as tensor_scatter_nd_max,
    tensor_scatter_nd_min as tensor_scatter_nd_min,
    tensor_scatter_nd_sub as tensor_scatter_nd_sub,
    tensor_scatter_nd_update as tensor_scatter_nd_update,
    tensor_scatter_sub as tensor_scatter_sub,
    tensor_scatter_update as tensor_scatter_update,
)
from miniflow.ops.index_ops import (
    edit_distance as edit_distance,
    histogram_fixed_width as histogram_fixed_width,
    histogram_fixed_width_bins as histogram_fixed_width_bins,
    invert_permutation as invert_permutation,
    lin_space as lin_space,
    linspace as linspace,
    searchsorted as searchsorted,
    setdiff1d as setdiff1d,
    unravel_index as unravel_index,
)
from miniflow.ops.manip_ops import (
    batch_to_space as batch_to_space,
    batch_to_space_nd as batch_to_space_nd,
    depth_to_space as depth_to_space,
    diag as diag,
    diag_part as diag_part,
    meshgrid as meshgrid,
    parallel_stack as parallel_stack,
    repeat as repeat,
    required_space_to_batch_paddings as required_space_to_batch_paddings,
    reverse as reverse,
    reverse_sequence as reverse_sequence,
    reverse_v2 as reverse_v2,
    roll as roll,
    sequence_mask as sequence_mask,
    space_to_batch as space_to_batch,
    space_to_batch_nd as space_to_batch_nd,
    space_to_depth as space_to_depth,
)
from miniflow.ops.shape_ops import (
    broadcast_dynamic_shape as broadcast_dynamic_shape,
    broadcast_static_shape as broadcast_static_shape,
    ensure_shape as ensure_shape,
    guarantee_const as guarantee_const,
    identity_n as identity_n,
    shape_n as shape_n,
)
from miniflow.ops.conv3d_ops import extract_volume_patches as extract_volume_patches
from miniflow.ops.conv_compose_ops import (
    conv as conv,
    conv2d_backprop_filter_v2 as conv2d_backprop_filter_v2,
    conv2d_backprop_input_v2 as conv2d_backprop_input_v2,
)
from miniflow.ops.nn_compose_ops import approx_top_k as approx_top_k

# -- issue 13: tutorial programs, contrib, debugging, metrics
from miniflow import debugging as debugging
from miniflow.ops.check_ops import (
    Assert as Assert,
    add_check_numerics_ops as add_check_numerics_ops,
    assert_equal as assert_equal,
    assert_greater as assert_greater,
    assert_greater_equal as assert_greater_equal,
    assert_integer as assert_integer,
    assert_less as assert_less,
    assert_less_equal as assert_less_equal,
    assert_near as assert_near,
    assert_negative as assert_negative,
    assert_non_negative as assert_non_negative,
    assert_non_positive as assert_non_positive,
    assert_none_equal as assert_none_equal,
    assert_positive as assert_positive,
    assert_proper_iterable as assert_proper_iterable,
    assert_rank as assert_rank,
    assert_rank_at_least as assert_rank_at_least,
    assert_rank_in as assert_rank_in,
    assert_same_float_dtype as assert_same_float_dtype,
    assert_scalar as assert_scalar,
    assert_type as assert_type,
    assert_variables_initialized as assert_variables_initialized,
    check_numerics as check_numerics,
    is_numeric_tensor as is_numeric_tensor,
    verify_tensor_all_finite as verify_tensor_all_finite,
)

# -- issue 13: math, linalg, signal -------------------------------------------------------
from miniflow import signal as signal
from miniflow.math import (
    accumulate_n as accumulate_n,
    acos as acos,
    acosh as acosh,
    asin as asin,
    asinh as asinh,
    atan as atan,
    atan2 as atan2,
    atanh as atanh,
    betainc as betainc,
    bincount as bincount,
    confusion_matrix as confusion_matrix,
    cosh as cosh,
    count_nonzero as count_nonzero,
    cumprod as cumprod,
    cumsum as cumsum,
    digamma as digamma,
    erf as erf,
    erfc as erfc,
    igamma as igamma,
    igammac as igammac,
    is_non_decreasing as is_non_decreasing,
    is_strictly_increasing as is_strictly_increasing,
    lbeta as lbeta,
    lgamma as lgamma,
    polygamma as polygamma,
    rint as rint,
    scalar_mul as scalar_mul,
    segment_max as segment_max,
    segment_mean as segment_mean,
    segment_min as segment_min,
    segment_prod as segment_prod,
    sinh as sinh,
    unsorted_segment_max as unsorted_segment_max,
    unsorted_segment_mean as unsorted_segment_mean,
    unsorted_segment_min as unsorted_segment_min,
    unsorted_segment_prod as unsorted_segment_prod,
    unsorted_segment_sqrt_n as unsorted_segment_sqrt_n,
    zeta as zeta,
)
from miniflow.linalg import (
    cholesky_solve as cholesky_solve,
    cross as cross,
    einsum as einsum,
    matrix_transpose as matrix_transpose,
    norm as norm,
    tensordot as tensordot,
)
from miniflow.ops.linalg_ops import (
    lstsq as matrix_solve_ls,
    matrix_diag as matrix_diag,
    matrix_set_diag as matrix_set_diag,
    triangular_solve as matrix_triangular_solve,
)
from miniflow.ops.decomposition_ops import (
    qr as qr,
    self_adjoint_eig as self_adjoint_eig,
    self_adjoint_eigvals as self_adjoint_eigvals,
    svd as svd,
)
from miniflow.ops.matrix_function_ops import sqrtm as matrix_square_root
from miniflow.ops.complex_ops import (
    angle as angle,
    complex as complex,  # noqa: A004
    conj as conj,
    imag as imag,
    real as real,
    to_complex64 as to_complex64,
    to_complex128 as to_complex128,
)
from miniflow.signal import (
    fft as fft,
    fft2d as fft2d,
    fft3d as fft3d,
    fftnd as fftnd,
    ifft as ifft,
    ifft2d as ifft2d,
    ifft3d as ifft3d,
    ifftnd as ifftnd,
    irfftnd as irfftnd,
    rfftnd as rfftnd,
)
from miniflow.ops.safe_math_ops import truncatediv as truncatediv
from miniflow.ops.safe_math_ops import truncatemod as truncatemod
from miniflow.ops.sort_ops import (
    argsort as argsort,
    sort as sort,
    unique as unique,
    unique_with_counts as unique_with_counts,
)

# -- issue 13: image
from miniflow import image as image
from miniflow.image import extract_image_patches as extract_image_patches
from miniflow.image import random_crop as random_crop

# -- issue 13: strings, io, bitwise, sets
from miniflow import bitwise as bitwise
from miniflow import python_io as python_io
from miniflow import sets as sets
from miniflow import strings as strings
from miniflow.ops.example_parsing_ops import FixedLenFeature as FixedLenFeature
from miniflow.ops.example_parsing_ops import (
    FixedLenSequenceFeature as FixedLenSequenceFeature,
)
from miniflow.ops.example_parsing_ops import SparseFeature as SparseFeature
from miniflow.ops.example_parsing_ops import VarLenFeature as VarLenFeature
from miniflow.ops.parsing_ops import decode_base64 as decode_base64
from miniflow.ops.parsing_ops import decode_compressed as decode_compressed
from miniflow.ops.parsing_ops import decode_csv as decode_csv
from miniflow.ops.parsing_ops import decode_raw as decode_raw
from miniflow.ops.parsing_ops import encode_base64 as encode_base64
from miniflow.ops.parsing_ops import matching_files as matching_files
from miniflow.ops.parsing_ops import parse_tensor as parse_tensor
from miniflow.ops.parsing_ops import read_file as read_file
from miniflow.ops.parsing_ops import serialize_tensor as serialize_tensor
from miniflow.ops.parsing_ops import write_file as write_file
from miniflow.ops.string_ops import as_string as as_string
from miniflow.ops.string_ops import join as string_join
from miniflow.ops.string_ops import reduce_join as reduce_join
from miniflow.ops.string_ops import regex_replace as regex_replace
from miniflow.ops.string_ops import strip as string_strip
from miniflow.ops.string_ops import substr as substr
from miniflow.ops.string_ops import to_hash_bucket as string_to_hash_bucket
from miniflow.ops.string_ops import (
    to_hash_bucket_fast as string_to_hash_bucket_fast,
    to_hash_bucket_strong as string_to_hash_bucket_strong,
)
from miniflow.ops.string_ops import to_number as string_to_number
from miniflow.ragged.ragged_strings import string_split as string_split
from miniflow.ops.parsing_ops import decode_json_example as decode_json_example
from miniflow.ops.sequence_example_parsing_ops import (
    parse_single_sequence_example as parse_single_sequence_example,
)
from miniflow.ops.sparse_serialization_ops import (
    deserialize_many_sparse as deserialize_many_sparse,
    serialize_many_sparse as serialize_many_sparse,
    serialize_sparse as serialize_sparse,
)

# -- issue 13: api inventory: small namespaces (the stub installer is at the very end)
from miniflow import audio as audio
from miniflow import config as config
from miniflow import initializers as initializers
from miniflow import lookup as lookup
from miniflow import manip as manip
from miniflow import nest as nest
from miniflow import resource_loader as resource_loader
from miniflow import spectral as spectral
from miniflow import test as test
from miniflow.ops.lookup_ops import initialize_all_tables as initialize_all_tables
from miniflow.ops.lookup_ops import tables_initializer as tables_initializer
from miniflow.compat.switches import (
    disable_control_flow_v2 as disable_control_flow_v2,
    disable_resource_variables as disable_resource_variables,
    disable_tensor_equality as disable_tensor_equality,
    disable_v2_behavior as disable_v2_behavior,
    disable_v2_tensorshape as disable_v2_tensorshape,
)
from miniflow.errors import OpError as OpError
from miniflow.extend import NotDifferentiable as NoGradient
from miniflow.extend import NotDifferentiable as no_gradient
from miniflow.logging_api import get_logger as get_logger
from miniflow.placement import colocate_with as colocate_with
from miniflow.placement import container as container
from miniflow.placement import device as device
from miniflow.ops.sampling_ops import multinomial as multinomial
from miniflow.ops.sampling_ops import random_poisson as random_poisson
from miniflow.compat import dimension_at_index as dimension_at_index
from miniflow.compat import dimension_value as dimension_value
from miniflow.eager.context import (  # no tf.function: "outside" is everywhere
    executing_eagerly as executing_eagerly_outside_functions,
)
from miniflow.ops.random_ops import get_seed as get_seed
from miniflow.ops.variables import (  # TF1's deprecated names
    local_variables_initializer as initialize_local_variables,
    variables_initializer as initialize_variables,
)
from miniflow.tensor_types import is_tensor as is_tensor
from miniflow import distributions as distributions  # (uses the names above)
from miniflow.ops.more_init_ops import (
    uniform_unit_scaling_initializer as uniform_unit_scaling_initializer,
)

# -- issue 13: sparse, random, dtypes
from miniflow.dtypes import QUANTIZED_DTYPES as QUANTIZED_DTYPES
from miniflow.dtypes import qint8 as qint8
from miniflow.dtypes import qint16 as qint16
from miniflow.dtypes import qint32 as qint32
from miniflow.dtypes import quint8 as quint8
from miniflow.dtypes import quint16 as quint16
from miniflow.dtypes import resource as resource
from miniflow.dtypes import uint32 as uint32
from miniflow.dtypes import uint64 as uint64
from miniflow.dtypes import variant as variant
from miniflow.ops.random_distribution_ops import random_gamma as random_gamma
from miniflow.ops.sparse_manip_ops import (
    sparse_concat as sparse_concat,
    sparse_fill_empty_rows as sparse_fill_empty_rows,
    sparse_mask as sparse_mask,
    sparse_merge as sparse_merge,
    sparse_reset_shape as sparse_reset_shape,
    sparse_reshape as sparse_reshape,
    sparse_retain as sparse_retain,
    sparse_slice as sparse_slice,
    sparse_split as sparse_split,
    sparse_to_indicator as sparse_to_indicator,
    sparse_transpose as sparse_transpose,
)
from miniflow.ops.sparse_reduce_ops import (
    sparse_maximum as sparse_maximum,
    sparse_minimum as sparse_minimum,
    sparse_reduce_max as sparse_reduce_max,
    sparse_reduce_max_sparse as sparse_reduce_max_sparse,
    sparse_reduce_sum_sparse as sparse_reduce_sum_sparse,
    sparse_softmax as sparse_softmax,
)
from miniflow.ops.sparse_segment_ops import (
    sparse_matmul as sparse_matmul,
    sparse_segment_mean as sparse_segment_mean,
    sparse_segment_sqrt_n as sparse_segment_sqrt_n,
    sparse_segment_sum as sparse_segment_sum,
)
from miniflow.ops.dtype_cast_ops import bitcast as bitcast
from miniflow.ops.dtype_cast_ops import saturate_cast as saturate_cast

# -- issue 13: functional and top-level leftovers
from miniflow.module import Module as Module
from miniflow.ops.array_ops import argmax as arg_max
from miniflow.ops.array_ops import argmin as arg_min
from miniflow.ops.clip_average_norm import clip_by_average_norm as clip_by_average_norm
from miniflow.ops.counter_ops import count_up_to as count_up_to
from miniflow.ops.counter_ops import (
    report_uninitialized_variables as report_uninitialized_variables,
)
from miniflow.ops.counter_ops import timestamp as timestamp
from miniflow.ops.custom_gradient import custom_gradient as custom_gradient
from miniflow.ops.custom_gradient import grad_pass_through as grad_pass_through
from miniflow.ops.custom_gradient import hessians as hessians
from miniflow.ops.custom_gradient import recompute_grad as recompute_grad
from miniflow.ops.def_function import control_flow_v2_enabled as control_flow_v2_enabled
from miniflow.ops.def_function import function as function
from miniflow.ops.def_function import init_scope as init_scope
from miniflow.ops.def_function import (
    resource_variables_enabled as resource_variables_enabled,
)
from miniflow.ops.def_function import wrap_function as wrap_function
from miniflow.ops.device_spec import DeviceSpec as DeviceSpec
from miniflow.ops.eager_py_func import py_function as py_function
from miniflow.ops.fingerprint_ops import fingerprint as fingerprint
from miniflow.ops.framework_enums import AggregationMethod as AggregationMethod
from miniflow.ops.framework_enums import UnconnectedGradients as UnconnectedGradients
from miniflow.ops.framework_enums import VariableAggregation as VariableAggregation
from miniflow.ops.framework_enums import (
    VariableSynchronization as VariableSynchronization,
)
from miniflow.ops.higher_order_ops import foldl as foldl
from miniflow.ops.higher_order_ops import foldr as foldr
from miniflow.ops.higher_order_ops import scan as scan
from miniflow.ops.higher_order_ops import switch_case as switch_case
from miniflow.ops.higher_order_ops import vectorized_map as vectorized_map
from miniflow.ops.linalg_ops import diag_part as matrix_diag_part
from miniflow.ops.math_ops import floordiv as floor_div
from miniflow.ops.orthogonal_init import orthogonal_initializer as orthogonal_initializer
from miniflow.ops.partitioned_variable import PartitionedVariable as PartitionedVariable
from miniflow.ops.partitioned_variables import (
    create_partitioned_variables as create_partitioned_variables,
    fixed_size_partitioner as fixed_size_partitioner,
    min_max_variable_partitioner as min_max_variable_partitioner,
    variable_axis_size_partitioner as variable_axis_size_partitioner,
)
from miniflow.ops.tensor_array_ops import TensorArray as TensorArray
from miniflow.ops.tensor_conversion import (
    convert_to_tensor_or_indexed_slices as convert_to_tensor_or_indexed_slices,
    convert_to_tensor_or_sparse_tensor as convert_to_tensor_or_sparse_tensor,
    is_symbolic_tensor as is_symbolic_tensor,
    make_ndarray as make_ndarray,
    make_tensor_proto as make_tensor_proto,
    register_tensor_conversion_function as register_tensor_conversion_function,
)
from miniflow.ops.type_spec import IndexedSlicesSpec as IndexedSlicesSpec
from miniflow.ops.type_spec import SparseTensorSpec as SparseTensorSpec
from miniflow.ops.type_spec import TensorArraySpec as TensorArraySpec
from miniflow.ops.type_spec import TensorSpec as TensorSpec
from miniflow.ops.type_spec import TypeSpec as TypeSpec
from miniflow.ops.variable_template import get_local_variable as get_local_variable
from miniflow.ops.variable_template import make_template as make_template
from miniflow.ops.variable_template import no_regularizer as no_regularizer
from miniflow.ops.variable_template import op_scope as op_scope
from miniflow.ops.variable_template import variable_op_scope as variable_op_scope

# -- issue 13: summary, saved_model, graph_util, test, version, lookup, misc train
from miniflow import version as version
from miniflow.version import COMPILER_VERSION as COMPILER_VERSION
from miniflow.version import CXX11_ABI_FLAG as CXX11_ABI_FLAG
from miniflow.version import CXX_VERSION as CXX_VERSION
from miniflow.version import GIT_VERSION as GIT_VERSION
from miniflow.version import GRAPH_DEF_VERSION as GRAPH_DEF_VERSION
from miniflow.version import (
    GRAPH_DEF_VERSION_MIN_CONSUMER as GRAPH_DEF_VERSION_MIN_CONSUMER,
    GRAPH_DEF_VERSION_MIN_PRODUCER as GRAPH_DEF_VERSION_MIN_PRODUCER,
)
from miniflow.version import MONOLITHIC_BUILD as MONOLITHIC_BUILD
from miniflow.train.meta_graph import MetaGraphDef as MetaGraphDef
from miniflow.train.meta_graph import TensorInfo as TensorInfo
from miniflow import graph_util as graph_util
from miniflow.train.graph_def import GraphDef as GraphDef
from miniflow.train.graph_def import NodeDef as NodeDef
from miniflow.train.graph_def import import_graph_def as import_graph_def

# -- issue 13: queue input pipelines (queues, readers; tf.train's producers and batchers)
from miniflow import queue as queue
from miniflow.ops.data_flow_ops import FIFOQueue as FIFOQueue
from miniflow.ops.data_flow_ops import PaddingFIFOQueue as PaddingFIFOQueue
from miniflow.ops.data_flow_ops import PriorityQueue as PriorityQueue
from miniflow.ops.data_flow_ops import QueueBase as QueueBase
from miniflow.ops.data_flow_ops import RandomShuffleQueue as RandomShuffleQueue
from miniflow.ops.io_readers import FixedLengthRecordReader as FixedLengthRecordReader
from miniflow.ops.io_readers import IdentityReader as IdentityReader
from miniflow.ops.io_readers import ReaderBase as ReaderBase
from miniflow.ops.io_readers import TextLineReader as TextLineReader
from miniflow.ops.io_readers import TFRecordReader as TFRecordReader
from miniflow.ops.io_readers import WholeFileReader as WholeFileReader
from miniflow.ops.accumulator_ops import (
    ConditionalAccumulator as ConditionalAccumulator,
    ConditionalAccumulatorBase as ConditionalAccumulatorBase,
    SparseConditionalAccumulator as SparseConditionalAccumulator,
)


# -- issue 13: feature columns
from miniflow import feature_column as feature_column

# -- issue 13: ragged tensors
from miniflow import ragged as ragged
from miniflow.ops.ragged_array_ops import ragged_fill_empty_rows as ragged_fill_empty_rows
from miniflow.ops.ragged_array_ops import (
    ragged_fill_empty_rows_grad as ragged_fill_empty_rows_grad,
)
from miniflow.ragged.ragged_factory import RaggedTensorSpec as RaggedTensorSpec
from miniflow.ragged.ragged_tensor import RaggedTensor as RaggedTensor

# the example parsers, plus RaggedFeature specs (they delegate when there is none)
from miniflow.ragged.ragged_parsing import parse_example as parse_example
from miniflow.ragged.ragged_parsing import parse_single_example as parse_single_example

# -- issue 13: estimators
from miniflow import estimator as estimator

# -- issue 13: quantization, mixed precision, autograph, leftovers
from miniflow import autograph as autograph
from miniflow import mixed_precision as mixed_precision
from miniflow import quantization as quantization
from miniflow.ops.quantization_ops import dequantize as dequantize
from miniflow.ops.fake_quant_ops import (
    fake_quant_with_min_max_args as fake_quant_with_min_max_args,
    fake_quant_with_min_max_args_gradient as fake_quant_with_min_max_args_gradient,
    fake_quant_with_min_max_vars as fake_quant_with_min_max_vars,
    fake_quant_with_min_max_vars_gradient as fake_quant_with_min_max_vars_gradient,
    fake_quant_with_min_max_vars_per_channel as fake_quant_with_min_max_vars_per_channel,
    fake_quant_with_min_max_vars_per_channel_gradient as fake_quant_with_min_max_vars_per_channel_gradient,
)
from miniflow.ops.quantization_ops import quantize as quantize
from miniflow.ops.quantization_ops import quantize_v2 as quantize_v2
from miniflow.ops.quantization_ops import quantized_concat as quantized_concat
from miniflow import experimental as experimental
from miniflow.data.structures import OptionalSpec as OptionalSpec
from miniflow.ops.type_spec_values import NoneTensorSpec as NoneTensorSpec
from miniflow.ops.type_spec_values import (
    type_spec_from_value as type_spec_from_value,
)
from miniflow.ops.variables import variable_creator_scope as variable_creator_scope
from miniflow.ops.critical_section_ops import CriticalSection as CriticalSection
from miniflow.ops.batch_ops import (
    nondifferentiable_batch_function as nondifferentiable_batch_function,
)
from miniflow.ops.session_ops import delete_session_tensor as delete_session_tensor
from miniflow.ops.session_ops import get_session_handle as get_session_handle
from miniflow.ops.session_ops import get_session_tensor as get_session_tensor

# -- issue 13: conformance mismatches
from miniflow.ops.array_ops import where_v1 as where

# -- issue 13: api inventory. Keep this last: every TF1 name still missing gets a stub that
# raises tf.errors.UnimplementedError with the reason (miniflow/compat/stubs.py).
from miniflow.compat import stubs as _stubs

newaxis = None
__version__ = "0.1.0"
_LAZY_SUMMARY_PROTOS = (
    "Summary",
    "SummaryMetadata",
    "HistogramProto",
    "Event",
    "SessionLog",
    "LogMessage",
)


def __getattr__(name):
    """``tf.Summary``, ``tf.Event``, ...: protobuf classes loaded on first use (the
    optional tensorboardX extra), see `miniflow.summary.proto_class`."""
    if name in _LAZY_SUMMARY_PROTOS:
        return summary.proto_class(name)
    raise AttributeError(f"module 'miniflow' has no attribute '{name}'")


_stubs.install()
