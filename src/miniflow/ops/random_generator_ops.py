"""`tf.random.Generator`: a random stream whose state is a variable, so draws advance it
in graph and eager mode alike, plus the global generator and `create_rng_state`.

The state is TF's Philox layout, int64 [3]: a 128-bit counter (two words) and a key.
Each draw reads the state, advances the counter by 256 per output element (TF reserves
that many Philox calls per element) and draws with the stateless V2 kernels on the old
(key, counter), so a Generator's numbers are TF's for the same state.
"""

from __future__ import annotations

import enum

import numpy as np

from miniflow import dtypes
from miniflow.core.dispatch import apply_op
from miniflow.ops import array_ops, math_ops
from miniflow.ops.array_ops import _int_tensor
from miniflow.ops.control_flow_ops import name_scope
from miniflow.ops.random_distribution_ops import stateless_random_binomial
from miniflow.ops.variables import Variable

_STATE_SIZE = 3
_RESERVED = 256  # Philox calls TF reserves per output element


class Algorithm(enum.Enum):
    """The RNG algorithms of `tf.random.Generator` (miniflow implements Philox)."""

    PHILOX = 1
    THREEFRY = 2
    AUTO_SELECT = 3


def _alg(alg):
    if alg is None or alg in (
        "auto_select",
        Algorithm.AUTO_SELECT,
        3,
        "philox",
        Algorithm.PHILOX,
        1,
    ):
        return Algorithm.PHILOX
    raise ValueError(f"Unsupported RNG algorithm {alg!r}: miniflow implements Philox only")


def create_rng_state(seed, alg):
    """create_rng_state(seed, alg): the int64 [3] Philox state of an integer seed (cut into
    64-bit words, low first) or of a sequence of words (zero-padded on the left)."""
    _alg(alg)
    if isinstance(seed, int | np.integer):
        seed, words = int(seed), []
        for _ in range(_STATE_SIZE):
            words.append(seed & 0xFFFFFFFFFFFFFFFF)
            seed >>= 64
    else:
        words = [int(w) & 0xFFFFFFFFFFFFFFFF for w in np.asarray(seed).reshape(-1)]
        if len(words) > _STATE_SIZE:
            raise ValueError(f"seed has {len(words)} words; the Philox state holds {_STATE_SIZE}")
        words = [0] * (_STATE_SIZE - len(words)) + words
    return np.array(words, np.uint64).view(np.int64)


