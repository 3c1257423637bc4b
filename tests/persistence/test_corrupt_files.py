"""Corrupt, truncated, bit-flipped, mistyped and foreign checkpoint and graph files are
refused with clear errors (and never unpickled or executed)."""

import glob
import json
import os
import pickle

import numpy as np
import pytest

import miniflow as tf
from miniflow.graph.file_io import dump_envelope
from miniflow.train.checkpoint import load_checkpoint_tensors

REJECT = (tf.errors.DataLossError, tf.errors.InvalidArgumentError, tf.errors.NotFoundError)


@pytest.fixture
def checkpoint(tmp_path):
    w = tf.Variable(np.arange(12, dtype=np.float32).reshape(3, 4), name="w")
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    tf.matmul(x, w, name="y")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        prefix = tf.train.Saver().save(sess, str(tmp_path / "model.ckpt"), global_step=1)
    tf.reset_default_graph()
    return prefix


def _data_file(prefix):
    (path,) = glob.glob(prefix + ".data-*.npz")
    return path


def _restore(prefix):
    tf.reset_default_graph()
    tf.Variable(np.zeros([3, 4], np.float32), name="w")
    with tf.Session() as sess:
        tf.train.Saver().restore(sess, prefix)


def _flip(path, offset):
    raw = bytearray(open(path, "rb").read())
    raw[offset % len(raw)] ^= 1 << (offset % 8)
    open(path, "wb").write(bytes(raw))


