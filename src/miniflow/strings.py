"""`tf.strings`: operations on string tensors (object arrays of bytes)."""

from miniflow.ops.string_ops import (
    as_string as as_string,
    join as join,
    length as length,
    lower as lower,
    reduce_join as reduce_join,
    regex_full_match as regex_full_match,
    regex_replace as regex_replace,
    string_format as format,  # noqa: A004
    strip as strip,
    substr as substr,
    to_hash_bucket as to_hash_bucket,
    to_hash_bucket_fast as to_hash_bucket_fast,
    to_hash_bucket_strong as to_hash_bucket_strong,
    to_number as to_number,
    unsorted_segment_join as unsorted_segment_join,
    upper as upper,
)
from miniflow.ops.string_split_ops import ngrams as ngrams
from miniflow.ops.unicode_ops import (
    unicode_encode as unicode_encode,
    unicode_script as unicode_script,
    unicode_transcode as unicode_transcode,
)
from miniflow.ragged.ragged_strings import (
    bytes_split as bytes_split,
    split as split,
    unicode_decode as unicode_decode,
    unicode_decode_with_offsets as unicode_decode_with_offsets,
    unicode_split as unicode_split,
    unicode_split_with_offsets as unicode_split_with_offsets,
)

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
