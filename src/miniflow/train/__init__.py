"""`tf.train`: optimizers (in-place update ops beside each one) and training utilities."""

from miniflow.train.gradient_descent import GradientDescentOptimizer as GradientDescentOptimizer
from miniflow.train.optimizer import Optimizer as Optimizer

# Optimizer family, global step, learning-rate schedules, moving averages (issue 5).
from miniflow.train.adadelta import AdadeltaOptimizer as AdadeltaOptimizer  # noqa: E402
from miniflow.train.adagrad import AdagradOptimizer as AdagradOptimizer  # noqa: E402
from miniflow.train.adam import AdamOptimizer as AdamOptimizer  # noqa: E402
from miniflow.train.ftrl import FtrlOptimizer as FtrlOptimizer  # noqa: E402
from miniflow.train.learning_rate_decay import (  # noqa: E402
    cosine_decay as cosine_decay,
    exponential_decay as exponential_decay,
    inverse_time_decay as inverse_time_decay,
    natural_exp_decay as natural_exp_decay,
    piecewise_constant as piecewise_constant,
    polynomial_decay as polynomial_decay,
)
from miniflow.train.momentum import MomentumOptimizer as MomentumOptimizer  # noqa: E402
from miniflow.train.moving_averages import (  # noqa: E402
    ExponentialMovingAverage as ExponentialMovingAverage,
)
from miniflow.train.rmsprop import RMSPropOptimizer as RMSPropOptimizer  # noqa: E402
from miniflow.train.training_util import (  # noqa: E402
    create_global_step as create_global_step,
    get_global_step as get_global_step,
    get_or_create_global_step as get_or_create_global_step,
    global_step as global_step,
)

__all__ = ["GradientDescentOptimizer", "Optimizer",
           "AdadeltaOptimizer", "AdagradOptimizer", "AdamOptimizer",
           "ExponentialMovingAverage", "FtrlOptimizer",
           "MomentumOptimizer", "RMSPropOptimizer", "cosine_decay", "create_global_step",
           "exponential_decay", "get_global_step", "get_or_create_global_step",
           "global_step", "inverse_time_decay", "natural_exp_decay", "piecewise_constant",
           "polynomial_decay"]

# -- persistence: checkpoints and meta graphs ----------------------------------------------
from miniflow.train.checkpoint import CheckpointState as CheckpointState  # noqa: E402
from miniflow.train.checkpoint import checkpoint_exists as checkpoint_exists  # noqa: E402
from miniflow.train.checkpoint import get_checkpoint_mtimes as get_checkpoint_mtimes  # noqa: E402
from miniflow.train.checkpoint import get_checkpoint_state as get_checkpoint_state  # noqa: E402
from miniflow.train.checkpoint import latest_checkpoint as latest_checkpoint  # noqa: E402
from miniflow.train.checkpoint import list_variables as list_variables  # noqa: E402
from miniflow.train.checkpoint import load_variable as load_variable  # noqa: E402
from miniflow.train.checkpoint import (  # noqa: E402
    update_checkpoint_state as update_checkpoint_state,
)
from miniflow.train.meta_graph import MetaGraphDef as MetaGraphDef  # noqa: E402
from miniflow.train.meta_graph import export_meta_graph as export_meta_graph  # noqa: E402
from miniflow.train.meta_graph import import_meta_graph as import_meta_graph  # noqa: E402
from miniflow.train.saver import Saver as Saver  # noqa: E402
from miniflow.summary.reader import summary_iterator as summary_iterator  # noqa: E402

__all__ += ["CheckpointState", "MetaGraphDef", "Saver", "checkpoint_exists",
            "export_meta_graph", "get_checkpoint_mtimes", "get_checkpoint_state",
            "import_meta_graph", "latest_checkpoint", "list_variables", "load_variable",
            "summary_iterator", "update_checkpoint_state"]
