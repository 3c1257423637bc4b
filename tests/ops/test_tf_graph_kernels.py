"""The TF-import-only kernels (`ops/tf_graph_ops.py`) that reuse the ops package's own
kernels, and their checks of bad runtime bounds; the conv filter gradient's depth check."""

import numpy as np
import pytest

import miniflow  # noqa: F401  registers every kernel
from miniflow import errors
from miniflow.ops import conv_ops, tf_graph_ops


def test_dynamic_reductions_are_the_reduction_kernels():
    x = np.arange(24, dtype=np.int8).reshape(2, 3, 4)
    got = tf_graph_ops._reduce_dynamic_axes(x, np.array([0, -1]), reduction="Sum")
    assert got.dtype == np.int8 and got.tolist() == x.sum(axis=(0, 2)).astype(np.int8).tolist()
    mean = tf_graph_ops._reduce_dynamic_axes(-x, np.array([1]), reduction="Mean")
    assert mean.dtype == np.int8 and mean.tolist() == np.trunc(-x.mean(axis=1)).tolist()
    empty = tf_graph_ops._reduce_dynamic_axes(
        np.zeros((0, 3), np.float32), np.array([0]), reduction="Max"
    )
    assert empty.tolist() == [-np.inf] * 3  # TF's identity, where NumPy raises


@pytest.mark.parametrize("axis", [2, -3])
def test_dynamic_reduction_axis_out_of_range_is_an_error(axis):
    with pytest.raises(ValueError, match="Invalid axis"):
        tf_graph_ops._reduce_dynamic_axes(np.ones((2, 3)), np.array([axis]))


def test_concat_offset_checks_the_axis():
    a, b = np.array([2, 3]), np.array([2, 4])
    assert [o.tolist() for o in tf_graph_ops._concat_offset(-1, a, b, N=2)] == [[0, 0], [0, 3]]
    with pytest.raises(ValueError, match="Invalid concat_dim 2"):
        tf_graph_ops._concat_offset(2, a, b, N=2)


def test_dynamic_slice_bounds_are_checked_as_tf_slice():
    x = np.arange(12).reshape(3, 4)
    got = tf_graph_ops._slice_dynamic_bounds(x, np.array([1, 0]), np.array([-1, 2]))
    assert got.tolist() == [[4, 5], [8, 9]]
    with pytest.raises(errors.InvalidArgumentError, match=r"Expected size\[1\]"):
        tf_graph_ops._slice_dynamic_bounds(x, np.array([0, 3]), np.array([1, 2]))
    with pytest.raises(errors.InvalidArgumentError, match=r"Expected begin\[0\]"):
        tf_graph_ops._slice_dynamic_bounds(x, np.array([-1, 0]), np.array([1, 1]))


def test_strided_spec_decodes_the_masks():
    spec = tf_graph_ops.strided_spec(
        np.array([0, 1, 2]),
        np.array([2, 3, 4]),
        np.array([1, 1, 2]),
        begin_mask=1,
        end_mask=4,
        shrink_axis_mask=2,
    )
    assert spec == (slice(None, 2, 1), 1, slice(2, None, 2))
    assert tf_graph_ops.strided_spec([0, 0], [1, 1], [1, 1], ellipsis_mask=1, new_axis_mask=2) == (
        Ellipsis,
        None,
    )


def test_conv_filter_gradient_checks_the_input_depth():
    x, dy = np.ones((1, 4, 4, 3), np.float32), np.ones((1, 3, 3, 5), np.float32)
    assert conv_ops._conv_backprop_filter_kernel(x, np.array([2, 2, 3, 5]), dy).shape == (
        2,
        2,
        3,
        5,
    )
    with pytest.raises(errors.InvalidArgumentError, match="filter_sizes"):
        conv_ops._conv_backprop_filter_kernel(x, np.array([2, 2, 4, 5]), dy)
