"""`tf.debugging`: assertions, numeric checks and predicates (ops in `ops/check_ops.py`)."""

from miniflow.ops.check_ops import Assert as Assert  # noqa: F401
from miniflow.ops.check_ops import assert_all_finite as assert_all_finite
from miniflow.ops.check_ops import assert_equal as assert_equal
from miniflow.ops.check_ops import assert_greater as assert_greater
from miniflow.ops.check_ops import assert_greater_equal as assert_greater_equal
from miniflow.ops.check_ops import assert_integer as assert_integer
from miniflow.ops.check_ops import assert_less as assert_less
from miniflow.ops.check_ops import assert_less_equal as assert_less_equal
from miniflow.ops.check_ops import assert_near as assert_near
from miniflow.ops.check_ops import assert_negative as assert_negative
from miniflow.ops.check_ops import assert_non_negative as assert_non_negative
from miniflow.ops.check_ops import assert_non_positive as assert_non_positive
from miniflow.ops.check_ops import assert_none_equal as assert_none_equal
from miniflow.ops.check_ops import assert_positive as assert_positive
from miniflow.ops.check_ops import assert_proper_iterable as assert_proper_iterable
from miniflow.ops.check_ops import assert_rank as assert_rank
from miniflow.ops.check_ops import assert_rank_at_least as assert_rank_at_least
from miniflow.ops.check_ops import assert_rank_in as assert_rank_in
from miniflow.ops.check_ops import assert_same_float_dtype as assert_same_float_dtype
from miniflow.ops.check_ops import assert_scalar as assert_scalar
from miniflow.ops.check_ops import assert_shapes as assert_shapes
from miniflow.ops.check_ops import assert_type as assert_type
from miniflow.ops.check_ops import check_numerics as check_numerics
from miniflow.ops.check_ops import is_non_decreasing as is_non_decreasing
from miniflow.ops.check_ops import is_numeric_tensor as is_numeric_tensor
from miniflow.ops.check_ops import is_strictly_increasing as is_strictly_increasing
from miniflow.ops.math_ops import is_finite as is_finite
from miniflow.ops.math_ops import is_inf as is_inf
from miniflow.ops.math_ops import is_nan as is_nan

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
