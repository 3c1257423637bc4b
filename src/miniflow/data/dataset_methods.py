"""The `tf.data.Dataset` methods beyond the core ones in `dataset_ops.py`: a mixin of
thin entry points into `stateful`, `grouping`, `sampling`, `cardinality` and
`structures`, found through `registry.impl` (those modules subclass `Dataset`)."""

from __future__ import annotations

from miniflow import dtypes
from miniflow.data.registry import impl


class DatasetMethods:
    """Mixed into `Dataset`."""

    # -- sources ---------------------------------------------------------------------------
    @staticmethod
    def random(seed=None, rerandomize_each_iteration=None, name=None):
        """Uniformly distributed int64 values, forever."""
        return impl.RandomDataset(seed, rerandomize_each_iteration)

    @staticmethod
    def counter(start=0, step=1, dtype=dtypes.int64, name=None):
        """``start``, ``start + step``, ... forever."""
        return impl.counter(start, step, dtype)

    @staticmethod
    def sample_from_datasets(
        datasets,
        weights=None,
        seed=None,
        stop_on_empty_dataset=False,
        rerandomize_each_iteration=None,
    ):
        """Elements drawn at random from ``datasets`` with probabilities ``weights``."""
        return impl.sample_from_datasets(datasets, weights, seed, stop_on_empty_dataset)

    @staticmethod
    def choose_from_datasets(datasets, choice_dataset, stop_on_empty_dataset=True):
        """The next element of ``datasets[i]`` for each ``i`` of ``choice_dataset``."""
        return impl.choose_from_datasets(datasets, choice_dataset, stop_on_empty_dataset)

    @staticmethod
    def list_files(file_pattern, shuffle=None, seed=None, name=None):
        """The files matching ``file_pattern`` (a pattern or a list of them), shuffled
        unless ``shuffle=False``; `InvalidArgumentError` when nothing matches."""
        return impl.list_files(file_pattern, shuffle, seed)

    @staticmethod
    def from_sparse_tensor_slices(sparse_tensor):
        """The rows of ``sparse_tensor``, each as ``(indices, values, dense_shape)``."""
        return impl.from_sparse_tensor_slices(sparse_tensor)

    @staticmethod
    def load(path, element_spec=None, compression=None, reader_func=None, wait=False):
        """The dataset written by `save` under ``path``."""
        return impl.load(path, element_spec, compression)

    # -- transformations -------------------------------------------------------------------
    def enumerate(self, start=0, name=None):
        """``(index, element)`` pairs, the index counting from ``start`` (int64)."""
        return self.zip((self.range(start, dtypes.int64.max), self))

    def shard(self, num_shards, index, name=None):
        """Every ``num_shards``-th element, starting at ``index``."""
        return impl._Shard(self, num_shards, index)

    def scan(self, initial_state, scan_func, name=None):
        """Outputs of ``scan_func(state, element) -> (new_state, output)``."""
        return impl._Scan(self, initial_state, scan_func)

    def take_while(self, predicate, name=None):
        """The elements before the first for which ``predicate`` is False."""
        return impl._TakeWhile(self, predicate)

    def unique(self, name=None):
        """The elements not seen before (int32, int64 or string, single component)."""
        return impl._Unique(self)

    def window(self, size, shift=None, stride=1, drop_remainder=False, name=None):
        """Windows of ``size`` elements (every ``stride``-th), starting every ``shift``
        elements; each component of a window is a dataset (see `flat_map`)."""
        return impl._Window(self, size, shift, stride, drop_remainder)

    def ignore_errors(self, log_warning=False, name=None):
        """Drops the elements whose computation raised an error."""
        return impl._IgnoreErrors(self, log_warning)

    def group_by_window(
        self, key_func, reduce_func, window_size=None, window_size_func=None, name=None
    ):
        """Groups elements by ``key_func`` (an int64 scalar) into windows, each reduced to
        a dataset by ``reduce_func(key, window_dataset)``."""
        return impl.group_by_window(key_func, reduce_func, window_size, window_size_func)(self)

    def bucket_by_sequence_length(
        self,
        element_length_func,
        bucket_boundaries,
        bucket_batch_sizes,
        padded_shapes=None,
        padding_values=None,
        pad_to_bucket_boundary=False,
        no_padding=False,
        drop_remainder=False,
        name=None,
    ):
        """Padded batches of elements of similar length (buckets split at
        ``bucket_boundaries``, each with its batch size)."""
        return impl.bucket_by_sequence_length(
            element_length_func,
            bucket_boundaries,
            bucket_batch_sizes,
            padded_shapes,
            padding_values,
            pad_to_bucket_boundary,
            no_padding,
            drop_remainder,
        )(self)

    def rejection_resample(self, class_func, target_dist, initial_dist=None, seed=None, name=None):
        """``(class, element)`` pairs resampled towards ``target_dist``."""
        return impl.rejection_resample(class_func, target_dist, initial_dist, seed)(self)

    def ragged_batch(
        self, batch_size, drop_remainder=False, row_splits_dtype=dtypes.int64, name=None
    ):
        """Not supported: miniflow has no ragged tensors."""
        from miniflow import errors

        raise errors.UnimplementedError(
            None,
            None,
            "Dataset.ragged_batch is not supported by miniflow: there are no ragged tensors.",
        )

    def sparse_batch(self, batch_size, row_shape, name=None):
        """Batches of dense elements as SparseTensors of dense shape
        ``[batch, *row_shape]``."""
        return impl.dense_to_sparse_batch(batch_size, row_shape)(self)

    def rebatch(self, batch_size, drop_remainder=False, name=None):
        """The batched elements re-batched to ``batch_size``."""
        return self.unbatch().batch(batch_size, drop_remainder)

    def snapshot(self, path, compression="AUTO", reader_func=None, shard_func=None, name=None):
        """The same elements (miniflow computes them again rather than writing them to
        ``path``)."""
        return self

    def map_with_legacy_function(
        self, map_func, num_parallel_calls=None, deterministic=None, use_unbounded_threadpool=False
    ):
        """`map` (functions are always traced as graphs here)."""
        return self.map(map_func, num_parallel_calls)

    def filter_with_legacy_function(self, predicate):
        """`filter` (functions are always traced as graphs here)."""
        return self.filter(predicate)

    def with_options(self, options, name=None):
        """The same elements with ``options`` merged into the dataset's options."""
        return impl._WithOptions(self, options)

    def options(self):
        """The options set on this dataset and its inputs, merged (later wins)."""
        return impl.options_of(self)

    # -- values ----------------------------------------------------------------------------
    def cardinality(self):
        """The number of elements, as a scalar int64 tensor (-1: infinite, -2: unknown)."""
        return impl.cardinality(self)

    def reduce(self, initial_state, reduce_func, name=None):
        """The final state of ``reduce_func(state, element) -> new_state`` (tensors)."""
        return impl.single_element(
            impl._Scan(self, initial_state, reduce_func, has_output=False), name
        )

    def get_single_element(self, name=None):
        """The only element (tensors); `InvalidArgumentError` if there is not exactly one."""
        return impl.single_element(self, name)

    def save(self, path, compression=None, shard_func=None, checkpoint_args=None):
        """Writes the elements under the directory ``path`` (an op in graph mode);
        miniflow's own layout, read back by `Dataset.load`."""
        return impl.save(self, path, compression)

    def fingerprint(self):
        """Not supported: TF fingerprints its serialized dataset graph, which miniflow's
        Python pipelines do not have."""
        from miniflow import errors

        raise errors.UnimplementedError(
            None,
            None,
            "Dataset.fingerprint is not supported by "
            "miniflow: datasets are Python pipelines, not graphs.",
        )

    def as_numpy_iterator(self):
        """Eager mode: an iterator over the elements as NumPy values."""
        return impl.NumpyIterator(self)
