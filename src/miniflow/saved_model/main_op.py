"""`tf.saved_model.main_op`: the op a loader runs after restoring variables."""

from miniflow.graph.graph import get_default_graph
from miniflow.ops import control_flow_ops
from miniflow.ops.lookup_ops import tables_initializer
from miniflow.ops.variables import local_variables_initializer


def main_op():
    """Initializes local variables and tables. ``tf.saved_model.main_op.main_op()``"""
    return control_flow_ops.group(local_variables_initializer(), tables_initializer())


def main_op_with_restore(restore_op_name):
    """`main_op`, then the restore op. ``tf.saved_model.main_op_with_restore(restore_op_name)``

    Unlike TF (whose ``group`` rejects a string), the op may also be given by its name,
    as the argument's name promises (``saver.saver_def.restore_op_name``).
    """
    restore = restore_op_name
    if isinstance(restore, str):
        restore = get_default_graph().get_operation_by_name(restore)
    with control_flow_ops.control_dependencies([main_op()]):
        return control_flow_ops.group(restore)
