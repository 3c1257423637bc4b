"""The small TF1 namespaces the inventory work filled in: `tf.errors` codes, `tf.initializers`,
`tf.test`, `tf.config`. Expected values marked "TF" were obtained from TensorFlow 2.21's
`tf.compat.v1` (graph mode) and written here."""

from __future__ import annotations

import unittest
import warnings

import numpy as np
import pytest

import miniflow as tf

# -- tf.errors ----------------------------------------------------------------------------


def test_error_codes_are_tfs():
    # TF: OK=0 ... UNAUTHENTICATED=16, in this order
    names = [
        "OK",
        "CANCELLED",
        "UNKNOWN",
        "INVALID_ARGUMENT",
        "DEADLINE_EXCEEDED",
        "NOT_FOUND",
        "ALREADY_EXISTS",
        "PERMISSION_DENIED",
        "RESOURCE_EXHAUSTED",
        "FAILED_PRECONDITION",
        "ABORTED",
        "OUT_OF_RANGE",
        "UNIMPLEMENTED",
        "INTERNAL",
        "UNAVAILABLE",
        "DATA_LOSS",
        "UNAUTHENTICATED",
    ]
    assert [getattr(tf.errors, n) for n in names] == list(range(17))


def test_error_code_and_class_map_both_ways():
    e = tf.errors
    assert e.exception_type_from_error_code(5) is e.NotFoundError
    assert e.error_code_from_exception_type(e.NotFoundError) == 5
    assert e.NotFoundError(None, None, "m").error_code == 5
    assert e.UnauthenticatedError(None, None, "m").error_code == 16
    assert e.OpError(None, None, "m", 3).error_code == 3  # TF: the code given
    with pytest.raises(KeyError):
        e.exception_type_from_error_code(99)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        got = e.error_code_from_exception_type(ValueError)
    # TF warns and returns an UnknownError instance for a class it does not know
    assert isinstance(got, e.UnknownError) and "Unknown class exception" in str(caught[0].message)


# -- tf.initializers ------------------------------------------------------------------------


def _value(init, shape, **kw):
    with tf.Graph().as_default(), tf.Session() as sess:
        return sess.run(init(shape, **kw))


def test_initializers_namespace_is_the_top_level_initializers():
    assert tf.initializers.zeros is tf.zeros_initializer
    assert tf.initializers.glorot_uniform is tf.glorot_uniform_initializer
    assert tf.initializers.variance_scaling is tf.variance_scaling_initializer
    assert tf.initializers.global_variables is tf.global_variables_initializer
    assert tf.initializers.uniform_unit_scaling is tf.uniform_unit_scaling_initializer


def test_identity_initializer_matches_tf():
    # TF: identity(2.0)([2, 3]) -> [[2, 0, 0], [0, 2, 0]], float32
    got = _value(tf.initializers.identity(2.0), [2, 3])
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, [[2, 0, 0], [0, 2, 0]])
    with pytest.raises(ValueError, match="two-dimensional"):
        tf.initializers.identity()([2, 2, 2])
    with pytest.raises(ValueError, match="floating point"):
        tf.initializers.identity(dtype=tf.int32)


def test_lecun_initializers_have_the_fan_in_variance():
    fan_in = 50
    normal = _value(tf.initializers.lecun_normal(seed=1), [fan_in, 4000])
    uniform = _value(tf.initializers.lecun_uniform(seed=1), [fan_in, 4000])
    assert abs(normal.std() - np.sqrt(1 / fan_in)) < 0.01 * np.sqrt(1 / fan_in) * 5
    limit = np.sqrt(3 / fan_in)
    assert np.abs(uniform).max() <= limit and np.abs(uniform).max() > 0.99 * limit
    assert abs(uniform.std() - np.sqrt(1 / fan_in)) < 0.05 * np.sqrt(1 / fan_in)


