"""`tf.autograph.experimental`: the markers AutoGraph reads. miniflow does not convert
Python source (see `tf.autograph.to_graph`), so they keep functions as they are."""

from __future__ import annotations

import enum


class Feature(enum.Enum):
    """AutoGraph's optional conversion features (accepted, never used: nothing is
    converted)."""

    ALL = "ALL"
    AUTO_CONTROL_DEPS = "AUTO_CONTROL_DEPS"
    ASSERT_STATEMENTS = "ASSERT_STATEMENTS"
    BUILTIN_FUNCTIONS = "BUILTIN_FUNCTIONS"
    EQUALITY_OPERATORS = "EQUALITY_OPERATORS"
    LISTS = "LISTS"
    NAME_SCOPES = "NAME_SCOPES"

    @classmethod
    def all(cls):
        return tuple(cls.__members__.values())

    @classmethod
    def all_but(cls, exclude):
        exclude = set(exclude if isinstance(exclude, list | tuple | set) else (exclude,))
        return tuple(f for f in cls.__members__.values() if f not in exclude)


def do_not_convert(func=None):
    """do_not_convert(func=None): ``func`` itself (a decorator when called without it)."""
    if func is None:
        return do_not_convert
    return func


def set_loop_options(
    parallel_iterations=None, swap_memory=None, maximum_iterations=None, shape_invariants=None
):
    """Loop hints for AutoGraph-converted loops; a no-op outside converted code (as in TF)."""
    del parallel_iterations, swap_memory, maximum_iterations, shape_invariants
