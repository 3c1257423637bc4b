"""Gradient accumulators (`tf.ConditionalAccumulator`, `tf.SparseConditionalAccumulator`):
workers apply gradients stamped with the step they were computed at; stale ones (older than
the accumulator's global step) are dropped; `take_grad` blocks until enough have arrived,
returns their mean (or sum) and advances the global step.

Like a queue, an accumulator is session state (`Session.close` cancels a blocked
`take_grad`; `RunOptions.timeout_in_ms` bounds it).
"""

from __future__ import annotations

import threading
import time

import numpy as np

from miniflow import dtypes as _dtypes, errors
from miniflow.core.dispatch import apply_op, current_frontend
from miniflow.core.indexed_slices import IndexedSlices
from miniflow.core.registry import not_differentiable, register_op
from miniflow.core.shapes import TensorShape, as_shape
from miniflow.graph.session import run_deadline
from miniflow.ops import array_ops


class _AccumulatorState:
    """The running sum of the gradients applied since the last take."""

    def __init__(self, name, dtype, shape, reduction, sparse):
        self.name, self.dtype, self.shape = name, dtype, shape
        self.mean = reduction == "MEAN"
        self.sparse = sparse
        self.cond = threading.Condition()
        self.global_step = 0
        self.count = 0
        self.total = None  # dense: an array; sparse: {row index: [row sum, row count]}
        self.session_gone = False

    def session_closed(self):
        with self.cond:
            self.session_gone = True
            self.cond.notify_all()

    def _check_shape(self, got, what):
        want = self.shape
        if want is not None and (
            len(want) != len(got)
            or any(w is not None and g is not None and w != g for w, g in zip(want, got))
        ):
            raise errors.InvalidArgumentError(
                None,
                None,
                f"Shape mismatch: expected {what} shape "
                f"[{','.join('?' if w is None else str(w) for w in want)}], got "
                f"[{','.join('?' if g is None else str(g) for g in got)}] "
                f"(accumulator '{self.name}')",
            )

    def apply_dense(self, local_step, grad):
        with self.cond:
            if int(local_step) < self.global_step:
                return  # stale: computed before the last take
            grad = np.asarray(grad, dtype=self.dtype.np)
            self._check_shape(grad.shape, "gradient")
            if self.total is not None and self.total.shape != grad.shape:
                raise errors.InvalidArgumentError(
                    None,
                    None,
                    f"Shape mismatch: the accumulated gradient has shape "
                    f"{list(self.total.shape)}, got {list(grad.shape)}",
                )
            self.total = grad.copy() if self.total is None else self.total + grad
            self.count += 1
            self.cond.notify_all()

    def apply_sparse(self, local_step, indices, values, shape):
        with self.cond:
            if int(local_step) < self.global_step:
                return
            values = np.asarray(values, dtype=self.dtype.np)
            indices = np.asarray(indices, dtype=np.int64).reshape(-1)
            if shape is not None and len(shape):
                self._check_shape(tuple(int(d) for d in shape), "gradient")
            if self.shape is not None:
                self._check_shape((None,) + values.shape[1:], "gradient values")
                rows = self.shape[0]
                if (
                    rows is not None
                    and indices.size
                    and (indices.max() >= rows or indices.min() < 0)
                ):
                    raise errors.InvalidArgumentError(
                        None, None, f"Gradient index out of range [0, {rows}): {indices.tolist()}"
                    )
            if len(indices) != len(values):
                raise errors.InvalidArgumentError(
                    None,
                    None,
                    f"Gradient has {len(indices)} indices but {len(values)} rows of values",
                )
            total = self.total if self.total is not None else {}
            for i, row in zip(indices.tolist(), values):
                if i in total:
                    total[i][0] = total[i][0] + row
                    total[i][1] += 1
                else:
                    total[i] = [row.copy(), 1]
            self.total = total
            self.count += 1
            self.cond.notify_all()

    def take(self, num_required):
        num_required = int(num_required)
        if num_required < 1:
            raise errors.InvalidArgumentError(
                None, None, f"Argument num_required must be positive, but was {num_required}"
            )
        deadline = run_deadline()
        with self.cond:
            while self.count < num_required:
                if self.session_gone:
                    raise errors.CancelledError(None, None, "Session has been closed.")
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise errors.DeadlineExceededError(
                        None, None, "Timed out waiting for notification"
                    )
                self.cond.wait(left)
            total, count = self.total, self.count
            self.total, self.count = None, 0
            self.global_step += 1
        if not self.sparse:
            return (total / count).astype(self.dtype.np) if self.mean else total
        idx = sorted(total)
        rows = [total[i][0] / total[i][1] if self.mean else total[i][0] for i in idx]
        width = () if self.shape is None else tuple(d or 0 for d in self.shape[1:])
        values = (
            np.stack(rows).astype(self.dtype.np) if rows else np.zeros((0,) + width, self.dtype.np)
        )
        dense = [-1 if d is None else d for d in self.shape] if self.shape is not None else []
        return np.array(idx, dtype=np.int64), values, np.array(dense, dtype=np.int64)

    def set_global_step(self, step):
        with self.cond:
            self.global_step = int(step)


