"""Bad TensorFlow graph files get a clear DataLossError/InvalidArgumentError/ValueError
that names the problem, never a crash or a half-imported graph; nothing from a file is
executed."""

from __future__ import annotations

import numpy as np
import pytest
from tf_graph_fixtures import fixture_path

import miniflow as tf
from miniflow.train import tf_graph_proto
from miniflow.train.tf_proto_values import protos

pytestmark = pytest.mark.usefixtures("fresh_graph")
from tf_graph_fixtures import fresh_graph  # noqa: E402,F401  (the fixture)


def _meta_bytes(model="mlp"):
    with open(fixture_path(model, "model.ckpt.meta"), "rb") as fh:
        return fh.read()


def _graph_def(*nodes):
    """A GraphDef from (name, op, inputs, attrs) tuples; attrs are AttrValue kwargs."""
    gd = protos().graph_pb2.GraphDef()
    for name, op, inputs, attrs in nodes:
        n = gd.node.add(name=name, op=op)
        n.input.extend(inputs)
        for k, fill in attrs.items():
            fill(n.attr[k])
    return gd


def _float(a):
    a.type = 1


def _const_attr(value):
    def fill(a):
        a.tensor.dtype = 1
        a.tensor.tensor_shape.dim.add().size = len(value)
        a.tensor.float_val.extend(value)

    return fill


def _ops():
    return len(tf.get_default_graph().get_operations())


@pytest.mark.parametrize("cut", [0, 10, 500, -7])
def test_truncated_meta_graph_is_data_loss(tmp_path, cut):
    (tmp_path / "m.meta").write_bytes(_meta_bytes()[:cut])
    with pytest.raises(tf.errors.DataLossError, match="not a valid MetaGraphDef|is empty"):
        tf.train.import_meta_graph(str(tmp_path / "m.meta"))
    assert _ops() == 0


def test_garbage_and_bad_text_are_data_loss(tmp_path):
    (tmp_path / "g.meta").write_bytes(bytes(range(256)) * 4)
    with pytest.raises(tf.errors.DataLossError):
        tf.train.import_meta_graph(str(tmp_path / "g.meta"))
    (tmp_path / "t.pbtxt").write_text("graph_def { node { name: 'x' op: \n")
    with pytest.raises(tf.errors.DataLossError, match="text"):
        tf.train.import_meta_graph(str(tmp_path / "t.pbtxt"))
    with pytest.raises(tf.errors.InvalidArgumentError, match="Not a GraphDef"):
        tf.GraphDef.FromString(b"\x0a\xff\xff\xff\xff\x0f")
    with pytest.raises(tf.errors.NotFoundError, match="does not exist"):
        tf.train.import_meta_graph(str(tmp_path / "missing.meta"))


def test_every_unknown_op_type_is_named_and_nothing_is_added():
    gd = _graph_def(
        ("a", "Placeholder", [], {"dtype": _float}),
        ("b", "FancyOp", ["a"], {}),
        ("c", "OtherMissingOp", ["b"], {}),
        ("d", "FancyOp", ["c"], {}),
        ("e", "Identity", ["d"], {"T": _float}),
    )
    with pytest.raises(tf.errors.InvalidArgumentError) as info:
        tf.import_graph_def(gd)
    msg = str(info.value)
    assert "2 op type(s)" in msg and "FancyOp" in msg and "OtherMissingOp" in msg
    assert "2 nodes, e.g. 'b'" in msg
    assert _ops() == 0


def test_python_ops_are_never_built():
    """A PyFunc names a Python function by token; importing must not run or even
    build it, whatever the registry holds."""
    gd = _graph_def(
        ("a", "Const", [], {"dtype": _float, "value": _const_attr([1.0])}),
        ("f", "PyFunc", ["a"], {"token": lambda a: setattr(a, "s", b"pyfunc_0")}),
    )
    with pytest.raises(tf.errors.InvalidArgumentError, match="PyFunc.*runs Python"):
        tf.import_graph_def(gd)
    assert _ops() == 0


def test_missing_input_duplicate_names_and_cycles():
    missing = _graph_def(("y", "Identity", ["nowhere:0"], {"T": _float}))
    with pytest.raises(tf.errors.InvalidArgumentError, match="'y'.*'nowhere:0' names no node"):
        tf.import_graph_def(missing)
    bad_index = _graph_def(
        ("a", "Placeholder", [], {"dtype": _float}), ("y", "Identity", ["a:3"], {"T": _float})
    )
    with pytest.raises(tf.errors.InvalidArgumentError, match="'a:3' is not an output"):
        tf.import_graph_def(bad_index)
    dup = _graph_def(
        ("a", "Placeholder", [], {"dtype": _float}), ("a", "Placeholder", [], {"dtype": _float})
    )
    with pytest.raises(tf.errors.InvalidArgumentError, match="duplicate node name 'a'"):
        tf.import_graph_def(dup)
    cycle = _graph_def(
        ("a", "Identity", ["b"], {"T": _float}), ("b", "Identity", ["a"], {"T": _float})
    )
    with pytest.raises(tf.errors.InvalidArgumentError, match="cycle"):
        tf.import_graph_def(cycle)
    assert _ops() == 0


def _huge(a):
    a.tensor.dtype = 1
    a.tensor.tensor_shape.dim.add().size = 10**12
    a.tensor.float_val.append(1.0)


def _short_content(a):
    a.tensor.dtype = 1
    a.tensor.tensor_shape.dim.add().size = 4
    a.tensor.tensor_content = b"\x00" * 7