def test_uniform_unit_scaling_bound_in_graph_and_eager():
    # bound = factor * sqrt(3 / product of all dims but the last) = 2 * sqrt(3 / 20)
    bound = 2 * np.sqrt(3 / 20)
    got = _value(tf.initializers.uniform_unit_scaling(2.0, seed=3), [4, 5, 300])
    assert np.abs(got).max() <= bound and np.abs(got).max() > 0.99 * bound
    with tf.eager_mode():
        eager = tf.initializers.uniform_unit_scaling(2.0, seed=3)([4, 5, 300]).numpy()
    assert np.abs(eager).max() <= bound and eager.shape == (4, 5, 300)


# -- tf.test ----------------------------------------------------------------------------------


def test_build_queries_say_cpu_only():
    assert tf.test.is_gpu_available() is False and tf.test.is_built_with_cuda() is False
    assert tf.test.is_built_with_rocm() is False and tf.test.is_built_with_gpu_support() is False
    assert tf.test.is_built_with_xla() is False  # TF says True: its build has XLA
    assert tf.test.gpu_device_name() == ""
    assert tf.test.get_temp_dir() == tf.test.get_temp_dir()
    assert tf.test.mock.MagicMock is unittest.mock.MagicMock


def test_compute_gradient_matches_tf():
    x = tf.placeholder(tf.float64, [2, 2])
    y = tf.reduce_sum(x * x, axis=1)
    with tf.Session():
        theory, numeric = tf.test.compute_gradient(
            x, [2, 2], y, [2], x_init_value=np.array([[1.0, 2.0], [3.0, 4.0]])
        )
        err = tf.test.compute_gradient_error(
            x, [2, 2], y, [2], x_init_value=np.array([[1.0, 2.0], [3.0, 4.0]])
        )
        pairs = tf.test.compute_gradient([x], [[2, 2]], y, [2])
    # TF: [[2, 0], [4, 0], [0, 6], [0, 8]] for both
    expected = [[2, 0], [4, 0], [0, 6], [0, 8]]
    np.testing.assert_allclose(theory, expected)
    np.testing.assert_allclose(numeric, expected, atol=1e-8)
    assert err < 1e-8
    assert isinstance(pairs, list) and len(pairs) == 1 and len(pairs[0]) == 2


def test_compute_gradient_of_a_gather_sums_indexed_slices():
    g = tf.placeholder(tf.float64, [3, 2])
    z = tf.gather(g, [0, 0, 2]) * tf.constant([[1.0, 2.0]], tf.float64)
    with tf.Session():
        theory, numeric = tf.test.compute_gradient(
            g, [3, 2], z, [3, 2], x_init_value=np.arange(6.0).reshape(3, 2)
        )
    # TF's theoretical Jacobian
    expected = np.zeros((6, 6))
    expected[0, 0] = expected[0, 2] = expected[4, 4] = 1
    expected[1, 1] = expected[1, 3] = expected[5, 5] = 2
    np.testing.assert_array_equal(theory, expected)
    np.testing.assert_allclose(numeric, expected, atol=1e-8)


def test_compute_gradient_needs_a_session_and_a_float_x():
    x = tf.placeholder(tf.float32, [2])
    with pytest.raises(ValueError, match="default session"):
        tf.test.compute_gradient(x, [2], x * 2.0, [2])
    i = tf.placeholder(tf.int32, [2])
    with tf.Session(), pytest.raises(TypeError, match="floating"):
        tf.test.compute_gradient(i, [2], i * 2, [2])


