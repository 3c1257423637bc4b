"""The architecture, checked: every module's place in a layer table, the import direction
between layers, and no import loops (STYLE.md §0 and §2.2).

Library layers (a module may import its own layer and those of lower rank; two layers
of the same rank never import each other)::

    errors, dtypes  <-  core  <-  graph | eager  <-  ops  <-  library (train, data, ...)
        <-  namespace (``miniflow/__init__.py`` and the TF1 namespace modules)
        <-  ml  <-  servers (ps, serving)  <-  cli

``miniflow.ml`` reaches the library only through the public namespace (``import
miniflow as tf``, ``from miniflow import train``), never through core/graph/eager/ops
or the library layer, except the NumPy-only core modules in ``ML_MAY_IMPORT``. ``from pkg import name`` counts as an import of ``pkg.name`` when
that is a module, else of ``pkg``.

Platform layers: foundation <- executors <- context <- domains <- app. Only
``workloads`` (run as processes) imports ``miniflow``; a domain package imports another
domain only through the modules that domain declares in ``DOMAIN_API``.

Import loops: the graph of every import, at module level and inside functions, has no
cycle. Two kinds of edges are left out, by design: an import of an ancestor package
(``import miniflow as tf`` inside a namespace subpackage: the ancestor re-exports its
children and its names are read at call time), and the function-level imports listed
in ``DEFERRED`` with their reason. ``if TYPE_CHECKING`` imports never run and are
ignored by the loop check; the layer check counts them.
"""

from __future__ import annotations