def _acc_state(**kw):
    return dict(
        stateful=True,
        make_state=lambda attrs: attrs["accumulator"]._make_state(),
        state_key=lambda attrs: attrs["accumulator"],
        exportable=False,
        **kw,
    )


for _type in ("ResourceConditionalAccumulator", "SparseConditionalAccumulator"):
    register_op(_type, infer=lambda i, a: [((), _dtypes.resource)], **_acc_state())(
        lambda state: state
    )


@register_op("ResourceAccumulatorApplyGradient", num_outputs=0, **_acc_state())
def _apply(state, handle, local_step, grad):
    state.apply_dense(local_step, grad)
    return ()


@register_op("SparseAccumulatorApplyGradient", num_outputs=0, **_acc_state())
def _apply_sparse(state, handle, local_step, indices, values, shape):
    state.apply_sparse(local_step, indices, values, shape)
    return ()


def _dense_spec(inputs, attrs):
    acc = attrs["accumulator"]
    return [(acc._shape.as_tuple(), acc._dtype)]


def _sparse_spec(inputs, attrs):
    acc = attrs["accumulator"]
    dims = acc._shape.as_tuple()
    return [
        ((None,), _dtypes.int64),
        ((None,) + tuple(dims[1:]) if dims is not None else None, acc._dtype),
        ((len(dims),) if dims is not None else (None,), _dtypes.int64),
    ]


register_op("ResourceAccumulatorTakeGradient", infer=_dense_spec, **_acc_state())(
    lambda state, handle, num_required: state.take(num_required)
)
register_op("SparseAccumulatorTakeGradient", num_outputs=3, infer=_sparse_spec, **_acc_state())(
    lambda state, handle, num_required: state.take(num_required)
)


@register_op(
    "ResourceAccumulatorNumAccumulated", infer=lambda i, a: [((), _dtypes.int32)], **_acc_state()
)
def _num_accumulated(state, handle):
    with state.cond:
        return np.int32(state.count)


@register_op("ResourceAccumulatorSetGlobalStep", num_outputs=0, **_acc_state())
def _set_global_step(state, handle, step):
    state.set_global_step(step)
    return ()


not_differentiable(
    "ResourceConditionalAccumulator",
    "SparseConditionalAccumulator",
    "ResourceAccumulatorApplyGradient",
    "SparseAccumulatorApplyGradient",
    "ResourceAccumulatorTakeGradient",
    "SparseAccumulatorTakeGradient",
    "ResourceAccumulatorNumAccumulated",
    "ResourceAccumulatorSetGlobalStep",
)


class ConditionalAccumulatorBase:
    """What both accumulators share: the handle, the step, the count (`tf.compat.v1`'s
    ``ConditionalAccumulatorBase``)."""

    _op_type = ""
    _sparse = False

    def __init__(self, dtype, shape, name, reduction_type="MEAN"):
        if reduction_type not in ("MEAN", "SUM"):
            raise ValueError(f"reduction_type must be 'MEAN' or 'SUM', got {reduction_type!r}")
        self._dtype = _dtypes.as_dtype(dtype)
        self._shape = as_shape(shape) if shape is not None else TensorShape(None)
        self._reduction = reduction_type
        self._eager = current_frontend().eager
        self._name = name
        if self._eager:
            self._slot = self._make_state()
        self._ref = apply_op(self._op_type, accumulator=self, name=None if self._eager else name)
        if not self._eager:
            self._name = self._ref.op.name.split("/")[-1]

    def _make_state(self):
        return _AccumulatorState(
            self.name, self._dtype, self._shape.as_tuple(), self._reduction, self._sparse
        )

    @property
    def accumulator_ref(self):
        return self._ref

    @property
    def name(self) -> str:
        return self._name if self._eager else self._ref.op.name

    @property
    def dtype(self):
        return self._dtype

    def num_accumulated(self, name=None):
        """The number of gradients applied since the last take (int32)."""
        return apply_op(
            "ResourceAccumulatorNumAccumulated",
            self._ref,
            accumulator=self,
            name=None if self._eager else name or f"{self._name}_NumAccumulated",
        )

    def set_global_step(self, new_global_step, name=None):
        """Sets the step below which applied gradients are stale."""
        step = array_ops.convert_to_tensor(new_global_step, dtype=_dtypes.int64)
        return apply_op(
            "ResourceAccumulatorSetGlobalStep", self._ref, step, accumulator=self, name=name
        )


