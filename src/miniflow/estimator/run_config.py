"""`tf.estimator.RunConfig`: where an Estimator writes and how often (checkpoints,
summaries, step logging), plus its random seed. Single process: the cluster properties
describe a lone chief."""

from __future__ import annotations

import copy
import os

_DEFAULT_SAVE_CHECKPOINTS_SECS = 600
_REPLACEABLE = (
    "model_dir",
    "tf_random_seed",
    "save_summary_steps",
    "save_checkpoints_steps",
    "save_checkpoints_secs",
    "session_config",
    "keep_checkpoint_max",
    "keep_checkpoint_every_n_hours",
    "log_step_count_steps",
    "train_distribute",
    "device_fn",
    "protocol",
    "eval_distribute",
    "experimental_distribute",
    "experimental_max_worker_delay_secs",
    "session_creation_timeout_secs",
)
_UNSET = object()


def _non_negative(name, value):
    if value is not None and value < 0:
        raise ValueError(f"{name} must be >= 0, given: {value}")


class RunConfig:
    """Estimator run settings.

    ``RunConfig(model_dir=None, tf_random_seed=None, save_summary_steps=100,
    save_checkpoints_steps=_USE_DEFAULT, save_checkpoints_secs=_USE_DEFAULT,
    session_config=None, keep_checkpoint_max=5, keep_checkpoint_every_n_hours=10000,
    log_step_count_steps=100, ...)``; with neither checkpoint interval given, a
    checkpoint is saved every 600 seconds.
    """

    def __init__(
        self,
        model_dir=None,
        tf_random_seed=None,
        save_summary_steps=100,
        save_checkpoints_steps=_UNSET,
        save_checkpoints_secs=_UNSET,
        session_config=None,
        keep_checkpoint_max=5,
        keep_checkpoint_every_n_hours=10000,
        log_step_count_steps=100,
        train_distribute=None,
        device_fn=None,
        protocol=None,
        eval_distribute=None,
        experimental_distribute=None,
        experimental_max_worker_delay_secs=None,
        session_creation_timeout_secs=7200,
    ):
        if save_checkpoints_steps is _UNSET and save_checkpoints_secs is _UNSET:
            save_checkpoints_steps, save_checkpoints_secs = None, _DEFAULT_SAVE_CHECKPOINTS_SECS
        save_checkpoints_steps = (
            None if save_checkpoints_steps is _UNSET else save_checkpoints_steps
        )
        save_checkpoints_secs = None if save_checkpoints_secs is _UNSET else save_checkpoints_secs
        if save_checkpoints_steps and save_checkpoints_secs:
            raise ValueError(
                "`save_checkpoints_steps` and `save_checkpoints_secs` cannot be both set."
            )
        for name, value in (
            ("save_summary_steps", save_summary_steps),
            ("save_checkpoints_steps", save_checkpoints_steps),
            ("save_checkpoints_secs", save_checkpoints_secs),
            ("keep_checkpoint_max", keep_checkpoint_max),
            ("keep_checkpoint_every_n_hours", keep_checkpoint_every_n_hours),
        ):
            _non_negative(name, value)
        if log_step_count_steps is not None and log_step_count_steps <= 0:
            raise ValueError(f"log_step_count_steps must be > 0, given: {log_step_count_steps}")
        if tf_random_seed is not None and not isinstance(tf_random_seed, int):
            raise ValueError(f"tf_random_seed must be integer, given: {tf_random_seed!r}")
        if model_dir is not None:
            model_dir = os.fspath(model_dir)
            if not model_dir:
                raise ValueError("model_dir should be non-empty")
        self._model_dir = model_dir
        self._tf_random_seed = tf_random_seed
        self._save_summary_steps = save_summary_steps
        self._save_checkpoints_steps = save_checkpoints_steps
        self._save_checkpoints_secs = save_checkpoints_secs
        self._session_config = session_config
        self._keep_checkpoint_max = keep_checkpoint_max
        self._keep_checkpoint_every_n_hours = keep_checkpoint_every_n_hours
        self._log_step_count_steps = log_step_count_steps
        self._train_distribute = train_distribute
        self._device_fn = device_fn
        self._protocol = protocol
        self._eval_distribute = eval_distribute
        self._experimental_distribute = experimental_distribute
        self._experimental_max_worker_delay_secs = experimental_max_worker_delay_secs
        self._session_creation_timeout_secs = session_creation_timeout_secs

    def replace(self, **kwargs) -> RunConfig:
        """A copy with the given properties replaced (only the constructor's arguments).

        Raises:
            ValueError: an argument that cannot be replaced.
        """
        bad = sorted(set(kwargs) - set(_REPLACEABLE))
        if bad:
            raise ValueError(
                f"Replacing {', '.join(bad)} is not supported. Allowed properties "
                f"are {list(_REPLACEABLE)}."
            )
        args = {name: getattr(self, f"_{name}") for name in _REPLACEABLE}
        args.update(kwargs)
        if (
            "save_checkpoints_steps" in kwargs
            and "save_checkpoints_secs" not in kwargs
            and kwargs["save_checkpoints_steps"]
        ):
            args["save_checkpoints_secs"] = None
        if (
            "save_checkpoints_secs" in kwargs
            and "save_checkpoints_steps" not in kwargs
            and kwargs["save_checkpoints_secs"]
        ):
            args["save_checkpoints_steps"] = None
        return RunConfig(**args)

    def __copy__(self):
        new = RunConfig.__new__(RunConfig)
        new.__dict__.update(self.__dict__)
        return new

    def __deepcopy__(self, memo):
        return copy.copy(self)

    model_dir = property(lambda self: self._model_dir)
    tf_random_seed = property(lambda self: self._tf_random_seed)
    save_summary_steps = property(lambda self: self._save_summary_steps)
    save_checkpoints_steps = property(lambda self: self._save_checkpoints_steps)
    save_checkpoints_secs = property(lambda self: self._save_checkpoints_secs)
    session_config = property(lambda self: self._session_config)
    keep_checkpoint_max = property(lambda self: self._keep_checkpoint_max)
    keep_checkpoint_every_n_hours = property(lambda self: self._keep_checkpoint_every_n_hours)
    log_step_count_steps = property(lambda self: self._log_step_count_steps)
    train_distribute = property(lambda self: self._train_distribute)
    eval_distribute = property(lambda self: self._eval_distribute)
    experimental_distribute = property(lambda self: self._experimental_distribute)
    experimental_max_worker_delay_secs = property(
        lambda self: self._experimental_max_worker_delay_secs
    )
    session_creation_timeout_secs = property(lambda self: self._session_creation_timeout_secs)
    device_fn = property(lambda self: self._device_fn)
    protocol = property(lambda self: self._protocol)
    # A single-process run: this process is the chief of a one-worker cluster.
    cluster_spec = property(lambda self: None)
    evaluation_master = property(lambda self: "")
    master = property(lambda self: "")
    is_chief = property(lambda self: True)
    num_ps_replicas = property(lambda self: 0)
    num_worker_replicas = property(lambda self: 1)
    task_id = property(lambda self: 0)
    task_type = property(lambda self: "worker")
    global_id_in_cluster = property(lambda self: 0)
    service = property(lambda self: None)
