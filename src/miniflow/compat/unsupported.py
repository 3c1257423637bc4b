"""The TF1 names miniflow deliberately does not implement, each with the reason.

A name belongs here only when its meaning needs hardware, a runtime or a service that a
NumPy library on one CPU does not have, or when it switches TF1 into behaviour miniflow
does not model (TF2 semantics). Names that are merely not written yet are *pending*
(``pending_names.txt``, generated), not here. Using any of these raises
``tf.errors.UnimplementedError`` with the reason (see ``stubs.py``).
"""

from __future__ import annotations

TPU = "TPU only"
GPU = "needs a GPU"
DISTRIBUTED = "needs a distributed runtime (miniflow runs in one process; see miniflow.ps)"
XLA = "XLA compiler"
MLIR = "MLIR compiler"
CPP = "loads compiled TensorFlow C++ code"
TF2 = "switches on TF2 behaviour; miniflow implements TF1 semantics"
NO_BFLOAT16 = "NumPy has no bfloat16 type"
DATA_SERVICE = "needs a tf.data service cluster (distributed runtime)"
ONE_DEVICE = "miniflow has one device, the CPU, and does not split it into logical devices"
TF2_SAVED_MODEL = (
    "TF2 object-based SavedModel (saves trackable objects and tf.functions, "
    "not a TF1 graph); use tf.saved_model.Builder / simple_save and "
    "tf.saved_model.load"
)

# Whole namespaces: every attribute of the stub is a stub with the same reason.
UNSUPPORTED_NAMESPACES = {
    "tf.keras": "out of scope: miniflow implements TF1's own API (tf.layers, tf.losses, "
    "tf.metrics, tf.train); Keras is a separate library",
    "tf.tpu": TPU,
    "tf.distribute": DISTRIBUTED,
    "tf.xla": XLA,
    "tf.lite": "TensorFlow Lite (mobile runtime and converter)",
    "tf.mlir": MLIR,
    "tf.raw_ops": "TensorFlow's generated C++ op bindings; use the public functions",
    "tf.profiler": "TensorFlow's C++ profiler",
    "tf.sysconfig": "TensorFlow's C++ build configuration",
    "tf.user_ops": "TensorFlow's example C++ op",
    "tf.data.experimental.service": DATA_SERVICE,
    "tf.layers.experimental": "switches tf.layers to Keras-style layers; Keras is out of "
    "scope (see tf.keras)",
    "tf.debugging.experimental": "TensorFlow Debugger V2 dumps, written by instrumenting "
    "TensorFlow's C++ runtime",
    "tf.saved_model.experimental": "TF2 object-based SavedModel (trackable objects and "
    "tf.function signatures); miniflow's SavedModel is "
    "TF1's graph + signatures (tf.saved_model.Builder)",
}

UNSUPPORTED = {
    "tf.bfloat16": NO_BFLOAT16,
    "tf.dtypes.bfloat16": NO_BFLOAT16,
    "tf.to_bfloat16": NO_BFLOAT16,
    "tf.load_file_system_library": CPP,
    "tf.load_library": CPP,
    "tf.load_op_library": CPP,
    "tf.enable_v2_behavior": TF2,
    "tf.enable_v2_tensorshape": TF2,
    "tf.enable_control_flow_v2": TF2,
    "tf.enable_tensor_equality": TF2,
    "tf.config.experimental_connect_to_cluster": DISTRIBUTED,
    "tf.config.experimental_connect_to_host": DISTRIBUTED,
    "tf.config.set_logical_device_configuration": ONE_DEVICE,
    "tf.config.experimental.ClusterDeviceFilters": DISTRIBUTED,
    "tf.config.experimental.enable_mlir_bridge": MLIR,
    "tf.config.experimental.disable_mlir_bridge": MLIR,
    "tf.config.experimental.set_memory_growth": GPU,
    "tf.config.experimental.get_memory_growth": GPU,
    "tf.config.experimental.set_virtual_device_configuration": GPU,
    "tf.config.experimental.get_virtual_device_configuration": GPU,
    "tf.config.experimental.VirtualDeviceConfiguration": GPU,
    "tf.config.experimental.enable_tensor_float_32_execution": GPU,
    "tf.config.optimizer.set_jit": XLA,
    "tf.data.experimental.DistributeOptions": DISTRIBUTED,
    "tf.data.experimental.ServiceOptions": DATA_SERVICE,
    "tf.data.experimental.distributed_save": DATA_SERVICE,
    "tf.data.experimental.copy_to_device": GPU,
    "tf.data.experimental.prefetch_to_device": GPU,
    "tf.nn.rnn_cell.DeviceWrapper": "places a cell on a device; miniflow has only the CPU",
    "tf.test.create_local_cluster": DISTRIBUTED,
    "tf.test.test_src_dir_path": "locates files in TensorFlow's source tree",
    "tf.resource_loader.load_resource": "locates files in TensorFlow's source tree",
    "tf.resource_loader.get_root_dir_with_all_resources": "locates files in TensorFlow's source tree (Bazel runfiles)",
    "tf.test.experimental.sync_devices": GPU,
    "tf.errors.raise_exception_on_not_ok_status": "checks a TensorFlow C API status",
    "tf.image.decode_jxl": "JPEG XL decoding needs a codec miniflow does not ship",
    "tf.image.generate_bounding_box_proposals": GPU + " (TensorFlow itself has no CPU kernel "
    "for it)",
    "tf.io.decode_jxl": "JPEG XL decoding needs a codec miniflow does not ship",
    "tf.mixed_precision.enable_mixed_precision_graph_rewrite": "float16 graph rewrite for GPUs and TPUs",
    "tf.train.experimental.enable_mixed_precision_graph_rewrite": "float16 graph rewrite for GPUs and TPUs",
    "tf.autograph.to_graph": "AutoGraph rewrites Python source into TF graph code; "
    "miniflow does not transform source",
    "tf.autograph.to_code": "AutoGraph rewrites Python source into TF graph code; "
    "miniflow does not transform source",
    "tf.saved_model.save": TF2_SAVED_MODEL,
    "tf.saved_model.load_v2": TF2_SAVED_MODEL,
    "tf.saved_model.Asset": TF2_SAVED_MODEL,
    "tf.saved_model.SaveOptions": TF2_SAVED_MODEL,
    "tf.train.do_quantize_training_on_graphdef": "rewrites a binary GraphDef for quantized training with TensorFlow's C++ graph "
    "transforms (deprecated in TF1 too)",
}

