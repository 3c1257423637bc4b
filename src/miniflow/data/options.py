"""`tf.data.Options` and its sub-option groups, the tf.data constants, and the policy
enums. miniflow runs pipelines serially on demand, so options are recorded (and merged,
compared, read back through `Dataset.options()`) but change nothing."""

from __future__ import annotations

import enum

AUTOTUNE = -1
INFINITE_CARDINALITY = -1
UNKNOWN_CARDINALITY = -2
SHARD_HINT = -1


class AutoShardPolicy(enum.IntEnum):
    """How a distributed input pipeline is sharded (recorded only)."""

    OFF = -1
    AUTO = 0
    FILE = 1
    DATA = 2
    HINT = 3


class AutotuneAlgorithm(enum.IntEnum):
    DEFAULT = 0
    HILL_CLIMB = 1
    GRADIENT_DESCENT = 2
    MAX_PARALLELISM = 3
    STAGE_BASED = 4


class ExternalStatePolicy(enum.IntEnum):
    WARN = 0
    IGNORE = 1
    FAIL = 2


class OptionsBase:
    """A group of options: each is None (unset) until assigned; unknown names are an
    `AttributeError`, as in TF. ``_OPTIONS`` maps each name to a factory for its default
    (a nested group) or None."""

    _OPTIONS: dict = {}

    def __init__(self):
        for name, factory in self._OPTIONS.items():
            object.__setattr__(self, name, factory() if factory else None)

    def __setattr__(self, name, value):
        if name not in self._OPTIONS and not isinstance(getattr(type(self), name, None), property):
            raise AttributeError(f"Cannot set the property {name} on {type(self).__name__}.")
        object.__setattr__(self, name, value)

    def __eq__(self, other):
        return type(self) is type(other) and vars(self) == vars(other)

    def __ne__(self, other):
        return not self == other

    __hash__ = None

    def __repr__(self):
        return f"{type(self).__name__}({vars(self)})"

    def merge(self, options):
        """A new group with the values set in ``options`` overriding these."""
        return merge_options(self, options)


def merge_options(*options_list):
    """Later options take precedence; nested groups merge option by option."""
    result = type(options_list[0])()
    for options in options_list:
        if not isinstance(options, type(result)):
            raise TypeError(
                f"Could not merge incompatible options of type "
                f"{type(options).__name__} into {type(result).__name__}."
            )
        for name in result._OPTIONS:
            value = getattr(options, name)
            if isinstance(value, OptionsBase):
                object.__setattr__(result, name, merge_options(getattr(result, name), value))
            elif value is not None:
                object.__setattr__(result, name, value)
    return result


class ThreadingOptions(OptionsBase):
    """`tf.data.ThreadingOptions`."""

    _OPTIONS = dict.fromkeys(["max_intra_op_parallelism", "private_threadpool_size"])


class AutotuneOptions(OptionsBase):
    """`tf.data.experimental.AutotuneOptions`."""

    _OPTIONS = dict.fromkeys(
        [
            "autotune_algorithm",
            "cpu_budget",
            "enabled",
            "initial_parallelism",
            "min_parallelism",
            "ram_budget",
        ]
    )


class OptimizationOptions(OptionsBase):
    """`tf.data.experimental.OptimizationOptions`."""

    _OPTIONS = dict.fromkeys(
        [
            "apply_default_optimizations",
            "filter_fusion",
            "filter_parallelization",
            "inject_prefetch",
            "map_and_batch_fusion",
            "map_and_filter_fusion",
            "map_fusion",
            "map_parallelization",
            "noop_elimination",
            "parallel_batch",
            "seq_interleave_prefetch",
            "shuffle_and_repeat_fusion",
        ]
    )


class _DistributeOptions(OptionsBase):
    _OPTIONS = dict.fromkeys(["auto_shard_policy", "num_devices"])


class Options(OptionsBase):
    """`tf.data.Options`: attach with `Dataset.with_options`, read with `options()`."""

    _OPTIONS = {
        "autotune": AutotuneOptions,
        "dataset_name": None,
        "deterministic": None,
        "experimental_distribute": _DistributeOptions,
        "experimental_external_state_policy": None,
        "experimental_optimization": OptimizationOptions,
        "experimental_service": None,
        "experimental_slack": None,
        "experimental_symbolic_checkpoint": None,
        "experimental_warm_start": None,
        "framework_type": None,
        "threading": ThreadingOptions,
    }

    @property
    def experimental_threading(self):
        """The deprecated name of ``threading``."""
        return self.threading

    @experimental_threading.setter
    def experimental_threading(self, value):
        self.threading = value

    @property
    def experimental_deterministic(self):
        """The deprecated name of ``deterministic``."""
        return self.deterministic

    @experimental_deterministic.setter
    def experimental_deterministic(self, value):
        self.deterministic = value