class _Case(tf.test.TestCase):
    def test_session_and_evaluate(self):
        with self.cached_session() as sess:
            c = tf.constant([1.0, 2.0])
            self.assertAllClose(self.evaluate(c * 2.0), [2.0, 4.0])
            self.assertIs(tf.get_default_session(), sess)
        self.assertAllClose({"a": c, "b": [c, c]}, {"a": [1, 2], "b": [[1, 2], [1, 2]]})
        self.assertAllEqual(tf.constant([1, 2]), [1, 2])
        self.assertAllInRange(c, 1.0, 2.0)
        self.assertAllGreater(c, 0.5)
        self.assertNear(1.0, 1.05, 0.1)
        self.assertShapeEqual(np.zeros((2,)), c)

    def test_assertions_fail_when_they_should(self):
        with self.assertRaises(AssertionError):
            self.assertAllClose([1.0, 2.0], [1.0, 2.1])
        with self.assertRaises(AssertionError):
            self.assertAllEqual([1, 2], [1, 2, 3])
        with self.assertRaises(AssertionError):
            self.assertAllInRange([0.0, 3.0], 1.0, 2.0)
        with self.assertRaises(AssertionError):
            self.assertNear(1.0, 2.0, 0.5)

    def test_assert_raises_op_error(self):
        p = tf.placeholder(tf.float32, [None])
        check = tf.debugging.assert_positive(p) if hasattr(tf, "debugging") else None
        with self.session() as sess, self.assertRaisesOpError("must be fed|positive"):
            sess.run(
                tf.identity(p) if check is None else check, {} if check is None else {p: [-1.0]}
            )

    def test_each_test_starts_with_a_fresh_graph(self):
        self.assertEqual(tf.get_default_graph().get_operations(), [])
        tf.constant(1.0)


def test_testcase_runs_under_unittest():
    result = unittest.TextTestRunner(stream=open("/dev/null", "w")).run(
        unittest.defaultTestLoader.loadTestsFromTestCase(_Case)
    )
    assert result.testsRun == 4 and result.wasSuccessful(), result.failures + result.errors


def test_disable_with_predicate_skips():
    @tf.test.disable_with_predicate(lambda: True, "no")
    def skipped():
        return 1

    @tf.test.disable_with_predicate(lambda: False, "no")
    def runs():
        return 2

    with pytest.raises(unittest.SkipTest):
        skipped()
    assert runs() == 2


# -- tf.config ----------------------------------------------------------------------------


def test_config_lists_one_cpu_named_like_tf():
    # TF on a CPU-only machine, by repr
    assert (
        repr(tf.config.list_physical_devices())
        == "[PhysicalDevice(name='/physical_device:CPU:0', device_type='CPU')]"
    )
    assert (
        repr(tf.config.list_logical_devices())
        == "[LogicalDevice(name='/device:CPU:0', device_type='CPU')]"
    )
    assert tf.config.list_physical_devices("GPU") == []
    assert tf.config.list_physical_devices("cpu") == []  # TF: case-sensitive
    assert tf.config.get_visible_devices() == tf.config.list_physical_devices("CPU")
    assert tf.config.experimental.list_physical_devices is tf.config.list_physical_devices
    cpu = tf.config.list_physical_devices()[0]
    assert tf.config.experimental.get_device_details(cpu) == {}
    assert tf.config.get_logical_device_configuration(cpu) is None
    tf.config.set_visible_devices(tf.config.list_physical_devices("CPU"))  # a no-op
    with pytest.raises(ValueError, match="Unrecognized device"):
        tf.config.set_visible_devices([tf.config.PhysicalDevice("/physical_device:GPU:0", "GPU")])
    with pytest.raises(ValueError, match="cannot be hidden"):
        tf.config.set_visible_devices([], "CPU")


def test_config_switches_are_remembered():
    c = tf.config
    assert c.get_soft_device_placement() is True and c.functions_run_eagerly() is False
    assert c.threading.get_inter_op_parallelism_threads() == 0
    assert c.optimizer.get_jit() == ""  # TF 2.21's answer
    assert c.optimizer.get_experimental_options() == {
        "disable_model_pruning": False,
        "disable_meta_optimizer": False,
    }
    assert c.experimental.get_device_policy() == "silent"
    try:
        c.set_soft_device_placement(False)
        c.run_functions_eagerly(True)
        c.threading.set_intra_op_parallelism_threads(3)
        c.experimental.set_device_policy("warn")
        assert not c.get_soft_device_placement() and c.experimental_functions_run_eagerly()
        assert c.threading.get_intra_op_parallelism_threads() == 3
        assert c.experimental.get_device_policy() == "warn"
        c.experimental.set_device_policy(None)
        assert c.experimental.get_device_policy() == "silent"  # TF: None means silent
        with pytest.raises(ValueError, match="device_policy"):
            c.experimental.set_device_policy("bogus")
    finally:
        c.set_soft_device_placement(True)
        c.run_functions_eagerly(False)
        c.threading.set_intra_op_parallelism_threads(0)
        c.experimental.set_device_policy("silent")


