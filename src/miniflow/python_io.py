"""`tf.python_io`: TFRecord files (TF1's spelling of `tf.io.TFRecordWriter` & co)."""

from miniflow.core.tfrecord import TFRecordCompressionType as TFRecordCompressionType
from miniflow.core.tfrecord import TFRecordOptions as TFRecordOptions
from miniflow.core.tfrecord import TFRecordWriter as TFRecordWriter
from miniflow.core.tfrecord import tf_record_iterator as tf_record_iterator

__all__ = ["TFRecordCompressionType", "TFRecordOptions", "TFRecordWriter", "tf_record_iterator"]
