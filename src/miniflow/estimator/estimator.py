"""`tf.estimator.Estimator`: trains, evaluates, predicts with and exports a model given
as a ``model_fn``, each call in a fresh graph, with its state in checkpoints under
``model_dir`` (so a second `train` resumes where the first stopped).

Training runs in a `tf.train.MonitoredTrainingSession` with TF's hooks (checkpoints,
summaries, NaN check, loss logging), evaluation in a `MonitoredSession` restored from a
checkpoint with a `FinalOpsHook` reading the metrics, as in TF 1.15.
"""

from __future__ import annotations

import collections
import contextlib
import copy
import inspect
import logging
import os
import tempfile
import time

import numpy as np

import miniflow as tf
from miniflow.estimator import export as export_lib
from miniflow.estimator.model_fn import LOSS_METRIC_KEY, EstimatorSpec, ModeKeys
from miniflow.estimator.run_config import RunConfig
from miniflow.train.session_run_hook import SessionRunHook

_log = logging.getLogger("miniflow")
GLOBAL_STEP_KEY = "global_step"


def _fn_args(fn) -> tuple:
    """The names of ``fn``'s parameters (for a `functools.partial`, those still free)."""
    return tuple(inspect.signature(fn).parameters)


class WarmStartSettings(
    collections.namedtuple(
        "WarmStartSettings",
        [
            "ckpt_to_initialize_from",
            "vars_to_warm_start",
            "var_name_to_vocab_info",
            "var_name_to_prev_var_name",
        ],
    )
):
    """Which variables to initialize from which checkpoint before training.

    ``WarmStartSettings(ckpt_to_initialize_from, vars_to_warm_start='.*',
    var_name_to_vocab_info=None, var_name_to_prev_var_name=None)``
    """

    def __new__(
        cls,
        ckpt_to_initialize_from,
        vars_to_warm_start=".*",
        var_name_to_vocab_info=None,
        var_name_to_prev_var_name=None,
    ):
        if not ckpt_to_initialize_from:
            raise ValueError("`ckpt_to_initialize_from` MUST be set in WarmStartSettings")
        return super().__new__(
            cls,
            ckpt_to_initialize_from,
            vars_to_warm_start,
            var_name_to_vocab_info or {},
            var_name_to_prev_var_name or {},
        )


class _DatasetInitializerHook(SessionRunHook):
    """Initializes the iterator of an ``input_fn``'s dataset once the session exists."""

    def __init__(self, iterator):
        self._iterator = iterator

    def begin(self):
        self._initializer = self._iterator.initializer

    def after_create_session(self, session, coord):
        session.run(self._initializer)


class _StopAfterNEvalsHook(SessionRunHook):
    """Stops evaluation after ``num_evals`` batches."""

    def __init__(self, num_evals):
        self._num_evals = num_evals
        self._evals_completed = 0

    def after_run(self, run_context, run_values):
        self._evals_completed += 1
        if self._evals_completed >= self._num_evals:
            run_context.request_stop()


@contextlib.contextmanager
def _fresh_graph():
    """A new default graph, built in graph mode even inside `tf.eager_mode()` (as TF's
    Estimator does)."""
    with tf.graph_mode(), tf.Graph().as_default() as graph:
        yield graph


def _check_hooks(hooks) -> list:
    hooks = list(hooks or [])
    for hook in hooks:
        if not isinstance(hook, SessionRunHook):
            raise TypeError(f"All hooks must be SessionRunHook instances, given: {hook}")
    return hooks


def _parse_input_fn_result(result):
    """(features, labels, input hooks) from what an ``input_fn`` returned: a dataset of
    (features, labels) or of features, a (features, labels) pair, or features."""
    hooks = []
    if isinstance(result, tf.data.Dataset):
        iterator = tf.data.make_initializable_iterator(result)
        hooks.append(_DatasetInitializerHook(iterator))
        result = iterator.get_next()
    if isinstance(result, list | tuple):
        if len(result) != 2:
            raise ValueError("input_fn should return (features, labels) as a len 2 tuple.")
        return result[0], result[1], hooks
    return result, None, hooks