# -- issue 13: quantization, mixed precision, autograph, leftovers
_NO_NUMPY_TYPE = "NumPy has no {} type (sub-byte and float8 types need ml_dtypes)"
UNSUPPORTED_NAMESPACES["tf.quantization.experimental"] = (
    "TF2 SavedModel quantization through TensorFlow's MLIR converter"
)
UNSUPPORTED_NAMESPACES["tf.experimental.extension_type"] = (
    "TF2 extension types (composite tensors of user-defined classes, batched by tf.function)"
)
for _prefix in ("tf.experimental.", "tf.dtypes.experimental."):
    for _t in (
        "float4_e2m1fn",
        "float8_e4m3b11fnuz",
        "float8_e4m3fn",
        "float8_e4m3fnuz",
        "float8_e5m2",
        "float8_e5m2fnuz",
        "int2",
        "int4",
        "uint2",
        "uint4",
    ):
        UNSUPPORTED[_prefix + _t] = _NO_NUMPY_TYPE.format(_t)
for _name in (
    "ExtensionType",
    "BatchableExtensionType",
    "ExtensionTypeSpec",
    "ExtensionTypeBatchEncoder",
):
    UNSUPPORTED["tf.experimental." + _name] = UNSUPPORTED_NAMESPACES[
        "tf.experimental.extension_type"
    ]
for _name in ("DynamicRaggedShape", "RowPartition", "StructuredTensor"):
    UNSUPPORTED["tf.experimental." + _name] = (
        "TF2 ragged/structured composite tensors; miniflow implements TF1's tensors only"
    )
for _name in (
    "dispatch_for_api",
    "dispatch_for_binary_elementwise_apis",
    "dispatch_for_binary_elementwise_assert_apis",
    "dispatch_for_unary_elementwise_apis",
    "unregister_dispatch_for",
):
    UNSUPPORTED["tf.experimental." + _name] = (
        "TF2 type-based API dispatch for extension types (see tf.experimental.ExtensionType)"
    )
UNSUPPORTED.update(
    {
        "tf.experimental.enable_strict_mode": TF2,
        "tf.experimental.output_all_intermediates": "switches TF2's functional control flow (cond_v2/while_v2) outputs; miniflow's "
        "control flow is TF1's",
        "tf.experimental.function_executor_type": "selects TensorFlow's C++ function executor; miniflow has none",
        "tf.experimental.register_filesystem_plugin": CPP,
        "tf.check_pinned": "checks that a tensor is in host memory pinned for a GPU (CUDA)",
    }
)
# -- issue 13: cross-area follow-ups
UNSUPPORTED_NAMESPACES["tf.dtypes.experimental"] = _NO_NUMPY_TYPE.format(
    "float8, float4 or sub-byte integer"
)
UNSUPPORTED["tf.data.experimental.get_model_proto"] = (
    "returns the autotuning model of TensorFlow's C++ tf.data runtime; miniflow's input "
    "pipelines are Python iterators and have none"
)
del _prefix, _t, _name