def test_config_memory_stats_are_unavailable_on_the_cpu_like_tf():
    with pytest.raises(ValueError, match="Allocator stats not available for device 'CPU:0'"):
        tf.config.experimental.get_memory_info("CPU:0")


def test_gpu_only_config_is_unsupported():
    cpu = tf.config.list_physical_devices()[0]
    with pytest.raises(tf.errors.UnimplementedError, match="needs a GPU"):
        tf.config.experimental.set_memory_growth(cpu, True)


# -- tf.nest --------------------------------------------------------------------------------

_P = __import__("collections").namedtuple("P", "x y")


def test_nest_flatten_and_pack_match_tf():
    s = {"b": [1, (2, 3)], "a": _P(4, 5)}
    # TF: [4, 5, 1, 2, 3]; leaves (None, strings) flatten to themselves
    assert tf.nest.flatten(s) == [4, 5, 1, 2, 3]
    assert tf.nest.flatten(None) == [None] and tf.nest.flatten("ab") == ["ab"]
    # TF: {'b': [12, (13, 14)], 'a': P(x=10, y=11)}, keys in the structure's own order
    packed = tf.nest.pack_sequence_as(s, range(10, 15))
    assert packed == {"b": [12, (13, 14)], "a": _P(10, 11)} and list(packed) == ["b", "a"]
    assert tf.nest.pack_sequence_as({"b": 0, "a": 0}, [1, 2]) == {"b": 2, "a": 1}
    assert tf.nest.pack_sequence_as(5, [7]) == 7
    with pytest.raises(ValueError, match="Structure had 2 atoms, but flat_sequence had 3"):
        tf.nest.pack_sequence_as([1, 2], [1, 2, 3])


def test_nest_structure_checks_match_tf():
    assert [tf.nest.is_nested(x) for x in ([1], "ab", _P(1, 2), {}, 3)] == [
        True,
        False,
        True,
        True,
        False,
    ]
    with pytest.raises(TypeError, match="same nested structure"):
        tf.nest.assert_same_structure([1, 2], (1, 2))
    tf.nest.assert_same_structure([1, 2], (1, 2), check_types=False)
    for a, b in (([1, 2], [1, [2]]), ([1], [1, 2]), ({"a": 1}, {"b": 1})):
        with pytest.raises(ValueError, match="same nested structure"):
            tf.nest.assert_same_structure(a, b)
    assert tf.nest.map_structure(lambda a, b: a + b, [1, (2, 3)], [10, (20, 30)]) == [11, (22, 33)]
    assert tf.nest.map_structure(lambda x: x * 2, {"b": 1, "a": [2]}) == {"b": 2, "a": [4]}
    with pytest.raises(TypeError):
        tf.nest.map_structure(lambda a, b: a, [1, 2], (1, 2))


# -- top-level TF1 switches and placement scopes -------------------------------------------


def test_disable_v2_behavior_turns_eager_off_and_the_rest_are_no_ops():
    tf.enable_eager_execution()
    try:
        assert tf.executing_eagerly()
        tf.disable_v2_behavior()
        assert not tf.executing_eagerly()
    finally:
        tf.disable_eager_execution()
    for switch in (
        tf.disable_v2_tensorshape,
        tf.disable_control_flow_v2,
        tf.disable_tensor_equality,
        tf.disable_resource_variables,
    ):
        assert switch() is None
    with pytest.raises(tf.errors.UnimplementedError, match="TF2 behaviour"):
        tf.enable_v2_behavior()


