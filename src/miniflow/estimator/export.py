"""`tf.estimator.export`: serving input receivers (what a served model is fed) and export
outputs (which signatures the SavedModel gets)."""

from __future__ import annotations

import collections

import miniflow as tf
from miniflow.saved_model import signatures

SINGLE_FEATURE_DEFAULT_NAME = "feature"
SINGLE_RECEIVER_DEFAULT_NAME = "input"
SINGLE_LABEL_DEFAULT_NAME = "label"


class ExportOutput:
    """One output signature of an exported model."""

    def as_signature_def(self, receiver_tensors):
        raise NotImplementedError


def _single_string_input(receiver_tensors, kind):
    if len(receiver_tensors) != 1:
        raise ValueError(f"{kind} input must be a single string Tensor; got {receiver_tensors}")
    ((_, examples),) = receiver_tensors.items()
    if examples.dtype != tf.string:
        raise ValueError(f"{kind} input must be a single string Tensor; got {receiver_tensors}")
    return examples


class ClassificationOutput(ExportOutput):
    """TF Serving's classify signature: ``scores`` (float, [batch, n]) and/or ``classes``
    (string, [batch, n]) for one serialized ``tf.Example`` input."""

    def __init__(self, scores=None, classes=None):
        if scores is not None and not (hasattr(scores, "dtype") and scores.dtype.is_floating):
            raise ValueError(f"Classification scores must be a float32 Tensor; got {scores}")
        if classes is not None and not (hasattr(classes, "dtype") and classes.dtype == tf.string):
            raise ValueError(f"Classification classes must be a string Tensor; got {classes}")
        if scores is None and classes is None:
            raise ValueError("At least one of scores and classes must be set.")
        self._scores, self._classes = scores, classes

    scores = property(lambda self: self._scores)
    classes = property(lambda self: self._classes)

    def as_signature_def(self, receiver_tensors):
        examples = _single_string_input(receiver_tensors, "Classification")
        return signatures.classification_signature_def(examples, self._classes, self._scores)


class RegressionOutput(ExportOutput):
    """TF Serving's regress signature: one float ``value`` per serialized Example."""

    def __init__(self, value):
        if not (hasattr(value, "dtype") and value.dtype.is_floating):
            raise ValueError(f"Regression output value must be a float32 Tensor; got {value}")
        self._value = value

    value = property(lambda self: self._value)

    def as_signature_def(self, receiver_tensors):
        examples = _single_string_input(receiver_tensors, "Regression")
        return signatures.regression_signature_def(examples, self._value)


class PredictOutput(ExportOutput):
    """TF Serving's predict signature: any dict of named output tensors (a single tensor
    is named ``output``)."""

    _SINGLE_OUTPUT_DEFAULT_NAME = "output"

    def __init__(self, outputs):
        if not isinstance(outputs, dict):
            outputs = {self._SINGLE_OUTPUT_DEFAULT_NAME: outputs}
        for key, value in outputs.items():
            if not isinstance(key, str):
                raise ValueError(f"Prediction output key must be a string; got {key}.")
            if not hasattr(value, "dtype"):
                raise ValueError(f"Prediction output value must be a Tensor; got {value}.")
        self._outputs = outputs

    outputs = property(lambda self: self._outputs)

    def as_signature_def(self, receiver_tensors):
        return tf.saved_model.predict_signature_def(receiver_tensors, self._outputs)


def _wrap_and_check(tensors, default_name, what, allow_none=False):
    if tensors is None and allow_none:
        return None
    if tensors is None:
        raise ValueError(f"{what} must be defined.")
    if not isinstance(tensors, dict):
        tensors = {default_name: tensors}
    for name, tensor in tensors.items():
        if not isinstance(name, str):
            raise ValueError(f"{what} keys must be strings: {name}.")
        if not (isinstance(tensor, tf.SparseTensor) or hasattr(tensor, "dtype")):
            raise ValueError(f"{what} {name} must be a Tensor or SparseTensor.")
    return tensors


