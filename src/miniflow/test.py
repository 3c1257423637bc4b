"""`tf.test`: TF1's test utilities (``TestCase``, gradient checks, build queries)."""

# -- issue 13: benchmarks, attribute stubs, graph comparison
from miniflow.config_protos import ConfigProto as _ConfigProto
from miniflow.testing.benchmark import Benchmark as Benchmark  # noqa: F401
from miniflow.testing.stubout import StubOutForTesting as StubOutForTesting  # noqa: F401
from miniflow.testing.tf_test import (  # noqa: F401  # noqa: F401  # noqa: F401
    TestCase as TestCase,  # noqa: F401
    compute_gradient as compute_gradient,  # noqa: F401
    compute_gradient_error as compute_gradient_error,  # noqa: F401
    disable_with_predicate as disable_with_predicate,  # noqa: F401
    get_temp_dir as get_temp_dir,  # noqa: F401
    gpu_device_name as gpu_device_name,  # noqa: F401
    is_built_with_cuda as is_built_with_cuda,  # noqa: F401
    is_built_with_gpu_support as is_built_with_gpu_support,
    is_built_with_rocm as is_built_with_rocm,  # noqa: F401
    is_built_with_xla as is_built_with_xla,  # noqa: F401
    is_cpu_target_available as is_cpu_target_available,
    is_gpu_available as is_gpu_available,  # noqa: F401
    main as main,  # noqa: F401
    with_eager_op_as_function as with_eager_op_as_function,
)
from miniflow.train.graph_def import (  # noqa: F401
    assert_equal_graph_def as assert_equal_graph_def,
)


def benchmark_config():
    """A ``tf.ConfigProto`` for benchmarks (TF turns graph rewrites off; miniflow has
    none, so it is the default config). ``tf.test.benchmark_config()``"""
    return _ConfigProto()


def __getattr__(name):
    # ``tf.test.mock`` is ``unittest.mock``, imported on first use: it pulls in asyncio,
    # which would otherwise be a tenth of ``import miniflow``.
    if name == "mock":
        from unittest import mock

        return mock
    raise AttributeError(f"module 'miniflow.test' has no attribute {name!r}")
