"""Op definitions: each op's NumPy kernel, shape rule, gradient and public function,
side by side, one module per op family. Importing this package registers them all."""
