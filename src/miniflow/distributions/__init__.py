"""`tf.distributions` (deprecated in TF 1.13): the classes TF1 programs use most."""

from miniflow.distributions.continuous import (
    Exponential as Exponential,  # noqa: F401
    Laplace as Laplace,  # noqa: F401
    Normal as Normal,  # noqa: F401
    Uniform as Uniform,  # noqa: F401
)
from miniflow.distributions.discrete import (
    Bernoulli as Bernoulli,  # noqa: F401
    Categorical as Categorical,  # noqa: F401
)
from miniflow.distributions.distribution import (  # noqa: F401
    FULLY_REPARAMETERIZED as FULLY_REPARAMETERIZED,
    NOT_REPARAMETERIZED as NOT_REPARAMETERIZED,
    Distribution as Distribution,
    RegisterKL as RegisterKL,
    ReparameterizationType as ReparameterizationType,
    kl_divergence as kl_divergence,
)
from miniflow.distributions.gamma_family import (
    Beta as Beta,  # noqa: F401
    Gamma as Gamma,  # noqa: F401
    StudentT as StudentT,  # noqa: F401
)
from miniflow.distributions.multivariate import (  # noqa: F401
    Dirichlet as Dirichlet,  # noqa: F401
    DirichletMultinomial as DirichletMultinomial,
    Multinomial as Multinomial,
)
