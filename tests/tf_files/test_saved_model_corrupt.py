"""Damaged or hostile TF-layout SavedModels: each failure is a clear `DataLossError`,
`NotFoundError`, `InvalidArgumentError` or `RuntimeError` (TF's choice for a tag set),
never a crash, and the graph is left as it was (no partial load)."""

from __future__ import annotations

import os
import shutil

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import miniflow as tf
from miniflow.saved_model import tf_proto
from miniflow.serving import load_servable
from miniflow.serving.errors import ModelLoadError

pytest.importorskip("tensorboard.compat.proto.meta_graph_pb2")

MLP = os.path.join(os.path.dirname(__file__), "fixtures", "saved_models", "mlp", "1")
ASSET = os.path.join(os.path.dirname(__file__), "fixtures", "saved_models", "asset", "1")
PB = open(os.path.join(MLP, "saved_model.pb"), "rb").read()
DATA = os.path.join("variables", "variables.data-00000-of-00001")
INDEX = os.path.join("variables", "variables.index")


def copy(tmp_path, src=MLP, name="m"):
    dst = tmp_path / name
    shutil.copytree(src, dst)
    return dst


def load_error(export_dir, tags=("serve",)):
    """The exception `load` raises (None if it loads); checks the graph stayed empty."""
    with tf.Graph().as_default() as g, tf.Session() as sess:
        try:
            tf.saved_model.loader.load(sess, list(tags), str(export_dir))
        except Exception as e:
            assert g.get_operations() == [], f"{type(e).__name__} left ops behind"
            return e
    return None


def edit_graph(export_dir, edit):
    """Rewrites ``saved_model.pb`` with ``edit(meta_graph_def)`` applied to every graph."""
    sm = tf_proto.read(str(export_dir))
    for meta in sm.meta_graphs:
        edit(meta)
    tf_proto.write(str(export_dir), sm)


