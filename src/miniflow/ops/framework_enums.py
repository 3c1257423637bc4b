"""TF's option enums: `tf.UnconnectedGradients`, `tf.AggregationMethod`,
`tf.VariableAggregation`, `tf.VariableSynchronization` (same members and values as TF;
miniflow accepts them wherever TF takes them, and has one aggregation and one
synchronization, so only their values matter)."""

from __future__ import annotations

import enum


class UnconnectedGradients(enum.Enum):
    """What a gradient is for a source the target does not depend on."""

    NONE = "none"
    ZERO = "zero"


class AggregationMethod:
    """How the gradient contributions of one tensor are summed (miniflow: always AddN)."""

    ADD_N = 0
    DEFAULT = ADD_N
    EXPERIMENTAL_TREE = 1
    EXPERIMENTAL_ACCUMULATE_N = 2


class VariableSynchronization(enum.Enum):
    """When a distributed variable is synchronized."""

    AUTO = 0
    NONE = 1
    ON_WRITE = 2
    ON_READ = 3


class VariableAggregation(enum.Enum):
    """How the updates of replicas of a distributed variable combine (TF1 spelling,
    with ``ONLY_FIRST_TOWER``)."""

    NONE = 0
    SUM = 1
    MEAN = 2
    ONLY_FIRST_REPLICA = 3
    ONLY_FIRST_TOWER = 3
