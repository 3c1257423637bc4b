"""`tf.graph_util`: prune, freeze and import graphs as data (see `train.graph_def`)."""

from miniflow.train.graph_def import (  # noqa: F401
    convert_variables_to_constants as convert_variables_to_constants,
    extract_sub_graph as extract_sub_graph,
    import_graph_def as import_graph_def,
    must_run_on_cpu as must_run_on_cpu,
    remove_training_nodes as remove_training_nodes,
    tensor_shape_from_node_def_name as tensor_shape_from_node_def_name,
)
