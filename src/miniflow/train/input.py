"""Queue-based input pipelines (`tf.train.string_input_producer`, `batch`, ...).

Each function builds a queue, the ops that fill it, and a `QueueRunner` (added to the
graph's ``QUEUE_RUNNERS`` collection) whose threads run those ops once
`tf.train.start_queue_runners` is called. Written after TF1's ``training/input.py``, with
the same op structure, names and quirks (a single-tensor batch comes back as a tensor).
Differences: no summaries are added and `SparseTensor` inputs are not supported.
"""

from __future__ import annotations

from miniflow import dtypes as _dtypes
from miniflow.core.dispatch import current_frontend
from miniflow.core.shapes import TensorShape, as_shape
from miniflow.graph.graph import GraphKeys
from miniflow.graph.operation import Tensor
from miniflow.ops import array_ops, math_ops
from miniflow.ops.check_ops import Assert
from miniflow.ops.control_flow_ops import control_dependencies, name_scope
from miniflow.ops.counter_ops import count_up_to
from miniflow.ops.data_flow_ops import FIFOQueue, PaddingFIFOQueue, RandomShuffleQueue
from miniflow.ops.random_ops import random_shuffle
from miniflow.ops.variables import Variable
from miniflow.train.queue_runner import QueueRunner, add_queue_runner


def _no_eager():
    if current_frontend().eager:
        raise ValueError(
            "Input pipelines based on Queues are not supported when eager "
            "execution is enabled. Please use tf.data to ingest data into your "
            "model instead."
        )


def limit_epochs(tensor, num_epochs=None, name=None):
    """Returns ``tensor`` ``num_epochs`` times, then raises `OutOfRangeError`; the count is
    a local variable ``epochs`` (initialize with `tf.local_variables_initializer`)."""
    if num_epochs is None:
        return tensor
    if num_epochs <= 0:
        raise ValueError(f"num_epochs must be > 0 not {num_epochs}.")
    with name_scope(name, "limit_epochs") as scope:
        zero64 = array_ops.constant(0, dtype=_dtypes.int64)
        epochs = Variable(
            zero64, name="epochs", trainable=False, collections=[GraphKeys.LOCAL_VARIABLES]
        )
        counter = count_up_to(epochs, num_epochs)
        with control_dependencies([counter]):
            return array_ops.identity(tensor, name=scope)


def input_producer(
    input_tensor,
    element_shape=None,
    num_epochs=None,
    shuffle=True,
    seed=None,
    capacity=32,
    shared_name=None,
    summary_name=None,
    name=None,
    cancel_op=None,
):
    """A FIFOQueue filled with the rows of ``input_tensor`` (shuffled each epoch)."""
    _no_eager()
    with name_scope(name, "input_producer"):
        input_tensor = array_ops.convert_to_tensor(input_tensor, name="input_tensor")
        dims = input_tensor.shape
        elem = TensorShape(None) if dims.ndims is None else TensorShape(dims.as_list()[1:])
        element_shape = elem.merge_with(
            as_shape(element_shape) if element_shape is not None else TensorShape(None)
        )
        if not element_shape.is_fully_defined():
            raise ValueError(
                "Either `input_tensor` must have a fully defined shape or "
                "`element_shape` must be specified"
            )
        if shuffle:
            input_tensor = random_shuffle(input_tensor, seed=seed)
        input_tensor = limit_epochs(input_tensor, num_epochs)
        q = FIFOQueue(
            capacity=capacity,
            dtypes=[input_tensor.dtype],
            shapes=[element_shape],
            shared_name=shared_name,
            name=name,
        )
        enq = q.enqueue_many([input_tensor])
        add_queue_runner(QueueRunner(q, [enq], cancel_op=cancel_op))
        return q


def string_input_producer(
    string_tensor,
    num_epochs=None,
    shuffle=True,
    seed=None,
    capacity=32,
    shared_name=None,
    name=None,
    cancel_op=None,
):
    """A queue of strings (file names, usually) for a reader, `num_epochs` times over."""
    not_null_err = "string_input_producer requires a non-null input tensor"
    if not isinstance(string_tensor, Tensor) and not len(string_tensor):
        raise ValueError(not_null_err)
    with name_scope(name, "input_producer") as scope:
        string_tensor = array_ops.convert_to_tensor(string_tensor, dtype=_dtypes.string)
        with control_dependencies(
            [Assert(math_ops.greater(array_ops.size(string_tensor), 0), [not_null_err])]
        ):
            string_tensor = array_ops.identity(string_tensor)
        return input_producer(
            string_tensor,
            [],
            num_epochs,
            shuffle,
            seed,
            capacity,
            shared_name,
            f"fraction_of_{capacity}_full",
            scope or None,
            cancel_op,
        )


