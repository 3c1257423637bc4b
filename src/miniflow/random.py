"""`tf.random`: random tensors, as TF 1.15 exposes them."""

from miniflow.ops.random_ops import random_normal as normal  # noqa: F401
from miniflow.ops.random_ops import random_shuffle as shuffle
from miniflow.ops.random_ops import random_uniform as uniform
from miniflow.ops.random_ops import set_random_seed as set_random_seed
from miniflow.ops.random_ops import set_random_seed as set_seed
from miniflow.ops.random_ops import truncated_normal as truncated_normal

# -- issue 13: sampling from distributions given by tensors
from miniflow.ops.sampling_ops import categorical as categorical  # noqa: E402
from miniflow.ops.sampling_ops import multinomial as multinomial  # noqa: E402
from miniflow.ops.sampling_ops import random_poisson as poisson  # noqa: E402
from miniflow.ops.random_ops import get_seed as get_seed  # noqa: E402

# -- issue 13: sparse, random, dtypes
from miniflow import random_experimental as experimental  # noqa: E402
from miniflow.ops.candidate_sampling_ops import (  # noqa: E402
    all_candidate_sampler as all_candidate_sampler,
    fixed_unigram_candidate_sampler as fixed_unigram_candidate_sampler,
    learned_unigram_candidate_sampler as learned_unigram_candidate_sampler,
    log_uniform_candidate_sampler as log_uniform_candidate_sampler,
    uniform_candidate_sampler as uniform_candidate_sampler,
)
from miniflow.ops.random_distribution_ops import random_gamma as gamma  # noqa: E402
from miniflow.ops.random_distribution_ops import (  # noqa: E402
    stateless_parameterized_truncated_normal as stateless_parameterized_truncated_normal,
    stateless_random_binomial as stateless_binomial,
    stateless_random_gamma as stateless_gamma,
    stateless_random_poisson as stateless_poisson,
)
from miniflow.ops.random_generator_ops import Algorithm as Algorithm  # noqa: E402
from miniflow.ops.random_generator_ops import Generator as Generator  # noqa: E402
from miniflow.ops.random_generator_ops import (  # noqa: E402
    create_rng_state as create_rng_state,
    get_global_generator as get_global_generator,
    set_global_generator as set_global_generator,
)
from miniflow.ops.stateless_random_ops import fold_in as fold_in  # noqa: E402
from miniflow.ops.stateless_random_ops import split as split  # noqa: E402
from miniflow.ops.stateless_random_ops import (  # noqa: E402
    stateless_categorical as stateless_categorical,
    stateless_multinomial as stateless_multinomial,
    stateless_random_normal as stateless_normal,
    stateless_random_uniform as stateless_uniform,
    stateless_truncated_normal as stateless_truncated_normal,
)
