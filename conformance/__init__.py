"""The conformance suite: every registered miniflow op compared with TensorFlow's
``tf.compat.v1`` graph mode, case by case (``make conformance``; see README.md)."""