def range_input_producer(
    limit, num_epochs=None, shuffle=True, seed=None, capacity=32, shared_name=None, name=None
):
    """A queue of the integers 0 .. limit-1 (int32)."""
    with name_scope(name, "input_producer") as scope:
        range_tensor = array_ops.range(limit)
        return input_producer(
            range_tensor,
            [],
            num_epochs,
            shuffle,
            seed,
            capacity,
            shared_name,
            f"fraction_of_{capacity}_full",
            scope or None,
        )


def slice_input_producer(
    tensor_list, num_epochs=None, shuffle=True, seed=None, capacity=32, shared_name=None, name=None
):
    """One row of each tensor per step (the same row index for all of them)."""
    with name_scope(name, "input_producer"):
        tensor_list = [array_ops.convert_to_tensor(t) for t in tensor_list]
        if not tensor_list:
            raise ValueError("Expected at least one tensor in slice_input_producer().")
        range_size = array_ops.shape(tensor_list[0])[0]
        queue = range_input_producer(
            range_size,
            num_epochs=num_epochs,
            shuffle=shuffle,
            seed=seed,
            capacity=capacity,
            shared_name=shared_name,
        )
        index = queue.dequeue()
        return [array_ops.gather(t, index) for t in tensor_list]


# -- batching ---------------------------------------------------------------------------
def _as_tensor_list(tensors):
    if isinstance(tensors, dict):
        return [tensors[k] for k in sorted(tensors, key=str)]
    return list(tensors) if isinstance(tensors, list | tuple) else [tensors]


def _as_original_type(original, dequeued):
    if isinstance(original, dict):
        if len(original) == 1:  # the queue returned a tensor, not a list (TF's quirk)
            dequeued = [dequeued]
        return {k: dequeued[i] for i, k in enumerate(sorted(original, key=str))}
    return dequeued


def _validate(tensor_list, what="batch"):
    tensor_list = [array_ops.convert_to_tensor(t) for t in tensor_list]
    if not tensor_list:
        raise ValueError(f"Expected at least one tensor in {what}().")
    return tensor_list


def _validate_join(tensor_list_list):
    out = [_validate(tl, "batch_join") for tl in tensor_list_list]
    if not out:
        raise ValueError("Expected at least one input in batch_join().")
    return out


def _validate_keep_input(keep_input, enqueue_many):
    keep_input = array_ops.convert_to_tensor(keep_input)
    ndims = keep_input.shape.ndims
    if ndims is None:
        raise ValueError("`keep_input` dimensions must be known at graph construction.")
    if not enqueue_many and ndims == 1:
        raise ValueError("`keep_input` cannot be a vector when `enqueue_many=False`.")
    if ndims > 1:
        raise ValueError("`keep_input` must be 0 or 1 dimensions.")
    return keep_input


def _shapes(tensor_list_list, shapes, enqueue_many):
    if shapes is not None:
        return shapes
    out = []
    for i in range(len(tensor_list_list[0])):
        merged = None
        for tl in tensor_list_list:
            s = tl[i].shape
            if s.ndims is None:
                raise ValueError(f"Cannot infer Tensor's rank: {tl[i]}")
            if enqueue_many:
                if s.ndims < 1:
                    raise ValueError(f"Shape {s} must have rank at least 1")
                s = TensorShape(s.as_list()[1:])
            merged = s if merged is None else merged  # TF keeps the first list's shape
        out.append(merged.as_list())
    return out


def _static_keep(keep_input):
    op = getattr(keep_input, "op", None)
    if op is not None and op.type == "Const" and keep_input.shape.ndims == 0:
        return bool(op.attrs["value"])
    return None


def _enqueue_op(queue, tensor_list, enqueue_many, keep_input):
    keep = _static_keep(keep_input)
    if keep is True:
        return (queue.enqueue_many if enqueue_many else queue.enqueue)(tensor_list)
    # keep only the selected elements: a batch of 0 or 1 (or a masked batch)
    mask = keep_input if keep_input.shape.ndims == 1 else array_ops.reshape(keep_input, [1])
    if not enqueue_many:
        tensor_list = [array_ops.expand_dims(t, 0) for t in tensor_list]
    return queue.enqueue_many([array_ops.boolean_mask(t, mask) for t in tensor_list])


def _dequeue(queue, batch_size, allow_smaller_final_batch, name):
    if allow_smaller_final_batch:
        return queue.dequeue_up_to(batch_size, name=name)
    return queue.dequeue_many(batch_size, name=name)