class ConditionalAccumulator(ConditionalAccumulatorBase):
    """Averages (or sums) dense gradients that are not stale.

    ConditionalAccumulator(dtype, shape=None, shared_name=None,
    name="conditional_accumulator", reduction_type="MEAN")
    """

    _op_type = "ResourceConditionalAccumulator"

    def __init__(
        self,
        dtype,
        shape=None,
        shared_name=None,
        name="conditional_accumulator",
        reduction_type="MEAN",
    ):
        super().__init__(dtype, shape, name, reduction_type)

    def apply_grad(self, grad, local_step=0, name=None):
        """Adds ``grad`` unless ``local_step`` is older than the global step.

        Raises:
            ValueError: the gradient's static shape contradicts the accumulator's.
        """
        grad = array_ops.convert_to_tensor(grad, dtype=self._dtype)
        grad.shape.assert_is_compatible_with(self._shape)
        step = array_ops.convert_to_tensor(local_step, dtype=_dtypes.int64)
        return apply_op(
            "ResourceAccumulatorApplyGradient", self._ref, step, grad, accumulator=self, name=name
        )

    def take_grad(self, num_required, name=None):
        """Blocks until ``num_required`` gradients were applied; returns their mean (sum)."""
        n = array_ops.convert_to_tensor(num_required, dtype=_dtypes.int32)
        return apply_op(
            "ResourceAccumulatorTakeGradient", self._ref, n, accumulator=self, name=name
        )


class SparseConditionalAccumulator(ConditionalAccumulatorBase):
    """Averages sparse gradients row by row (each row by the number of gradients that had
    it), dropping stale ones.

    SparseConditionalAccumulator(dtype, shape=None, shared_name=None,
    name="sparse_conditional_accumulator", reduction_type="MEAN")
    """

    _op_type = "SparseConditionalAccumulator"
    _sparse = True

    def __init__(
        self,
        dtype,
        shape=None,
        shared_name=None,
        name="sparse_conditional_accumulator",
        reduction_type="MEAN",
    ):
        super().__init__(dtype, shape, name, reduction_type)

    def apply_grad(self, grad_indices, grad_values, grad_shape=None, local_step=0, name=None):
        """Adds the rows ``grad_values`` at ``grad_indices`` unless stale."""
        indices = array_ops.convert_to_tensor(grad_indices, dtype=_dtypes.int64)
        values = array_ops.convert_to_tensor(grad_values, dtype=self._dtype)
        shape = array_ops.convert_to_tensor(
            [] if grad_shape is None else grad_shape, dtype=_dtypes.int64
        )
        step = array_ops.convert_to_tensor(local_step, dtype=_dtypes.int64)
        return apply_op(
            "SparseAccumulatorApplyGradient",
            self._ref,
            step,
            indices,
            values,
            shape,
            accumulator=self,
            name=name,
        )

    def apply_indexed_slices_grad(self, grad, local_step=0, name=None):
        """`apply_grad` for an `IndexedSlices` gradient."""
        return self.apply_grad(grad.indices, grad.values, grad.dense_shape, local_step, name)

    def take_grad(self, num_required, name=None):
        """Blocks until ``num_required`` gradients were applied; returns the averaged
        ``(indices, values, shape)``."""
        n = array_ops.convert_to_tensor(num_required, dtype=_dtypes.int32)
        return apply_op("SparseAccumulatorTakeGradient", self._ref, n, accumulator=self, name=name)

    def take_indexed_slices_grad(self, num_required, name=None):
        """`take_grad` as an `IndexedSlices`."""
        indices, values, shape = self.take_grad(num_required, name)
        return IndexedSlices(values, indices, shape)
