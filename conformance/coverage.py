"""Which registered op types the cases exercise. A case records the op types its miniflow
graph built (forward and gradient graphs), so a new op without a case shows up as
uncovered. Ops that cannot be compared with TensorFlow are declared here with a reason."""

from __future__ import annotations

from dataclasses import dataclass

# Graph plumbing every case builds: not counted when a case lists "its" op types.
PLUMBING = {
    "Placeholder",
    "Const",
    "Identity",
    "Sum",
    "Mul",
    "AddN",
    "NoOp",
    "ReduceBroadcast",
    "Reshape",
    "Shape",
    "Unbroadcast",
    "BroadcastLike",
}

# op type -> why no case compares it with TensorFlow
NOT_COMPARED = {
    "MakeIterator": "tf.data iterator plumbing: checked by tests/data, not an op to compare",
    "IteratorGetNext": "tf.data iterator plumbing: checked by tests/data",
    "ScalarSummary": "writes a Summary protobuf: checked by tests/summary",
    "HistogramSummary": "writes a Summary protobuf: checked by tests/summary",
    "ImageSummary": "writes a Summary protobuf (PNG bytes): checked by tests/summary",
    "TextSummary": "writes a Summary protobuf: checked by tests/summary",
    "MergeSummary": "writes a Summary protobuf: checked by tests/summary",
    "PyFunc": "runs user Python: nothing to compare beyond the user function",
    "EagerPyFunc": "runs user Python (tf.py_function): nothing to compare beyond the function",
    "Print": "side effect on stderr (tf.Print); its value is its input",
    "PrintV2": "side effect on stderr (tf.print)",
    "InitializedValue": "miniflow-internal helper of Variable.initialized_value",
    "IsVariableInitialized": "session state, not a value: checked by tests/graph",
    "OneHotLike": "miniflow-internal helper op of the cross-entropy gradients",
    "SparseReorderPermutation": "miniflow-internal helper op of tf.sparse.reorder",
    "SparseAddGrad": "miniflow-internal gradient helper of SparseAdd",
    "SparseValuesFromDense": "miniflow-internal gradient helper of the sparse ops",
    "SparseScatterAddToDense": "miniflow-internal gradient helper of the sparse ops",
    "CondEnter": "miniflow-internal node of tf.cond (exercised through the tf.cond cases)",
    "CondExit": "miniflow-internal node of tf.cond (exercised through the tf.cond cases)",
    "CondMerge": "miniflow-internal node of tf.cond (exercised through the tf.cond cases)",
    # issue 13 late ops: stateful or IO, checked elsewhere
    "AudioSummaryV2": "writes a Summary protobuf (WAV bytes): "
    "tests/summary/test_tensor_audio_summaries.py",
    "TensorSummaryV2": "writes a Summary protobuf: tests/summary/test_tensor_audio_summaries.py",
    "BatchFunction": "batches calls of a user function: tests/misc_names/test_leftovers.py",
    "CriticalSectionAcquire": "session-level locking, no value: tests/misc_names/test_leftovers.py",
    "CriticalSectionRelease": "session-level locking, no value: tests/misc_names/test_leftovers.py",
    "GetSessionHandle": "a session-state handle string: tests/misc_names/test_leftovers.py",
    "GetSessionTensor": "needs a handle from an earlier run: tests/misc_names/test_leftovers.py",
    "DeleteSessionTensor": "session state, no value: tests/misc_names/test_leftovers.py",
    "DatasetToTFRecord": "writes a file: tests/data/test_data_readers.py reads it back",
    "DatasetToVariant": "an opaque variant handle: tests/data/test_data_experimental.py",
    "QueueEnqueueV2": "a queue side effect, no value: tests/queues/test_queues.py",
    "QuantizedReluX": "TF 2.21's CPU build registers no QuantizedReluX kernel: "
    "tests/quantization/test_quantization_ops.py",
    "LSTMBlockCell": "compared with TF 2.21's tf.raw_ops.LSTMBlockCell on fixed inputs in "
    "tests/ops/test_fused_kernels.py (TF's op takes no graph-mode public wrapper to compare)",
    "LSTMBlockCellGrad": "compared with TF 2.21's tf.raw_ops.LSTMBlockCellGrad in "
    "tests/ops/test_fused_kernels.py",
    "SaveDataset": "writes files, no value: tests/data/test_data_experimental.py "
    "(save and load round trip)",
    # kernels only TF-written graphs use (train/tf_op_import.py, tf_while_import.py):
    # checked on graphs TensorFlow wrote, against TensorFlow's recorded outputs
    "BroadcastGradientArgs": "TF-file import only: tests/tf_files/test_graph_export.py "
    "(TF 2.21's values) and test_graph_import.py (TF's training graphs)",
    "ReduceDynamicAxes": "TF-file import only: tests/tf_files/test_graph_import.py",
    **{
        t: "TF-file import only (dynamic_rnn and its gradient): "
        "tests/tf_files/test_graph_import.py::test_lstm_trains_two_steps_as_tensorflow_does"
        for t in (
            "ConcatOffset",
            "TransposeDynamicPerm",
            "SliceDynamicBounds",
            "BiasAddGradDynamicRank",
        )
    },
    **{
        t: "TF while-loop resources (TF1 handles, TF2 TensorLists): "
        "tests/tf_files/test_while_import.py (TF-written loops, TensorArrays, gradients)"
        for t in (
            "StridedSliceDynamic",
            "StridedSliceGradDynamic",
            "TensorArrayV3",
            "TensorArrayWriteV3",
            "TensorArrayScatterV3",
            "TensorArrayReadV3",
            "TensorArrayGatherV3",
            "TensorArraySizeV3",
            "StackV2",
            "StackPushV2",
            "StackPopV2",
            "TensorListReserve",
            "EmptyTensorList",
            "TensorListFromTensor",
            "TensorListSetItem",
            "TensorListGetItem",
            "TensorListStack",
            "TensorListPushBack",
            "TensorListPopBack",
        )
    },
    **{
        t: "reader outputs need files and a filename queue: tests/queues/test_readers.py "
        "(on TF-written fixtures)"
        for t in (
            "FixedLengthRecordReaderV2",
            "IdentityReaderV2",
            "TFRecordReaderV2",
            "TextLineReaderV2",
            "WholeFileReaderV2",
            "ReaderReadV2",
            "ReaderReadUpToV2",
            "ReaderResetV2",
            "ReaderNumRecordsProducedV2",
            "ReaderNumWorkUnitsCompletedV2",
        )
    },
}


@dataclass
class Coverage:
    registered: set
    covered: set
    declared: dict
    uncovered: set


def compute(exercised: set, registered=None) -> Coverage:
    """Splits the registered op types into exercised, declared not comparable and
    uncovered (neither)."""
    if registered is None:
        from miniflow.core.registry import registered_ops  # noqa: PLC0415

        registered = set(registered_ops())
    registered = set(registered)
    covered = registered & set(exercised)
    declared = {t: why for t, why in NOT_COMPARED.items() if t in registered - covered}
    return Coverage(registered, covered, declared, registered - covered - set(declared))