def test_placement_scopes_are_accepted_and_ops_run_on_the_cpu():
    with tf.Graph().as_default():
        with tf.device("/gpu:0"), tf.colocate_with(None), tf.container("c") as name:
            c = tf.constant(2.0) * 3.0
        assert name == "c"
        with tf.device(lambda op: "/cpu:0"), tf.Session() as sess:
            assert sess.run(c) == 6.0
    with tf.eager_mode(), tf.device("/cpu:0"):
        assert float(tf.constant(2.0) * 3.0) == 6.0
    with pytest.raises(TypeError, match="device name"):
        tf.device(3)


def test_top_level_aliases_are_tfs():
    # TF: tf.OpError is tf.errors.OpError; tf.no_gradient is tf.NoGradient is
    # tf.NotDifferentiable
    assert tf.OpError is tf.errors.OpError
    assert tf.no_gradient is tf.NoGradient is tf.NotDifferentiable
    # TF's logger is "tensorflow"; miniflow's (miniflow.logging_api) is "miniflow"
    assert tf.get_logger() is __import__("logging").getLogger("miniflow")


# -- tf.saved_model constants -------------------------------------------------------------


def test_saved_model_constants_are_tfs():
    sm = tf.saved_model
    # TF 2.21's values
    expected = {
        "ASSETS_DIRECTORY": "assets",
        "ASSETS_KEY": "saved_model_assets",
        "DEBUG_DIRECTORY": "debug",
        "LEGACY_INIT_OP_KEY": "legacy_init_op",
        "MAIN_OP_KEY": "saved_model_main_op",
        "SAVED_MODEL_SCHEMA_VERSION": 1,
        "VARIABLES_DIRECTORY": "variables",
        "VARIABLES_FILENAME": "variables",
        "CLASSIFY_INPUTS": "inputs",
        "CLASSIFY_OUTPUT_CLASSES": "classes",
        "CLASSIFY_OUTPUT_SCORES": "scores",
        "REGRESS_INPUTS": "inputs",
        "REGRESS_OUTPUTS": "outputs",
        "PREDICT_INPUTS": "inputs",
        "PREDICT_OUTPUTS": "outputs",
        "GPU": "gpu",
        "TPU": "tpu",
    }
    assert {k: getattr(sm, k) for k in expected} == expected
    assert sm.constants.MAIN_OP_KEY == "saved_model_main_op"
    assert sm.signature_constants.CLASSIFY_OUTPUT_SCORES == "scores"
    assert (sm.tag_constants.GPU, sm.tag_constants.TPU) == ("gpu", "tpu")


# -- tf.manip, tf.spectral: TF1's older names -----------------------------------------------


def test_manip_and_spectral_are_the_same_functions():
    # TF: tf.manip.X is tf.X (except reshape, a second wrapper of the same op);
    # tf.spectral.X is tf.signal.X
    for name in (
        "batch_to_space_nd",
        "gather_nd",
        "reshape",
        "reverse",
        "roll",
        "scatter_nd",
        "space_to_batch_nd",
        "tile",
    ):
        assert getattr(tf.manip, name) is getattr(tf, name), name
    for name in (
        "dct",
        "fft",
        "fft2d",
        "fft3d",
        "idct",
        "ifft",
        "ifft2d",
        "ifft3d",
        "irfft",
        "irfft2d",
        "irfft3d",
        "rfft",
        "rfft2d",
        "rfft3d",
    ):
        assert getattr(tf.spectral, name) is getattr(tf.signal, name), name
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(tf.manip.roll([1, 2, 3], 1, 0)), [3, 1, 2])


# -- small top-level helpers ----------------------------------------------------------------


def test_dimension_helpers_match_tf():
    # TF: 3, None, 4; Dimension(2); Dimension(None) for an unknown rank; IndexError
    assert tf.dimension_value(tf.Dimension(3)) == 3 and tf.dimension_value(None) is None
    assert tf.dimension_value(4) == 4
    assert tf.compat.dimension_value is tf.dimension_value
    shape = tf.TensorShape([2, None])
    assert tf.dimension_at_index(shape, 0).value == 2
    assert tf.dimension_at_index(shape, 1).value is None
    assert tf.dimension_at_index(tf.TensorShape(None), 3).value is None
    with pytest.raises(IndexError):
        tf.dimension_at_index(tf.TensorShape([2]), 3)
    with pytest.raises(TypeError):
        tf.dimension_at_index([2, 3], 1)  # TF: an assertion


