"""`tf.io`: `tf.io.gfile`, decoders and parsers, `tf.train.Example` parsing, TFRecord
files (see docs/strings_and_io.md) and image codecs."""

# -- issue 13: decoders, parsers, Example parsing, TFRecord files --------------------------
from miniflow.core.tfrecord import (
    TFRecordCompressionType as TFRecordCompressionType,
    TFRecordOptions as TFRecordOptions,
    TFRecordWriter as TFRecordWriter,
    tf_record_iterator as tf_record_iterator,
)
from miniflow.io import gfile as gfile

# -- issue 13: queue input pipelines (TF's tf.io has these four, not FIFOQueue) ------------
from miniflow.ops.data_flow_ops import (
    PaddingFIFOQueue as PaddingFIFOQueue,
    PriorityQueue as PriorityQueue,
    QueueBase as QueueBase,
    RandomShuffleQueue as RandomShuffleQueue,
)
from miniflow.ops.example_parsing_ops import (
    FixedLenFeature as FixedLenFeature,
    FixedLenSequenceFeature as FixedLenSequenceFeature,
    SparseFeature as SparseFeature,
    VarLenFeature as VarLenFeature,
)
from miniflow.ops.image_codec_ops import (  # noqa: F401  issue 13: image codecs
    decode_and_crop_jpeg as decode_and_crop_jpeg,
    decode_bmp as decode_bmp,
    decode_gif as decode_gif,
    decode_image as decode_image,
    decode_jpeg as decode_jpeg,
    decode_png as decode_png,
    decode_webp as decode_webp,
    encode_jpeg as encode_jpeg,
    encode_png as encode_png,
    extract_jpeg_shape as extract_jpeg_shape,
    is_jpeg as is_jpeg,
)
from miniflow.ops.parsing_ops import (
    decode_base64 as decode_base64,
    decode_compressed as decode_compressed,
    decode_csv as decode_csv,
    decode_json_example as decode_json_example,
    decode_raw as decode_raw,
    encode_base64 as encode_base64,
    match_filenames_once as match_filenames_once,
    matching_files as matching_files,
    parse_tensor as parse_tensor,
    read_file as read_file,
    serialize_tensor as serialize_tensor,
    write_file as write_file,
)
from miniflow.ops.sequence_example_parsing_ops import (
    parse_sequence_example as parse_sequence_example,
    parse_single_sequence_example as parse_single_sequence_example,
)
from miniflow.ops.sparse_serialization_ops import (
    deserialize_many_sparse as deserialize_many_sparse,
    serialize_many_sparse as serialize_many_sparse,
    serialize_sparse as serialize_sparse,
)

# -- issue 13: ragged tensors ---------------------------------------------------------------
from miniflow.ragged.ragged_feature import RaggedFeature as RaggedFeature

# the same parsers, plus RaggedFeature specs (delegates when there is none)
from miniflow.ragged.ragged_parsing import (
    parse_example as parse_example,
    parse_single_example as parse_single_example,
)

# tf.io.write_graph is tf.train.write_graph
from miniflow.train.graph_def import write_graph as write_graph
