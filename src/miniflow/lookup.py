"""`tf.lookup`: static key -> value tables, and mutable ones under ``experimental``."""

from types import SimpleNamespace as _Namespace

from miniflow.ops import mutable_lookup_ops as _mutable
from miniflow.ops.lookup_ops import (  # noqa: F401
    KeyValueTensorInitializer as KeyValueTensorInitializer,
    StaticHashTable as StaticHashTable,  # noqa: F401
    StaticVocabularyTable as StaticVocabularyTable,  # noqa: F401
    TextFileIndex as TextFileIndex,  # noqa: F401
    TextFileInitializer as TextFileInitializer,  # noqa: F401
)

# `tf.lookup.experimental` (lookup.py is a module, so its sub-namespace is an object).
experimental = _Namespace(
    MutableHashTable=_mutable.MutableHashTable, DenseHashTable=_mutable.DenseHashTable
)