def test_is_tensor_matches_tf():
    # TF: False, True, True, True, True, False
    with tf.Graph().as_default():
        got = [
            tf.is_tensor(np.ones(2)),
            tf.is_tensor(tf.IndexedSlices(tf.constant([1.0]), tf.constant([0]))),
            tf.is_tensor(tf.placeholder(tf.float32)),
            tf.is_tensor(tf.Variable(1.0)),
            tf.is_tensor(tf.SparseTensor([[0]], [1], [2])),
            tf.is_tensor(1.0),
        ]
    assert got == [False, True, True, True, True, False]
    with tf.eager_mode():
        assert tf.is_tensor(tf.constant(1.0))


def test_get_seed_and_deprecated_aliases_match_tf():
    with tf.Graph().as_default():
        assert tf.get_seed(None) == (None, None)
        tf.set_random_seed(5)
        assert tf.get_seed(None) == (5, 0) and tf.get_seed(3) == (5, 3)  # TF, fresh graph
    assert tf.random.get_seed is tf.get_seed
    assert tf.initialize_variables is tf.variables_initializer
    assert tf.initialize_local_variables is tf.local_variables_initializer
    assert tf.executing_eagerly_outside_functions() is False
    with tf.eager_mode():
        assert tf.executing_eagerly_outside_functions() is True


def test_classification_and_regression_signatures_match_tf():
    u = tf.saved_model.signature_def_utils
    with tf.Graph().as_default():
        ex = tf.placeholder(tf.string, [None])
        classes, scores, preds = tf.constant([["a"]]), tf.constant([[0.5]]), tf.constant([[1.0]])
        cls = u.classification_signature_def(ex, classes, scores)
        reg = u.regression_signature_def(ex, preds)
        # TF: inputs {"inputs"}, outputs {"classes", "scores"} / {"outputs"}, method names
        assert (set(cls.inputs), set(cls.outputs), cls.method_name) == (
            {"inputs"},
            {"classes", "scores"},
            "tensorflow/serving/classify",
        )
        assert cls.inputs["inputs"].name == ex.name
        assert (set(reg.outputs), reg.method_name) == ({"outputs"}, "tensorflow/serving/regress")
        assert set(u.classification_signature_def(ex, None, scores).outputs) == {"scores"}
        predict = u.predict_signature_def({"x": ex}, {"y": scores})
        assert all(u.is_valid_signature(s) for s in (cls, reg, predict))  # TF: True x3
        assert not u.is_valid_signature(u.build_signature_def({}, {}, "bogus"))
        assert tf.saved_model.classification_signature_def is u.classification_signature_def
        with pytest.raises(ValueError, match="must be of type string"):
            u.classification_signature_def(tf.constant([1.0]), classes, scores)
        with pytest.raises(ValueError, match="cannot both be None"):
            u.classification_signature_def(ex, None, None)
        with pytest.raises(ValueError, match="must be of type float"):
            u.regression_signature_def(ex, tf.constant([1]))


def test_resource_loader_paths_are_relative_to_the_caller():
    import os

    here = os.path.dirname(os.path.abspath(__file__))
    assert os.path.abspath(tf.resource_loader.get_data_files_path()) == here
    assert os.path.abspath(tf.resource_loader.get_path_to_datafile("x.txt")) == os.path.join(
        here, "x.txt"
    )
    assert tf.resource_loader.readahead_file_path("/a/b") == "/a/b"
    with pytest.raises(tf.errors.UnimplementedError, match="source tree"):
        tf.resource_loader.load_resource("core/x")


def test_with_eager_op_as_function_returns_the_class():
    class Case:
        pass

    assert tf.test.with_eager_op_as_function(Case) is Case
    assert tf.test.with_eager_op_as_function(only_as_function=True)(Case) is Case
