"""miniflow: a TensorFlow-1.x-compatible library on NumPy. ``import miniflow as tf``."""
