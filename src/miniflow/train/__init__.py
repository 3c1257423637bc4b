"""`tf.train`: optimizers (in-place update ops beside each one) and training utilities."""

from miniflow.train.gradient_descent import GradientDescentOptimizer as GradientDescentOptimizer
from miniflow.train.optimizer import Optimizer as Optimizer

__all__ = ["GradientDescentOptimizer", "Optimizer"]

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