import ast
import functools
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
TABLE = "tests/test_architecture.py"
# -- the tables ---------------------------------------------------------------------------
# (layer, rank, modules relative to the package; __init__ is the package itself)
LIBRARY = [
    (
        "leaves",
        0,
        """
        dtypes errors
        """,
    ),
    (
        "core",
        1,
        """
        core core.atomic_file core.autodiff core.blas_threads core.codegen core.compiled
        core.compiled_updates core.dispatch
        core.example_fast_parse core.example_proto core.indexed_slices core.nest
        core.protobuf_wire core.registry core.shapes core.sstable core.tfrecord
        core.update_rules core.values core.wire core.job_auth
        """,
    ),
    (
        "graph",
        2,
        """
        graph graph.builder graph.collections_api graph.default_session graph.file_io
        graph.gradients graph.graph graph.operation graph.serialization graph.session
        """,
    ),
    (
        "eager",
        2,
        """
        eager eager.context eager.executor eager.gradient_plans eager.tape
        eager.tensor
        """,
    ),
    (
        "ops",
        3,
        """
        ops ops.accumulator_ops ops.activation_compiled ops.arithmetic_ops ops.array_ops
        ops.audio_ops
        ops.batch_ops ops.bessel_ops ops.bitwise_ops ops.broadcast_ops
        ops.candidate_sampling_ops ops.check_ops ops.clip_average_norm ops.clip_ops
        ops.complex_ops ops.composite_math_ops ops.concat_split_ops
        ops.conjugate_gradient ops.constant_ops ops.control_flow_ops ops.conv3d_ops
        ops.conv_compiled ops.conv_compose_ops ops.conv_ops ops.counter_ops ops.critical_section_ops
        ops.ctc_ops ops.custom_gradient ops.data_flow_ops ops.decomposition_ops
        ops.def_function ops.depthwise_ops ops.device_spec ops.dropout_ops
        ops.dtype_cast_ops ops.eager_py_func ops.einsum_ops ops.embedding_ops
        ops.example_parsing_ops ops.fake_quant_ops ops.fft_ops ops.fingerprint_ops
        ops.fractional_pool_ops ops.framework_enums ops.functional_ops
        ops.gather_scatter_ops ops.higher_order_ops ops.image_box_ops
        ops.image_codec_ops ops.image_color_ops ops.image_filter_ops ops.image_ops
        ops.image_patch_ops ops.image_resize_ops ops.index_ops ops.init_ops
        ops.io_readers ops.linalg_ops ops.linear_operator ops.lookup_ops
        ops.losses_impl ops.lstm_compiled ops.manip_ops ops.math_ops ops.matrix_function_ops
        ops.metrics_at_k ops.metrics_impl ops.more_init_ops ops.morphology_ops
        ops.mutable_lookup_ops ops.nn_compose_ops ops.nn_ops ops.norm_ops
        ops.operators ops.orthogonal_init ops.parsing_ops ops.partitioned_variables
        ops.pool_tiled ops.quantization_ops ops.quantized_nn_ops ops.queue_state
        ops.ragged_array_ops ops.random_distribution_ops ops.random_generator_ops
        ops.random_ops ops.reduction_ops ops.rnn_cell_ops ops.safe_embedding_ops
        ops.safe_math_ops
        ops.sampling_ops ops.scan_ops ops.scatter_ops ops.script_ops ops.segment_ops
        ops.selection_ops ops.sequence_example_parsing_ops ops.session_ops
        ops.set_ops ops.shape_ops ops.shape_rules ops.shaping_ops ops.signal_ops
        ops.slicing_ops ops.sobol_ops ops.sort_ops ops.sparse_cross_ops
        ops.sparse_embedding_ops ops.sparse_manip_ops ops.sparse_ops ops.sparse_reduce_ops
        ops.sparse_segment_ops ops.sparse_serialization_ops ops.sparse_tensor
        ops.special_math_ops
        ops.spectral_ops ops.state_ops ops.stateless_random_ops ops.string_hash
        ops.string_ops ops.string_split_ops ops.summary_ops ops.summary_tensor_ops
        ops.tensor_array_ops ops.tensor_conversion ops.tf_graph_ops ops.trig_ops
        ops.type_spec ops.type_spec_values ops.unicode_ops ops.unicode_script_table
        ops.variable_scope ops.variable_template ops.variables ops.partitioned_variable
        """,
    ),
    (
        "library",
        4,
        """
        data.cardinality data.dataset_methods data.dataset_ops data.experimental
        data.feature_datasets data.grouping data.iterator_ops data.options
        data.readers data.registry data.sampling data.saving data.sources
        data.sparse_datasets data.stateful data.structure data.structures
        data.transformations feature_column.columns_base
        feature_column.columns_categorical feature_column.columns_dense
        feature_column.columns_numeric feature_column.columns_sequence
        feature_column.layers feature_column.parse_spec ragged.ragged_dispatch
        ragged.ragged_factory ragged.ragged_feature ragged.ragged_ops
        ragged.ragged_parsing ragged.ragged_session ragged.ragged_strings
        ragged.ragged_tensor ragged.ragged_value saved_model.builder
        saved_model.constants saved_model.impl saved_model.loader
        saved_model.main_op saved_model.method_name_updater
        saved_model.signature_constants saved_model.signature_def_utils
        saved_model.signatures saved_model.tag_constants saved_model.tf_builder
        saved_model.tf_loader saved_model.tf_proto saved_model.utils summary.reader
        summary.writer summary.writer_cache testing.benchmark testing.gradient_check
        testing.stubout testing.tf_test train.adadelta train.adagrad
        train.adagrad_da train.adam train.basic_session_run_hooks train.checkpoint
        train.checkpoint_management train.cluster_spec train.coordinator
        train.cosine_decays train.experimental train.ftrl train.global_step_check
        train.gradient_descent train.graph_def train.input train.learning_rate_decay
        train.loss_scale train.loss_scale_optimizer train.meta_graph train.momentum
        train.monitored_session train.moving_averages train.object_checkpoint
        train.optimizer train.proximal_adagrad train.proximal_gradient_descent
        train.queue_runner train.rmsprop train.saver train.saver_def
        train.sdca_shrink train.session_manager train.session_run_hook
        train.slot_apply train.supervisor train.tensor_bundle train.tf_cond_export
        train.tf_graph_export
        train.tf_graph_proto train.tf_op_export train.tf_op_import
        train.tf_proto_values train.tf_saver_def train.tf_while_import train.training_util
        train.tf_function_import
        train.replica_device_setter train.server train.variable_store train.remote_session
        train.sync_replicas_optimizer
        train.warm_starting
        """,
    ),
    (
        "namespace",
        5,
        """
        __init__ app audio autograph autograph_experimental bitwise compat
        compat.stubs compat.switches compat.unsupported config config.devices
        config.experimental config.optimizer config.threading config_protos contrib
        contrib.eager contrib.eager_metrics contrib.framework contrib.layers
        contrib.layers_training contrib.metrics contrib.rnn conv_layers data
        debugging distributions distributions.continuous distributions.discrete
        distributions.distribution distributions.gamma_family
        distributions.multivariate estimator estimator.canned estimator.canned.dnn
        estimator.canned.dnn_linear_combined estimator.canned.head
        estimator.canned.linear estimator.canned.optimizers
        estimator.canned.parsing_utils estimator.estimator estimator.export
        estimator.exporter estimator.inputs estimator.model_fn estimator.run_config
        estimator.training experimental extend feature_column flags gfile graph_util
        image initializers io io.gfile layers layers_base linalg linalg_experimental
        logging_api lookup losses manip math math_special metrics mixed_precision
        mixed_precision_experimental module nest nn nn_experimental placement
        python_io quantization queue ragged random random_experimental
        resource_loader rnn rnn_cell rnn_raw rnn_residual rnn_state_saving
        saved_model sets signal sparse spectral strings summary
        summary.contrib_compat tensor_types test testing train version
        """,
    ),
    (
        "ml",
        6,
        """
        ml ml.base ml.batch ml.cache ml.data ml.datagen ml.linear_model ml.metrics
        ml.numeric_text ml.optimizers ml.report ml.solvers ml.source ml.sparse_lr ml.state_store ml.validation
        ml.text_rows ml.vw_text ml.csv_text ml.kernels_text ml.kernels_lr ml.kernels_scan
        ml.fm ml.fm_data ml.fm_estimator ml.fm_math ml.fm_model ml.compiled ml.fm_kernels ml.fm_vw
        """,
    ),
    (
        "servers",
        7,
        """
        ps ps.backends ps.backends.base ps.backends.local ps.backends.process
        ps.backends.ray ps.checkpoint ps.cli ps.client ps.commands ps.export ps.factors ps.job ps.keystore ps.model_parts ps.partition ps.serving
        ps.standalone
        ps.shard ps.shard_requests ps.sharding ps.transport ps.validation ps.worker serving serving.batch_predict serving.batching
        serving.codec serving.config serving.errors serving.manager serving.metrics serving.model_files
        serving.saved_model serving.servable serving.server serving.signature
        serving.sparse_lr serving.sparse_fm serving.limits serving.workers serving.http_head
        serving.http_handler serving.liveness
        """,
    ),
    (
        "cli",
        8,
        """
        __main__ cli cli.data cli.demo cli.fm cli.lr cli.main cli.predict cli.serve
        cli.train_options
        """,
    ),
]