@pytest.mark.parametrize("cut", [0, 1, 7, 100, len(PB) // 2, len(PB) - 1])
def test_truncated_saved_model_pb_is_data_loss(tmp_path, cut):
    d = copy(tmp_path)
    (d / "saved_model.pb").write_bytes(PB[:cut])
    e = load_error(d)
    assert isinstance(e, tf.errors.DataLossError), e
    assert f"Cannot parse file {d / 'saved_model.pb'}" in str(e)


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(pos=st.integers(0, len(PB) - 1), value=st.integers(0, 255))
def test_a_changed_byte_is_refused_or_loads_never_crashes(tmp_path_factory, pos, value):
    d = copy(tmp_path_factory.mktemp("flip"))
    data = bytearray(PB)
    data[pos] = value
    (d / "saved_model.pb").write_bytes(bytes(data))
    e = load_error(d)
    assert e is None or isinstance(
        e,
        tf.errors.DataLossError
        | tf.errors.InvalidArgumentError
        | tf.errors.NotFoundError
        | RuntimeError,
    ), repr(e)


@pytest.mark.parametrize(
    "text, message",
    [
        ("meta_graphs { nonsense: 1 }", 'no field named "nonsense"'),
        ("meta_graphs {", "Expected"),
        (b"\xff\xfe\x00", "codec can't decode"),
        ("saved_model_schema_version: 1", "holds no MetaGraphDef"),
    ],
)
def test_malformed_pbtxt_is_data_loss(tmp_path, text, message):
    d = copy(tmp_path)
    os.remove(d / "saved_model.pb")
    path = d / "saved_model.pbtxt"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    e = load_error(d)
    assert isinstance(e, tf.errors.DataLossError) and message in str(e), e


def test_no_saved_model_file_names_the_files_looked_for(tmp_path):
    e = load_error(tmp_path)
    assert isinstance(e, tf.errors.NotFoundError)
    assert "{saved_model.pb|saved_model.pbtxt|saved_model.json}" in str(e)


def test_missing_or_damaged_variables(tmp_path):
    d = copy(tmp_path, name="no_index")
    os.remove(d / INDEX)
    e = load_error(d)
    assert isinstance(e, tf.errors.NotFoundError) and "variables.index does not exist" in str(e)

    d = copy(tmp_path, name="no_data")
    os.remove(d / DATA)
    e = load_error(d)
    assert isinstance(e, tf.errors.DataLossError) and "is missing" in str(e), e

    d = copy(tmp_path, name="bad_crc")
    data = bytearray((d / DATA).read_bytes())
    data[10] ^= 0x01  # one bit of hidden/bias (the first tensor in the shard)
    (d / DATA).write_bytes(bytes(data))
    e = load_error(d)
    assert isinstance(e, tf.errors.DataLossError) and "checksum mismatch" in str(e), e

    d = copy(tmp_path, name="short")
    (d / DATA).write_bytes((d / DATA).read_bytes()[:-8])
    assert isinstance(load_error(d), tf.errors.DataLossError)

    d = copy(tmp_path, name="bad_index")
    (d / INDEX).write_bytes(b"not an sstable" * 8)
    e = load_error(d)
    assert isinstance(e, tf.errors.DataLossError) and "sstable" in str(e), e


def test_an_op_type_without_kernel_is_named(tmp_path):
    d = copy(tmp_path)

    def edit(meta):
        for node in meta.graph_def.node:
            if node.op == "Relu":
                node.op = "NoSuchOpType"

    edit_graph(d, edit)
    e = load_error(d)
    assert isinstance(e, tf.errors.InvalidArgumentError)
    assert "NoSuchOpType" in str(e) and "hidden/Relu" in str(e)


def _drop_saver_const(meta):
    nodes = [n for n in meta.graph_def.node if n.name != "save/SaveV2/shape_and_slices"]
    del meta.graph_def.node[:]
    meta.graph_def.node.extend(nodes)


def _non_utf8_checkpoint_name(meta):
    for node in meta.graph_def.node:
        if node.name == "save/SaveV2/tensor_names":
            node.attr["value"].tensor.string_val[0] = b"hid\xf8en/kernel"


@pytest.mark.parametrize(
    "edit, message",
    [
        (_drop_saver_const, "input 'save/SaveV2/shape_and_slices' must be a Const node"),
        (_non_utf8_checkpoint_name, "is not UTF-8 text"),
    ],
)
def test_a_damaged_saver_subgraph_is_named(tmp_path, edit, message):
    d = copy(tmp_path)
    edit_graph(d, edit)
    e = load_error(d)
    assert isinstance(e, tf.errors.InvalidArgumentError) and message in str(e), e
    assert "saver node 'save/SaveV2'" in str(e)


def test_python_code_in_the_file_is_never_run(tmp_path):
    # A PyFunc node names Python code by token; the importer refuses the op type itself.
    d = copy(tmp_path)
    marker = tmp_path / "ran"

    def edit(meta):
        node = meta.graph_def.node.add(name="evil", op="PyFunc")
        node.attr["token"].s = f"open({str(marker)!r}, 'w')".encode()
        node.attr["Tin"].list.SetInParent()
        node.attr["Tout"].list.SetInParent()
        meta.collection_def["saved_model_main_op"].node_list.value[:] = ["evil"]

    edit_graph(d, edit)
    e = load_error(d)
    assert isinstance(e, tf.errors.InvalidArgumentError) and "PyFunc" in str(e), e
    assert "runs Python code" in str(e)
    assert not marker.exists()


def test_init_op_problems(tmp_path):
    d = copy(tmp_path, name="two_main_ops")
    edit_graph(
        d, lambda m: m.collection_def["saved_model_main_op"].node_list.value.append("group_deps")
    )
    e = load_error(d)
    assert isinstance(e, RuntimeError) and "Expected exactly one SavedModel init op" in str(e)

    d = copy(tmp_path, name="unknown_main_op")
    edit_graph(d, lambda m: m.collection_def["saved_model_main_op"].node_list.value.pop())
    edit_graph(d, lambda m: m.collection_def["saved_model_main_op"].node_list.value.append("gone"))
    e = load_error(d)
    assert isinstance(e, tf.errors.InvalidArgumentError) and "'gone' is not in the graph" in str(e)

    d = copy(tmp_path, name="unknown_init_signature")

    def edit(meta):
        del meta.collection_def["saved_model_main_op"]
        sig = meta.signature_def["__saved_model_init_op"]
        sig.outputs["__saved_model_init_op"].name = "no_init"

    edit_graph(d, edit)
    e = load_error(d)
    assert isinstance(e, tf.errors.NotFoundError) and "init op 'no_init'" in str(e), e


def test_assets_missing_or_outside_the_directory(tmp_path):
    d = copy(tmp_path, ASSET, "missing")
    os.remove(d / "assets" / "greeting.txt")
    e = load_error(d)
    assert isinstance(e, tf.errors.NotFoundError) and "greeting.txt" in str(e), e

    d = copy(tmp_path, ASSET, "escape")
    (tmp_path / "secret").write_text("not yours")
    sm = tf_proto.read(str(d))
    from miniflow.train.tf_proto_values import protos

    mg = protos().meta_graph_pb2
    any_proto = sm.meta_graphs[0].collection_def["saved_model_assets"].any_list.value[0]
    asset = mg.AssetFileDef.FromString(any_proto.value)
    asset.filename = "../../secret"
    any_proto.value = asset.SerializeToString()
    tf_proto.write(str(d), sm)
    e = load_error(d)
    assert isinstance(e, tf.errors.InvalidArgumentError) and "not a plain file name" in str(e)


def test_a_corrupt_tf_saved_model_is_a_model_load_error_for_serving(tmp_path):
    d = copy(tmp_path)
    (d / "saved_model.pb").write_bytes(PB[: len(PB) // 3])
    with pytest.raises(ModelLoadError, match="failed to load saved_model model: DataLossError"):
        load_servable(d)