class Generator:
    """Generator(copy_from=None, state=None, alg=None): a stateful random stream."""

    def __init__(self, copy_from=None, state=None, alg=None):
        if copy_from is not None:
            state, alg = copy_from.state.read_value(), copy_from.algorithm
        self._alg = _alg(alg)
        value = array_ops.convert_to_tensor(
            np.asarray(state, np.int64) if not hasattr(state, "dtype") else state,
            dtype=dtypes.int64,
        )
        self._state = Variable(value, trainable=False, name="StateVar")

    @classmethod
    def from_state(cls, state, alg):
        return cls(state=state, alg=alg)

    @classmethod
    def from_seed(cls, seed, alg=None):
        return cls(state=create_rng_state(seed, alg), alg=alg)

    @classmethod
    def from_non_deterministic_state(cls, alg=None):
        return cls.from_seed(int(np.random.SeedSequence().entropy), alg)

    @classmethod
    def from_key_counter(cls, key, counter, alg):
        return cls(state=list(np.ravel(counter)) + list(np.ravel(key)), alg=alg)

    state = property(lambda self: self._state)
    algorithm = property(lambda self: self._alg.value)

    @property
    def key(self):
        return self._state[_STATE_SIZE - 1]

    def reset(self, state):
        return self._state.assign(array_ops.convert_to_tensor(state, dtype=dtypes.int64))

    def reset_from_seed(self, seed):
        return self.reset(create_rng_state(seed, self._alg))

    def reset_from_key_counter(self, key, counter):
        return self.reset(list(np.ravel(counter)) + list(np.ravel(key)))

    def skip(self, delta):
        """Advances the counter by ``delta`` Philox calls (times 256, as TF)."""
        return self._advance(math_ops.cast(delta, dtypes.int64) * _RESERVED)

    def _advance(self, delta):
        """The state before adding ``delta`` to the counter's low word."""
        step = array_ops.stack([delta, array_ops.zeros_like(delta), array_ops.zeros_like(delta)])
        return self._state.assign_add(step) - step

    def _draw(self, op_type, shape, dtype, *bounds):
        shape = _int_tensor(shape)
        n = math_ops.cast(math_ops.reduce_prod(shape), dtypes.int64)
        old = self._advance(n * _RESERVED)
        return apply_op(
            op_type,
            shape,
            old[2:],
            old[:2],
            array_ops.constant(self._alg.value),
            *bounds,
            dtype=dtype,
            v2=True,
        )

    def uniform(self, shape, minval=0, maxval=None, dtype=dtypes.float32, name=None):
        """Uniform values in [minval, maxval) (integer dtypes need ``maxval``)."""
        dtype = dtypes.as_dtype(dtype)
        with name_scope(name, "stateful_uniform") as scope:
            if dtype.is_integer:
                if maxval is None:
                    raise ValueError(f"Must specify maxval for integer dtype {dtype!r}")
                return self._draw(
                    "StatelessRandomUniformIntV2",
                    shape,
                    dtype,
                    array_ops.convert_to_tensor(minval, dtype=dtype),
                    array_ops.convert_to_tensor(maxval, dtype=dtype),
                )
            lo = array_ops.convert_to_tensor(minval, dtype=dtype)
            hi = array_ops.convert_to_tensor(1 if maxval is None else maxval, dtype=dtype)
            rnd = self._draw("StatelessRandomUniformV2", shape, dtype)
            return math_ops.add(rnd * (hi - lo), lo, name=scope)

    def uniform_full_int(self, shape, dtype=dtypes.uint64, name=None):
        """Integers over the whole range of ``dtype``."""
        with name_scope(name, "stateful_uniform_full_int"):
            return self._draw("StatelessRandomUniformFullIntV2", shape, dtypes.as_dtype(dtype))

    def normal(self, shape, mean=0.0, stddev=1.0, dtype=dtypes.float32, name=None):
        dtype = dtypes.as_dtype(dtype)
        with name_scope(name, "stateful_normal") as scope:
            rnd = self._draw("StatelessRandomNormalV2", shape, dtype)
            return math_ops.add(
                rnd * array_ops.convert_to_tensor(stddev, dtype=dtype),
                array_ops.convert_to_tensor(mean, dtype=dtype),
                name=scope,
            )

    def truncated_normal(self, shape, mean=0.0, stddev=1.0, dtype=dtypes.float32, name=None):
        dtype = dtypes.as_dtype(dtype)
        with name_scope(name, "truncated_normal") as scope:
            rnd = self._draw("StatelessTruncatedNormalV2", shape, dtype)
            return math_ops.add(
                rnd * array_ops.convert_to_tensor(stddev, dtype=dtype),
                array_ops.convert_to_tensor(mean, dtype=dtype),
                name=scope,
            )

    def binomial(self, shape, counts, probs, dtype=dtypes.int32, name=None):
        """Binomial samples (a seed pair is drawn from the stream, then stateless)."""
        with name_scope(name, "binomial"):
            seed = self.make_seeds(1)[:, 0]
            return stateless_random_binomial(shape, seed, counts, probs, output_dtype=dtype)

    def make_seeds(self, count=1):
        """int64 [2, count] seeds for the stateless ops."""
        keys = self.uniform_full_int([count], dtype=dtypes.int64)
        return array_ops.stack([keys, array_ops.zeros_like(keys)])

    def split(self, count=1):
        """``count`` new Generators whose keys are drawn from this one."""
        keys = self.uniform_full_int([count], dtype=dtypes.int64)
        return [
            Generator(
                state=array_ops.stack(
                    [array_ops.zeros_like(keys[i]), array_ops.zeros_like(keys[i]), keys[i]]
                ),
                alg=self._alg,
            )
            for i in range(count)
        ]


_GLOBAL = {"generator": None}


def get_global_generator():
    """The global Generator, created from a non-deterministic state on first use."""
    if _GLOBAL["generator"] is None:
        _GLOBAL["generator"] = Generator.from_non_deterministic_state()
    return _GLOBAL["generator"]


def set_global_generator(generator):
    """Replaces the global Generator (existing references keep the old one, as in TF)."""
    _GLOBAL["generator"] = generator