PLATFORM = [
    (
        "foundation",
        0,
        """
        __init__ api_types body_limit config db errors limits paths proxy tracking_client
        storage storage.base storage.local storage.s3
        """,
    ),
    (
        "executors",
        1,
        """
        executors executors.base executors.cgroups executors.linux executors.local
        executors.modes executors.runner executors.sandbox executors.sandbox_plan
        executors.kube_manifests executors.kubernetes executors.kube_watch
        executors.kube_api executors.kube_status
        """,
    ),
    (
        "context",
        2,
        """
        context deps scheduler
        """,
    ),
    (
        "domains",
        3,
        """
        auth auth.dependencies auth.models auth.router auth.schemas auth.service
        jobs jobs.dependencies jobs.logs jobs.models jobs.router jobs.routes jobs.schemas
        jobs.service managed notebooks notebooks.dependencies notebooks.models
        notebooks.router notebooks.schemas notebooks.service openapi platform_info
        pipelines pipelines.dependencies pipelines.expressions pipelines.models
        pipelines.router pipelines.schemas pipelines.service
        predictions predictions.router predictions.schemas predictions.service
        serving serving.dependencies serving.models serving.router serving.schemas
        serving.service uploads uploads.archive uploads.models uploads.router
        uploads.schemas uploads.service usage workloads workloads.batch_predict
        workloads.evaluate model_metrics model_metrics.models model_metrics.router
        model_metrics.schemas model_metrics.service schedules schedules.clock schedules.cron
        schedules.dependencies schedules.models schedules.router schedules.schemas
        schedules.service
        tracking tracking.ingest tracking.models tracking.query tracking.router
        tracking.schemas tracking.service tracking.tfevents ui ui.router
        capacity capacity.router capacity.schemas capacity.service
        """,
    ),
    (
        "app",
        4,
        """
        cli client main pipelines_cli schedules_cli tracking_cli
        """,
    ),
]

# Function-level imports that would close an import loop, each with why it stays lazy.
DEFERRED: dict[tuple[str, str], str] = {
    ("miniflow.ops.slicing_ops", "miniflow.ops.gather_scatter_ops"): (
        "gather(batch_dims > 0) is composed from GatherNd, whose module builds on gather"
    ),
}

