"""`tf.strings`: operations on string tensors (object arrays of bytes)."""

from miniflow.ops.string_ops import as_string as as_string
from miniflow.ops.string_ops import join as join
from miniflow.ops.string_ops import length as length
from miniflow.ops.string_ops import lower as lower
from miniflow.ops.string_ops import reduce_join as reduce_join
from miniflow.ops.string_ops import regex_full_match as regex_full_match
from miniflow.ops.string_ops import regex_replace as regex_replace
from miniflow.ops.string_ops import string_format as format  # noqa: A004
from miniflow.ops.string_ops import strip as strip
from miniflow.ops.string_ops import substr as substr
from miniflow.ops.string_ops import to_hash_bucket as to_hash_bucket
from miniflow.ops.string_ops import to_hash_bucket_fast as to_hash_bucket_fast
from miniflow.ops.string_ops import to_hash_bucket_strong as to_hash_bucket_strong
from miniflow.ops.string_ops import to_number as to_number
from miniflow.ops.string_ops import unsorted_segment_join as unsorted_segment_join
from miniflow.ops.string_ops import upper as upper
from miniflow.ragged.ragged_strings import bytes_split as bytes_split
from miniflow.ops.string_split_ops import ngrams as ngrams
from miniflow.ragged.ragged_strings import split as split
from miniflow.ragged.ragged_strings import unicode_decode as unicode_decode
from miniflow.ragged.ragged_strings import (
    unicode_decode_with_offsets as unicode_decode_with_offsets,
)
from miniflow.ops.unicode_ops import unicode_encode as unicode_encode
from miniflow.ops.unicode_ops import unicode_script as unicode_script
from miniflow.ragged.ragged_strings import unicode_split as unicode_split
from miniflow.ragged.ragged_strings import unicode_split_with_offsets as unicode_split_with_offsets
from miniflow.ops.unicode_ops import unicode_transcode as unicode_transcode

__all__ = [
    "as_string",
    "bytes_split",
    "format",
    "join",
    "length",
    "lower",
    "ngrams",
    "reduce_join",
    "regex_full_match",
    "regex_replace",
    "split",
    "strip",
    "substr",
    "to_hash_bucket",
    "to_hash_bucket_fast",
    "to_hash_bucket_strong",
    "to_number",
    "unicode_decode",
    "unicode_decode_with_offsets",
    "unicode_encode",
    "unicode_script",
    "unicode_split",
    "unicode_split_with_offsets",
    "unicode_transcode",
    "unsorted_segment_join",
    "upper",
]
