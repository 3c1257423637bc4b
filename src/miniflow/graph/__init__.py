"""Graph mode: `Graph`, `Operation`, `Tensor`, `Session` and `tf.gradients`."""
