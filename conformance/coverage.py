"""Which registered op types the cases exercise. A case records the op types its miniflow
graph built (forward and gradient graphs), so a new op without a case shows up as
uncovered. Ops that cannot be compared with TensorFlow are declared here with a reason."""

from __future__ import annotations

from dataclasses import dataclass

# Graph plumbing every case builds: not counted when a case lists "its" op types.
PLUMBING = {"Placeholder", "Const", "Identity", "Sum", "Mul", "AddN", "NoOp",
            "ReduceBroadcast", "Reshape", "Shape", "Unbroadcast", "BroadcastLike"}

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
