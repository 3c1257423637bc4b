"""`tf.contrib.rnn`: the cells of `tf.nn.rnn_cell` plus bidirectional and stacked
bidirectional RNNs (TF1's variable names: ``bidirectional_rnn/fw/basic_lstm_cell/kernel``,
``stack_bidirectional_rnn/cell_0/bidirectional_rnn/bw/...``)."""

from __future__ import annotations

from miniflow.ops import array_ops, init_ops, math_ops, nn_ops
from miniflow.ops.variable_scope import variable_scope
from miniflow.rnn import (
    BasicLSTMCell as BasicLSTMCell,  # noqa: F401
    BasicRNNCell as BasicRNNCell,
    DropoutWrapper as DropoutWrapper,
    GRUCell as GRUCell,
    LSTMCell as LSTMCell,
    LSTMStateTuple as LSTMStateTuple,
    MultiRNNCell as MultiRNNCell,
    RNNCell as RNNCell,
    static_rnn as static_rnn,
)


class LayerNormBasicLSTMCell(RNNCell):
    """`BasicLSTMCell` with layer normalization of the four gates and the new cell state
    (TF's variables: ``kernel`` and ``input|transform|forget|output|state/{gamma,beta}``;
    no bias when normalizing) and optional recurrent dropout on the candidate."""

    _default_name = "layer_norm_basic_lstm_cell"
    _parts = ("input", "transform", "forget", "output", "state")

    def __init__(
        self,
        num_units,
        forget_bias=1.0,
        input_size=None,
        activation=None,
        layer_norm=True,
        norm_gain=1.0,
        norm_shift=0.0,
        dropout_keep_prob=1.0,
        dropout_prob_seed=None,
        reuse=None,
    ):
        super().__init__(_reuse=reuse)
        self._num_units, self._forget_bias = num_units, forget_bias
        self._activation = activation or math_ops.tanh
        self._layer_norm, self._gain, self._shift = layer_norm, norm_gain, norm_shift
        self._keep_prob, self._seed = dropout_keep_prob, dropout_prob_seed

    @property
    def state_size(self):
        return LSTMStateTuple(self._num_units, self._num_units)

    output_size = property(lambda self: self._num_units)

    def build(self, inputs_shape):
        n = self._num_units
        depth = inputs_shape.as_list()[-1]
        self.kernel = self.add_weight("kernel", [depth + n, 4 * n])
        self.bias = (
            None
            if self._layer_norm
            else self.add_weight("bias", [4 * n], initializer=init_ops.zeros_initializer())
        )
        self.norms = (
            {
                p: (
                    self.add_weight(
                        f"{p}/gamma", [n], initializer=init_ops.constant_initializer(self._gain)
                    ),
                    self.add_weight(
                        f"{p}/beta", [n], initializer=init_ops.constant_initializer(self._shift)
                    ),
                )
                for p in self._parts
            }
            if self._layer_norm
            else {}
        )

    def _norm(self, x, part):
        if not self._layer_norm:
            return x
        gamma, beta = self.norms[part]
        mean, var = nn_ops.moments(x, [1], keep_dims=True)
        return nn_ops.batch_normalization(x, mean, var, beta, gamma, 1e-12)

    def call(self, inputs, state):
        c, h = state
        out = math_ops.matmul(array_ops.concat([inputs, h], 1), self.kernel)
        if self.bias is not None:
            out = nn_ops.bias_add(out, self.bias)
        i, j, f, o = [
            self._norm(g, p) for g, p in zip(array_ops.split(out, 4, axis=1), self._parts)
        ]
        g = self._activation(j)
        if not isinstance(self._keep_prob, float) or self._keep_prob < 1:
            g = nn_ops.dropout(g, keep_prob=self._keep_prob, seed=self._seed)
        new_c = self._norm(
            c * math_ops.sigmoid(f + self._forget_bias) + math_ops.sigmoid(i) * g, "state"
        )
        new_h = self._activation(new_c) * math_ops.sigmoid(o)
        return new_h, LSTMStateTuple(new_c, new_h)


def _reverse_steps(steps, sequence_length):
    """The list of [batch, depth] steps in reverse order; with ``sequence_length``, each
    row reverses only its first ``length`` steps (TF's reverse_sequence)."""
    if sequence_length is None:
        return steps[::-1]
    n = len(steps)
    stacked = array_ops.stack(steps, 1)  # [batch, time, depth]
    length = math_ops.cast(array_ops.convert_to_tensor(sequence_length), "int32")
    t = array_ops.expand_dims(array_ops.range(n), 0)  # [1, time]
    length = array_ops.expand_dims(length, 1)  # [batch, 1]
    src = math_ops.where(t < length, length - 1 - t, t + 0 * length)  # [batch, time]
    batch = array_ops.shape(stacked)[0]
    rows = array_ops.reshape(array_ops.range(batch) * n, [-1, 1])
    flat = array_ops.reshape(stacked, array_ops.concat([[-1], array_ops.shape(stacked)[2:]], 0))
    picked = array_ops.gather(flat, array_ops.reshape(rows + src, [-1]))
    picked = array_ops.reshape(picked, array_ops.shape(stacked))
    picked.set_shape(stacked.shape)
    return array_ops.unstack(picked, num=n, axis=1)


