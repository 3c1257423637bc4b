"""`tf.estimator.train_and_evaluate` (local mode): train, evaluating and exporting after
every checkpoint (at most every ``throttle_secs``) and once at the end."""

from __future__ import annotations

import collections
import logging
import os
import time

from miniflow.estimator.exporter import Exporter
from miniflow.train.basic_session_run_hooks import CheckpointSaverListener

_log = logging.getLogger("miniflow")


class TrainSpec(collections.namedtuple("TrainSpec", ["input_fn", "max_steps", "hooks"])):
    """The training half of `train_and_evaluate`.

    ``TrainSpec(input_fn, max_steps=None, hooks=None)``
    """

    def __new__(cls, input_fn, max_steps=None, hooks=None):
        if not callable(input_fn):
            raise TypeError(f"`input_fn` must be callable, given: {input_fn}")
        if max_steps is not None and max_steps <= 0:
            raise ValueError(f"Must specify max_steps > 0, given: {max_steps}")
        return super().__new__(cls, input_fn, max_steps, tuple(hooks or ()))


class EvalSpec(
    collections.namedtuple(
        "EvalSpec",
        ["input_fn", "steps", "name", "hooks", "exporters", "start_delay_secs", "throttle_secs"],
    )
):
    """The evaluation half of `train_and_evaluate`.

    ``EvalSpec(input_fn, steps=100, name=None, hooks=None, exporters=None,
    start_delay_secs=120, throttle_secs=600)``; ``steps=None`` evaluates until the input
    ends.
    """

    def __new__(
        cls,
        input_fn,
        steps=100,
        name=None,
        hooks=None,
        exporters=None,
        start_delay_secs=120,
        throttle_secs=600,
    ):
        if not callable(input_fn):
            raise TypeError(f"`input_fn` must be callable, given: {input_fn}")
        if steps is not None and steps <= 0:
            raise ValueError(f"Must specify steps > 0, given: {steps}")
        if name is not None and not isinstance(name, str):
            raise TypeError(f"`name` must be string, given: {name}")
        if start_delay_secs < 0:
            raise ValueError(f"Must specify start_delay_secs >= 0, given: {start_delay_secs}")
        if throttle_secs < 0:
            raise ValueError(f"Must specify throttle_secs >= 0, given: {throttle_secs}")
        if exporters is None:
            exporters = ()
        elif isinstance(exporters, Exporter):
            exporters = (exporters,)
        exporters = tuple(exporters)
        for e in exporters:
            if not isinstance(e, Exporter):
                raise TypeError(
                    f"`exporters` must be an Exporter, an iterable of Exporter, "
                    f"or `None`, found {e}."
                )
        names = [e.name for e in exporters]
        if len(set(names)) != len(names):
            raise ValueError(
                f"`exporters` must have unique names. Such a name cannot be `None`. {names}"
            )
        return super().__new__(
            cls,
            input_fn,
            steps,
            name,
            tuple(hooks or ()),
            exporters,
            start_delay_secs,
            throttle_secs,
        )


class _EvaluateAfterSaveListener(CheckpointSaverListener):
    """Evaluates (and exports) after a checkpoint is saved, at most every
    ``throttle_secs``, and after the last one."""

    def __init__(self, estimator, eval_spec, max_steps):
        self._estimator, self._eval_spec, self._max_steps = estimator, eval_spec, max_steps
        self._last_eval_time = None
        self._first_save = True
        self._last_evaluated_step = None
        self.eval_result = None
        self.export_results = None

    def after_save(self, session, global_step_value):
        if self._first_save:  # written at session creation: nothing trained yet
            self._first_save = False
            return False
        now = time.time()
        if (
            self._last_eval_time is not None
            and now - self._last_eval_time < self._eval_spec.throttle_secs
        ):
            return False
        self._last_eval_time = now
        return self._evaluate(global_step_value)

    def end(self, session, global_step_value):
        if global_step_value != self._last_evaluated_step:
            self._evaluate(global_step_value)

    def _evaluate(self, step) -> bool:
        spec = self._eval_spec
        checkpoint = self._estimator.latest_checkpoint()
        self.eval_result = self._estimator.evaluate(
            spec.input_fn,
            steps=spec.steps,
            hooks=spec.hooks,
            name=spec.name,
            checkpoint_path=checkpoint,
        )
        self._last_evaluated_step = step
        # As in TF: the final export is the one that reaches max_steps (none without it).
        is_final = self._max_steps is not None and step >= self._max_steps
        self._export(checkpoint, is_final)
        return False

    def _export(self, checkpoint, is_final):
        """One result per exporter (None where it did not export), as TF reports."""
        self.export_results = [
            exporter.export(
                self._estimator,
                os.path.join(self._estimator.model_dir, "export", exporter.name),
                checkpoint,
                self.eval_result,
                is_final,
            )
            for exporter in self._eval_spec.exporters
        ]


def train_and_evaluate(estimator, train_spec, eval_spec):
    """Trains ``estimator`` per ``train_spec``, evaluating per ``eval_spec`` after each
    saved checkpoint (throttled) and at the end; returns ``(eval metrics, export
    results)`` of the last evaluation (one export result per exporter, None where it did
    not export; ``(None, None)`` when training was skipped), as TF's local mode does.

    Raises:
        TypeError: the specs have the wrong types.
    """
    if not isinstance(train_spec, TrainSpec):
        raise TypeError(
            f"`train_spec` must have type `tf.estimator.TrainSpec`. Got: {type(train_spec)}"
        )
    if not isinstance(eval_spec, EvalSpec):
        raise TypeError(
            f"`eval_spec` must have type `tf.estimator.EvalSpec`. Got: {type(eval_spec)}"
        )
    config = estimator.config
    _log.info(
        "Start train and evaluate loop. The evaluate will happen after every "
        "checkpoint. Checkpoint frequency is determined based on RunConfig arguments: "
        "save_checkpoints_steps %s or save_checkpoints_secs %s.",
        config.save_checkpoints_steps,
        config.save_checkpoints_secs,
    )
    listener = _EvaluateAfterSaveListener(estimator, eval_spec, train_spec.max_steps)
    estimator.train(
        train_spec.input_fn,
        max_steps=train_spec.max_steps,
        hooks=list(train_spec.hooks),
        saving_listeners=[listener],
    )
    # None when training was skipped (max_steps already reached), as in TF.
    return listener.eval_result, listener.export_results
