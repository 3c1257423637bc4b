"""Test utilities shipped with miniflow, so users can check their own ops the same way."""

from miniflow.testing.gradient_check import check_grads as check_grads

__all__ = ["check_grads"]