def _bad_dim(a):
    a.tensor.dtype = 1
    a.tensor.tensor_shape.dim.add().size = -5


def _bad_dtype(a):
    a.type = 999


@pytest.mark.parametrize(
    "node, match",
    [
        (("c", "Const", [], {"dtype": _float, "value": _huge}), "too large"),
        (("c", "Const", [], {"dtype": _float, "value": _short_content}), "tensor_content has 7"),
        (("c", "Const", [], {"dtype": _float, "value": _bad_dim}), ">= -1"),
        (("c", "Placeholder", [], {"dtype": _bad_dtype}), "DataType 999"),
        (("c", "Const", [], {"dtype": _float}), "needs a tensor 'value'"),
        (("c", "Placeholder", [], {}), "attribute 'dtype' is missing"),
        (("c", "VariableV2", [], {}), "attribute 'dtype' is missing"),
        (("c", "Placeholder", [], {"dtype": lambda a: None}), "attr 'dtype'.*has no value"),
    ],
)
def test_absurd_attribute_values_are_refused(node, match):
    with pytest.raises(tf.errors.InvalidArgumentError, match=match):
        tf.import_graph_def(_graph_def(node))
    assert _ops() == 0


def test_attributes_that_do_not_fit_the_op_are_named():
    x = ("x", "Placeholder", [], {"dtype": _float})

    def strides(a):
        a.list.i.extend([2, 2])  # TF wants 4 entries

    def padding(a):
        a.s = b"SAME"

    k = ("k", "Const", [], {"dtype": _float, "value": _const_attr([1.0])})
    conv = ("conv", "Conv2D", ["x", "k"], {"T": _float, "strides": strides, "padding": padding})
    with pytest.raises(tf.errors.InvalidArgumentError, match="node 'conv'.*strides"):
        tf.import_graph_def(_graph_def(x, k, conv))
    m1 = ("m1", "Const", [], {"dtype": _float, "value": _const_attr([1.0, 2.0, 3.0])})
    mm = ("mm", "MatMul", ["m1", "m1"], {"T": _float})
    with pytest.raises(tf.errors.InvalidArgumentError, match="node 'mm'.*do not fit"):
        tf.import_graph_def(_graph_def(m1, mm))
    axis_from_input = ("ax", "Placeholder", [], {"dtype": lambda a: setattr(a, "type", 3)})
    cat = ("cat", "ConcatV2", ["x", "x", "ax"], {"T": _float, "N": lambda a: setattr(a, "i", 2)})
    with pytest.raises(tf.errors.InvalidArgumentError, match="axis .* must be a constant"):
        tf.import_graph_def(_graph_def(x, axis_from_input, cat))
    assert _ops() == 0


def test_a_string_attribute_that_is_not_utf8_is_named():
    x = ("x", "Placeholder", [], {"dtype": _float})
    bias = ("b", "Const", [], {"dtype": _float, "value": _const_attr([1.0])})
    not_utf8 = lambda a: setattr(a, "s", b"\xffHWC")  # noqa: E731
    add = ("add", "BiasAdd", ["x", "b"], {"T": _float, "data_format": not_utf8})
    with pytest.raises(tf.errors.InvalidArgumentError, match="node 'add'.*data_format"):
        tf.import_graph_def(_graph_def(x, bias, add))
    assert _ops() == 0


def test_input_map_and_return_elements_errors():
    gd = _graph_def(("a", "Placeholder", [], {"dtype": _float}))
    with pytest.raises(ValueError, match="not found in graph_def: \\[zz:0\\]"):
        tf.import_graph_def(gd, input_map={"zz": tf.constant(1.0)})
    for bad_ref in ("nope:0", "a:1", "a:-1", "a:x"):
        with pytest.raises(ValueError, match=f"return_element '{bad_ref}'"):
            tf.import_graph_def(gd, return_elements=[bad_ref])
    with pytest.raises(ValueError, match="tensors of the importing graph"):
        tf.import_graph_def(gd, input_map={"a": np.float32(1.0)})


def test_a_name_clash_is_refused_and_the_graph_is_left_as_it_was():
    tf.constant(1.0, name="W")
    before = _ops()
    with pytest.raises(tf.errors.InvalidArgumentError, match="already has an op"):
        tf.train.import_meta_graph(fixture_path("linear", "model.ckpt.meta"))
    assert _ops() == before
    assert tf.get_collection(tf.GraphKeys.GLOBAL_VARIABLES) == []


def test_a_corrupt_variable_def_is_data_loss():
    meta = tf_graph_proto.parse_proto(
        _meta_bytes("linear"), protos().meta_graph_pb2.MetaGraphDef, "m"
    )
    meta.collection_def["variables"].bytes_list.value[0] = b"\xff\xff\xff"
    with pytest.raises(tf.errors.DataLossError, match="collection 'variables' item 0"):
        tf.train.import_meta_graph(meta)
    assert _ops() == 0


def test_without_the_extra_the_error_names_it(monkeypatch):
    import builtins

    from miniflow.train import tf_proto_values

    real_import = builtins.__import__

    def no_tensorboard(name, *args, **kwargs):
        if name.startswith("tensorboard"):
            raise ImportError("No module named 'tensorboard'")
        return real_import(name, *args, **kwargs)

    tf_proto_values.protos.cache_clear()
    monkeypatch.setattr(builtins, "__import__", no_tensorboard)
    try:
        with pytest.raises(ImportError, match=r"miniflow\[tf-formats\]"):
            tf.get_default_graph().as_graph_def()
    finally:
        monkeypatch.undo()
        tf_proto_values.protos.cache_clear()
