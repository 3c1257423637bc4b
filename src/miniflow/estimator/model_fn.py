"""`tf.estimator.ModeKeys` and `EstimatorSpec`: what a ``model_fn`` returns for each mode."""

from __future__ import annotations

import collections

from miniflow.estimator import export as export_lib
from miniflow.saved_model.impl import DEFAULT_SERVING_SIGNATURE_DEF_KEY
from miniflow.train.monitored_session import Scaffold

LOSS_METRIC_KEY = "loss"
AVERAGE_LOSS_METRIC_KEY = "average_loss"


class ModeKeys:
    """The three modes a ``model_fn`` is called in."""

    TRAIN = "train"
    EVAL = "eval"
    PREDICT = "infer"


def _is_tensor(x) -> bool:
    return hasattr(x, "dtype") and (hasattr(x, "op") or hasattr(x, "graph"))


def _check_tensor(value, what):
    if value is not None and not _is_tensor(value):
        raise TypeError(f"{what} must be Tensor, given: {value!r}")


class EstimatorSpec(
    collections.namedtuple(
        "EstimatorSpec",
        [
            "mode",
            "predictions",
            "loss",
            "train_op",
            "eval_metric_ops",
            "export_outputs",
            "training_chief_hooks",
            "training_hooks",
            "scaffold",
            "evaluation_hooks",
            "prediction_hooks",
        ],
    )
):
    """The ops and objects a ``model_fn`` returns; which are required depends on ``mode``:
    TRAIN needs ``loss`` and ``train_op``, EVAL needs ``loss``, PREDICT ``predictions``.

    ``EstimatorSpec(mode, predictions=None, loss=None, train_op=None,
    eval_metric_ops=None, export_outputs=None, training_chief_hooks=None,
    training_hooks=None, scaffold=None, evaluation_hooks=None, prediction_hooks=None)``
    """

    def __new__(
        cls,
        mode,
        predictions=None,
        loss=None,
        train_op=None,
        eval_metric_ops=None,
        export_outputs=None,
        training_chief_hooks=None,
        training_hooks=None,
        scaffold=None,
        evaluation_hooks=None,
        prediction_hooks=None,
    ):
        if mode not in (ModeKeys.TRAIN, ModeKeys.EVAL, ModeKeys.PREDICT):
            raise ValueError(f"mode={mode!r} unrecognized.")
        if train_op is None and mode == ModeKeys.TRAIN:
            raise ValueError("Missing train_op.")
        if train_op is not None and not _is_tensor(train_op) and not hasattr(train_op, "type"):
            raise TypeError(f"train_op must be Operation or Tensor, given: {train_op!r}")
        if loss is None and mode in (ModeKeys.TRAIN, ModeKeys.EVAL):
            raise ValueError("Missing loss.")
        _check_tensor(loss, "loss")
        if (
            loss is not None
            and loss.shape.ndims not in (None, 0)
            and not (loss.shape.ndims == 1 and loss.shape.as_list() == [1])
        ):
            raise ValueError(f"Loss must be scalar, given: {loss}")
        if predictions is None and mode == ModeKeys.PREDICT:
            raise ValueError("Missing predictions.")
        if isinstance(predictions, dict):
            for key, value in predictions.items():
                _check_tensor(value, f"predictions[{key}]")
        else:
            _check_tensor(predictions, "predictions")
        eval_metric_ops = dict(eval_metric_ops or {})
        for key, metric in eval_metric_ops.items():
            if not (isinstance(metric, tuple) and len(metric) == 2):
                raise TypeError(
                    f"Values of eval_metric_ops must be (metric_value, update_op) "
                    f"tuples, given: {metric!r} for key: {key}"
                )
        if mode == ModeKeys.PREDICT:
            export_outputs = _export_outputs(export_outputs, predictions)
        hooks = {}
        for name, value in (
            ("training_chief_hooks", training_chief_hooks),
            ("training_hooks", training_hooks),
            ("evaluation_hooks", evaluation_hooks),
            ("prediction_hooks", prediction_hooks),
        ):
            hooks[name] = tuple(value or ())
            for hook in hooks[name]:
                if not all(hasattr(hook, m) for m in ("begin", "before_run", "after_run")):
                    raise TypeError(f"All hooks must be SessionRunHook instances, given: {hook!r}")
        return super().__new__(
            cls,
            mode,
            predictions,
            loss,
            train_op,
            eval_metric_ops,
            export_outputs,
            scaffold=scaffold or Scaffold(),
            **hooks,
        )

    def _replace(self, **kwds):
        if "mode" in kwds and self.mode != kwds["mode"]:
            raise ValueError("mode of EstimatorSpec cannot be changed.")
        return EstimatorSpec(**{**self._asdict(), **kwds})


def _export_outputs(export_outputs, predictions):
    """``export_outputs`` checked, with a default signature (TF's rules): none given ->
    ``PredictOutput(predictions)``; exactly one -> it is also ``serving_default``."""
    if export_outputs is None:
        return {DEFAULT_SERVING_SIGNATURE_DEF_KEY: export_lib.PredictOutput(predictions)}
    if not isinstance(export_outputs, dict):
        raise TypeError(f"export_outputs must be dict, given: {export_outputs!r}")
    for value in export_outputs.values():
        if not isinstance(value, export_lib.ExportOutput):
            raise TypeError(
                f"Values in export_outputs must be ExportOutput objects. Given: {export_outputs!r}"
            )
    export_outputs = dict(export_outputs)
    if DEFAULT_SERVING_SIGNATURE_DEF_KEY not in export_outputs:
        if len(export_outputs) != 1:
            raise ValueError(
                "Multiple `export_outputs` were provided, but none of them are "
                "specified as the default. Use "
                "`tf.saved_model.DEFAULT_SERVING_SIGNATURE_DEF_KEY` to specify a "
                "default."
            )
        export_outputs[DEFAULT_SERVING_SIGNATURE_DEF_KEY] = next(iter(export_outputs.values()))
    return export_outputs