# The modules a platform domain package offers other domains (its "declared services");
# a top-level module of the domains layer (usage, managed) is a service as a whole.
DOMAIN_API = {
    "auth": "dependencies models schemas service",
    "jobs": "models schemas service logs routes",
    "notebooks": "models",
    # service: model_metrics asks a service for its version; schemas: deploy steps
    "serving": "models schemas service",
    "predictions": "service schemas",
    "pipelines": "models schemas service",  # schedules start pipeline runs
    "model_metrics": "schemas service",  # the pipelines' evaluate step records metrics
    "uploads": "models service archive",
}

# Crossings into another domain's internals that are still there, with the plan.
KNOWN_CROSSINGS: dict[tuple[str, str], str] = {}


@dataclass(frozen=True)
class Import:
    target: str
    line: int
    in_function: bool = False
    type_checking: bool = False


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def source_files() -> dict[str, Path]:
    return {
        module_name(p): p
        for top in ("miniflow", "miniflow_platform")
        for p in sorted((SRC / top).rglob("*.py"))
    }


FILES = source_files()


def existing(name: str) -> str:
    """The longest prefix of ``name`` that is a module (``a.b.attr`` -> ``a.b``)."""
    parts = name.split(".")
    while len(parts) > 1 and ".".join(parts) not in FILES:
        parts.pop()
    return ".".join(parts)


def imports(source: str, module: str, is_package: bool = False) -> list[Import]:
    """Every import of ``source``, relative imports resolved; ``from pkg import x`` is
    an import of ``pkg.x`` when that is a module, else of ``pkg``."""
    found: list[Import] = []

    def visit(node, in_function, type_checking):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                visit(child, True, type_checking)
            elif isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                for stmt in child.body:
                    visit(ast.Module([stmt], []), in_function, True)
                for stmt in child.orelse:
                    visit(ast.Module([stmt], []), in_function, type_checking)
            elif isinstance(child, ast.Import | ast.ImportFrom):
                for target in _targets(child, module, is_package):
                    found.append(Import(target, child.lineno, in_function, type_checking))
            else:
                visit(child, in_function, type_checking)

    visit(ast.parse(source), False, False)
    return found


def _targets(node, module, is_package):
    if isinstance(node, ast.Import):
        return [existing(a.name) for a in node.names]
    base = node.module or ""
    if node.level:
        pkg = module.split(".") if is_package else module.split(".")[:-1]
        pkg = pkg[: len(pkg) - (node.level - 1)]
        base = ".".join(pkg + ([base] if base else []))
    return [existing(f"{base}.{a.name}") for a in node.names]


@functools.cache
def file_imports(module: str) -> list[Import]:
    path = FILES[module]
    return imports(path.read_text(), module, path.name == "__init__.py")


# -- the tables ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Layer:
    name: str
    rank: int


def layer_map(package: str, table) -> dict[str, Layer]:
    """module -> Layer; ``__init__`` in a table stands for the package itself."""
    out: dict[str, Layer] = {}
    for name, rank, modules in table:
        for m in modules.split():
            full = package if m == "__init__" else f"{package}.{m}"
            assert full not in out, f"{full} is listed twice in the layer table"
            out[full] = Layer(name, rank)
    return out


LAYER_OF = layer_map("miniflow", LIBRARY) | layer_map("miniflow_platform", PLATFORM)
NAMESPACE_RANK = next(rank for name, rank, _ in LIBRARY if name == "namespace")
# NumPy-only core modules that miniflow.ml may import directly: the one definition of the
# update rules, of atomic file replacement and of the compiled-kernel switch, shared with
# train/, ps/ and serving/.
ML_MAY_IMPORT = {
    "miniflow.core.update_rules",
    "miniflow.core.atomic_file",
    "miniflow.core.compiled",
}
WHERE = {
    "miniflow": "LIBRARY (ops: op definitions; library: packages built on ops such as "
    "train or data; namespace: tf.* namespace modules and what is built on them)",
    "miniflow_platform": "PLATFORM (foundation, executors, context, domains or app)",
}


def domain(module: str) -> str | None:
    """The platform domain of ``module`` (``jobs`` for ``miniflow_platform.jobs.router``)."""
    layer = LAYER_OF.get(module)
    if module.split(".")[0] != "miniflow_platform" or not layer or layer.name != "domains":
        return None
    return module.split(".")[1]


