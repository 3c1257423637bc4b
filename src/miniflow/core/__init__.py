"""The bottom layer: the op registry, dispatch to the active front end, the one reverse
sweep, and static shapes. It knows nothing about graphs, sessions or eager tensors."""
