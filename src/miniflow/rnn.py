"""Recurrent networks: `tf.nn.rnn_cell` cells and `tf.nn.dynamic_rnn` / `static_rnn`.

Cells are layers, so they own their variables (TF1's names: ``rnn/basic_lstm_cell/kernel``)
and share them across time steps. The recurrence is unrolled over the static number of
time steps; ``sequence_length`` freezes each sequence's state after its end and zeroes
its outputs, as TF does.
"""

from __future__ import annotations

import collections

from miniflow.core.dispatch import current_frontend
from miniflow.layers import Layer
from miniflow.ops import array_ops, init_ops, math_ops, nn_ops, rnn_cell_ops
from miniflow.ops.variable_scope import variable_scope


class LSTMStateTuple(collections.namedtuple("LSTMStateTuple", ("c", "h"))):
    """The (cell state, hidden state) pair of an LSTM."""

    __slots__ = ()

    @property
    def dtype(self):
        return self.c.dtype


def _flatten(x):
    if isinstance(x, list | tuple):
        return [leaf for v in x for leaf in _flatten(v)]
    return [x]


def _pack(structure, it):
    if isinstance(structure, list | tuple):
        vals = [_pack(v, it) for v in structure]
        return type(structure)(*vals) if hasattr(structure, "_fields") else type(structure)(vals)
    return next(it)


class RNNCell(Layer):
    """Base cell: ``output, new_state = cell(inputs, state)``."""

    @property
    def state_size(self):
        raise NotImplementedError

    @property
    def output_size(self):
        raise NotImplementedError

    def zero_state(self, batch_size, dtype):
        """Zeros of ``state_size`` (a tuple structure for LSTMs) for ``batch_size`` rows."""

        def zeros(size):
            if isinstance(size, tuple):
                return (
                    type(size)(*[zeros(s) for s in size])
                    if hasattr(size, "_fields")
                    else tuple(zeros(s) for s in size)
                )
            return array_ops.zeros([batch_size, size], dtype=dtype)

        return zeros(self.state_size)

    def __call__(self, inputs, state, scope=None):
        if scope is not None and not current_frontend().eager and self._scope is None:
            self.name = scope if isinstance(scope, str) else scope.name
        return super().__call__(inputs, state)


def _linear_weights(cell, input_depth, out, bias_init=None):
    kernel = cell.add_weight(
        "kernel", [input_depth + cell._num_units, out], initializer=cell._initializer
    )
    bias = cell.add_weight("bias", [out], initializer=bias_init or init_ops.zeros_initializer())
    return kernel, bias


def _input_depth(shape):
    d = shape.as_list()[-1]
    if d is None:
        raise ValueError(f"Expected inputs.shape[-1] to be known, saw shape: {shape}")
    return d


class BasicRNNCell(RNNCell):
    """h' = activation(W [x, h] + b); the output is h'."""

    _default_name = "basic_rnn_cell"

    def __init__(self, num_units, activation=None, reuse=None, name=None, dtype=None, **kwargs):
        super().__init__(name=name, dtype=dtype, _reuse=reuse, **kwargs)
        self._num_units = num_units
        self._activation = activation or math_ops.tanh
        self._initializer = None

    state_size = property(lambda self: self._num_units)
    output_size = property(lambda self: self._num_units)

    def build(self, inputs_shape):
        self.kernel, self.bias = _linear_weights(self, _input_depth(inputs_shape), self._num_units)

    def call(self, inputs, state):
        x = array_ops.concat([inputs, state], 1)
        h = self._activation(nn_ops.bias_add(math_ops.matmul(x, self.kernel), self.bias))
        return h, h