class Estimator:
    """Trains, evaluates, predicts with and exports the model of ``model_fn``.

    ``Estimator(model_fn, model_dir=None, config=None, params=None,
    warm_start_from=None)``; ``model_fn(features, labels, mode, params, config)`` (only
    ``features`` is required) returns an `EstimatorSpec`.

    Example:
        >>> est = tf.estimator.Estimator(model_fn, model_dir="/tmp/m")
        >>> est.train(input_fn, max_steps=1000)
        >>> est.evaluate(eval_input_fn)["loss"]
    """

    def __init__(self, model_fn, model_dir=None, config=None, params=None, warm_start_from=None):
        if config is None:
            config = RunConfig()
        elif not isinstance(config, RunConfig):
            raise ValueError(f"config must be an instance of `RunConfig`, but provided {config}.")
        model_dir = None if model_dir is None else os.fspath(model_dir)
        if model_dir and config.model_dir and model_dir != config.model_dir:
            raise ValueError(
                f"`model_dir` are set both in constructor and `RunConfig`, but "
                f"with different values. In constructor: '{model_dir}', in "
                f"`RunConfig`: '{config.model_dir}' "
            )
        model_dir = model_dir or config.model_dir
        if not model_dir:
            model_dir = tempfile.mkdtemp()
            _log.warning("Using temporary folder as model directory: %s", model_dir)
        self._config = config.replace(model_dir=model_dir)
        self._model_dir = model_dir
        _log.info("Using config: %s", {k.lstrip("_"): v for k, v in vars(self._config).items()})
        if model_fn is None:
            raise ValueError("model_fn must be provided to Estimator.")
        args = _fn_args(model_fn)
        if "features" not in args:
            raise ValueError(f"model_fn ({model_fn}) must include features argument.")
        if params is not None and "params" not in args:
            raise ValueError(
                f"model_fn ({model_fn}) does not include params argument, but "
                f"params ({params}) is passed to Estimator."
            )
        self._model_fn = model_fn
        self._params = copy.deepcopy(params or {})
        if isinstance(warm_start_from, str | os.PathLike):
            warm_start_from = WarmStartSettings(os.fspath(warm_start_from))
        self._warm_start_settings = warm_start_from

    model_dir = property(lambda self: self._model_dir)
    model_fn = property(lambda self: self._model_fn)

    @property
    def config(self) -> RunConfig:
        return copy.copy(self._config)

    @property
    def params(self) -> dict:
        return copy.deepcopy(self._params)

    # -- checkpoints --------------------------------------------------------------------
    def latest_checkpoint(self):
        """The prefix of the newest checkpoint in ``model_dir``, or None."""
        return tf.train.latest_checkpoint(self._model_dir)

    def _checkpoint_or_raise(self):
        path = self.latest_checkpoint()
        if not path:
            raise ValueError(f"Could not find trained model in model_dir: {self._model_dir}.")
        return path

    def get_variable_names(self) -> list:
        """The names of the variables in the latest checkpoint.

        Raises:
            ValueError: ``model_dir`` has no checkpoint.
        """
        return [name for name, _ in tf.train.list_variables(self._checkpoint_or_raise())]

    def get_variable_value(self, name):
        """The value of variable ``name`` in the latest checkpoint (a NumPy array)."""
        return tf.train.load_variable(self._checkpoint_or_raise(), name)

    def eval_dir(self, name=None) -> str:
        """Where `evaluate` writes its summaries: ``model_dir/eval`` (or ``eval_<name>``)."""
        return os.path.join(self._model_dir, "eval" if not name else "eval_" + name)

    # -- building a graph ---------------------------------------------------------------
    def _context_kwargs(self, fn, mode):
        """``mode``, ``params`` and ``config``: those of them that ``fn`` takes."""
        args = _fn_args(fn)
        context = {"mode": mode, "params": self.params, "config": self.config}
        return {k: v for k, v in context.items() if k in args}

    def _call_input_fn(self, input_fn, mode):
        return input_fn(**self._context_kwargs(input_fn, mode))

    def _call_model_fn(self, features, labels, mode):
        kwargs = self._context_kwargs(self._model_fn, mode)
        if "labels" in _fn_args(self._model_fn):
            kwargs["labels"] = labels
        elif labels is not None:
            raise ValueError("model_fn does not take labels, but input_fn returns labels.")
        spec = self._model_fn(features=features, **kwargs)
        if not isinstance(spec, EstimatorSpec):
            raise ValueError(f"model_fn should return an EstimatorSpec, got {spec!r}.")
        return spec

    def _new_graph_step(self, graph):
        """Seeds ``graph`` and creates its global step (before the model_fn runs)."""
        if self._config.tf_random_seed is not None:
            tf.set_random_seed(self._config.tf_random_seed)
        return tf.train.create_global_step(graph)

    def _input(self, input_fn, mode):
        return _parse_input_fn_result(self._call_input_fn(input_fn, mode))

    def _saver(self):
        return tf.train.Saver(
            sharded=True,
            max_to_keep=self._config.keep_checkpoint_max,
            keep_checkpoint_every_n_hours=(self._config.keep_checkpoint_every_n_hours),
            save_relative_paths=True,
        )

    # -- train --------------------------------------------------------------------------
    def train(self, input_fn, hooks=None, steps=None, max_steps=None, saving_listeners=None):
        """Trains on ``input_fn``'s batches for ``steps`` more steps, until the global
        step reaches ``max_steps``, or until the input ends; returns ``self``.

        Raises:
            ValueError: both ``steps`` and ``max_steps``, or a non-positive one.
        """
        if steps is not None and max_steps is not None:
            raise ValueError("Can not provide both steps and max_steps.")
        if steps is not None and steps <= 0:
            raise ValueError(f"Must specify steps > 0, given: {steps}")
        if max_steps is not None and max_steps <= 0:
            raise ValueError(f"Must specify max_steps > 0, given: {max_steps}")
        if max_steps is not None and max_steps <= self._checkpoint_global_step():
            _log.info("Skipping training since max_steps has already saved.")
            return self
        hooks = _check_hooks(hooks)
        if steps is not None or max_steps is not None:
            hooks.append(tf.train.StopAtStepHook(num_steps=steps, last_step=max_steps))
        loss = self._train_model(input_fn, hooks, list(saving_listeners or []))
        _log.info("Loss for final step: %s.", loss)
        return self

    def _checkpoint_global_step(self) -> int:
        path = self.latest_checkpoint()
        if not path:
            return 0
        try:
            return int(tf.train.load_variable(path, GLOBAL_STEP_KEY))
        except (tf.errors.NotFoundError, KeyError):
            return 0

    def _train_model(self, input_fn, hooks, saving_listeners):
        with _fresh_graph() as graph:
            global_step = self._new_graph_step(graph)
            features, labels, input_hooks = self._input(input_fn, ModeKeys.TRAIN)
            spec = self._call_model_fn(features, labels, ModeKeys.TRAIN)
            self._maybe_warm_start()
            tf.summary.scalar("loss", spec.loss)
            graph.add_to_collection(tf.GraphKeys.LOSSES, spec.loss)
            worker_hooks = input_hooks + hooks + [tf.train.NanTensorHook(spec.loss)]
            if self._config.log_step_count_steps is not None:
                worker_hooks.append(
                    tf.train.LoggingTensorHook(
                        {"loss": spec.loss, "step": global_step},
                        every_n_iter=self._config.log_step_count_steps,
                    )
                )
            worker_hooks.extend(spec.training_hooks)
            if not (spec.scaffold.saver or graph.get_collection(tf.GraphKeys.SAVERS)):
                graph.add_to_collection(tf.GraphKeys.SAVERS, self._saver())
            chief_hooks = self._checkpoint_hooks(spec, worker_hooks, saving_listeners)
            loss, any_step = None, False
            with tf.train.MonitoredTrainingSession(
                checkpoint_dir=self._model_dir,
                scaffold=spec.scaffold,
                hooks=worker_hooks,
                chief_only_hooks=chief_hooks + list(spec.training_chief_hooks),
                save_checkpoint_secs=0,
                save_summaries_steps=self._config.save_summary_steps,
                config=self._config.session_config,
                log_step_count_steps=self._config.log_step_count_steps,
            ) as sess:
                while not sess.should_stop():
                    _, loss = sess.run([spec.train_op, spec.loss])
                    any_step = True
            if not any_step:
                _log.warning(
                    "Training with estimator made no steps. Perhaps input is empty or misspecified."
                )
            return loss

    def _checkpoint_hooks(self, spec, worker_hooks, saving_listeners) -> list:
        """The `CheckpointSaverHook` RunConfig asks for (unless the model_fn brought
        one), with the ``saving_listeners`` attached to the first saver hook."""
        chief_hooks = []
        saver_hooks = [
            h
            for h in worker_hooks + list(spec.training_chief_hooks)
            if isinstance(h, tf.train.CheckpointSaverHook)
        ]
        config = self._config
        if (config.save_checkpoints_secs or config.save_checkpoints_steps) and not saver_hooks:
            chief_hooks = [
                tf.train.CheckpointSaverHook(
                    self._model_dir,
                    save_secs=config.save_checkpoints_secs,
                    save_steps=config.save_checkpoints_steps,
                    scaffold=spec.scaffold,
                )
            ]
            saver_hooks = chief_hooks
        if saving_listeners:
            if not saver_hooks:
                raise ValueError(
                    "There should be a CheckpointSaverHook to use "
                    "saving_listeners. Please set one of the "
                    "RunConfig.save_checkpoints_steps or "
                    "RunConfig.save_checkpoints_secs."
                )
            saver_hooks[0]._listeners.extend(saving_listeners)
        return chief_hooks

    def _maybe_warm_start(self):
        ws = self._warm_start_settings
        if ws is None:
            return
        _log.info("Warm-starting with WarmStartSettings: %s", ws)
        tf.train.warm_start(
            ws.ckpt_to_initialize_from,
            ws.vars_to_warm_start,
            ws.var_name_to_vocab_info,
            ws.var_name_to_prev_var_name,
        )

    # -- evaluate -----------------------------------------------------------------------
    def evaluate(self, input_fn, steps=None, hooks=None, checkpoint_path=None, name=None):
        """The metrics of the model on ``input_fn`` (``steps`` batches, or until the input
        ends): the ``eval_metric_ops`` plus ``loss`` (mean batch loss) and
        ``global_step``, also written as summaries under `eval_dir`."""
        hooks = _check_hooks(hooks)
        if steps is not None:
            if steps <= 0:
                raise ValueError(f"Must specify steps > 0, given: {steps}")
            hooks.append(_StopAfterNEvalsHook(steps))
        if not checkpoint_path:
            checkpoint_path = self.latest_checkpoint()
            if not checkpoint_path:
                _log.info(
                    "Could not find trained model in model_dir: %s, running "
                    "initialization to evaluate.",
                    self._model_dir,
                )
        with _fresh_graph() as graph:
            global_step = self._new_graph_step(graph)
            features, labels, input_hooks = self._input(input_fn, ModeKeys.EVAL)
            spec = self._call_model_fn(features, labels, ModeKeys.EVAL)
            metrics = dict(spec.eval_metric_ops)
            if LOSS_METRIC_KEY in metrics:
                raise ValueError(
                    f'Metric with name "{LOSS_METRIC_KEY}" is not allowed, '
                    "because Estimator already defines a default metric with "
                    "the same name."
                )
            metrics[LOSS_METRIC_KEY] = tf.metrics.mean(spec.loss)
            if GLOBAL_STEP_KEY in metrics:
                raise ValueError(
                    "Metric with name `global_step` is not allowed, because "
                    "Estimator already defines a default metric with the same "
                    "name."
                )
            names = sorted(metrics)
            update_op = tf.group(*[metrics[k][1] for k in names])
            final_ops = {k: metrics[k][0] for k in names}
            final_ops[GLOBAL_STEP_KEY] = global_step
            final_hook = tf.train.FinalOpsHook(final_ops)
            all_hooks = input_hooks + hooks + list(spec.evaluation_hooks) + [final_hook]
            creator = tf.train.ChiefSessionCreator(
                scaffold=spec.scaffold,
                checkpoint_filename_with_path=checkpoint_path,
                config=self._config.session_config,
            )
            _log.info("Starting evaluation at %s", time.strftime("%Y-%m-%dT%H:%M:%S"))
            with tf.train.MonitoredSession(session_creator=creator, hooks=all_hooks) as sess:
                while not sess.should_stop():
                    sess.run(update_op)
        results = final_hook.final_ops_values
        _write_dict_to_summary(self.eval_dir(name), results, int(results[GLOBAL_STEP_KEY]))
        return results

    # -- predict ------------------------------------------------------------------------
    def predict(
        self,
        input_fn,
        predict_keys=None,
        hooks=None,
        checkpoint_path=None,
        yield_single_examples=True,
    ):
        """Yields the predictions of the model on ``input_fn``'s features: per example
        (a dict when ``predictions`` is a dict), or per batch when
        ``yield_single_examples`` is False. Runs until the input ends."""
        if not checkpoint_path:
            checkpoint_path = self.latest_checkpoint()
            if not checkpoint_path:
                _log.info(
                    "Could not find trained model in model_dir: %s, running "
                    "initialization to predict.",
                    self._model_dir,
                )
        with _fresh_graph() as graph:
            self._new_graph_step(graph)
            features, _, input_hooks = self._input(input_fn, ModeKeys.PREDICT)
            spec = self._call_model_fn(features, None, ModeKeys.PREDICT)
            predictions = _extract_keys(spec.predictions, predict_keys)
            creator = tf.train.ChiefSessionCreator(
                scaffold=spec.scaffold,
                checkpoint_filename_with_path=checkpoint_path,
                config=self._config.session_config,
            )
            all_hooks = input_hooks + _check_hooks(hooks) + list(spec.prediction_hooks)
            with tf.train.MonitoredSession(session_creator=creator, hooks=all_hooks) as sess:
                while not sess.should_stop():
                    values = sess.run(predictions)
                    if not yield_single_examples:
                        yield values
                    elif not isinstance(values, dict):
                        yield from values
                    else:
                        for i in range(_batch_length(values)):
                            yield {key: value[i] for key, value in values.items()}

    # -- export -------------------------------------------------------------------------
    def export_saved_model(
        self,
        export_dir_base,
        serving_input_receiver_fn,
        assets_extra=None,
        as_text=False,
        checkpoint_path=None,
        experimental_mode=ModeKeys.PREDICT,
    ):
        """Exports the model in PREDICT mode, fed by ``serving_input_receiver_fn``, with
        the latest checkpoint's variables, as a SavedModel in a new directory
        ``export_dir_base/<timestamp>``; returns that path (bytes, as TF does).

        Raises:
            ValueError: no receiver fn, or no checkpoint to export.
        """
        if not serving_input_receiver_fn:
            raise ValueError("An input_receiver_fn must be defined.")
        if assets_extra:
            raise NotImplementedError("assets_extra is not supported by miniflow.")
        checkpoint_path = checkpoint_path or self.latest_checkpoint()
        if not checkpoint_path:
            raise ValueError(f"Couldn't find trained model at {self._model_dir}.")
        export_dir = _timestamped_export_dir(os.fspath(export_dir_base))
        with _fresh_graph() as graph:
            self._new_graph_step(graph)
            receiver = serving_input_receiver_fn()
            spec = self._call_model_fn(receiver.features, None, experimental_mode)
            outputs = spec.export_outputs or {}
            signature_defs = export_lib.build_all_signature_defs(
                receiver.receiver_tensors, outputs, receiver.receiver_tensors_alternatives
            )
            with tf.Session(graph=graph, config=self._config.session_config) as sess:
                local_init_op = (
                    spec.scaffold.local_init_op or tf.train.Scaffold.default_local_init_op()
                )
                saver = spec.scaffold.saver or tf.train.Saver(sharded=True)
                saver.restore(sess, checkpoint_path)
                builder = tf.saved_model.builder.SavedModelBuilder(export_dir)
                builder.add_meta_graph_and_variables(
                    sess,
                    [tf.saved_model.tag_constants.SERVING],
                    signature_def_map=signature_defs,
                    main_op=local_init_op,
                    saver=saver,
                )
                builder.save(as_text)
        return export_dir.encode()

    export_savedmodel = export_saved_model  # TF1's deprecated name

    def experimental_export_all_saved_models(
        self,
        export_dir_base,
        input_receiver_fn_map,
        assets_extra=None,
        as_text=False,
        checkpoint_path=None,
    ):
        """`export_saved_model` for a map ``{mode: receiver_fn}``; only PREDICT mode is
        supported by miniflow."""
        modes = set(input_receiver_fn_map)
        if modes != {ModeKeys.PREDICT}:
            raise NotImplementedError(f"miniflow exports PREDICT mode only, got {sorted(modes)}.")
        return self.export_saved_model(
            export_dir_base,
            input_receiver_fn_map[ModeKeys.PREDICT],
            assets_extra,
            as_text,
            checkpoint_path,
        )


