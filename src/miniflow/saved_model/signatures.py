"""TF1's classification and regression signatures (TF Serving's classify and regress
APIs), and `is_valid_signature`, with TF's checks and messages."""

from __future__ import annotations

from miniflow import dtypes
from miniflow.saved_model import signature_constants as sc
from miniflow.saved_model.impl import (
    CLASSIFY_METHOD_NAME,
    PREDICT_METHOD_NAME,
    REGRESS_METHOD_NAME,
    build_signature_def,
    build_tensor_info,
)


def classification_signature_def(examples, classes, scores):
    """A classify signature: serialized ``tf.Example`` strings in; ``classes`` (string)
    and/or ``scores`` (float) out."""
    if examples is None:
        raise ValueError("Classification `examples` cannot be None.")
    if examples.dtype != dtypes.string:
        raise ValueError(
            "Classification input tensors must be of type string. Found "
            f"tensors of type {examples.dtype.name}"
        )
    if classes is None and scores is None:
        raise ValueError("Classification `classes` and `scores` cannot both be None.")
    outputs = {}
    if classes is not None:
        if classes.dtype != dtypes.string:
            raise ValueError(
                "Classification classes must be of type string. Found tensors "
                f"of type {classes.dtype.name}"
            )
        outputs[sc.CLASSIFY_OUTPUT_CLASSES] = build_tensor_info(classes)
    if scores is not None:
        if not scores.dtype.is_floating:
            raise ValueError(
                "Classification scores must be a float tensor. Found tensors "
                f"of type {scores.dtype.name}"
            )
        outputs[sc.CLASSIFY_OUTPUT_SCORES] = build_tensor_info(scores)
    return build_signature_def(
        {sc.CLASSIFY_INPUTS: build_tensor_info(examples)}, outputs, CLASSIFY_METHOD_NAME
    )


def regression_signature_def(examples, predictions):
    """A regress signature: serialized ``tf.Example`` strings in, float predictions out."""
    if examples is None:
        raise ValueError("Regression `examples` cannot be None.")
    if examples.dtype != dtypes.string:
        raise ValueError(
            "Regression input tensors must be of type string. Found tensors "
            f"of type {examples.dtype.name}"
        )
    if predictions is None:
        raise ValueError("Regression `predictions` cannot be None.")
    if not predictions.dtype.is_floating:
        raise ValueError(
            "Regression output tensors must be of type float. Found tensors "
            f"with type {predictions.dtype.name}."
        )
    return build_signature_def(
        {sc.REGRESS_INPUTS: build_tensor_info(examples)},
        {sc.REGRESS_OUTPUTS: build_tensor_info(predictions)},
        REGRESS_METHOD_NAME,
    )


def is_valid_signature(signature_def):
    """Whether ``signature_def`` is a well-formed predict, classify or regress signature."""
    if signature_def is None:
        return False
    inputs, outputs = signature_def.inputs, signature_def.outputs
    method = signature_def.method_name
    if method == PREDICT_METHOD_NAME:
        return bool(inputs) and bool(outputs)
    if method == CLASSIFY_METHOD_NAME:
        allowed = {sc.CLASSIFY_OUTPUT_CLASSES: dtypes.string, sc.CLASSIFY_OUTPUT_SCORES: None}
        return (
            _string_input(inputs, sc.CLASSIFY_INPUTS)
            and bool(outputs)
            and all(
                k in allowed and (allowed[k] == v.dtype if allowed[k] else v.dtype.is_floating)
                for k, v in outputs.items()
            )
        )
    if method == REGRESS_METHOD_NAME:
        return (
            _string_input(inputs, sc.REGRESS_INPUTS)
            and set(outputs) == {sc.REGRESS_OUTPUTS}
            and outputs[sc.REGRESS_OUTPUTS].dtype.is_floating
        )
    return False


def _string_input(inputs, key) -> bool:
    return set(inputs) == {key} and inputs[key].dtype == dtypes.string
