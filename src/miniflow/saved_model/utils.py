"""`tf.saved_model.utils`."""

from miniflow.graph.graph import get_default_graph
from miniflow.saved_model.impl import build_tensor_info as build_tensor_info


def get_tensor_from_tensor_info(tensor_info, graph=None, import_scope=None):
    """The tensor a signature entry names, in ``graph`` (default: the default graph),
    under ``import_scope`` if the graph was imported into one.
    ``tf.saved_model.utils.get_tensor_from_tensor_info(tensor_info, graph=None,
    import_scope=None)``

    Raises:
        KeyError / ValueError: as ``Graph.get_tensor_by_name`` for a missing tensor.
    """
    graph = graph or get_default_graph()
    name = tensor_info.name
    if import_scope:
        name = f"{import_scope.rstrip('/')}/{name}"
    return graph.get_tensor_by_name(name)