class BasicLSTMCell(RNNCell):
    """LSTM with gates i, j, f, o from one matmul: c' = c s(f + forget_bias) + s(i) tanh(j),
    h' = tanh(c') s(o)."""

    _default_name = "basic_lstm_cell"

    def __init__(
        self,
        num_units,
        forget_bias=1.0,
        state_is_tuple=True,
        activation=None,
        reuse=None,
        name=None,
        dtype=None,
        **kwargs,
    ):
        super().__init__(name=name, dtype=dtype, _reuse=reuse, **kwargs)
        self._num_units = num_units
        self._forget_bias = forget_bias
        self._state_is_tuple = state_is_tuple
        self._activation = activation or math_ops.tanh
        self._initializer = None

    @property
    def state_size(self):
        n = self._num_units
        return LSTMStateTuple(n, n) if self._state_is_tuple else 2 * n

    output_size = property(lambda self: self._num_units)

    def build(self, inputs_shape):
        self.kernel, self.bias = _linear_weights(
            self, _input_depth(inputs_shape), 4 * self._num_units
        )

    def _split_state(self, state):
        if self._state_is_tuple:
            return state
        return array_ops.split(state, 2, axis=1)

    def _join_state(self, c, h):
        return LSTMStateTuple(c, h) if self._state_is_tuple else array_ops.concat([c, h], 1)

    def call(self, inputs, state):
        c, h = self._split_state(state)
        if self._activation is math_ops.tanh:  # one fused op, as TF's LSTMBlockCell
            _, new_c, _, _, _, _, new_h = rnn_cell_ops.lstm_block_cell(
                inputs, c, h, self.kernel, self.bias, forget_bias=self._forget_bias
            )
            return new_h, self._join_state(new_c, new_h)
        gates = nn_ops.bias_add(
            math_ops.matmul(array_ops.concat([inputs, h], 1), self.kernel), self.bias
        )
        i, j, f, o = array_ops.split(gates, 4, axis=1)
        new_c = c * math_ops.sigmoid(f + self._forget_bias) + math_ops.sigmoid(
            i
        ) * self._activation(j)
        new_h = self._activation(new_c) * math_ops.sigmoid(o)
        return new_h, self._join_state(new_c, new_h)


class LSTMCell(BasicLSTMCell):
    """`BasicLSTMCell` plus optional peepholes, cell clipping and an output projection."""

    _default_name = "lstm_cell"

    def __init__(
        self,
        num_units,
        use_peepholes=False,
        cell_clip=None,
        initializer=None,
        num_proj=None,
        proj_clip=None,
        forget_bias=1.0,
        state_is_tuple=True,
        activation=None,
        reuse=None,
        name=None,
        dtype=None,
        **kwargs,
    ):
        super().__init__(
            num_units, forget_bias, state_is_tuple, activation, reuse, name, dtype, **kwargs
        )
        self._use_peepholes, self._cell_clip = use_peepholes, cell_clip
        self._num_proj, self._proj_clip = num_proj, proj_clip
        self._initializer = initializer

    @property
    def state_size(self):
        h = self._num_proj or self._num_units
        return LSTMStateTuple(self._num_units, h) if self._state_is_tuple else self._num_units + h

    output_size = property(lambda self: self._num_proj or self._num_units)

    def build(self, inputs_shape):
        h = self._num_proj or self._num_units
        self.kernel = self.add_weight(
            "kernel",
            [_input_depth(inputs_shape) + h, 4 * self._num_units],
            initializer=self._initializer,
        )
        self.bias = self.add_weight(
            "bias", [4 * self._num_units], initializer=init_ops.zeros_initializer()
        )
        if self._use_peepholes:
            self.w_f_diag, self.w_i_diag, self.w_o_diag = (
                self.add_weight(n, [self._num_units], initializer=self._initializer)
                for n in ("w_f_diag", "w_i_diag", "w_o_diag")
            )
        if self._num_proj:
            self.projection = self.add_weight(
                "projection/kernel",
                [self._num_units, self._num_proj],
                initializer=self._initializer,
            )

    def _split_state(self, state):
        if self._state_is_tuple:
            return state
        return state[:, : self._num_units], state[:, self._num_units :]

    def call(self, inputs, state):
        if not (self._use_peepholes or self._num_proj or self._cell_clip is not None):
            return super().call(inputs, state)
        c, h = self._split_state(state)
        gates = nn_ops.bias_add(
            math_ops.matmul(array_ops.concat([inputs, h], 1), self.kernel), self.bias
        )
        i, j, f, o = array_ops.split(gates, 4, axis=1)
        if self._use_peepholes:
            i, f = i + self.w_i_diag * c, f + self.w_f_diag * c
        new_c = c * math_ops.sigmoid(f + self._forget_bias) + math_ops.sigmoid(
            i
        ) * self._activation(j)
        if self._cell_clip is not None:
            new_c = array_ops.clip_by_value(new_c, -self._cell_clip, self._cell_clip)
        if self._use_peepholes:
            o = o + self.w_o_diag * new_c
        new_h = self._activation(new_c) * math_ops.sigmoid(o)
        if self._num_proj:
            new_h = math_ops.matmul(new_h, self.projection)
            if self._proj_clip is not None:
                new_h = array_ops.clip_by_value(new_h, -self._proj_clip, self._proj_clip)
        return new_h, self._join_state(new_c, new_h)


