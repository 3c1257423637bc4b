"""`tf.nn.raw_rnn`: an RNN driven by a user ``loop_fn`` that chooses each step's input,
when each sequence is finished and what is emitted — TF's implementation, a
`tf.while_loop` writing the emitted outputs into `TensorArray`s."""

from __future__ import annotations

from miniflow import dtypes
from miniflow.ops import array_ops, math_ops
from miniflow.ops.functional_ops import while_loop
from miniflow.ops.tensor_array_ops import TensorArray
from miniflow.ops.variable_scope import variable_scope
from miniflow.rnn_state_saving import _flat, _pack


def _copy_some_through(finished, current, candidate):
    """Rows of finished sequences keep ``current``; scalars and TensorArrays pass."""

    def pick(cur, cand):
        if isinstance(cur, TensorArray) or cur.shape.ndims == 0:
            return cand
        mask = array_ops.reshape(finished, [-1] + [1] * (cur.shape.ndims - 1))
        return array_ops.where_v2(mask, cur, cand)

    return _pack(
        current, [pick(c, d) for c, d in zip(_flat(current), _flat(candidate), strict=True)]
    )


def raw_rnn(cell, loop_fn, parallel_iterations=None, swap_memory=False, scope=None):
    """Runs ``cell`` while any sequence is unfinished. ``loop_fn(time, cell_output,
    cell_state, loop_state)`` returns ``(finished, next_input, next_cell_state,
    emit_output, next_loop_state)``; at time 0 it is called with ``None`` outputs and gives
    the initial state.

    Returns:
        (emit_ta: TensorArray(s) of the emitted outputs [time, batch, ...], final state,
        final loop state).
    """
    if not callable(loop_fn):
        raise TypeError("loop_fn must be a callable")
    with variable_scope(scope or "rnn"):
        time = array_ops.constant(0, dtype=dtypes.int32)
        finished, next_input, initial_state, emit_structure, init_loop_state = loop_fn(
            time, None, None, None
        )
        loop_state = (
            init_loop_state
            if init_loop_state is not None
            else array_ops.constant(0, dtype=dtypes.int32)
        )
        flat_input = [array_ops.convert_to_tensor(x) for x in _flat(next_input)]
        batch = flat_input[0].shape.as_list()[0]
        if batch is None:
            batch = array_ops.shape(flat_input[0])[0]
        state = _pack(initial_state, [array_ops.convert_to_tensor(s) for s in _flat(initial_state)])
        # Create the cell's variables before the loop: a loop body may only read them.
        first_output, _ = cell(next_input, state)
        if emit_structure is not None:
            flat_zero = [array_ops.zeros_like(e) for e in _flat(emit_structure)]
        else:
            emit_structure = first_output
            flat_zero = [array_ops.zeros_like(e) for e in _flat(first_output)]
        zero_emit = _pack(emit_structure, flat_zero)
        emit_ta = _pack(
            emit_structure,
            [
                TensorArray(
                    z.dtype,
                    size=0,
                    dynamic_size=True,
                    element_shape=z.shape,
                    name=f"rnn_output_{i}",
                )
                for i, z in enumerate(flat_zero)
            ],
        )

        def condition(unused_time, elements_finished, *_):
            return math_ops.logical_not(math_ops.reduce_all(elements_finished))

        def body(time, elements_finished, current_input, emit_ta, state, loop_state):
            output, cell_state = cell(current_input, state)
            next_time = time + 1
            next_finished, next_input, next_state, emit, next_loop_state = loop_fn(
                next_time, output, cell_state, loop_state
            )
            loop_state = loop_state if next_loop_state is None else next_loop_state
            emit = output if emit is None else emit
            emit = _copy_some_through(elements_finished, zero_emit, emit)
            next_state = _copy_some_through(elements_finished, state, next_state)
            emit_ta = _pack(
                emit_ta,
                [ta.write(time, e) for ta, e in zip(_flat(emit_ta), _flat(emit), strict=True)],
            )
            elements_finished = math_ops.logical_or(elements_finished, next_finished)
            return next_time, elements_finished, next_input, emit_ta, next_state, loop_state

        result = while_loop(
            condition, body, [time, finished, next_input, emit_ta, state, loop_state]
        )
        emit_ta, final_state, final_loop_state = result[-3:]
        return emit_ta, final_state, None if init_loop_state is None else final_loop_state