def violations(module: str, found: list[Import]) -> list[str]:
    """What is wrong with ``module`` importing ``found``, one line each."""
    top = module.split(".")[0]
    if module not in LAYER_OF:
        return [f"{module} is not in the layer table: add it to {WHERE[top]} in {TABLE}"]
    src = LAYER_OF[module]
    bad = []
    for imp in found:
        target = imp.target
        at = f"{module}:{imp.line} imports {target}"
        t_top = target.split(".")[0]
        if t_top not in WHERE:
            continue
        if top == "miniflow" and t_top == "miniflow_platform":
            bad.append(f"{at}: the library never imports the platform")
            continue
        if top == "miniflow_platform" and t_top == "miniflow":
            if domain(module) != "workloads":
                bad.append(
                    f"{at}: the platform runs miniflow through its CLI; only "
                    "miniflow_platform.workloads (run as processes) imports it"
                )
            continue
        dst = LAYER_OF.get(target)
        if dst is None:
            continue  # reported as unranked for its own file
        if src.name == "ml" and dst.rank < NAMESPACE_RANK and target not in ML_MAY_IMPORT:
            bad.append(
                f"{at} ({dst.name} layer): miniflow.ml uses only the public namespace "
                "(import miniflow as tf)"
            )
        elif dst.rank > src.rank:
            bad.append(
                f"{at}, a higher layer ({dst.name} above {src.name}); invert it with a "
                "hook the upper layer registers into"
            )
        elif dst.rank == src.rank and dst.name != src.name:
            bad.append(f"{at}: the {src.name} and {dst.name} layers never import each other")
        elif domain(module) and domain(target) and domain(module) != domain(target):
            bad += _crossing(module, target, at)
    return bad


def _crossing(module, target, at):
    d = domain(target)
    api = DOMAIN_API.get(d, "").split()
    shared_service = len(target.split(".")) == 2
    if shared_service or target.split(".")[-1] in api or (module, target) in KNOWN_CROSSINGS:
        return []
    return [
        f"{at}, an internal module of the {d} domain: use its declared API "
        f"({', '.join(api) or 'none'}) or declare the module in DOMAIN_API in {TABLE}"
    ]


# -- import loops -------------------------------------------------------------------------


def import_graph() -> dict[str, dict[str, int]]:
    """module -> {imported module: line}, without the edges the loop rule leaves out."""
    graph: dict[str, dict[str, int]] = {}
    for module in FILES:
        edges = graph.setdefault(module, {})
        for imp in file_imports(module):
            t = imp.target
            if imp.type_checking or t not in FILES or t == module:
                continue
            if module.startswith(t + "."):
                continue  # an ancestor package (module docstring)
            if imp.in_function and (module, t) in DEFERRED:
                continue
            edges.setdefault(t, imp.line)
    return graph