def test_every_truncation_of_the_data_file_is_rejected(checkpoint):
    path = _data_file(checkpoint)
    raw = open(path, "rb").read()
    for cut in sorted({0, 1, len(raw) // 3, len(raw) // 2, len(raw) - 1}):
        open(path, "wb").write(raw[:cut])
        with pytest.raises(tf.errors.DataLossError, match="corrupt"):
            _restore(checkpoint)


def test_bit_flips_anywhere_in_the_data_file_are_rejected(checkpoint):
    path = _data_file(checkpoint)
    raw = open(path, "rb").read()
    rng = np.random.default_rng(0)
    for offset in rng.integers(0, len(raw) * 8, size=40):
        open(path, "wb").write(raw)
        _flip(path, int(offset) // 8)
        with pytest.raises(tf.errors.DataLossError):
            load_checkpoint_tensors(checkpoint)
    open(path, "wb").write(raw)
    _restore(checkpoint)  # the pristine file still loads


def test_bit_flips_and_truncation_of_the_index_are_rejected(checkpoint):
    path = checkpoint + ".index"
    raw = open(path, "rb").read()
    rng = np.random.default_rng(1)
    for offset in rng.integers(0, len(raw), size=60):
        open(path, "wb").write(raw)
        _flip(path, int(offset))
        with pytest.raises(REJECT):
            _restore(checkpoint)
    for cut in (0, 10, len(raw) // 2, len(raw) - 3):
        open(path, "wb").write(raw[:cut])
        with pytest.raises(REJECT):
            _restore(checkpoint)


def _rewrite_index(prefix, mutate):
    doc = json.loads(open(prefix + ".index").read())
    mutate(doc["body"])
    open(prefix + ".index", "wb").write(dump_envelope(doc["format"], doc["version"], doc["body"]))


@pytest.mark.parametrize(
    "mutate, match",
    [
        (lambda b: b.update(tensors=[]), "malformed"),
        (lambda b: b["tensors"]["w"].update(shape="3x4"), "malformed"),
        (lambda b: b["tensors"]["w"].update(dtype="object"), "malformed"),
        (lambda b: b.update(data_file="../../etc/passwd.npz"), "malformed"),
        (lambda b: b["tensors"]["w"].update(shape=[4, 3]), "shape"),
        (lambda b: b.update(data_size="12"), "malformed"),
    ],
)
def test_well_checksummed_but_wrong_index_contents_are_rejected(checkpoint, mutate, match):
    _rewrite_index(checkpoint, mutate)
    with pytest.raises(tf.errors.InvalidArgumentError, match=match):
        _restore(checkpoint)


def test_version_mismatch_and_foreign_format(checkpoint):
    doc = json.loads(open(checkpoint + ".index").read())
    open(checkpoint + ".index", "wb").write(dump_envelope(doc["format"], 99, doc["body"]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="version 99"):
        _restore(checkpoint)
    open(checkpoint + ".index", "wb").write(dump_envelope("something.else", 1, doc["body"]))
    with pytest.raises(tf.errors.InvalidArgumentError, match="not a miniflow.checkpoint"):
        _restore(checkpoint)


def test_pickled_object_arrays_are_never_loaded(checkpoint, tmp_path):
    """A data file holding an object (pickle) array, with a matching checksum, is refused
    by np.load(allow_pickle=False) instead of running the pickle."""
    marker = tmp_path / "pwned"

    class Evil:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    arr = np.empty(1, dtype=object)
    arr[0] = Evil()
    evil_path = _data_file(checkpoint)
    with open(evil_path, "wb") as fh:
        np.savez(fh, t0=arr)
    import hashlib

    raw = open(evil_path, "rb").read()
    _rewrite_index(
        checkpoint,
        lambda b: b.update(data_sha256=hashlib.sha256(raw).hexdigest(), data_size=len(raw)),
    )
    with pytest.raises(tf.errors.DataLossError, match="pickle"):
        load_checkpoint_tensors(checkpoint)
    assert not marker.exists()
    assert pickle  # the module is only used to build the hostile file


def test_corrupt_checkpoint_state_file(checkpoint, tmp_path):
    (tmp_path / "checkpoint").write_text('model_checkpoint_path: "model.ckpt-1"\ngarbage\n')
    with pytest.raises(tf.errors.DataLossError, match="state file"):
        tf.train.latest_checkpoint(str(tmp_path))
    (tmp_path / "checkpoint").write_text("model_checkpoint_path: 12\n")
    with pytest.raises(tf.errors.DataLossError, match="must be a string"):
        tf.train.get_checkpoint_state(str(tmp_path))


# -- graph files ---------------------------------------------------------------------------
@pytest.fixture
def meta_file(checkpoint):
    return checkpoint + ".meta"


def _import(path):
    tf.reset_default_graph()
    return tf.train.import_meta_graph(path)


def test_meta_graph_bit_flips_and_truncations_are_rejected(meta_file):
    raw = open(meta_file, "rb").read()
    rng = np.random.default_rng(2)
    for offset in rng.integers(0, len(raw), size=80):
        open(meta_file, "wb").write(raw)
        _flip(meta_file, int(offset))
        with pytest.raises(REJECT):
            _import(meta_file)
    for cut in (0, 1, len(raw) // 2, len(raw) - 2):
        open(meta_file, "wb").write(raw[:cut])
        with pytest.raises(tf.errors.DataLossError):
            _import(meta_file)
    open(meta_file, "wb").write(raw)
    assert _import(meta_file) is not None


def _rewrite_meta(path, mutate, version=1):
    doc = json.loads(open(path).read())
    mutate(doc["body"])
    open(path, "wb").write(dump_envelope(doc["format"], version, doc["body"]))


def _op(body, name):
    return next(o for o in body["graph_def"]["ops"] if o["name"] == name)


def _const(body):
    return next(o for o in body["graph_def"]["ops"] if o["type"] == "Const")


@pytest.mark.parametrize(
    "mutate, error, match",
    [
        (
            lambda b: _op(b, "y").update(type="SystemShell"),
            tf.errors.NotFoundError,
            "Op type not registered 'SystemShell'",
        ),
        (
            lambda b: _op(b, "y")["attrs"].update(transpose_a={"t": "pickle", "v": "gASV"}),
            tf.errors.InvalidArgumentError,
            "unknown value tag 'pickle'",
        ),
        (
            lambda b: _op(b, "y")["attrs"].update(transpose_a={"t": "bool", "v": "yes"}),
            tf.errors.InvalidArgumentError,
            "bool value",
        ),
        (
            lambda b: _op(b, "y").update(inputs=["x:0", "nope:0"]),
            tf.errors.InvalidArgumentError,
            "nope:0",
        ),
        (
            lambda b: _op(b, "y").update(inputs="x:0"),
            tf.errors.InvalidArgumentError,
            "list of names",
        ),
        (
            lambda b: _op(b, "y").update(outputs=[{"dtype": "int32", "shape": None}]),
            tf.errors.InvalidArgumentError,
            "dtype",
        ),
        (
            lambda b: _op(b, "x")["attrs"].update(dtype={"t": "dtype", "v": "object"}),
            tf.errors.InvalidArgumentError,
            "unknown dtype",
        ),
        (lambda b: b["graph_def"].update(ops={}), tf.errors.InvalidArgumentError, "ops"),
        (
            lambda b: _const(b)["attrs"]["value"].update(dtype="int32"),
            tf.errors.InvalidArgumentError,
            "dtype attr",
        ),
        (
            lambda b: _const(b)["attrs"]["value"].update(data="AAAA"),
            tf.errors.InvalidArgumentError,
            "bytes",
        ),
        (
            lambda b: _const(b)["attrs"]["value"].update(data="not base64!"),
            tf.errors.InvalidArgumentError,
            "base64",
        ),
        (lambda b: b.update(variables={}), tf.errors.InvalidArgumentError, "variables"),
        (
            lambda b: b["variables"][0].update(trainable=1),
            tf.errors.InvalidArgumentError,
            "trainable",
        ),
        (
            lambda b: b["saver_def"].update(max_to_keep="5"),
            tf.errors.InvalidArgumentError,
            "saver_def",
        ),
        (
            lambda b: b["graph_def"]["ops"].append(dict(_op(b, "y"))),
            tf.errors.InvalidArgumentError,
            "duplicate",
        ),
        (
            lambda b: _op(b, "w")["attrs"].update(var={"t": "var", "v": "ghost"}),
            tf.errors.InvalidArgumentError,
            "ghost",
        ),
    ],
)
def test_wrong_json_contents_are_rejected(meta_file, mutate, error, match):
    _rewrite_meta(meta_file, mutate)
    with pytest.raises(error, match=match):
        _import(meta_file)


def test_meta_graph_version_mismatch(meta_file):
    _rewrite_meta(meta_file, lambda b: None, version=2)
    with pytest.raises(tf.errors.InvalidArgumentError, match="version 2"):
        _import(meta_file)


def test_saved_model_file_corruption(tmp_path):
    x = tf.placeholder(tf.float32, [None], name="x")
    v = tf.Variable(2.0, name="v")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        export = tf.saved_model.simple_save(sess, str(tmp_path / "m"), {"x": x}, {"y": x * v})
    path = os.path.join(export, "saved_model.json")
    raw = open(path, "rb").read()
    open(path, "wb").write(raw[: len(raw) // 2])
    with tf.Session(graph=tf.Graph()) as sess, pytest.raises(tf.errors.DataLossError):
        tf.saved_model.loader.load(sess, ["serve"], export)
    os.remove(path)
    with tf.Session(graph=tf.Graph()) as sess, pytest.raises(tf.errors.NotFoundError):
        tf.saved_model.loader.load(sess, ["serve"], export)


def test_a_refused_file_leaves_the_graph_untouched(meta_file):
    _rewrite_meta(meta_file, lambda b: _op(b, "y").update(type="NoSuchOp"))
    tf.reset_default_graph()
    keep = tf.constant(1.0, name="keep")
    with pytest.raises(tf.errors.NotFoundError):
        tf.train.import_meta_graph(meta_file, import_scope="m")
    g = tf.get_default_graph()
    assert g.get_operations() == [keep.op]
    assert tf.global_variables() == [] and g.get_all_collection_keys() == []
    assert tf.constant(2.0, name="m").op.name == "m"  # the scope name was released
