"""`tf.nondifferentiable_batch_function`: TF batches concurrent calls of the decorated
function into one call along dimension 0; miniflow runs each call on its own (the
results are the same, only the batching for throughput is missing), and like TF's
BatchFunction op the outputs have no gradient (differentiating through them raises
LookupError, as in TF)."""

from __future__ import annotations

import functools

from miniflow.core.dispatch import apply_op, is_tensor
from miniflow.core.nest import flatten, pack
from miniflow.core.registry import register_op


@register_op(
    "BatchFunction",
    num_outputs=lambda attrs: attrs["n"],
    infer=lambda inputs, attrs: [(t.shape.as_tuple(), t.dtype) for t in inputs],
)
def _batch_function(*values, n=0):
    """The function's outputs, passed on (no gradient is registered: TF has none)."""
    return tuple(values)


def nondifferentiable_batch_function(
    num_batch_threads,
    max_batch_size,
    batch_timeout_micros,
    allowed_batch_sizes=None,
    max_enqueued_batches=10,
    autograph=True,
    enable_large_batch_splitting=True,
):
    """nondifferentiable_batch_function(num_batch_threads, max_batch_size,
    batch_timeout_micros, allowed_batch_sizes=None, max_enqueued_batches=10,
    autograph=True, enable_large_batch_splitting=True): a decorator."""
    if allowed_batch_sizes is not None:
        sizes = list(allowed_batch_sizes)
        if sizes != sorted(sizes) or (sizes and sizes[-1] != max_batch_size):
            raise ValueError(
                "allowed_batch_sizes must be increasing and end with "
                f"max_batch_size ({max_batch_size}), got {sizes}"
            )

    def decorator(fn):
        @functools.wraps(fn)
        def decorated(*args):
            for a in args:
                if not is_tensor(a):
                    raise ValueError(
                        "All arguments to functions decorated with "
                        "`batch_function`  are supposed to be Tensors; "
                        f"found {a!r}."
                    )
            out = fn(*args)
            flat = flatten(out)
            done = apply_op("BatchFunction", *flat, n=len(flat), name="batch")
            return pack(out, iter(done if isinstance(done, tuple) else [done]))

        return decorated

    return decorator
