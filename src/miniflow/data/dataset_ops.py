"""`tf.data.Dataset` in graph mode.

A dataset is a Python description of an input pipeline. An iterator's ``MakeIterator``
op turns it into a generator of elements (lists of NumPy component values) when the
session runs it, with the values of any graph tensors it captured (e.g. placeholders fed
to `make_initializable_iterator`'s initializer). Sources live in `sources.py`,
transformations in `transformations.py`; the methods find them through `registry.impl`.
"""

from __future__ import annotations

from miniflow.core.dispatch import current_frontend
from miniflow.data import structure
from miniflow.data.dataset_methods import DatasetMethods
from miniflow.data.iterator_ops import EagerIterator, Iterator
from miniflow.data.registry import impl


class Dataset(DatasetMethods, structure.ElementStructure):
    """A sequence of elements, each a (nested) structure of tensors.

    Example:
        >>> ds = tf.data.Dataset.from_tensor_slices((features, labels))
        >>> ds = ds.shuffle(100, seed=1).batch(32).repeat(2)
        >>> x, y = ds.make_one_shot_iterator().get_next()
    """

    _template = None
    _specs: list = []

    # -- sources -------------------------------------------------------------------------
    @staticmethod
    def from_tensor_slices(tensors) -> Dataset:
        """The slices of ``tensors`` along their first dimension (all must match)."""
        return impl._Slices(tensors, sliced=True)

    @staticmethod
    def from_tensors(tensors) -> Dataset:
        """A single element, ``tensors``."""
        return impl._Slices(tensors, sliced=False)

    @staticmethod
    def range(*args) -> Dataset:
        """int64 values as Python's ``range(start, stop, step)``."""
        return impl._Range(*args)

    @staticmethod
    def from_generator(generator, output_types, output_shapes=None, args=None) -> Dataset:
        """Elements from calling ``generator(*args)`` each time iteration starts."""
        return impl._Generator(generator, output_types, output_shapes, args or ())

    @staticmethod
    def zip(datasets) -> Dataset:
        """Elements combined from a tuple or dict of datasets (stops at the shortest)."""
        return impl._Zip(datasets)

    # -- transformations ------------------------------------------------------------------
    def map(self, map_func, num_parallel_calls=None) -> Dataset:
        """``map_func`` applied to each element (tuples are passed as separate args)."""
        return impl._Map(self, map_func)

    def filter(self, predicate) -> Dataset:
        """The elements for which ``predicate`` returns True (a scalar bool tensor)."""
        return impl._Filter(self, predicate)

    def flat_map(self, map_func) -> Dataset:
        """The elements of the datasets ``map_func`` returns for each element, in order."""
        return impl._FlatMap(self, map_func)

    def interleave(
        self, map_func, cycle_length=-1, block_length=1, num_parallel_calls=None
    ) -> Dataset:
        """Like `flat_map`, but ``cycle_length`` inner datasets are read in turn,
        ``block_length`` elements at a time (-1: one per CPU, as TF's AUTOTUNE)."""
        return impl._Interleave(self, map_func, cycle_length, block_length)

    def unbatch(self) -> Dataset:
        """Splits each element into its slices along the first dimension."""
        return impl._Unbatch(self)

    def batch(self, batch_size, drop_remainder=False) -> Dataset:
        """Consecutive elements stacked into batches of ``batch_size``."""
        return impl._Batch(self, batch_size, drop_remainder, None, None)

    def padded_batch(
        self, batch_size, padded_shapes, padding_values=None, drop_remainder=False
    ) -> Dataset:
        """Batches whose components are padded to ``padded_shapes`` (None or -1: the
        longest in the batch) with ``padding_values`` (default 0 / empty string)."""
        return impl._Batch(self, batch_size, drop_remainder, padded_shapes, padding_values)

    def shuffle(self, buffer_size, seed=None, reshuffle_each_iteration=None) -> Dataset:
        """Elements in random order, drawn from a buffer of ``buffer_size`` (TF's
        algorithm: a uniform pick from the buffer, refilled from the input)."""
        return impl._Shuffle(self, buffer_size, seed, reshuffle_each_iteration is not False)

    def repeat(self, count=None) -> Dataset:
        """The dataset ``count`` times (None or -1: forever)."""
        return impl._Repeat(self, count)

    def take(self, count) -> Dataset:
        return impl._Slice(self, 0, count)

    def skip(self, count) -> Dataset:
        return impl._Slice(self, count, -1)

    def concatenate(self, dataset) -> Dataset:
        return impl._Concatenate(self, dataset)

    def prefetch(self, buffer_size) -> Dataset:
        """The same dataset (elements are produced on demand; nothing to overlap)."""
        return self

    def cache(self, filename="") -> Dataset:
        """Elements kept in memory after the first complete pass and replayed after it
        (a ``filename`` is accepted; the cache stays in memory, per iterator)."""
        return impl._Cache(self)

    def apply(self, transformation_func) -> Dataset:
        return transformation_func(self)

    # -- iterators -----------------------------------------------------------------------
    def make_one_shot_iterator(self) -> Iterator:
        """An iterator that starts itself on first use (no initializer); in eager mode, a
        Python iterator over eager tensors."""
        if current_frontend().eager:
            return EagerIterator(self)
        for t in self._captured():
            if t.op.type == "Placeholder":
                raise ValueError(
                    f"Cannot capture a placeholder ({t.name}) by value in a "
                    "one-shot iterator; use make_initializable_iterator()."
                )
        return Iterator(self._template, self._specs, self, one_shot=True)

    def make_initializable_iterator(self, shared_name=None) -> Iterator:
        """An iterator started (and restarted) by running its ``initializer``, which is
        where placeholders captured by the dataset are fed."""
        if current_frontend().eager:
            raise RuntimeError(
                "dataset.make_initializable_iterator is not supported when "
                "eager execution is enabled. Use `for element in dataset` "
                "instead."
            )
        return Iterator(self._template, self._specs, self)

    def __iter__(self):
        """Eager mode only: iterates the elements as eager tensors."""
        return EagerIterator(self)

    @property
    def element_spec(self):
        """The (nested) `tf.TensorSpec`s (`SparseTensorSpec`s, ...) of an element."""
        return impl.element_spec_of(self)

    # -- implementation --------------------------------------------------------------------
    def _inputs(self) -> list:
        return []

    def _captured(self) -> list:
        """Graph tensors this pipeline reads (the inputs of its iterator ops)."""
        seen: dict = {}
        for d in self._inputs():
            for t in d._captured():
                seen.setdefault(t, None)
        return list(seen) + [t for t in self._own_captured() if t not in seen]

    def _own_captured(self) -> list:
        return []

    def _generate(self, captured_values):
        """A fresh generator of elements, given the captured tensors' values."""
        ctx = {"values": dict(zip(self._captured(), captured_values))}
        return self._iter(ctx)

    def _iter(self, ctx):
        raise NotImplementedError


def make_one_shot_iterator(dataset) -> Iterator:
    """`tf.data.make_one_shot_iterator` (the TF 1.15 function form)."""
    return dataset.make_one_shot_iterator()


def make_initializable_iterator(dataset, shared_name=None) -> Iterator:
    """`tf.data.make_initializable_iterator` (the TF 1.15 function form)."""
    return dataset.make_initializable_iterator(shared_name)
