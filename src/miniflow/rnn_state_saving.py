"""`tf.nn.static_state_saving_rnn`: `static_rnn` whose initial state comes from a state
saver and whose final state is saved back (``state_saver.state(name)`` /
``state_saver.save_state(name, value)``, as TF's `SequenceQueueingStateSaver` offers)."""

from __future__ import annotations

from miniflow.ops import array_ops
from miniflow.ops.control_flow_ops import control_dependencies
from miniflow.rnn import static_rnn


def _flat(x):
    if isinstance(x, list | tuple):
        return [leaf for v in x for leaf in _flat(v)]
    return [x]


def _pack(structure, flat):
    it = iter(flat)

    def build(s):
        if isinstance(s, list | tuple):
            vals = [build(v) for v in s]
            return type(s)(*vals) if hasattr(s, "_fields") else type(s)(vals)
        return next(it)

    return build(structure)


def static_state_saving_rnn(
    cell, inputs, state_saver, state_name, sequence_length=None, scope=None
):
    """`static_rnn` starting from ``state_saver.state(state_name)``; the returned outputs
    and state are computed after the final state has been saved.

    Raises:
        ValueError: ``state_name`` does not have the structure of ``cell.state_size``.
    """
    size = cell.state_size
    tuple_state = isinstance(size, list | tuple)
    if tuple_state != isinstance(state_name, list | tuple):
        raise ValueError(
            f"state_name should be the same type as cell.state_size. "
            f"state_name: {state_name!r}, cell.state_size: {size!r}"
        )
    if tuple_state:
        names = _flat(state_name)
        if len(names) != len(_flat(size)):
            raise ValueError(
                f"Number of elements in state_name ({len(names)}) and "
                f"cell.state_size ({len(_flat(size))}) do not match"
            )
        initial = _pack(size, [state_saver.state(n) for n in names])
    else:
        names = [state_name]
        initial = state_saver.state(state_name)
    outputs, state = static_rnn(
        cell, inputs, initial_state=initial, sequence_length=sequence_length, scope=scope
    )
    saves = [state_saver.save_state(n, s) for n, s in zip(names, _flat(state), strict=True)]
    with control_dependencies(saves):
        outputs = list(outputs)
        outputs[-1] = _pack(outputs[-1], [array_ops.identity(o) for o in _flat(outputs[-1])])
        state = _pack(state, [array_ops.identity(s) for s in _flat(state)])
    return outputs, state
