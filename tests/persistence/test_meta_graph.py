"""export_meta_graph / import_meta_graph, SavedModel: models run without their code."""

import json
import os
import subprocess
import textwrap

import numpy as np
import pytest

import miniflow as tf

LOADER = textwrap.dedent("""
    import sys, json
    import numpy as np
    import miniflow as tf
    mode, path, prefix = sys.argv[1], sys.argv[2], sys.argv[3]
    xs = np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3)
    if mode == "meta":
        saver = tf.train.import_meta_graph(path)
        with tf.Session() as sess:
            saver.restore(sess, prefix)
            out = sess.run("model/y:0", {"x:0": xs})
            extra = sess.run(tf.get_collection("outputs")[0], {"x:0": xs})
    else:
        runner = tf.saved_model.load_signature_runner(path)
        out = runner.run({"features": xs})["scores"]
        extra = out
    np.save(sys.stdout.buffer, np.stack([out, extra]))
""")


def _build_and_train():
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    with tf.variable_scope("model"):
        w = tf.get_variable("w", [3, 2], initializer=tf.random_normal_initializer(seed=3))
        b = tf.get_variable("b", [2], initializer=tf.zeros_initializer())
        h = tf.matmul(x, w) + b
        y = tf.identity(tf.sigmoid(h[:, ::-1]) * tf.cast(tf.shape(x)[0], tf.float32), name="y")
    tf.add_to_collection("outputs", y)
    loss = tf.reduce_mean(tf.square(y - 1.0))
    step = tf.Variable(0, name="global_step", trainable=False)
    train = tf.train.GradientDescentOptimizer(0.1).minimize(loss, global_step=step)
    return x, y, train


def test_meta_graph_runs_in_fresh_process_without_model_code(tmp_path, python, child_env):
    x, y, train = _build_and_train()
    saver = tf.train.Saver()
    xs = np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(3):
            sess.run(train, {x: np.ones((5, 3), np.float32)})
        prefix = saver.save(sess, str(tmp_path / "model.ckpt"), global_step=3)
        want = sess.run(y, {x: xs})
    assert os.path.exists(prefix + ".meta")
    script = tmp_path / "load.py"
    script.write_text(LOADER)
    out = subprocess.run(
        [python, str(script), "meta", prefix + ".meta", prefix],
        env=child_env,
        capture_output=True,
        timeout=60,
        check=True,
        cwd=str(tmp_path),
    )
    got = np.load(__import__("io").BytesIO(out.stdout))
    np.testing.assert_array_equal(got[0], want)
    np.testing.assert_array_equal(got[1], want)


def test_import_in_process_keeps_variables_collections_and_training(tmp_path):
    x, y, train = _build_and_train()
    tf.train.export_meta_graph(str(tmp_path / "g.meta"))
    n_ops = len(tf.get_default_graph().get_operations())
    tf.reset_default_graph()
    saver = tf.train.import_meta_graph(str(tmp_path / "g.meta"))
    g = tf.get_default_graph()
    assert len(g.get_operations()) == n_ops
    assert sorted(v.op_name for v in tf.trainable_variables()) == ["model/b", "model/w"]
    assert sorted(v.op_name for v in tf.global_variables()) == ["global_step", "model/b", "model/w"]
    assert saver is not None
    train_op = g.get_operation_by_name("GradientDescent")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        w0 = sess.run("model/w:0")
        sess.run(train_op, {"x:0": np.ones((2, 3), np.float32)})
        assert not np.array_equal(sess.run("model/w:0"), w0)
        assert sess.run("global_step:0") == 1
    # New ops get fresh names next to the imported ones.
    assert tf.identity(1.0, name="x").op.name == "x_1"


def test_import_with_scope_prefixes_names(tmp_path):
    _build_and_train()
    tf.train.export_meta_graph(str(tmp_path / "g.meta"))
    tf.reset_default_graph()
    tf.train.import_meta_graph(str(tmp_path / "g.meta"), import_scope="copy")
    assert tf.get_default_graph().get_tensor_by_name("copy/model/y:0") is not None


