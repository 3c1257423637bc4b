"""`tf.data.experimental`: TF 1.15's experimental transformations (functions for
`Dataset.apply`), readers, options and structures (see docs/data.md)."""

from miniflow.data import grouping as _grouping
from miniflow.data.cardinality import (
    assert_cardinality as assert_cardinality,
    cardinality as cardinality,
)
from miniflow.data.feature_datasets import (
    make_batched_features_dataset as make_batched_features_dataset,
    make_csv_dataset as make_csv_dataset,
    parse_example_dataset as parse_example_dataset,
)
from miniflow.data.grouping import Reducer as Reducer
from miniflow.data.options import (
    AUTOTUNE as AUTOTUNE,
    INFINITE_CARDINALITY as INFINITE_CARDINALITY,
    SHARD_HINT as SHARD_HINT,
    UNKNOWN_CARDINALITY as UNKNOWN_CARDINALITY,
    AutoShardPolicy as AutoShardPolicy,
    AutotuneAlgorithm as AutotuneAlgorithm,
    AutotuneOptions as AutotuneOptions,
    ExternalStatePolicy as ExternalStatePolicy,
    OptimizationOptions as OptimizationOptions,
    ThreadingOptions as ThreadingOptions,
)
from miniflow.data.readers import (
    CsvDataset as CsvDataset,
    SqlDataset as SqlDataset,
    TFRecordWriter as TFRecordWriter,
)
from miniflow.data.sampling import (
    RandomDataset as RandomDataset,
    choose_from_datasets as choose_from_datasets,
    counter as Counter,  # noqa: F401, N812 (TF's name)
    from_list as from_list,
    rejection_resample as rejection_resample,
    sample_from_datasets as sample_from_datasets,
)
from miniflow.data.sparse_datasets import dense_to_sparse_batch as dense_to_sparse_batch
from miniflow.data.structures import (
    DatasetSpec as DatasetStructure,  # noqa: F401
    Optional as Optional,
    OptionalSpec as OptionalStructure,  # noqa: F401
    SparseTensorStructure as SparseTensorStructure,
    TensorArrayStructure as TensorArrayStructure,
    TensorStructure as TensorStructure,
    from_variant as from_variant,
    get_next_as_optional as get_next_as_optional,
    get_structure as get_structure,
    to_variant as to_variant,
)
from miniflow.ops.type_spec import TypeSpec as Structure  # noqa: F401


def shuffle_and_repeat(buffer_size, count=None, seed=None):
    """A transformation for `Dataset.apply`: ``shuffle`` then ``repeat``."""
    return lambda dataset: dataset.shuffle(buffer_size, seed=seed).repeat(count)


def map_and_batch(
    map_func, batch_size, num_parallel_batches=None, drop_remainder=False, num_parallel_calls=None
):
    """A transformation for `Dataset.apply`: ``map`` then ``batch``."""
    return lambda dataset: dataset.map(map_func).batch(batch_size, drop_remainder)


map_and_batch_with_legacy_function = map_and_batch


def parallel_interleave(
    map_func,
    cycle_length,
    block_length=1,
    sloppy=False,
    buffer_output_elements=None,
    prefetch_input_elements=None,
):
    """A transformation for `Dataset.apply`: ``interleave`` (in its deterministic
    order; ``sloppy`` is accepted)."""
    return lambda dataset: dataset.interleave(map_func, cycle_length, block_length)


def enumerate_dataset(start=0):
    """A transformation for `Dataset.apply`: ``Dataset.enumerate(start)``."""
    return lambda dataset: dataset.enumerate(start)


def scan(initial_state, scan_func):
    """A transformation for `Dataset.apply`: ``Dataset.scan``."""
    return lambda dataset: dataset.scan(initial_state, scan_func)


def take_while(predicate):
    """A transformation for `Dataset.apply`: ``Dataset.take_while``."""
    return lambda dataset: dataset.take_while(predicate)


def unique():
    """A transformation for `Dataset.apply`: ``Dataset.unique``."""
    return lambda dataset: dataset.unique()


