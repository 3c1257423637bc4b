"""`tf.nn.rnn_cell.ResidualWrapper`: a cell whose output is its input plus the wrapped
cell's output (the state passes through unchanged)."""

from __future__ import annotations

from miniflow.core import nest
from miniflow.rnn import RNNCell


class ResidualWrapper(RNNCell):
    """ResidualWrapper(cell, residual_fn=None): output = residual_fn(inputs, cell output),
    by default their element-wise sum (the two must have the same structure and shapes)."""

    def __init__(self, cell, residual_fn=None, **kwargs):
        super().__init__(**kwargs)
        self._cell = cell
        self._residual_fn = residual_fn

    state_size = property(lambda self: self._cell.state_size)
    output_size = property(lambda self: self._cell.output_size)

    def zero_state(self, batch_size, dtype):
        return self._cell.zero_state(batch_size, dtype)

    def __call__(self, inputs, state, scope=None):
        outputs, new_state = self._cell(inputs, state, scope)
        if self._residual_fn is not None:
            return self._residual_fn(inputs, outputs), new_state
        ins, outs = nest.flatten(inputs), nest.flatten(outputs)
        if len(ins) != len(outs):
            raise ValueError(
                f"The inputs and the cell outputs of a ResidualWrapper must have "
                f"the same structure, got {len(ins)} and {len(outs)} tensors"
            )
        for i, o in zip(ins, outs):
            i.shape.assert_is_compatible_with(o.shape)
        return nest.pack(outputs, iter([i + o for i, o in zip(ins, outs)])), new_state

    @property
    def trainable_weights(self):
        return self._cell.trainable_weights
