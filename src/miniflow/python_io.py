"""`tf.python_io`: TFRecord files (TF1's spelling of `tf.io.TFRecordWriter` & co)."""

from miniflow.core.tfrecord import (
    TFRecordCompressionType as TFRecordCompressionType,
    TFRecordOptions as TFRecordOptions,
    TFRecordWriter as TFRecordWriter,
    tf_record_iterator as tf_record_iterator,
)

__all__ = ["TFRecordCompressionType", "TFRecordOptions", "TFRecordWriter", "tf_record_iterator"]
