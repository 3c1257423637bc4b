"""tf.test.Benchmark, StubOutForTesting, assert_equal_graph_def, benchmark_config and
is_cpu_target_available."""

import json
import os
import platform

import pytest

import miniflow as tf


def test_run_op_benchmark_times_runs_and_reports(tmp_path, monkeypatch):
    monkeypatch.setenv("TEST_REPORT_FILE_PREFIX", str(tmp_path) + "/")
    counter = []

    class Bench(tf.test.Benchmark):
        pass

    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [])
        y = tf.py_func(lambda v: counter.append(1) or v, [x], tf.float32)
        with tf.Session() as sess:
            out = Bench().run_op_benchmark(
                sess, y, feed_dict={x: 1.0}, burn_iters=2, min_iters=5, name="bench_y", mbs=10
            )
            assert Bench().evaluate(tf.constant(3.0) * 2.0) == 6.0
    assert len(counter) == 7  # 2 burn-in runs + 5 timed ones
    assert out["iters"] == 5 and out["name"] == "bench_y" and out["wall_time"] > 0
    assert out["throughput"] == pytest.approx(10 / out["wall_time"])
    with open(tmp_path / "bench_y") as fh:
        report = json.load(fh)
    assert report["iters"] == 5 and report["wall_time"] == out["wall_time"]


class Target:
    value = 1

    @staticmethod
    def helper():
        return "real"


def test_stub_out_for_testing_restores_everything():
    with tf.test.StubOutForTesting() as stubs:
        stubs.Set(Target, "value", 2)
        stubs.Set(Target, "helper", lambda: "fake")
        stubs.Set(os.path, "no_such_attribute_here", 5)
        assert Target.value == 2 and Target().helper() == "fake"
        assert os.path.no_such_attribute_here == 5
    assert Target.value == 1 and Target.helper() == "real" and Target().helper() == "real"
    assert not hasattr(os.path, "no_such_attribute_here")
    stubs = tf.test.StubOutForTesting()
    stubs.SmartSet(Target, "value", 3)
    stubs.SmartUnsetAll()
    assert Target.value == 1


def test_assert_equal_graph_def():
    def build(scale):
        g = tf.Graph()
        with g.as_default():
            tf.multiply(tf.constant([1.0], name="a"), scale, name="m")
        return g

    tf.test.assert_equal_graph_def(tf.GraphDef.from_graph(build(2.0)), build(2.0))
    with pytest.raises(AssertionError, match="node 'm/y'|node 'Const'|at node"):
        tf.test.assert_equal_graph_def(build(2.0), build(3.0))
    other = build(2.0)
    with other.as_default():
        tf.constant(0.0, name="extra")
    with pytest.raises(AssertionError, match=r"only in expected: \['extra'\]"):
        tf.test.assert_equal_graph_def(build(2.0), other)
    with pytest.raises(TypeError):
        tf.test.assert_equal_graph_def(1, 2)


def test_build_queries():
    assert isinstance(tf.test.benchmark_config(), tf.ConfigProto)
    assert tf.test.is_cpu_target_available(platform.machine())
    assert not tf.test.is_cpu_target_available("no-such-cpu")