class GRUCell(RNNCell):
    """r, u = s(W_g [x, h] + b_g); c = act(W_c [x, r h] + b_c); h' = u h + (1 - u) c."""

    _default_name = "gru_cell"

    def __init__(
        self,
        num_units,
        activation=None,
        reuse=None,
        kernel_initializer=None,
        bias_initializer=None,
        name=None,
        dtype=None,
        **kwargs,
    ):
        super().__init__(name=name, dtype=dtype, _reuse=reuse, **kwargs)
        self._num_units = num_units
        self._activation = activation or math_ops.tanh
        self._initializer = kernel_initializer
        self._bias_initializer = bias_initializer

    state_size = property(lambda self: self._num_units)
    output_size = property(lambda self: self._num_units)

    def build(self, inputs_shape):
        d, n = _input_depth(inputs_shape), self._num_units
        self.gate_kernel = self.add_weight(
            "gates/kernel", [d + n, 2 * n], initializer=self._initializer
        )
        self.gate_bias = self.add_weight(
            "gates/bias",
            [2 * n],
            initializer=(self._bias_initializer or init_ops.constant_initializer(1.0)),
        )
        self.candidate_kernel = self.add_weight(
            "candidate/kernel", [d + n, n], initializer=self._initializer
        )
        self.candidate_bias = self.add_weight(
            "candidate/bias",
            [n],
            initializer=(self._bias_initializer or init_ops.zeros_initializer()),
        )

    def call(self, inputs, state):
        gates = math_ops.sigmoid(
            nn_ops.bias_add(
                math_ops.matmul(array_ops.concat([inputs, state], 1), self.gate_kernel),
                self.gate_bias,
            )
        )
        r, u = array_ops.split(gates, 2, axis=1)
        c = self._activation(
            nn_ops.bias_add(
                math_ops.matmul(array_ops.concat([inputs, r * state], 1), self.candidate_kernel),
                self.candidate_bias,
            )
        )
        new_h = u * state + (1.0 - u) * c
        return new_h, new_h


class MultiRNNCell(RNNCell):
    """Cells stacked in layers: each cell's output is the next one's input."""

    _default_name = "multi_rnn_cell"

    def __init__(self, cells, state_is_tuple=True):
        super().__init__()
        if not cells:
            raise ValueError("Must specify at least one cell for MultiRNNCell.")
        self._cells = list(cells)
        self._state_is_tuple = state_is_tuple

    state_size = property(lambda self: tuple(c.state_size for c in self._cells))
    output_size = property(lambda self: self._cells[-1].output_size)

    def call(self, inputs, state):
        new_states, out = [], inputs
        for i, cell in enumerate(self._cells):
            if current_frontend().eager:
                out, s = cell(out, state[i])
            else:
                with variable_scope(f"cell_{i}"):
                    out, s = cell(out, state[i])
            new_states.append(s)
        return out, tuple(new_states)

    @property
    def trainable_weights(self):
        return [w for c in self._cells for w in c.trainable_weights]

    trainable_variables = trainable_weights