def unbatch():
    """A transformation for `Dataset.apply`: ``Dataset.unbatch``."""
    return lambda dataset: dataset.unbatch()


def ignore_errors(log_warning=False):
    """A transformation for `Dataset.apply`: ``Dataset.ignore_errors``."""
    return lambda dataset: dataset.ignore_errors(log_warning)


def snapshot(path, compression="AUTO", reader_func=None, shard_func=None):
    """A transformation for `Dataset.apply`: the same elements (nothing is written)."""
    return lambda dataset: dataset


group_by_window = _grouping.group_by_window
group_by_reducer = _grouping.group_by_reducer
bucket_by_sequence_length = _grouping.bucket_by_sequence_length


def get_single_element(dataset):
    """``dataset.get_single_element()``."""
    return dataset.get_single_element()


_DEBUG_MODE = False


def enable_debug_mode():
    """Accepted: miniflow already runs dataset functions one element at a time, in
    order, with no parallelism (what TF's debug mode gives)."""
    global _DEBUG_MODE
    _DEBUG_MODE = True


def pad_to_cardinality(cardinality, mask_key="valid"):
    """A transformation for `Dataset.apply`: a dataset of dicts padded with all-zero
    elements up to ``cardinality`` elements; ``mask_key`` marks the real ones (True)."""
    from miniflow.ops import array_ops

    def apply(dataset):
        spec = dataset.element_spec
        if not isinstance(spec, dict):
            raise ValueError(
                f"`pad_to_cardinality` requires its input dataset to be a dictionary, got {spec}."
            )
        if mask_key in spec:
            raise ValueError(
                f"`pad_to_cardinality` requires the mask key {mask_key} to be "
                "unused in the dataset."
            )
        for key, s in spec.items():
            if not s.shape.is_fully_defined():
                raise ValueError(
                    f"`pad_to_cardinality` requires fully defined shapes, but "
                    f"{key} has shape {s.shape}."
                )

        def valid(x):
            return {**x, mask_key: True}

        filler = {k: array_ops.zeros(s.shape.as_list(), s.dtype) for k, s in spec.items()}
        filler[mask_key] = False
        padding = cardinality - dataset.cardinality()
        from miniflow.data.dataset_ops import Dataset

        return dataset.map(valid).concatenate(Dataset.from_tensors(filler).repeat(padding))

    return apply


class DatasetInitializer:
    """A lookup-table initializer from a dataset of ``(key, value)`` pairs (for
    `tf.lookup.StaticHashTable`)."""

    def __new__(cls, dataset):
        from miniflow.ops.lookup_ops import KeyValueTensorInitializer

        if len(dataset._specs) != 2 or not isinstance(dataset._template, tuple):
            raise ValueError(
                f"Expected a dataset of (key, value) pairs, got elements {dataset.output_types}."
            )
        keys, values = dataset.batch(1 << 62).get_single_element()
        return KeyValueTensorInitializer(keys, values)


def table_from_dataset(
    dataset=None,
    num_oov_buckets=0,
    vocab_size=None,
    default_value=None,
    hasher_spec=None,
    key_dtype=None,
    name=None,
):
    """A lookup table from a dataset of ``(key, value)`` pairs (a vocabulary table with
    ``num_oov_buckets`` extra buckets when that is positive)."""
    from miniflow.ops import lookup_ops

    if vocab_size is not None:
        dataset = dataset.take(vocab_size)
    init = DatasetInitializer(dataset)
    if num_oov_buckets:
        return lookup_ops.StaticVocabularyTable(init, num_oov_buckets, name=name)
    return lookup_ops.StaticHashTable(init, default_value, name=name)


def index_table_from_dataset(
    dataset=None,
    num_oov_buckets=0,
    vocab_size=None,
    default_value=-1,
    hasher_spec=None,
    key_dtype=None,
    name=None,
):
    """A table mapping each key of ``dataset`` to its position (int64)."""
    return table_from_dataset(
        dataset.enumerate().map(lambda i, k: (k, i)),
        num_oov_buckets,
        vocab_size,
        default_value,
        hasher_spec,
        key_dtype,
        name,
    )