class ServingInputReceiver(
    collections.namedtuple(
        "ServingInputReceiver", ["features", "receiver_tensors", "receiver_tensors_alternatives"]
    )
):
    """What a ``serving_input_receiver_fn`` returns: the ``features`` passed to the
    ``model_fn`` and the ``receiver_tensors`` (placeholders) a request feeds.

    ``ServingInputReceiver(features, receiver_tensors, receiver_tensors_alternatives=None)``
    """

    def __new__(cls, features, receiver_tensors, receiver_tensors_alternatives=None):
        features = _wrap_and_check(features, SINGLE_FEATURE_DEFAULT_NAME, "feature")
        receiver_tensors = _wrap_and_check(
            receiver_tensors, SINGLE_RECEIVER_DEFAULT_NAME, "receiver_tensors"
        )
        if receiver_tensors_alternatives is not None:
            if not isinstance(receiver_tensors_alternatives, dict):
                raise ValueError(
                    f"receiver_tensors_alternatives must be a dict: "
                    f"{receiver_tensors_alternatives}."
                )
            receiver_tensors_alternatives = {
                k: _wrap_and_check(v, SINGLE_RECEIVER_DEFAULT_NAME, "receiver_tensors_alternatives")
                for k, v in receiver_tensors_alternatives.items()
            }
        return super().__new__(cls, features, receiver_tensors, receiver_tensors_alternatives)


class TensorServingInputReceiver(
    collections.namedtuple(
        "TensorServingInputReceiver",
        ["features", "receiver_tensors", "receiver_tensors_alternatives"],
    )
):
    """A `ServingInputReceiver` whose ``features`` is one tensor, passed to the
    ``model_fn`` unwrapped."""

    def __new__(cls, features, receiver_tensors, receiver_tensors_alternatives=None):
        if features is None or isinstance(features, dict):
            raise ValueError("features must be a single Tensor or SparseTensor.")
        receiver = ServingInputReceiver(features, receiver_tensors, receiver_tensors_alternatives)
        return super().__new__(
            cls, features, receiver.receiver_tensors, receiver.receiver_tensors_alternatives
        )


def build_parsing_serving_input_receiver_fn(feature_spec, default_batch_size=None):
    """A ``serving_input_receiver_fn`` fed serialized ``tf.Example`` strings (input
    ``examples``, placeholder ``input_example_tensor``) parsed with ``feature_spec``."""

    def serving_input_receiver_fn():
        serialized = tf.placeholder(
            dtype=tf.string, shape=[default_batch_size], name="input_example_tensor"
        )
        features = tf.io.parse_example(serialized, feature_spec)
        return ServingInputReceiver(features, {"examples": serialized})

    return serving_input_receiver_fn


def build_raw_serving_input_receiver_fn(features, default_batch_size=None):
    """A ``serving_input_receiver_fn`` fed the raw feature tensors: one placeholder per
    entry of ``features`` (same dtype, name and shape, batch dimension
    ``default_batch_size``)."""

    def serving_input_receiver_fn():
        receivers = {}
        for name, t in features.items():
            dims = t.shape.as_list()
            if dims:
                dims[0] = default_batch_size
            receivers[name] = tf.placeholder(dtype=t.dtype, shape=dims, name=t.op.name)
        return ServingInputReceiver(receivers, dict(receivers))

    return serving_input_receiver_fn


def build_all_signature_defs(receiver_tensors, export_outputs, receiver_tensors_alternatives=None):
    """The valid signatures of ``export_outputs`` over ``receiver_tensors`` (a classify
    or regress output fed anything but one string tensor is left out, as TF does)."""
    out = {}
    groups = [(None, receiver_tensors)] + sorted((receiver_tensors_alternatives or {}).items())
    for prefix, receivers in groups:
        receivers = _wrap_and_check(receivers, SINGLE_RECEIVER_DEFAULT_NAME, "receiver_tensors")
        for key, output in export_outputs.items():
            name = key if prefix is None else f"{prefix}:{key}"
            try:
                out[name] = output.as_signature_def(receivers)
            except ValueError:
                continue
    return {k: v for k, v in out.items() if signatures.is_valid_signature(v)}