def _extract_keys(predictions, predict_keys):
    if predict_keys is None:
        return predictions
    if not isinstance(predictions, dict):
        raise ValueError("predict_keys argument is not valid in case of non-dict predictions.")
    existing = list(predictions)
    picked = {k: v for k, v in predictions.items() if k in predict_keys}
    if not picked:
        raise ValueError(
            f"Expected to run at least one output from {existing}, provided {predict_keys}."
        )
    return picked


def _batch_length(values) -> int:
    length = None
    for key, value in values.items():
        n = np.shape(value)[0] if np.ndim(value) else None
        if n is None or (length is not None and n != length):
            raise ValueError(
                f"Batch length of predictions should be same. {key} has "
                "different batch length than others."
            )
        length = n
    return length or 0


def _timestamped_export_dir(export_dir_base) -> str:
    """``export_dir_base/<seconds since epoch>``, a name not taken yet."""
    for _ in range(10):
        path = os.path.join(export_dir_base, str(int(time.time())))
        if not os.path.exists(path):
            return path
        time.sleep(1)
    raise RuntimeError("Failed to obtain a unique export directory name after 10 attempts.")


def _write_dict_to_summary(output_dir, results, global_step):
    """Writes the scalar results of an evaluation as summaries at ``global_step``."""
    _log.info(
        "Saving dict for global step %d: %s",
        global_step,
        ", ".join(f"{k} = {v}" for k, v in sorted(results.items())),
    )
    summary = tf.summary.proto_class("Summary")()
    for key, value in results.items():
        if key == GLOBAL_STEP_KEY or value is None:
            continue
        if isinstance(value, float | int | np.floating | np.integer) or (
            isinstance(value, np.ndarray) and value.ndim == 0
        ):
            summary.value.add(tag=key, simple_value=float(value))
        else:
            _log.warning(
                "Skipping summary for %s, must be a float, np.float32, np.int64, np.int32 or int.",
                key,
            )
    writer = tf.summary.FileWriterCache.get(output_dir)
    writer.add_summary(summary, global_step)
    writer.flush()
