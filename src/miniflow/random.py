"""`tf.random`: random tensors, as TF 1.15 exposes them."""

# -- issue 13: sparse, random, dtypes
from miniflow import random_experimental as experimental
from miniflow.ops.candidate_sampling_ops import (
    all_candidate_sampler as all_candidate_sampler,
    fixed_unigram_candidate_sampler as fixed_unigram_candidate_sampler,
    learned_unigram_candidate_sampler as learned_unigram_candidate_sampler,
    log_uniform_candidate_sampler as log_uniform_candidate_sampler,
    uniform_candidate_sampler as uniform_candidate_sampler,
)
from miniflow.ops.random_distribution_ops import (
    random_gamma as gamma,
    stateless_parameterized_truncated_normal as stateless_parameterized_truncated_normal,
    stateless_random_binomial as stateless_binomial,
    stateless_random_gamma as stateless_gamma,
    stateless_random_poisson as stateless_poisson,
)
from miniflow.ops.random_generator_ops import (
    Algorithm as Algorithm,
    Generator as Generator,
    create_rng_state as create_rng_state,
    get_global_generator as get_global_generator,
    set_global_generator as set_global_generator,
)
from miniflow.ops.random_ops import (
    get_seed as get_seed,
    random_normal as normal,  # noqa: F401
    random_shuffle as shuffle,
    random_uniform as uniform,
    set_random_seed as set_random_seed,
    set_random_seed as set_seed,
    truncated_normal as truncated_normal,
)

# -- issue 13: sampling from distributions given by tensors
from miniflow.ops.sampling_ops import (
    categorical as categorical,
    multinomial as multinomial,
    random_poisson as poisson,
)
from miniflow.ops.stateless_random_ops import (
    fold_in as fold_in,
    split as split,
    stateless_categorical as stateless_categorical,
    stateless_multinomial as stateless_multinomial,
    stateless_random_normal as stateless_normal,
    stateless_random_uniform as stateless_uniform,
    stateless_truncated_normal as stateless_truncated_normal,
)

__all__ = [
    "Algorithm",
    "Generator",
    "all_candidate_sampler",
    "categorical",
    "create_rng_state",
    "experimental",
    "fixed_unigram_candidate_sampler",
    "fold_in",
    "gamma",
    "get_global_generator",
    "get_seed",
    "learned_unigram_candidate_sampler",
    "log_uniform_candidate_sampler",
    "multinomial",
    "normal",
    "poisson",
    "set_global_generator",
    "set_random_seed",
    "set_seed",
    "shuffle",
    "split",
    "stateless_binomial",
    "stateless_categorical",
    "stateless_gamma",
    "stateless_multinomial",
    "stateless_normal",
    "stateless_parameterized_truncated_normal",
    "stateless_poisson",
    "stateless_truncated_normal",
    "stateless_uniform",
    "truncated_normal",
    "uniform",
    "uniform_candidate_sampler",
]