def test_simple_save_and_loader_signature(tmp_path, python, child_env):
    x, y, train = _build_and_train()
    xs = np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3)
    export = str(tmp_path / "models" / "m" / "1")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train, {x: np.ones((5, 3), np.float32)})
        want = sess.run(y, {x: xs})
        tf.saved_model.simple_save(sess, export, {"features": x}, {"scores": y})
        with pytest.raises(tf.errors.AlreadyExistsError, match="already exists"):
            tf.saved_model.simple_save(sess, export, {"features": x}, {"scores": y})
    assert sorted(os.listdir(export)) == ["saved_model.json", "variables"]
    assert not [f for f in os.listdir(os.path.dirname(export)) if f.startswith(".")]

    tf.reset_default_graph()
    with tf.Session(graph=tf.Graph()) as sess:
        meta = tf.saved_model.loader.load(sess, [tf.saved_model.tag_constants.SERVING], export)
        sig = meta.signature_def[
            tf.saved_model.signature_constants.DEFAULT_SERVING_SIGNATURE_DEF_KEY
        ]
        assert sig.method_name == "tensorflow/serving/predict"
        assert sig.inputs["features"].name == "x:0"
        assert sig.inputs["features"].dtype == tf.float32
        assert sig.inputs["features"].tensor_shape.as_list() == [None, 3]
        assert sig.outputs["scores"].name == "model/y:0"
        got = sess.run(sig.outputs["scores"].name, {sig.inputs["features"].name: xs})
        np.testing.assert_array_equal(got, want)
        with pytest.raises(RuntimeError, match="could not be found"):
            tf.saved_model.loader.load(sess, ["train"], export)

    runner = tf.saved_model.load_signature_runner(export)
    for batch in (xs, xs[:1], xs):  # y scales with the batch size
        np.testing.assert_allclose(
            runner.run({"features": batch})["scores"],
            want[: len(batch)] * len(batch) / len(xs),
            rtol=1e-6,
        )
    assert runner.session.plan_builds == 1  # one compiled plan serves every call
    with pytest.raises(tf.errors.InvalidArgumentError, match="missing"):
        runner.run({"feature": xs})
    with pytest.raises(tf.errors.InvalidArgumentError, match="shape"):
        runner.run({"features": np.ones((2, 4))})
    runner.close()

    script = tmp_path / "load.py"
    script.write_text(LOADER)
    out = subprocess.run(
        [python, str(script), "saved", export, "-"],
        env=child_env,
        capture_output=True,
        timeout=60,
        check=True,
        cwd=str(tmp_path),
    )
    np.testing.assert_array_equal(np.load(__import__("io").BytesIO(out.stdout))[0], want)


def test_export_records_typed_attrs(tmp_path):
    a = tf.constant(np.array([[1, 2], [3, 4]], np.int64), name="c")
    s = tf.constant([b"ab", b"\xff"], name="s")
    tf.identity(a[..., 1:None:1], name="sl")
    tf.reduce_sum(a, axis=(0, 1), keepdims=True, name="r")
    tf.train.export_meta_graph(str(tmp_path / "g.meta"))
    doc = json.loads((tmp_path / "g.meta").read_text())
    assert doc["format"] == "miniflow.meta_graph" and doc["version"] == 1
    ops = {o["name"]: o for o in doc["body"]["graph_def"]["ops"]}
    assert ops["c"]["attrs"]["dtype"] == {"t": "dtype", "v": "int64"}
    spec = ops["strided_slice"]["attrs"]["spec"]
    assert spec["t"] == "tuple" and spec["v"][0] == {"t": "ellipsis"}
    assert spec["v"][1]["t"] == "slice"
    tf.reset_default_graph()
    tf.train.import_meta_graph(str(tmp_path / "g.meta"))
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run("sl:0"), [[2], [4]])
        np.testing.assert_array_equal(sess.run("r:0"), [[10]])
        assert list(sess.run(s.name)) == [b"ab", b"\xff"]