def static_bidirectional_rnn(
    cell_fw,
    cell_bw,
    inputs,
    initial_state_fw=None,
    initial_state_bw=None,
    dtype=None,
    sequence_length=None,
    scope=None,
):
    """Runs ``cell_fw`` over ``inputs`` and ``cell_bw`` over them reversed.

    Returns:
        (outputs: per step ``concat([fw, bw], 1)``, final fw state, final bw state).
    """
    if not isinstance(inputs, list | tuple) or not inputs:
        raise TypeError("inputs must be a list")
    with variable_scope(scope or "bidirectional_rnn"):
        with variable_scope("fw") as fw_scope:
            out_fw, state_fw = static_rnn(
                cell_fw, inputs, initial_state_fw, dtype, sequence_length, scope=fw_scope
            )
        with variable_scope("bw") as bw_scope:
            reversed_out, state_bw = static_rnn(
                cell_bw,
                _reverse_steps(list(inputs), sequence_length),
                initial_state_bw,
                dtype,
                sequence_length,
                scope=bw_scope,
            )
            out_bw = _reverse_steps(reversed_out, sequence_length)
    outputs = [array_ops.concat([f, b], 1) for f, b in zip(out_fw, out_bw)]
    return outputs, state_fw, state_bw


def bidirectional_dynamic_rnn(
    cell_fw,
    cell_bw,
    inputs,
    sequence_length=None,
    initial_state_fw=None,
    initial_state_bw=None,
    dtype=None,
    parallel_iterations=None,
    swap_memory=False,
    time_major=False,
    scope=None,
):
    """`static_bidirectional_rnn` over a [batch, time, depth] tensor (unrolled).

    Returns:
        ((outputs_fw, outputs_bw), (state_fw, state_bw)), outputs laid out as ``inputs``.
    """
    inputs = array_ops.convert_to_tensor(inputs)
    axis = 0 if time_major else 1
    if inputs.shape.as_list()[axis] is None:
        raise ValueError(
            "bidirectional_dynamic_rnn needs the number of time steps to be "
            "known when the graph is built (miniflow unrolls the recurrence)."
        )
    steps = array_ops.unstack(inputs, axis=axis)
    with variable_scope(scope or "bidirectional_rnn"):
        with variable_scope("fw") as fw_scope:
            out_fw, state_fw = static_rnn(
                cell_fw, steps, initial_state_fw, dtype, sequence_length, scope=fw_scope
            )
        with variable_scope("bw") as bw_scope:
            rev, state_bw = static_rnn(
                cell_bw,
                _reverse_steps(steps, sequence_length),
                initial_state_bw,
                dtype,
                sequence_length,
                scope=bw_scope,
            )
            out_bw = _reverse_steps(rev, sequence_length)
    return ((array_ops.stack(out_fw, axis), array_ops.stack(out_bw, axis)), (state_fw, state_bw))


def stack_bidirectional_dynamic_rnn(
    cells_fw,
    cells_bw,
    inputs,
    initial_states_fw=None,
    initial_states_bw=None,
    dtype=None,
    sequence_length=None,
    parallel_iterations=None,
    time_major=False,
    scope=None,
    swap_memory=False,
):
    """Layers of bidirectional RNNs, each fed the concatenated outputs of the previous.

    Returns:
        (outputs [.., 2 * depth], tuple of final fw states, tuple of final bw states).
    """
    _check_cells(cells_fw, cells_bw)
    states_fw, states_bw, prev = [], [], inputs
    with variable_scope(scope or "stack_bidirectional_rnn"):
        for i, (fw, bw) in enumerate(zip(cells_fw, cells_bw)):
            with variable_scope(f"cell_{i}"):
                (out_fw, out_bw), (s_fw, s_bw) = bidirectional_dynamic_rnn(
                    fw,
                    bw,
                    prev,
                    sequence_length,
                    initial_states_fw[i] if initial_states_fw else None,
                    initial_states_bw[i] if initial_states_bw else None,
                    dtype,
                    time_major=time_major,
                )
            prev = array_ops.concat([out_fw, out_bw], 2)
            states_fw.append(s_fw)
            states_bw.append(s_bw)
    return prev, tuple(states_fw), tuple(states_bw)


def stack_bidirectional_rnn(
    cells_fw,
    cells_bw,
    inputs,
    initial_states_fw=None,
    initial_states_bw=None,
    dtype=None,
    sequence_length=None,
    scope=None,
):
    """`stack_bidirectional_dynamic_rnn` over a list of [batch, depth] steps."""
    _check_cells(cells_fw, cells_bw)
    states_fw, states_bw, prev = [], [], inputs
    with variable_scope(scope or "stack_bidirectional_rnn"):
        for i, (fw, bw) in enumerate(zip(cells_fw, cells_bw)):
            with variable_scope(f"cell_{i}"):
                prev, s_fw, s_bw = static_bidirectional_rnn(
                    fw,
                    bw,
                    prev,
                    initial_states_fw[i] if initial_states_fw else None,
                    initial_states_bw[i] if initial_states_bw else None,
                    dtype,
                    sequence_length,
                )
            states_fw.append(s_fw)
            states_bw.append(s_bw)
    return prev, tuple(states_fw), tuple(states_bw)


def _check_cells(cells_fw, cells_bw):
    if not cells_fw:
        raise ValueError("Must specify at least one fw cell for BidirectionalRNN.")
    if not cells_bw:
        raise ValueError("Must specify at least one bw cell for BidirectionalRNN.")
    if len(cells_fw) != len(cells_bw):
        raise ValueError("Forward and Backward cells must have the same depth.")
