"""TensorFlow's V2 checkpoint format: restoring checkpoints written by real TensorFlow
(fixtures/, made by fixtures/make_tf_checkpoints.py with TF 2.21's tf.compat.v1.train.Saver;
fixtures/expected.json holds the values TF saved), writing it, and corrupt files."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import struct

import numpy as np
import pytest

import miniflow as tf
from miniflow.core import protobuf_wire as wire, sstable
from miniflow.core.tfrecord import masked_crc32c
from miniflow.train import tensor_bundle

FIXTURES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures")
_spec = importlib.util.spec_from_file_location(
    "make_tf_checkpoints", os.path.join(FIXTURES, "make_tf_checkpoints.py")
)
programs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(programs)

with open(os.path.join(FIXTURES, "expected.json")) as _fh:
    EXPECTED = json.load(_fh)


def expected_value(entry):
    if entry["dtype"] == "string":
        return np.array([bytes.fromhex(v) for v in entry["value"]], dtype=object).reshape(
            entry["shape"]
        )
    return np.array(entry["value"], dtype=entry["dtype"]).reshape(entry["shape"])


def assert_same(got, entry):
    want = expected_value(entry)
    got = np.asarray(got)
    assert got.shape == want.shape
    if entry["dtype"] == "string":
        assert got.tolist() == want.tolist()
    else:
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)


def restore_program(name, directory=None):
    """Builds fixture program ``name`` in miniflow and restores its latest checkpoint."""
    tf.reset_default_graph()
    programs.MODELS[name][0](tf)
    sess = tf.Session()
    tf.train.Saver().restore(
        sess, tf.train.latest_checkpoint(directory or os.path.join(FIXTURES, name))
    )
    return sess


@pytest.fixture
def copy_of(tmp_path):
    def copy(name):
        target = tmp_path / name
        shutil.copytree(os.path.join(FIXTURES, name), target)
        return str(target / os.path.basename(tf.train.latest_checkpoint(str(target))))

    return copy


# -- reading TensorFlow's checkpoints -------------------------------------------------------
@pytest.mark.parametrize("name", sorted(programs.MODELS))
def test_saver_restores_tf_checkpoint_into_same_program(name):
    sess = restore_program(name)
    values = {}
    for var, value in zip(tf.global_variables(), sess.run(tf.global_variables())):
        info = getattr(var, "_save_slice_info", None)  # a piece of a partitioned variable
        if info is None:
            values[var.op.name] = value
        else:
            whole = values.setdefault(info.full_name, np.zeros(info.full_shape, value.dtype))
            whole[info.index()] = value
    assert values.keys() == EXPECTED[name].keys()
    for var_name, entry in EXPECTED[name].items():
        assert_same(values[var_name], entry)


def test_restored_adam_model_keeps_training_like_tf():
    sess = restore_program("adam")
    w = [v for v in tf.global_variables() if v.op.name == "w"][0]
    assert sess.run(tf.train.get_global_step()) == 3
    assert sess.run(w)[0, 0] == np.float32(1.0)  # TF's value: grad 0 at the optimum


def test_reader_api_on_tf_checkpoint():
    reader = tf.train.load_checkpoint(os.path.join(FIXTURES, "misc"))
    assert reader.get_variable_to_shape_map() == {
        "counts": [2, 3],
        "dbl": [2],
        "flags": [3],
        "scalar": [],
        "words": [4],
    }
    assert reader.get_variable_to_dtype_map() == {
        "counts": tf.int64,
        "dbl": tf.float64,
        "flags": tf.bool,
        "scalar": tf.int32,
        "words": tf.string,
    }
    assert reader.has_tensor("counts") and not reader.has_tensor("nope")
    assert reader.get_tensor("counts")[1].tolist() == [2**40, -(2**50), 0]
    assert reader.get_tensor("words").tolist() == [
        b"alpha",
        b"",
        b"\xffbytes\x00",
        "d\u00e9j\u00e0".encode(),
    ]
    with pytest.raises(tf.errors.NotFoundError, match="Key nope not found in checkpoint"):
        reader.get_tensor("nope")
    prefix = tf.train.latest_checkpoint(os.path.join(FIXTURES, "adam"))
    assert prefix.endswith("model.ckpt-3")
    assert tf.train.list_variables(prefix) == [
        ("beta1_power", []),
        ("beta2_power", []),
        ("global_step", []),
        ("w", [2, 2]),
        ("w/Adam", [2, 2]),
        ("w/Adam_1", [2, 2]),
    ]
    reader = tf.train.NewCheckpointReader(prefix)
    assert_same(reader.get_tensor("beta1_power"), EXPECTED["adam"]["beta1_power"])
    assert EXPECTED["adam"]["beta1_power"]["value"] == pytest.approx(0.9**4, rel=1e-6)
    assert tf.train.load_variable(os.path.join(FIXTURES, "sharded"), "c").tolist() == [
        0.0,
        -1.5,
        -3.0,
        -4.5,
    ]


def test_two_shard_checkpoint_reads_both_shards():
    num_shards, entries = tensor_bundle.read_index(
        tf.train.latest_checkpoint(os.path.join(FIXTURES, "sharded"))
    )
    assert num_shards == 2
    assert sorted(e.shard_id for e in entries.values()) == [0, 1]


def test_init_from_checkpoint_reads_tf_checkpoint():
    tf.reset_default_graph()
    w = tf.get_variable("W", [3, 1], tf.float32, tf.zeros_initializer())
    tf.train.init_from_checkpoint(os.path.join(FIXTURES, "linear"), {"W": "W"})
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert_same(sess.run(w), EXPECTED["linear"]["W"])


def test_restore_errors_name_the_key_and_restore_nothing():
    tf.reset_default_graph()
    w = tf.Variable(np.zeros((3, 1), np.float32), name="W")
    tf.Variable(np.zeros((1,), np.float32), name="b")
    extra = tf.Variable(1.0, name="extra")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        prefix = tf.train.latest_checkpoint(os.path.join(FIXTURES, "linear"))
        with pytest.raises(tf.errors.NotFoundError, match="Key extra not found in checkpoint"):
            tf.train.Saver().restore(sess, prefix)
        assert sess.run(w).tolist() == [[0.0], [0.0], [0.0]]
        tf.train.Saver([w]).restore(sess, prefix)
        assert_same(sess.run(w), EXPECTED["linear"]["W"])
        assert sess.run(extra) == 1.0
    tf.reset_default_graph()
    w = tf.Variable(np.zeros((3, 1), np.float32), name="W")
    tf.Variable(np.zeros((2,), np.float32), name="b")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"shape \[1\]"):
            tf.train.Saver().restore(sess, prefix)
        assert sess.run(w).tolist() == [[0.0], [0.0], [0.0]]


# -- writing TensorFlow's format ----------------------------------------------------------
def test_written_bundle_is_byte_identical_to_tfs_data_and_entries(tmp_path):
    for name in ("misc", "adam"):
        prefix = tf.train.latest_checkpoint(os.path.join(FIXTURES, name))
        values = tensor_bundle.load(prefix)
        tensor_bundle.write(str(tmp_path / name), values)
        with (
            open(prefix + ".data-00000-of-00001", "rb") as a,
            open(str(tmp_path / name) + ".data-00000-of-00001", "rb") as b,
        ):
            assert a.read() == b.read()
        _, ours = tensor_bundle.read_index(str(tmp_path / name))
        _, theirs = tensor_bundle.read_index(prefix)
        assert {n: (e.dtype, e.shape, e.offset, e.size, e.crc32c) for n, e in ours.items()} == {
            n: (e.dtype, e.shape, e.offset, e.size, e.crc32c) for n, e in theirs.items()
        }


def test_saver_format_tf_round_trip(tmp_path):
    tf.reset_default_graph()
    programs.build_misc(tf)
    programs.build_linear(tf)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        want = sess.run(tf.global_variables())
        prefix = tf.train.Saver(format="tf").save(sess, str(tmp_path / "model.ckpt"), global_step=7)
    assert sorted(os.listdir(tmp_path)) == [
        "checkpoint",
        "model.ckpt-7.data-00000-of-00001",
        "model.ckpt-7.index",
        "model.ckpt-7.meta",
    ]
    assert tensor_bundle.is_bundle(prefix)
    with open(tmp_path / "checkpoint") as fh:  # TF's text CheckpointState
        assert fh.read().splitlines()[:2] == [
            'model_checkpoint_path: "model.ckpt-7"',
            'all_model_checkpoint_paths: "model.ckpt-7"',
        ]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(
            [
                tf.assign(v, tf.zeros_like(v))
                for v in tf.global_variables()
                if v.dtype in (tf.float32, tf.int64)
            ]
        )
        tf.train.Saver().restore(sess, tf.train.latest_checkpoint(str(tmp_path)))
        for got, expected in zip(sess.run(tf.global_variables()), want):
            assert np.asarray(got).tolist() == np.asarray(expected).tolist()
    tf.train.remove_checkpoint(prefix)
    assert sorted(os.listdir(tmp_path)) == ["checkpoint"]


def test_saver_rejects_unknown_format():
    tf.Variable(1.0)
    with pytest.raises(ValueError, match="format must be 'miniflow' or 'tf'"):
        tf.train.Saver(format="npz")


def test_sstable_round_trip_many_blocks_and_restarts():
    items = [
        (f"key/{i:05d}/{'x' * (i % 7)}".encode(), bytes([i % 256]) * (i % 13)) for i in range(600)
    ]
    data = sstable.build_table(items, block_size=512)
    assert sstable.read_table(data, "t") == items
    assert sstable.read_table(sstable.build_table([]), "t") == []
    with pytest.raises(ValueError, match="strictly increasing"):
        sstable.build_table([(b"b", b""), (b"a", b"")])


# -- corrupt files --------------------------------------------------------------------------
def _flip(path, offset):
    with open(path, "r+b") as fh:
        fh.seek(offset)
        byte = fh.read(1)
        fh.seek(offset)
        fh.write(bytes([byte[0] ^ 0x01]))


def _truncate(path, size):
    with open(path, "r+b") as fh:
        fh.truncate(size)


def _assert_restore_fails(prefix, error, match, name="linear"):
    tf.reset_default_graph()
    programs.MODELS[name][0](tf)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        before = sess.run(tf.global_variables())
        with pytest.raises(error, match=match):
            tf.train.Saver().restore(sess, prefix)
        for got, was in zip(sess.run(tf.global_variables()), before):  # nothing restored
            assert np.asarray(got).tolist() == np.asarray(was).tolist()


def test_bad_data_crc_is_data_loss_and_restores_nothing(copy_of):
    prefix = copy_of("linear")
    _flip(prefix + ".data-00000-of-00001", 13)  # a byte of b, saved after W
    _assert_restore_fails(
        prefix, tf.errors.DataLossError, r"checksum mismatch for tensor b in .*data-00000-of-00001"
    )


def test_truncated_data_is_data_loss(copy_of):
    prefix = copy_of("linear")
    _truncate(prefix + ".data-00000-of-00001", 14)
    _assert_restore_fails(
        prefix,
        tf.errors.DataLossError,
        r"data-00000-of-00001, which has "
        r"14 \(truncated",
    )


def test_missing_shard_is_data_loss(copy_of):
    prefix = copy_of("sharded")
    os.remove(prefix + ".data-00001-of-00002")
    _assert_restore_fails(
        prefix,
        tf.errors.DataLossError,
        "data-00001-of-00002 for tensor c is missing",
        name="sharded",
    )


@pytest.mark.parametrize("cut", [0, 10, 100, 145])
def test_truncated_index_is_data_loss(copy_of, cut):
    prefix = copy_of("linear")
    _truncate(prefix + ".index", cut)
    # An empty file cannot tell which format it was: miniflow's index reader reports it.
    _assert_restore_fails(
        prefix,
        tf.errors.DataLossError,
        r"model.ckpt-3.index is corrupt"
        if cut == 0
        else r"model.ckpt-3.index: (file too short|not an sstable)",
    )


def test_bad_footer_magic_is_data_loss(copy_of):
    prefix = copy_of("linear")
    _flip(prefix + ".index", os.path.getsize(prefix + ".index") - 3)
    _assert_restore_fails(prefix, tf.errors.DataLossError, r"\.index: not an sstable")


def test_flipped_index_byte_is_data_loss(copy_of):
    prefix = copy_of("linear")
    for offset in range(0, os.path.getsize(prefix + ".index") - 48):
        shutil.copy(os.path.join(FIXTURES, "linear", "model.ckpt-3.index"), prefix + ".index")
        _flip(prefix + ".index", offset)
        with pytest.raises(tf.errors.DataLossError, match=r"model.ckpt-3\.index"):
            tf.train.load_checkpoint(prefix).get_tensor("W")


def _entry(dtype_enum, dims, offset, size, crc):
    shape = b"".join(wire.length_field(2, wire.varint_field(1, d)) for d in dims)
    return (
        wire.varint_field(1, dtype_enum)
        + wire.length_field(2, shape)
        + wire.varint_field(4, offset)
        + wire.varint_field(5, size)
        + wire.tag(6, wire.FIXED32)
        + struct.pack("<I", crc)
    )


def _write_bundle(prefix, entries, data=b"", header=None):
    header = header or wire.varint_field(1, 1)
    with open(prefix + ".index", "wb") as fh:
        fh.write(sstable.build_table([(b"", header)] + entries))
    with open(prefix + ".data-00000-of-00001", "wb") as fh:
        fh.write(data)


def test_lengths_past_the_end_are_data_loss_without_allocating(tmp_path):
    prefix = str(tmp_path / "model")
    _write_bundle(prefix, [(b"W", _entry(1, [1 << 30, 1 << 30], 0, 1 << 62, 0))], b"1234")
    with pytest.raises(tf.errors.DataLossError, match="needs bytes 0..4611686018427387904"):
        tf.train.load_checkpoint(prefix).get_tensor("W")
    _write_bundle(prefix, [(b"W", _entry(1, [2], 0, 12, masked_crc32c(bytes(12))))], bytes(12))
    with pytest.raises(tf.errors.DataLossError, match=r"has 12 bytes .* needs 8"):
        tf.train.load_checkpoint(prefix).get_tensor("W")
    _write_bundle(
        prefix,
        [(b"W", _entry(1, [1], 0, 4, 0))],
        bytes(4),
        header=wire.varint_field(1, 1) + wire.varint_field(1, 0),
    )
    with pytest.raises(tf.errors.DataLossError, match="corrupt entry"):
        tf.train.load_checkpoint(prefix)
    # A string tensor whose varint length claims more bytes than it has.
    body = wire.varint(1 << 40) + bytes(4) + b"abc"
    _write_bundle(prefix, [(b"s", _entry(7, [1], 0, len(body), masked_crc32c(body)))], body)
    with pytest.raises(tf.errors.DataLossError, match="lengths do not add up"):
        tf.train.load_checkpoint(prefix).get_tensor("s")


def test_shard_id_past_num_shards_and_block_past_end_are_data_loss(tmp_path):
    prefix = str(tmp_path / "model")
    _write_bundle(prefix, [(b"W", _entry(1, [1], 0, 4, 0) + wire.varint_field(3, 5))])
    with pytest.raises(tf.errors.DataLossError, match="shard_id 5 >= num_shards 1"):
        tf.train.load_checkpoint(prefix)
    table = bytearray(sstable.build_table([(b"", b"")]))
    meta_offset, pos = wire.read_varint(table, len(table) - 48, len(table))
    meta_size, _ = wire.read_varint(table, pos, len(table))
    table[-48:-8] = (
        wire.varint(meta_offset) + wire.varint(meta_size) + wire.varint(1 << 40) + wire.varint(99)
    ).ljust(40, b"\0")
    with open(prefix + ".index", "wb") as fh:
        fh.write(bytes(table))
    with pytest.raises(tf.errors.DataLossError, match="runs past the end of the table"):
        tf.train.load_checkpoint(prefix)


def test_partitioned_tensor_is_assembled_from_its_slices():
    prefix = tf.train.latest_checkpoint(os.path.join(FIXTURES, "partitioned"))
    _, entries = tensor_bundle.read_index(prefix)
    assert [ext for ext, _ in entries["emb"].slices] == [[(0, 3), (0, 3)], [(3, 2), (0, 3)]]
    assert [ext for ext, _ in entries["cols"].slices] == [[(0, 2), (0, 2)], [(0, 2), (2, 2)]]
    assert_same(tf.train.load_variable(prefix, "emb"), EXPECTED["partitioned"]["emb"])


def test_slice_key_is_tfs_ordered_code():
    # Keys as TF 2.21 wrote them for emb[0:3, 0:3] and emb[3:5, 0:3].
    assert tensor_bundle.slice_key("emb", [(0, 3), (0, 3)]).hex() == "00656d620001010280838083"
    assert tensor_bundle.slice_key("emb", [(3, 2), (0, 3)]).hex() == "00656d620001010283828083"
    # OrderedCode's signed varint: 1 byte for |v| < 64, header bits for longer ones.
    assert [tensor_bundle._signed_increasing(v).hex() for v in (-1, 63, 64, 1000, 2**40)] == [
        "7f",
        "bf",
        "c040",
        "c3e8",
        "fd0000000000",
    ]


def _sliced_bundle(prefix, slices, full_shape=(4,), same_bytes=False):
    """A float32 tensor "emb" saved as ``slices`` [(start, length, values)] along axis 0
    (``same_bytes``: every slice's entry points at the first slice's bytes)."""
    entries, data = [], b""
    extents = b""
    for start, length, values in slices:
        raw = np.asarray(values, np.float32).tobytes()
        offset = 0 if same_bytes else len(data)
        key = tensor_bundle.slice_key("emb", [(start, length)])
        entries.append((key, _entry(1, [len(values)], offset, len(raw), masked_crc32c(raw))))
        extents += wire.length_field(
            7, wire.length_field(1, wire.varint_field(1, start) + wire.varint_field(2, length))
        )
        data += b"" if same_bytes and data else raw
    shape = b"".join(wire.length_field(2, wire.varint_field(1, d)) for d in full_shape)
    full = wire.varint_field(1, 1) + wire.length_field(2, shape) + extents
    _write_bundle(prefix, sorted(entries + [(b"emb", full)]), data)


def test_corrupt_slices_are_data_loss(tmp_path):
    prefix = str(tmp_path / "model")
    _sliced_bundle(prefix, [(0, 2, [1, 2]), (2, 2, [3, 4])])
    assert tf.train.load_variable(prefix, "emb").tolist() == [1, 2, 3, 4]
    _sliced_bundle(prefix, [(0, 2, [1, 2]), (1, 2, [3, 4])])
    with pytest.raises(tf.errors.DataLossError, match="slices of emb overlap"):
        tf.train.load_variable(prefix, "emb")
    _sliced_bundle(prefix, [(0, 2, [1, 2])])
    with pytest.raises(tf.errors.DataLossError, match=r"do not tile its shape \[4\]"):
        tf.train.load_variable(prefix, "emb")
    _sliced_bundle(prefix, [(0, 2, [1, 2]), (2, 2, [3, 4])], full_shape=(1 << 40,))
    with pytest.raises(tf.errors.DataLossError, match="do not tile"):  # never allocated
        tf.train.load_variable(prefix, "emb")
    # Slices reading the same bytes: a small file must not fill a large tensor.
    _sliced_bundle(prefix, [(0, 2, [1, 2]), (2, 2, [1, 2])], same_bytes=True)
    with pytest.raises(tf.errors.DataLossError, match="slices of emb share bytes"):
        tf.train.load_variable(prefix, "emb")
    _sliced_bundle(prefix, [(3, 2, [1, 2])])
    with pytest.raises(tf.errors.DataLossError, match="does not fit emb"):
        tf.train.load_variable(prefix, "emb")
    _sliced_bundle(prefix, [(0, 4, [1, 2, 3, 4])])
    with open(prefix + ".index", "rb") as fh:
        table = sstable.read_table(fh.read(), "t")
    with open(prefix + ".index", "wb") as fh:  # the slice's own entry removed
        fh.write(sstable.build_table([kv for kv in table if kv[0][:1] != b"\0" or kv[0] == b""]))
    with pytest.raises(tf.errors.DataLossError, match=r"slice \[\(0, 4\)\] of emb missing"):
        tf.train.load_checkpoint(prefix)


# -- the `checkpoint` state file ------------------------------------------------------------
@pytest.mark.parametrize(
    "quoted", ['"m\u00f6del.ckpt-5"', r'"m\303\266del.ckpt-5"', "'m\\303\\266del.ckpt-5'"]
)
def test_state_file_as_tf_writes_it(tmp_path, quoted):
    # TF 2.21 writes raw UTF-8; older TF and hand-edited files use C escapes.
    shutil.copy(
        os.path.join(FIXTURES, "linear", "model.ckpt-3.index"), tmp_path / "m\u00f6del.ckpt-5.index"
    )
    (tmp_path / "checkpoint").write_bytes(
        f"model_checkpoint_path: {quoted}\nall_model_checkpoint_paths: {quoted}\n"
        "all_model_checkpoint_timestamps: 1796641164.6273482\n"
        "last_preserved_timestamp: 1796641164.51064\n".encode()
    )
    state = tf.train.get_checkpoint_state(str(tmp_path))
    assert state.model_checkpoint_path == str(tmp_path / "m\u00f6del.ckpt-5")
    assert state.all_model_checkpoint_timestamps == [1796641164.6273482]
    tf.train.update_checkpoint_state(str(tmp_path), str(tmp_path / "m\u00f6del.ckpt-5"))
    assert (tmp_path / "checkpoint").read_text("utf-8").splitlines()[
        0
    ] == 'model_checkpoint_path: "m\u00f6del.ckpt-5"'


def _table_with_block(block: bytes) -> bytes:
    """A table whose only data block is ``block`` (with a valid checksum)."""
    body = block + b"\x00"
    data = body + struct.pack("<I", masked_crc32c(body))
    out = bytearray(data)
    meta = sstable._write_block(out, [])
    index = sstable._write_block(out, [(b"k", wire.varint(0) + wire.varint(len(block)))])
    return bytes(out) + (meta + index).ljust(40, b"\0") + struct.pack("<Q", sstable.MAGIC)


@pytest.mark.parametrize(
    "block, match",
    [
        (
            wire.varint(0) + wire.varint(1 << 40) + wire.varint(0) + struct.pack("<II", 0, 1),
            "entry lengths run past the block",
        ),
        (
            wire.varint(5) + wire.varint(1) + wire.varint(0) + b"k" + struct.pack("<II", 0, 1),
            "entry lengths run past the block",
        ),
        (
            wire.varint(0) + wire.varint(1) + wire.varint(0) + b"k" + struct.pack("<I", 1 << 30),
            "bad restart count",
        ),
        (b"\x80\x80", "block too short"),
    ],
)
def test_block_lengths_past_the_end_are_data_loss(block, match):
    with pytest.raises(tf.errors.DataLossError, match=f"my.index: .*{match}"):
        sstable.read_table(_table_with_block(block), "my.index")