def import_loops(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """One cycle (a list of modules, first == last) per strongly connected component."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    loops = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(graph.get(root, ())))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(graph.get(child, ()))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    m = stack.pop()
                    on_stack.discard(m)
                    component.append(m)
                    if m == node:
                        break
                if len(component) > 1:
                    loops.append(_cycle_in(set(component), graph))
    return loops


def _cycle_in(component: set[str], graph) -> list[str]:
    """A shortest cycle through the smallest module of ``component`` (breadth first)."""
    start = min(component)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        nxt = []
        for node in frontier:
            for child in graph[node]:
                if child == start:
                    return paths[node] + [start]
                if child in component and child not in paths:
                    paths[child] = paths[node] + [child]
                    nxt.append(child)
        frontier = nxt
    raise AssertionError(component)


def describe(cycle: list[str], graph) -> str:
    hops = " -> ".join(f"{a} (line {graph[a][b]})" for a, b in zip(cycle, cycle[1:], strict=False))
    return f"{hops} -> {cycle[-1]}"


# -- the tests ----------------------------------------------------------------------------


def test_every_module_is_in_the_layer_table():
    unranked = [violations(m, [])[0] for m in FILES if m not in LAYER_OF]
    stale = sorted(set(LAYER_OF) - set(FILES))
    assert not unranked, "\n".join(unranked)
    assert not stale, f"no such module, remove it from the layer table in {TABLE}: {stale}"


def test_library_layers_hold():
    bad = [
        v for m in FILES if m.split(".")[0] == "miniflow" for v in violations(m, file_imports(m))
    ]
    assert not bad, "layer violations:\n" + "\n".join(bad)


def test_platform_layers_hold():
    bad = [
        v
        for m in FILES
        if m.split(".")[0] == "miniflow_platform"
        for v in violations(m, file_imports(m))
    ]
    assert not bad, "platform layer violations:\n" + "\n".join(bad)


def test_no_import_loops():
    graph = import_graph()
    loops = [describe(c, graph) for c in import_loops(graph)]
    assert not loops, (
        "import loops (move what both need into a module of their own, or let the lower "
        "one take a hook; a function-level import needs an entry in DEFERRED):\n" + "\n".join(loops)
    )


def test_declared_exceptions_are_current():
    deferred = {(m, i.target) for m in FILES for i in file_imports(m) if i.in_function}
    assert not set(DEFERRED) - deferred, "DEFERRED lists imports that are gone"
    crossings = {(m, i.target) for m in FILES for i in file_imports(m)}
    assert not set(KNOWN_CROSSINGS) - crossings, "KNOWN_CROSSINGS lists imports that are gone"


def test_the_checked_tree_is_the_real_one():
    assert {
        "miniflow",
        "miniflow.core.registry",
        "miniflow.graph.session",
        "miniflow.ops.math_ops",
        "miniflow.train.optimizer",
        "miniflow_platform.jobs.router",
    } <= set(FILES)


@pytest.mark.parametrize(
    "module,source,expected",
    [
        ("miniflow.core.registry", "from miniflow.graph import graph", "higher layer"),
        ("miniflow.core.autodiff", "def f():\n    import miniflow.ops.math_ops", "higher layer"),
        ("miniflow.core.autodiff", "if TYPE_CHECKING:\n    import miniflow.ops", "higher layer"),
        ("miniflow.ops.math_ops", "import miniflow", "higher layer"),
        ("miniflow.ops.math_ops", "from miniflow import nn", "higher layer"),
        ("miniflow.graph.session", "from miniflow.eager import tape", "never import each other"),
        ("miniflow.eager.tape", "from ..graph import graph", "never import each other"),
        ("miniflow.eager.tape", "from miniflow.ops import math_ops", "higher layer"),
        ("miniflow.eager.tape", "import miniflow.train.optimizer", "higher layer"),
        ("miniflow.ml.metrics", "from miniflow.ops import math_ops", "public namespace"),
        ("miniflow.ml.metrics", "import miniflow.train.optimizer", "public namespace"),
        ("miniflow.ml.metrics", "from miniflow.data import dataset_ops", "public namespace"),
        ("miniflow.ml.metrics", "from miniflow import serving", "higher layer"),
        ("miniflow.ml.metrics", "from miniflow.core import registry", "public namespace"),
        ("miniflow.train.adam", "from miniflow.ml import metrics", "higher layer"),
        ("miniflow.train.adam", "from miniflow import nn", "higher layer"),
        ("miniflow.ml.data", "from miniflow.serving import server", "higher layer"),
        ("miniflow.ops.math_ops", "import miniflow_platform.db", "never imports the platform"),
        ("miniflow_platform.jobs.service", "import miniflow", "through its CLI"),
        ("miniflow_platform.main", "from miniflow.ml import metrics", "through its CLI"),
        ("miniflow_platform.db", "from miniflow_platform.jobs import models", "higher layer"),
        ("miniflow_platform.jobs.models", "from miniflow_platform import main", "higher layer"),
        ("miniflow_platform.jobs.service", "from ..notebooks import router", "internal module"),
        ("miniflow_platform.usage", "from miniflow_platform.jobs import router", "internal module"),
        ("miniflow_platform.nothing_here", "import json", "not in the layer table"),
    ],
)
def test_the_checker_flags_violations(module, source, expected):
    bad = violations(module, imports(source, module))
    assert len(bad) == 1 and expected in bad[0], bad


@pytest.mark.parametrize(
    "module,source",
    [
        ("miniflow.ops.math_ops", "from miniflow.core.registry import register_op"),
        ("miniflow.ops.math_ops", "from miniflow import dtypes"),
        ("miniflow.ops.variables", "from miniflow.graph.graph import get_default_graph"),
        ("miniflow.train.optimizer", "from miniflow.eager.tape import GradientTape"),
        ("miniflow.ml.metrics", "import miniflow as tf\nfrom miniflow import train"),
        ("miniflow.ml.metrics", "from miniflow.ml import data\nimport numpy"),
        ("miniflow.ml.optimizers", "from miniflow.core import update_rules"),
        ("miniflow.ml.cache", "from miniflow.core.atomic_file import AtomicFile"),
        ("miniflow.nn", "from miniflow.ops.math_ops import relu"),
        ("miniflow.cli.demo", "import miniflow"),
        ("miniflow_platform.jobs.service", "import subprocess"),
        ("miniflow_platform.jobs.service", "from miniflow_platform.auth import models"),
        ("miniflow_platform.workloads.batch_predict", "import miniflow as tf"),
    ],
)
def test_the_checker_allows_downward_imports(module, source):
    assert violations(module, imports(source, module)) == []


def test_the_loop_finder_names_each_loop():
    graph = {
        "a": {"b": 1},
        "b": {"c": 2},
        "c": {"a": 3, "d": 4},
        "d": {},
        "e": {"e2": 5},
        "e2": {"e": 6},
    }
    loops = sorted(import_loops(graph))
    assert loops == [["a", "b", "c", "a"], ["e", "e2", "e"]]
    assert describe(loops[0], graph) == "a (line 1) -> b (line 2) -> c (line 3) -> a"
    assert import_loops({"a": {"b": 1}, "b": {}}) == []


def test_function_level_and_type_checking_imports_are_told_apart():
    found = imports(
        "import json\nif TYPE_CHECKING:\n    import miniflow.ops\nelse:\n    import os\n"
        "def f():\n    from miniflow.graph import session\n",
        "miniflow.core.autodiff",
    )
    assert found == [
        Import("json", 1),
        Import("miniflow.ops", 3, type_checking=True),
        Import("os", 5),
        Import("miniflow.graph.session", 7, in_function=True),
    ]


def public_names(source: str, imported_only: bool = False) -> set[str]:
    """The public names a module binds at its top level (imports, defs, assignments;
    only the imported ones with ``imported_only``)."""
    names = set()
    for node in ast.parse(source).body:
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            continue
        if isinstance(node, ast.Import | ast.ImportFrom):
            names |= {a.asname or a.name.split(".")[0] for a in node.names}
        elif imported_only:
            continue
        elif isinstance(node, ast.FunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
    return {n for n in names if not n.startswith("_")}


def declared_all(source: str) -> list[str] | None:
    """The literal ``__all__`` of a module (``__all__ += [...]`` included), None if it
    has none or computes it."""
    found = None
    for node in ast.parse(source).body:
        target = getattr(node, "target", None) or (getattr(node, "targets", None) or [None])[0]
        if not (isinstance(target, ast.Name) and target.id == "__all__"):
            continue
        try:
            value = ast.literal_eval(node.value)
        except ValueError:
            return None
        found = list(value) if isinstance(node, ast.Assign) else (found or []) + list(value)
    return found


def test_namespace_all_lists_exactly_the_public_names():
    """A namespace module's ``__all__`` is its public API (STYLE §0.6): when it has one,
    every public name it imports (a re-export) is listed, and only names it binds."""
    bad = []
    for module, layer in LAYER_OF.items():
        if layer.name != "namespace" or module not in FILES:
            continue
        source = FILES[module].read_text()
        listed = declared_all(source)
        if listed is None:
            continue
        public = public_names(source)
        if missing := sorted(public_names(source, imported_only=True) - set(listed)):
            bad.append(f"{module}: add to __all__: {missing}")
        if extra := sorted(set(listed) - public):
            bad.append(f"{module}: __all__ names what the module does not bind: {extra}")
    assert not bad, "\n".join(bad)


def test_the_all_check_reads_public_names():
    source = (
        "from __future__ import annotations\nfrom a import b as c, d\nimport e.f\n"
        "def g(): pass\n_h = 1\nI = 2\n__all__ = ['c', 'd']\n__all__ += ['g']\n"
    )
    assert public_names(source) == {"c", "d", "e", "g", "I"}
    assert public_names(source, imported_only=True) == {"c", "d", "e"}
    assert declared_all(source) == ["c", "d", "g"]
    assert declared_all("__all__ = sorted(globals())") is None


def test_the_line_budget_counts_every_ranked_module():
    """``tools/sz.py`` reads these tables: its total covers every module, each once."""
    out = subprocess.run(
        [sys.executable, str(SRC.parent / "tools" / "sz.py")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    total = next(line for line in out.splitlines() if line.startswith("| **total**"))
    assert int(total.split("|")[2]) == len(set(LAYER_OF) & set(FILES))
