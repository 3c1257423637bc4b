"""`tf.io` (the part miniflow provides): `tf.io.gfile`."""

from miniflow.io import gfile as gfile
