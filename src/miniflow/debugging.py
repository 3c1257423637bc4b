"""`tf.debugging`: assertions, numeric checks and predicates (ops in `ops/check_ops.py`)."""

from miniflow.ops.check_ops import (
    Assert as Assert,  # noqa: F401
    assert_all_finite as assert_all_finite,
    assert_equal as assert_equal,
    assert_greater as assert_greater,
    assert_greater_equal as assert_greater_equal,
    assert_integer as assert_integer,
    assert_less as assert_less,
    assert_less_equal as assert_less_equal,
    assert_near as assert_near,
    assert_negative as assert_negative,
    assert_non_negative as assert_non_negative,
    assert_non_positive as assert_non_positive,
    assert_none_equal as assert_none_equal,
    assert_positive as assert_positive,
    assert_proper_iterable as assert_proper_iterable,
    assert_rank as assert_rank,
    assert_rank_at_least as assert_rank_at_least,
    assert_rank_in as assert_rank_in,
    assert_same_float_dtype as assert_same_float_dtype,
    assert_scalar as assert_scalar,
    assert_shapes as assert_shapes,
    assert_type as assert_type,
    check_numerics as check_numerics,
    is_non_decreasing as is_non_decreasing,
    is_numeric_tensor as is_numeric_tensor,
    is_strictly_increasing as is_strictly_increasing,
)
from miniflow.ops.math_ops import is_finite as is_finite, is_inf as is_inf, is_nan as is_nan

_settings = {"log_device_placement": False, "check_numerics": False, "traceback_filtering": True}


def set_log_device_placement(enabled):
    """Recorded only: miniflow places every op on the CPU."""
    _settings["log_device_placement"] = bool(enabled)


def get_log_device_placement():
    return _settings["log_device_placement"]


def enable_check_numerics(stack_height_limit=30, path_length_limit=50):
    """Recorded only (a no-op): use `check_numerics` or `add_check_numerics_ops`."""
    _settings["check_numerics"] = True


def disable_check_numerics():
    _settings["check_numerics"] = False


def enable_traceback_filtering():
    _settings["traceback_filtering"] = True


def disable_traceback_filtering():
    _settings["traceback_filtering"] = False


def is_traceback_filtering_enabled():
    return _settings["traceback_filtering"]
