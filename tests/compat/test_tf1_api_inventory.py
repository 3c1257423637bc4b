"""Every TF1 public name resolves in miniflow: implemented, or a stub that says why not.

The inventory (``tf1_api_inventory.json``) comes from real TensorFlow
(``benchmarks/tf1_api_inventory.py``). Most failures here are fixed by one command,
``.venv/bin/python tools/tf1_api_table.py --update``, which the messages name.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import types
from pathlib import Path

import pytest

import miniflow as tf
from miniflow.compat import stubs
from miniflow.compat.unsupported import UNSUPPORTED, UNSUPPORTED_NAMESPACES

ROOT = Path(__file__).resolve().parents[2]


def _load_tool():
    spec = importlib.util.spec_from_file_location(
        "tf1_api_table", ROOT / "tools" / "tf1_api_table.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


tool = _load_tool()
INVENTORY = tool.load_inventory()
TABLE = tool.classify(INVENTORY)
PENDING = stubs.read_pending()
FIX = f"run {tool.COMMAND}"


def _resolve(symbol: str):
    obj = tf
    for part in symbol.split(".")[1:]:
        obj = getattr(obj, part)
    return obj


def test_the_inventory_is_tensorflows_and_large():
    assert INVENTORY["source"] == "tensorflow.compat.v1"
    assert INVENTORY["tensorflow_version"].startswith("2.")
    spaces = INVENTORY["namespaces"]
    assert {
        "tf",
        "tf.nn",
        "tf.nn.rnn_cell",
        "tf.math",
        "tf.image",
        "tf.io.gfile",
        "tf.data.experimental",
        "tf.train",
        "tf.layers",
        "tf.errors",
    } <= set(spaces)
    assert "tf.keras" not in spaces and spaces["tf"]["keras"] == "module"
    assert spaces["tf"]["matmul"] == "function" and spaces["tf"]["Session"] == "class"
    assert spaces["tf"]["float32"] == "constant" and spaces["tf"]["nn"] == "module"
    assert sum(len(v) for v in spaces.values()) > 2000


def test_every_inventory_name_resolves_without_attribute_error():
    missing = []
    for symbol in tool.symbols(INVENTORY):
        obj = tf
        for part in symbol.split(".")[1:]:
            if stubs.is_stub(obj):
                break  # getting a stub namespace's attribute works; a stub's use raises
            try:
                obj = getattr(obj, part)
            except AttributeError:
                missing.append(symbol)
                break
    assert not missing, (
        f"{len(missing)} TF1 names raise AttributeError: implement them "
        f"or {FIX}. A namespace whose module exists but is not imported by "
        f"its parent (miniflow/__init__.py) is not stubbed either, so that "
        f"its own import binds it: {missing[:20]}"
    )


def test_the_pending_list_is_not_stale():
    stale = sorted(
        s for s in PENDING if TABLE.get(s, ("absent",))[0] not in (tool.PENDING_, tool.MISSING)
    )
    assert not stale, (
        f"stale pending list: {FIX} ({len(stale)} entries are implemented, "
        f"unsupported or not in the inventory: {stale[:20]})"
    )


def test_no_name_is_neither_implemented_unsupported_nor_pending():
    loose = sorted(
        s
        for s, (status, _) in TABLE.items()
        if status in (tool.PENDING_, tool.MISSING) and s not in PENDING
    )
    assert not loose, (
        f"{len(loose)} names are not implemented and not in the pending "
        f"list or the unsupported table: {FIX} ({loose[:20]})"
    )


def test_unsupported_entries_are_in_the_inventory_and_not_implemented():
    known = set(tool.symbols(INVENTORY))
    for symbol in list(UNSUPPORTED) + list(UNSUPPORTED_NAMESPACES):
        assert symbol in known, f"{symbol} is in unsupported.py but not in the inventory"
        assert TABLE[symbol][0] == tool.UNSUPPORTED, (
            f"{symbol} is implemented: remove it from miniflow/compat/unsupported.py"
        )


def test_namespaces_the_inventory_skips_are_unsupported_namespaces():
    for symbol in INVENTORY["not_walked"]:
        if symbol != "tf.compat":
            assert symbol in UNSUPPORTED_NAMESPACES, symbol
    assert not stubs.is_stub(tf.compat) and tf.compat.v1 is tf


def test_the_docs_table_is_up_to_date():
    expected = tool.render(INVENTORY, TABLE)
    assert tool.DOC.read_text() == expected, f"docs/tf1_api.md is out of date: {FIX}"


def test_implemented_counts_do_not_drop_below_the_floors():
    floors = tool.read_floors()
    assert floors, f"no floors recorded: {FIX}"
    now = tool.counts(INVENTORY, TABLE)
    dropped = {
        ns: (now[ns][tool.IMPLEMENTED], floor)
        for ns, floor in floors.items()
        if ns in now and now[ns][tool.IMPLEMENTED] < floor
    }
    assert not dropped, f"implemented names lost (now, floor): {dropped}"


def test_floors_only_rise():
    inventory = {"namespaces": {"tf.a": {"x": "function", "y": "function"}}}
    table = {"tf.a.x": (tool.IMPLEMENTED, ""), "tf.a.y": (tool.PENDING_, "")}
    assert tool.raised_floors(inventory, table, {"tf.a": 0}) == {"tf.a": 1}
    assert tool.raised_floors(inventory, table, {"tf.a": 2}) == {"tf.a": 2}


def test_implemented_means_the_exact_path_is_real():
    assert tool.classify_symbol("tf.matmul") == (tool.IMPLEMENTED, "")
    assert tool.classify_symbol("tf.tpu.rewrite") == (tool.UNSUPPORTED, "TPU only")
    assert tool.classify_symbol("tf.keras.layers.Dense")[0] == tool.UNSUPPORTED
    assert tool.classify_symbol("tf.no_such_name_anywhere") == (tool.MISSING, "")
    # an object under another path does not make an alias implemented
    root = types.ModuleType("fake_root")
    root.matmul, root.math = object(), types.ModuleType("fake_root.math")
    assert tool.classify_symbol("tf.matmul", root)[0] == tool.IMPLEMENTED
    assert tool.classify_symbol("tf.math.matmul", root)[0] == tool.MISSING
    root.math.matmul = stubs.Stub(stubs.StubInfo("tf.math.matmul", stubs.PENDING_STATUS, ""))
    assert tool.classify_symbol("tf.math.matmul", root)[0] == tool.PENDING_


# -- using a stub -------------------------------------------------------------------------


def _raises_unimplemented(fn, *needles):
    with pytest.raises(tf.errors.UnimplementedError) as e:
        fn()
    for needle in needles:
        assert needle in str(e.value), (needle, str(e.value))
    return e.value


def test_an_unsupported_function_raises_naming_symbol_and_reason():
    assert hasattr(tf, "load_op_library")
    _raises_unimplemented(
        lambda: tf.load_op_library("x.so"), "tf.load_op_library", "not supported", "C++"
    )


def test_an_unsupported_class_cannot_be_instantiated_subclassed_or_read():
    filters = tf.config.experimental.ClusterDeviceFilters
    name = "tf.config.experimental.ClusterDeviceFilters"
    _raises_unimplemented(lambda: filters(), name, "distributed runtime")
    _raises_unimplemented(
        lambda: filters.set_device_filters,
        f"{name}.set_device_filters",
        "distributed runtime",
    )

    def subclass():
        class MyFilters(tf.config.experimental.ClusterDeviceFilters):
            pass

    _raises_unimplemented(subclass, name)
    assert not isinstance(object(), filters)


def test_a_whole_stubbed_namespace_returns_stubs_that_raise():
    assert stubs.is_stub(tf.tpu) and hasattr(tf.tpu, "anything_at_all")
    _raises_unimplemented(lambda: tf.tpu.rewrite(lambda: 1), "tf.tpu.rewrite", "TPU only")
    _raises_unimplemented(lambda: tf.keras.layers.Dense(3), "tf.keras.layers.Dense", "out of scope")
    _raises_unimplemented(
        lambda: tf.distribute.MirroredStrategy(),
        "tf.distribute.MirroredStrategy",
        "distributed runtime",
    )
    with pytest.raises(AttributeError):
        tf.tpu.__wrapped__  # noqa: B018  dunders stay AttributeErrors (inspect, pickle)
    # private probes (duck typing) see a plain object; public attributes are uses
    assert not hasattr(tf.tpu.rewrite, "_as_graph_element")
    _raises_unimplemented(lambda: hasattr(tf.tpu.rewrite, "name"), "tf.tpu.rewrite.name")


def test_stubs_can_be_imported_like_modules():
    import miniflow.keras as keras
    from miniflow.tpu import rewrite

    assert stubs.stub_info(rewrite).symbol == "tf.tpu.rewrite"
    assert keras is tf.keras
    assert tf.compat.v1.tpu is tf.tpu


def test_a_specific_reason_inside_a_stubbed_namespace_wins():
    info = stubs.StubInfo("tf.ns", stubs.PENDING_STATUS, stubs.PENDING_REASON)
    child = info.child("tf_child_not_listed")
    assert child.status == stubs.PENDING_STATUS
    assert (
        stubs.StubInfo("tf.config", stubs.PENDING_STATUS, "")
        .child("experimental_connect_to_cluster")
        .status
        == stubs.UNSUPPORTED_STATUS
    )


def test_a_pending_stub_says_not_implemented_yet():
    functions = [
        s
        for s, kind in PENDING.items()
        if kind == "function" and TABLE.get(s, ("",))[0] == tool.PENDING_
    ]
    if not functions:
        pytest.skip("no pending function left")
    symbol = functions[0]
    obj = _resolve(symbol)
    assert stubs.is_stub(obj)
    _raises_unimplemented(obj, symbol, "not implemented yet", "file an issue")
    _raises_unimplemented(lambda: obj.some_attribute, f"{symbol}.some_attribute")


def test_a_pending_namespace_stub():
    stub = stubs.StubNamespace(
        "miniflow.fake_ns", stubs.StubInfo("tf.fake_ns", stubs.PENDING_STATUS, "")
    )
    assert stubs.is_stub(stub.anything)
    _raises_unimplemented(lambda: stub.anything(1), "tf.fake_ns.anything", "not implemented yet")
    assert "tf.fake_ns" in repr(stub)


def test_read_pending_skips_comments(tmp_path):
    pending = tmp_path / "pending.txt"
    pending.write_text("# comment\ntf.a function  # why\n\ntf.b.c module\n")
    assert stubs.read_pending(pending) == {"tf.a": "function", "tf.b.c": "module"}
    assert stubs.read_pending(tmp_path / "absent.txt") == {}


def test_install_fills_only_what_is_missing():
    root = types.ModuleType("fake_root")
    real_keras = object()
    root.keras, root.train, root.matmul = real_keras, types.ModuleType("fake_root.train"), 1
    try:
        stubs.install(
            root,
            {
                "tf.matmul": "function",
                "tf.lookup": "module",
                "tf.train.fancy": "class",
                "tf.nowhere.x": "function",
                "tf.lookup.experimental": "module",
                "tf.lookup.experimental.Table": "class",
            },
        )
        assert root.keras is real_keras and root.matmul == 1
        assert stubs.is_stub(root.load_op_library) and stubs.is_stub(root.tpu)
        assert (
            stubs.stub_info(root.train.do_quantize_training_on_graphdef).status
            == stubs.UNSUPPORTED_STATUS
        )
        assert stubs.stub_info(root.train.fancy).status == stubs.PENDING_STATUS
        assert isinstance(root.lookup, types.ModuleType)
        assert sys.modules["fake_root.lookup"] is root.lookup
        assert not hasattr(root, "nowhere")
        # a namespace inside a stubbed namespace is a stub namespace too, importable
        assert isinstance(root.lookup.experimental, stubs.StubNamespace)
        assert sys.modules["fake_root.lookup.experimental"] is root.lookup.experimental
        assert (
            stubs.stub_info(root.lookup.experimental.Table).symbol == "tf.lookup.experimental.Table"
        )
    finally:
        for name in [m for m in sys.modules if m.startswith("fake_root.")]:
            del sys.modules[name]


def test_install_leaves_a_module_with_source_to_its_own_import():
    assert stubs._has_source("miniflow.cli.demo")
    assert not stubs._has_source("miniflow.no_such_module")
    assert not stubs._has_source("miniflow.nn.not_a_package")


def test_the_inventory_file_is_sorted_json():
    text = (ROOT / "tests" / "compat" / "tf1_api_inventory.json").read_text()
    data = json.loads(text)
    for names in data["namespaces"].values():
        assert list(names) == sorted(names)
    assert list(data["namespaces"]) == sorted(data["namespaces"])


# -- python -m miniflow --------------------------------------------------------------------


def test_python_dash_m_miniflow_is_the_miniflow_command(capsys):
    via_m = subprocess.run(
        [sys.executable, "-m", "miniflow", "--help"], capture_output=True, text=True, timeout=120
    )
    assert via_m.returncode == 0, via_m.stderr
    assert via_m.stdout.startswith("usage: miniflow COMMAND")
    script = Path(sys.executable).with_name("miniflow")
    if script.is_file():  # the console script of this environment
        via_script = subprocess.run(
            [str(script), "--help"], capture_output=True, text=True, timeout=120
        )
        assert (via_script.returncode, via_script.stdout) == (0, via_m.stdout)
    from miniflow.cli.main import main

    assert main(["--help"]) == 0
    assert capsys.readouterr().out == via_m.stdout
    bad = subprocess.run(
        [sys.executable, "-m", "miniflow", "no-such-command"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert bad.returncode == 2 and "unknown command 'no-such-command'" in bad.stderr
