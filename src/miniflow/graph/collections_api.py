"""The TF1 functions on the default graph's collections (`tf.add_to_collection`,
`tf.get_collection`, ...) and `tf.gradient_override_map`."""

from __future__ import annotations

from miniflow.graph.graph import get_default_graph


def add_to_collection(name, value):
    """Adds ``value`` to the default graph's collection ``name``."""
    get_default_graph().add_to_collection(name, value)


def add_to_collections(names, value):
    """Adds ``value`` to each of the default graph's collections ``names``."""
    get_default_graph().add_to_collections(names, value)


def get_collection(key, scope=None):
    """The items of the default graph's collection ``key`` (filtered by ``scope``)."""
    return get_default_graph().get_collection(key, scope)


def get_collection_ref(key):
    """The default graph's list for collection ``key`` itself (changes show in the graph)."""
    return get_default_graph().get_collection_ref(key)


def gradient_override_map(op_type_map):
    """Context manager: ops created inside use other gradient functions
    (``{"Square": "MySquare"}``), in the default graph."""
    return get_default_graph().gradient_override_map(op_type_map)