def test_input_map_rewires_the_imported_graph(tmp_path):
    x = tf.placeholder(tf.float32, [None], name="x")
    tf.multiply(x, 3.0, name="y")
    tf.train.export_meta_graph(str(tmp_path / "g.meta"))
    tf.reset_default_graph()
    source = tf.constant([1.0, 2.0], name="source")
    tf.train.import_meta_graph(
        str(tmp_path / "g.meta"), import_scope="m", input_map={"x:0": source}
    )
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run("m/y:0"), [3.0, 6.0])
    with pytest.raises(ValueError, match="not found in graph_def"):
        tf.train.import_meta_graph(
            str(tmp_path / "g.meta"), import_scope="n", input_map={"nothing:0": source}
        )
    with pytest.raises(tf.errors.UnimplementedError, match="return_elements"):
        tf.train.import_meta_graph(str(tmp_path / "g.meta"), return_elements=["y:0"])


def test_builder_with_custom_signatures_and_two_tag_sets(tmp_path):
    x = tf.placeholder(tf.float32, [None, 2], name="x")
    v = tf.Variable([[1.0], [2.0]], name="v")
    y = tf.matmul(x, v, name="y")
    counter = tf.Variable(0, name="counter")
    main_op = counter.assign(41)
    utils, sdu = tf.saved_model.utils, tf.saved_model.signature_def_utils
    sig = sdu.build_signature_def(
        {"in": utils.build_tensor_info(x)}, {"out": utils.build_tensor_info(y)}, "custom/method"
    )
    export = str(tmp_path / "m")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(v.assign([[3.0], [-1.0]]))
        b = tf.saved_model.Builder(export)
        b.add_meta_graph_and_variables(
            sess, ["serve", "gpu"], signature_def_map={"s": sig}, main_op=main_op
        )
        b.add_meta_graph(["train"])
        assert b.save() == export
    assert tf.saved_model.contains_saved_model(export)
    with tf.Session(graph=tf.Graph()) as sess:
        meta = tf.saved_model.loader.load(sess, ["gpu", "serve"], export)
        s = meta.signature_def["s"]
        assert s.method_name == "custom/method"
        np.testing.assert_array_equal(
            sess.run(s.outputs["out"].name, {s.inputs["in"].name: [[1.0, 1.0]]}), [[2.0]]
        )
        assert sess.run("counter:0") == 41  # the main op ran after the restore
    with tf.Session(graph=tf.Graph()) as sess:
        meta = tf.saved_model.loader.load(sess, ["train"], export)
        assert meta.signature_def == {} and meta.tags == ["train"]
        np.testing.assert_array_equal(sess.run("v:0"), [[3.0], [-1.0]])
    with pytest.raises(tf.errors.NotFoundError, match="serving_default"):
        tf.saved_model.load_signature_runner(export, tags=["serve", "gpu"])


def test_signature_runner_serves_concurrent_callers(tmp_path):
    import threading

    x = tf.placeholder(tf.float32, [None, 2], name="x")
    w = tf.Variable([[1.0, -1.0], [0.5, 2.0]], name="w")
    y = tf.tanh(tf.matmul(x, w))
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        export = tf.saved_model.simple_save(sess, str(tmp_path / "m"), {"x": x}, {"y": y})
    runner = tf.saved_model.load_signature_runner(export)
    wv = np.array([[1.0, -1.0], [0.5, 2.0]], np.float32)
    failures = []

    def client(seed):
        rng = np.random.default_rng(seed)
        try:
            for _ in range(25):
                batch = rng.normal(size=(int(rng.integers(1, 5)), 2)).astype(np.float32)
                got = runner.run({"x": batch})["y"]
                if not np.allclose(got, np.tanh(batch @ wv), rtol=1e-5, atol=1e-6):
                    failures.append(seed)
        except Exception as e:  # a thread's exception would otherwise only be a warning
            failures.append((seed, repr(e)))

    threads = [threading.Thread(target=client, args=(s,)) for s in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    runner.close()
    assert failures == [] and runner.session.plan_builds == 1