class DropoutWrapper(RNNCell):
    """Applies dropout to a cell's inputs, outputs and/or state (keep probabilities)."""

    def __init__(
        self,
        cell,
        input_keep_prob=1.0,
        output_keep_prob=1.0,
        state_keep_prob=1.0,
        seed=None,
        **kwargs,
    ):
        super().__init__()
        for p in (input_keep_prob, output_keep_prob, state_keep_prob):
            if isinstance(p, float | int) and not 0 < p <= 1:
                raise ValueError(f"Parameter keep_prob must be between 0 and 1: {p}")
        self._cell = cell
        self._keep = (input_keep_prob, output_keep_prob, state_keep_prob)
        self._seed = seed

    state_size = property(lambda self: self._cell.state_size)
    output_size = property(lambda self: self._cell.output_size)

    def zero_state(self, batch_size, dtype):
        return self._cell.zero_state(batch_size, dtype)

    def _drop(self, x, keep):
        if isinstance(keep, float | int) and keep == 1:
            return x
        return nn_ops.dropout(x, keep_prob=keep, seed=self._seed)

    def __call__(self, inputs, state, scope=None):
        inputs = self._drop(inputs, self._keep[0])
        out, new_state = self._cell(inputs, state, scope)
        out = self._drop(out, self._keep[1])
        if not (isinstance(self._keep[2], float | int) and self._keep[2] == 1):
            new_state = _pack(
                new_state, iter([self._drop(s, self._keep[2]) for s in _flatten(new_state)])
            )
        return out, new_state

    @property
    def trainable_weights(self):
        return self._cell.trainable_weights


# -- unrolling ------------------------------------------------------------------------------


def _batch_size(x):
    d = x.shape.as_list()[0]
    return d if d is not None else array_ops.shape(x)[0]


def _run_steps(cell, steps, initial_state, dtype, sequence_length):
    if initial_state is None:
        if dtype is None:
            raise ValueError("If there is no initial_state, you must give a dtype.")
        initial_state = cell.zero_state(_batch_size(steps[0]), dtype)
    state, outputs = initial_state, []
    seq = (
        None
        if sequence_length is None
        else math_ops.cast(array_ops.convert_to_tensor(sequence_length), "int32")
    )
    for t, x in enumerate(steps):
        out, new_state = cell(x, state)
        if seq is not None:
            alive = math_ops.greater(seq, t)
            out = math_ops.where(alive, out, array_ops.zeros_like(out))
            new_state = _pack(
                new_state,
                iter(
                    [
                        math_ops.where(alive, n, o)
                        for n, o in zip(_flatten(new_state), _flatten(state))
                    ]
                ),
            )
        outputs.append(out)
        state = new_state
    return outputs, state


def static_rnn(cell, inputs, initial_state=None, dtype=None, sequence_length=None, scope=None):
    """Runs ``cell`` over the list ``inputs`` (one [batch, depth] tensor per step).

    Returns:
        (list of outputs, final state).
    """
    if not isinstance(inputs, list | tuple) or not inputs:
        raise TypeError("inputs must be a non-empty list")
    inputs = [array_ops.convert_to_tensor(x) for x in inputs]
    if current_frontend().eager:
        return _run_steps(cell, inputs, initial_state, dtype, sequence_length)
    with variable_scope(scope or "rnn"):
        return _run_steps(cell, inputs, initial_state, dtype, sequence_length)


def dynamic_rnn(
    cell,
    inputs,
    sequence_length=None,
    initial_state=None,
    dtype=None,
    parallel_iterations=None,
    swap_memory=False,
    time_major=False,
    scope=None,
):
    """Runs ``cell`` over ``inputs`` [batch, time, depth] ([time, batch, depth] if
    ``time_major``), unrolled over the static number of time steps.

    Returns:
        (outputs with the layout of ``inputs``, final state).

    Raises:
        ValueError: the number of time steps is not known when the graph is built.
    """
    inputs = array_ops.convert_to_tensor(inputs)
    dims = inputs.shape.as_list()
    steps_axis = 0 if time_major else 1
    if dims[steps_axis] is None:
        raise ValueError(
            "dynamic_rnn needs the number of time steps to be known when the "
            "graph is built (miniflow unrolls the recurrence)."
        )
    steps = array_ops.unstack(inputs, axis=steps_axis)
    outputs, state = static_rnn(cell, steps, initial_state, dtype, sequence_length, scope or "rnn")
    return array_ops.stack(outputs, axis=steps_axis), state