def _batch(
    tensors,
    batch_size,
    keep_input,
    num_threads=1,
    capacity=32,
    enqueue_many=False,
    shapes=None,
    dynamic_pad=False,
    allow_smaller_final_batch=False,
    shared_name=None,
    name=None,
):
    _no_eager()
    tensor_list = _as_tensor_list(tensors)
    with name_scope(name, "batch") as scope:
        tensor_list = _validate(tensor_list)
        keep_input = _validate_keep_input(keep_input, enqueue_many)
        types = [t.dtype for t in tensor_list]
        shapes = _shapes([tensor_list], shapes, enqueue_many)
        queue = (PaddingFIFOQueue if dynamic_pad else FIFOQueue)(
            capacity=capacity, dtypes=types, shapes=shapes, shared_name=shared_name
        )
        enq = _enqueue_op(queue, tensor_list, enqueue_many, keep_input)
        add_queue_runner(QueueRunner(queue, [enq] * num_threads))
        dequeued = _dequeue(queue, batch_size, allow_smaller_final_batch, scope or None)
        return _as_original_type(tensors, dequeued)


def _batch_join(
    tensors_list,
    batch_size,
    keep_input,
    capacity=32,
    enqueue_many=False,
    shapes=None,
    dynamic_pad=False,
    allow_smaller_final_batch=False,
    shared_name=None,
    name=None,
):
    _no_eager()
    tensor_list_list = [_as_tensor_list(t) for t in tensors_list]
    with name_scope(name, "batch_join") as scope:
        tensor_list_list = _validate_join(tensor_list_list)
        keep_input = _validate_keep_input(keep_input, enqueue_many)
        types = [t.dtype for t in tensor_list_list[0]]
        shapes = _shapes(tensor_list_list, shapes, enqueue_many)
        queue = (PaddingFIFOQueue if dynamic_pad else FIFOQueue)(
            capacity=capacity, dtypes=types, shapes=shapes, shared_name=shared_name
        )
        enqs = [_enqueue_op(queue, tl, enqueue_many, keep_input) for tl in tensor_list_list]
        add_queue_runner(QueueRunner(queue, enqs))
        dequeued = _dequeue(queue, batch_size, allow_smaller_final_batch, scope or None)
        return _as_original_type(tensors_list[0], dequeued)


def _shuffle_queue(capacity, min_after_dequeue, seed, types, shapes, shared_name):
    if capacity <= min_after_dequeue:
        raise ValueError(
            f"capacity {capacity} must be bigger than min_after_dequeue {min_after_dequeue}."
        )
    return RandomShuffleQueue(
        capacity=capacity,
        min_after_dequeue=min_after_dequeue,
        seed=seed,
        dtypes=types,
        shapes=shapes,
        shared_name=shared_name,
    )


def _shuffle_batch(
    tensors,
    batch_size,
    capacity,
    min_after_dequeue,
    keep_input,
    num_threads=1,
    seed=None,
    enqueue_many=False,
    shapes=None,
    allow_smaller_final_batch=False,
    shared_name=None,
    name=None,
):
    _no_eager()
    tensor_list = _as_tensor_list(tensors)
    with name_scope(name, "shuffle_batch") as scope:
        tensor_list = _validate(tensor_list)
        keep_input = _validate_keep_input(keep_input, enqueue_many)
        types = [t.dtype for t in tensor_list]
        shapes = _shapes([tensor_list], shapes, enqueue_many)
        queue = _shuffle_queue(capacity, min_after_dequeue, seed, types, shapes, shared_name)
        enq = _enqueue_op(queue, tensor_list, enqueue_many, keep_input)
        add_queue_runner(QueueRunner(queue, [enq] * num_threads))
        dequeued = _dequeue(queue, batch_size, allow_smaller_final_batch, scope or None)
        return _as_original_type(tensors, dequeued)


def _shuffle_batch_join(
    tensors_list,
    batch_size,
    capacity,
    min_after_dequeue,
    keep_input,
    seed=None,
    enqueue_many=False,
    shapes=None,
    allow_smaller_final_batch=False,
    shared_name=None,
    name=None,
):
    _no_eager()
    tensor_list_list = [_as_tensor_list(t) for t in tensors_list]
    with name_scope(name, "shuffle_batch_join") as scope:
        tensor_list_list = _validate_join(tensor_list_list)
        keep_input = _validate_keep_input(keep_input, enqueue_many)
        types = [t.dtype for t in tensor_list_list[0]]
        shapes = _shapes(tensor_list_list, shapes, enqueue_many)
        queue = _shuffle_queue(capacity, min_after_dequeue, seed, types, shapes, shared_name)
        enqs = [_enqueue_op(queue, tl, enqueue_many, keep_input) for tl in tensor_list_list]
        add_queue_runner(QueueRunner(queue, enqs))
        dequeued = _dequeue(queue, batch_size, allow_smaller_final_batch, scope or None)
        return _as_original_type(tensors_list[0], dequeued)


