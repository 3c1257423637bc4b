"""`tf.data`: input pipelines in graph mode."""

# What Dataset's methods construct registers itself on import (data/registry.py).
from miniflow.data import (  # noqa: F401
    cardinality,
    experimental as experimental,
    grouping,
    sampling,
    saving,
    sources,
    sparse_datasets,
    stateful,
    structures,
    transformations,
)
from miniflow.data.dataset_ops import (
    Dataset as Dataset,
    make_initializable_iterator as make_initializable_iterator,
    make_one_shot_iterator as make_one_shot_iterator,
)
from miniflow.data.iterator_ops import Iterator as Iterator

# -- issue 13: tf.data ----------------------------------------------------------------------
from miniflow.data.options import (
    AUTOTUNE as AUTOTUNE,
    INFINITE_CARDINALITY as INFINITE_CARDINALITY,
    UNKNOWN_CARDINALITY as UNKNOWN_CARDINALITY,
    Options as Options,
    ThreadingOptions as ThreadingOptions,
)
from miniflow.data.readers import (
    FixedLengthRecordDataset as FixedLengthRecordDataset,
    TextLineDataset as TextLineDataset,
    TFRecordDataset as TFRecordDataset,
)
from miniflow.data.structure import TensorSpec as TensorSpec
from miniflow.data.structures import (
    DatasetSpec as DatasetSpec,
    NumpyIterator as NumpyIterator,
    get_output_classes as get_output_classes,
    get_output_shapes as get_output_shapes,
    get_output_types as get_output_types,
)