def batch(
    tensors,
    batch_size,
    num_threads=1,
    capacity=32,
    enqueue_many=False,
    shapes=None,
    dynamic_pad=False,
    allow_smaller_final_batch=False,
    shared_name=None,
    name=None,
):
    """Batches ``tensors`` through a FIFO queue filled by ``num_threads`` threads."""
    return _batch(
        tensors,
        batch_size,
        True,
        num_threads,
        capacity,
        enqueue_many,
        shapes,
        dynamic_pad,
        allow_smaller_final_batch,
        shared_name,
        name,
    )


def maybe_batch(
    tensors,
    keep_input,
    batch_size,
    num_threads=1,
    capacity=32,
    enqueue_many=False,
    shapes=None,
    dynamic_pad=False,
    allow_smaller_final_batch=False,
    shared_name=None,
    name=None,
):
    """`batch`, enqueueing only the elements whose ``keep_input`` is true."""
    return _batch(
        tensors,
        batch_size,
        keep_input,
        num_threads,
        capacity,
        enqueue_many,
        shapes,
        dynamic_pad,
        allow_smaller_final_batch,
        shared_name,
        name,
    )


def batch_join(
    tensors_list,
    batch_size,
    capacity=32,
    enqueue_many=False,
    shapes=None,
    dynamic_pad=False,
    allow_smaller_final_batch=False,
    shared_name=None,
    name=None,
):
    """Batches from several lists of tensors, one enqueueing thread per list."""
    return _batch_join(
        tensors_list,
        batch_size,
        True,
        capacity,
        enqueue_many,
        shapes,
        dynamic_pad,
        allow_smaller_final_batch,
        shared_name,
        name,
    )


def maybe_batch_join(
    tensors_list,
    keep_input,
    batch_size,
    capacity=32,
    enqueue_many=False,
    shapes=None,
    dynamic_pad=False,
    allow_smaller_final_batch=False,
    shared_name=None,
    name=None,
):
    """`batch_join`, enqueueing only the elements whose ``keep_input`` is true."""
    return _batch_join(
        tensors_list,
        batch_size,
        keep_input,
        capacity,
        enqueue_many,
        shapes,
        dynamic_pad,
        allow_smaller_final_batch,
        shared_name,
        name,
    )


def shuffle_batch(
    tensors,
    batch_size,
    capacity,
    min_after_dequeue,
    num_threads=1,
    seed=None,
    enqueue_many=False,
    shapes=None,
    allow_smaller_final_batch=False,
    shared_name=None,
    name=None,
):
    """Batches ``tensors`` in random order through a RandomShuffleQueue."""
    return _shuffle_batch(
        tensors,
        batch_size,
        capacity,
        min_after_dequeue,
        True,
        num_threads,
        seed,
        enqueue_many,
        shapes,
        allow_smaller_final_batch,
        shared_name,
        name,
    )


def maybe_shuffle_batch(
    tensors,
    batch_size,
    capacity,
    min_after_dequeue,
    keep_input,
    num_threads=1,
    seed=None,
    enqueue_many=False,
    shapes=None,
    allow_smaller_final_batch=False,
    shared_name=None,
    name=None,
):
    """`shuffle_batch`, enqueueing only the elements whose ``keep_input`` is true."""
    return _shuffle_batch(
        tensors,
        batch_size,
        capacity,
        min_after_dequeue,
        keep_input,
        num_threads,
        seed,
        enqueue_many,
        shapes,
        allow_smaller_final_batch,
        shared_name,
        name,
    )


def shuffle_batch_join(
    tensors_list,
    batch_size,
    capacity,
    min_after_dequeue,
    seed=None,
    enqueue_many=False,
    shapes=None,
    allow_smaller_final_batch=False,
    shared_name=None,
    name=None,
):
    """`shuffle_batch` from several lists of tensors, one enqueueing thread per list."""
    return _shuffle_batch_join(
        tensors_list,
        batch_size,
        capacity,
        min_after_dequeue,
        True,
        seed,
        enqueue_many,
        shapes,
        allow_smaller_final_batch,
        shared_name,
        name,
    )


def maybe_shuffle_batch_join(
    tensors_list,
    batch_size,
    capacity,
    min_after_dequeue,
    keep_input,
    seed=None,
    enqueue_many=False,
    shapes=None,
    allow_smaller_final_batch=False,
    shared_name=None,
    name=None,
):
    """`shuffle_batch_join`, enqueueing only the elements whose ``keep_input`` is true."""
    return _shuffle_batch_join(
        tensors_list,
        batch_size,
        capacity,
        min_after_dequeue,
        keep_input,
        seed,
        enqueue_many,
        shapes,
        allow_smaller_final_batch,
        shared_name,
        name,
    )
