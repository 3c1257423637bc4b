"""Categorical columns: ids from strings or integers by hashing (TF's FarmHash buckets),
a vocabulary (list or file, with out-of-vocabulary buckets), the integer itself, a
weighted variant, and hashed crosses of several features. Ids stay sparse throughout."""

from __future__ import annotations

import os

from miniflow import dtypes
from miniflow.feature_column.columns_base import (
    CategoricalColumn,
    IdWeightPair,
    check_key,
    to_sparse_dropping,
)
from miniflow.ops import (
    array_ops as _arr,
    check_ops as _check,
    control_flow_ops as _cf,
    lookup_ops as _lookup,
    math_ops as _math,
    string_ops as _str,
)
from miniflow.ops.example_parsing_ops import VarLenFeature
from miniflow.ops.sparse_cross_ops import sparse_cross_hashed
from miniflow.ops.sparse_ops import SparseTensor


def _check_dtype(dtype, key):
    dtype = dtypes.as_dtype(dtype)
    if dtype != dtypes.string and not dtype.is_integer:
        raise ValueError(f"dtype {dtype} of column {key} must be string or integer.")
    return dtype


def _sparse_input(cache, key, dtype):
    """The raw feature ``key`` as a SparseTensor (dense inputs drop "" / -1), checked
    against the column's dtype."""
    sp = to_sparse_dropping(cache.get(key))
    if (sp.dtype == dtypes.string) != (dtype == dtypes.string):
        raise ValueError(
            f"Column dtype and SparseTensors dtype must be compatible. key: "
            f"{key}, column dtype: {dtype}, tensor dtype: {sp.dtype}"
        )
    return sp


def _with_values(sp, values):
    return SparseTensor(sp.indices, values, sp.dense_shape)


class HashedCategoricalColumn(CategoricalColumn):
    """Ids ``Fingerprint64(str(value)) % hash_bucket_size`` (see
    `categorical_column_with_hash_bucket`)."""

    _fields = ("key", "hash_bucket_size", "dtype")

    def __init__(self, key, hash_bucket_size, dtype):
        self.key, self.hash_bucket_size, self.dtype = key, hash_bucket_size, dtype

    name = property(lambda self: self.key)
    num_buckets = property(lambda self: self.hash_bucket_size)
    parse_example_spec = property(lambda self: {self.key: VarLenFeature(self.dtype)})

    def _transform(self, cache):
        sp = _sparse_input(cache, self.key, self.dtype)
        text = sp.values if sp.dtype == dtypes.string else _str.as_string(sp.values)
        ids = _str.to_hash_bucket_fast(text, self.hash_bucket_size, name="lookup")
        return _with_values(sp, ids)


def categorical_column_with_hash_bucket(key, hash_bucket_size, dtype=dtypes.string):
    """categorical_column_with_hash_bucket(key, hash_bucket_size, dtype=tf.string): ids
    by FarmHash Fingerprint64 of the value (integers hashed as their decimal string),
    equal to TF's."""
    check_key(key)
    if hash_bucket_size is None or hash_bucket_size < 1:
        raise ValueError(
            f"hash_bucket_size must be at least 1. hash_bucket_size: {hash_bucket_size}, key: {key}"
        )
    return HashedCategoricalColumn(key, int(hash_bucket_size), _check_dtype(dtype, key))


class _VocabularyColumn(CategoricalColumn):
    """Shared lookup of the vocabulary columns: a table from the vocabulary, with
    ``num_oov_buckets`` hashed ids after it or ``default_value`` for unknown values."""

    name = property(lambda self: self.key)
    parse_example_spec = property(lambda self: {self.key: VarLenFeature(self.dtype)})

    @property
    def num_buckets(self):
        return self.vocabulary_size + self.num_oov_buckets

    def _initializer(self):
        raise NotImplementedError

    def _transform(self, cache):
        sp = _sparse_input(cache, self.key, self.dtype)
        values = sp.values if sp.dtype == dtypes.string else _arr.cast(sp.values, dtypes.int64)
        init = self._initializer()
        if self.num_oov_buckets:
            table = _lookup.StaticVocabularyTable(
                init, self.num_oov_buckets, name=f"{self.key}_lookup"
            )
        else:
            table = _lookup.StaticHashTable(init, self.default_value, name=f"{self.key}_lookup")
        return _with_values(sp, table.lookup(values))


class VocabularyListCategoricalColumn(_VocabularyColumn):
    """Ids by position in ``vocabulary_list`` (see
    `categorical_column_with_vocabulary_list`)."""

    _fields = ("key", "vocabulary_list", "dtype", "default_value", "num_oov_buckets")

    def __init__(self, key, vocabulary_list, dtype, default_value, num_oov_buckets):
        self.key, self.vocabulary_list, self.dtype = key, vocabulary_list, dtype
        self.default_value, self.num_oov_buckets = default_value, num_oov_buckets

    vocabulary_size = property(lambda self: len(self.vocabulary_list))

    def _initializer(self):
        key_dtype = dtypes.string if self.dtype == dtypes.string else dtypes.int64
        return _lookup.KeyValueTensorInitializer(
            _arr.constant(list(self.vocabulary_list), key_dtype),
            _arr.range(_arr.constant(len(self.vocabulary_list), dtypes.int64)),
        )


def _check_oov(key, default_value, num_oov_buckets):
    if num_oov_buckets is None or num_oov_buckets < 0:
        raise ValueError(f"Invalid num_oov_buckets {num_oov_buckets} in {key}.")
    if default_value != -1 and num_oov_buckets != 0:
        raise ValueError(f"Can't specify both num_oov_buckets and default_value in {key}.")
    return int(default_value), int(num_oov_buckets)


def categorical_column_with_vocabulary_list(
    key, vocabulary_list, dtype=None, default_value=-1, num_oov_buckets=0
):
    """categorical_column_with_vocabulary_list(key, vocabulary_list, dtype=None,
    default_value=-1, num_oov_buckets=0): ids by position in ``vocabulary_list``; other
    values get ``default_value`` or one of ``num_oov_buckets`` hashed ids."""
    check_key(key)
    if vocabulary_list is None or len(vocabulary_list) < 1:
        raise ValueError(f"vocabulary_list {vocabulary_list} must be non-empty, column_name: {key}")
    vocab = tuple(v.encode() if isinstance(v, str) else v for v in vocabulary_list)
    if len(set(vocab)) != len(vocab):
        raise ValueError(f"Duplicate keys in vocabulary_list {vocabulary_list}, column_name: {key}")
    is_str = isinstance(vocab[0], bytes)
    if dtype is None:
        dtype = dtypes.string if is_str else dtypes.int64
    dtype = _check_dtype(dtype, key)
    if is_str != (dtype == dtypes.string):
        raise ValueError(
            f"dtype {dtype} and vocabulary_list {vocabulary_list} must be "
            f"compatible, column_name: {key}"
        )
    default_value, num_oov_buckets = _check_oov(key, default_value, num_oov_buckets)
    return VocabularyListCategoricalColumn(
        key, tuple(vocabulary_list), dtype, default_value, num_oov_buckets
    )


class VocabularyFileCategoricalColumn(_VocabularyColumn):
    """Ids by line number in ``vocabulary_file`` (see
    `categorical_column_with_vocabulary_file`)."""

    _fields = (
        "key",
        "vocabulary_file",
        "vocabulary_size",
        "num_oov_buckets",
        "dtype",
        "default_value",
    )

    def __init__(
        self, key, vocabulary_file, vocabulary_size, num_oov_buckets, dtype, default_value
    ):
        self.key, self.vocabulary_file, self.vocabulary_size = key, vocabulary_file, vocabulary_size
        self.num_oov_buckets, self.dtype, self.default_value = num_oov_buckets, dtype, default_value

    def _initializer(self):
        key_dtype = dtypes.string if self.dtype == dtypes.string else dtypes.int64
        return _lookup.TextFileInitializer(
            self.vocabulary_file,
            key_dtype,
            _lookup.TextFileIndex.WHOLE_LINE,
            dtypes.int64,
            _lookup.TextFileIndex.LINE_NUMBER,
            vocab_size=self.vocabulary_size,
        )


def categorical_column_with_vocabulary_file(
    key,
    vocabulary_file,
    vocabulary_size=None,
    num_oov_buckets=0,
    default_value=None,
    dtype=dtypes.string,
):
    """categorical_column_with_vocabulary_file(key, vocabulary_file, vocabulary_size=None,
    num_oov_buckets=0, default_value=None, dtype=tf.string): ids by line number in the
    file (one entry per line)."""
    check_key(key)
    if not vocabulary_file:
        raise ValueError(f"Missing vocabulary_file in {key}.")
    if vocabulary_size is None:
        if not os.path.exists(vocabulary_file):
            raise ValueError(f"vocabulary_file in {key} does not exist.")
        with open(vocabulary_file, encoding="utf-8") as f:
            vocabulary_size = sum(1 for _ in f)
    if vocabulary_size < 1:
        raise ValueError(f"Invalid vocabulary_size in {key}.")
    default_value, num_oov_buckets = _check_oov(
        key, -1 if default_value is None else default_value, num_oov_buckets
    )
    return VocabularyFileCategoricalColumn(
        key,
        vocabulary_file,
        int(vocabulary_size),
        num_oov_buckets,
        _check_dtype(dtype, key),
        default_value,
    )


class IdentityCategoricalColumn(CategoricalColumn):
    """The integer value is the id (see `categorical_column_with_identity`)."""

    _fields = ("key", "number_buckets", "default_value")

    def __init__(self, key, number_buckets, default_value):
        self.key, self.number_buckets, self.default_value = key, number_buckets, default_value

    name = property(lambda self: self.key)
    num_buckets = property(lambda self: self.number_buckets)
    parse_example_spec = property(lambda self: {self.key: VarLenFeature(dtypes.int64)})

    def _transform(self, cache):
        sp = to_sparse_dropping(cache.get(self.key))
        if not sp.dtype.is_integer:
            raise ValueError(f"Invalid input, not integer. key: {self.key} dtype: {sp.dtype}")
        values = _arr.cast(sp.values, dtypes.int64)
        low = _arr.constant(0, dtypes.int64)
        high = _arr.constant(self.number_buckets, dtypes.int64)
        if self.default_value is None:
            with _cf.name_scope(None, "assert_range"):
                checks = [
                    _check.assert_less(
                        values,
                        high,
                        message=(
                            f"Bucket index for categorical column {self.key} exceeds number of "
                            f"buckets"
                        ),
                    ),
                    _check.assert_greater_equal(
                        values,
                        low,
                        message=(f"Negative bucket index for categorical column {self.key}"),
                    ),
                ]
                with _cf.control_dependencies([c for c in checks if c is not None]):
                    values = _arr.identity(values)
        else:
            inside = _math.logical_and(_math.greater_equal(values, low), _math.less(values, high))
            values = _arr.where(
                inside,
                values,
                _arr.fill(_arr.shape(values), _arr.constant(self.default_value, dtypes.int64)),
            )
        return _with_values(sp, values)


def categorical_column_with_identity(key, num_buckets, default_value=None):
    """categorical_column_with_identity(key, num_buckets, default_value=None): integer
    values in ``[0, num_buckets)`` are their own ids; others are an error at run time,
    or ``default_value`` when given."""
    check_key(key)
    if num_buckets is None or num_buckets < 1:
        raise ValueError(f"num_buckets {num_buckets} < 1, column_name {key}")
    if default_value is not None and not 0 <= default_value < num_buckets:
        raise ValueError(
            f"default_value {default_value} not in range [0, {num_buckets}), column_name {key}"
        )
    return IdentityCategoricalColumn(key, int(num_buckets), default_value)


class WeightedCategoricalColumn(CategoricalColumn):
    """A categorical column with a weight per id from another feature (see
    `weighted_categorical_column`)."""

    _fields = ("categorical_column", "weight_feature_key", "dtype")

    def __init__(self, categorical_column, weight_feature_key, dtype):
        self.categorical_column, self.weight_feature_key = categorical_column, weight_feature_key
        self.dtype = dtype

    name = property(
        lambda self: f"{self.categorical_column.name}_weighted_by_{self.weight_feature_key}"
    )
    num_buckets = property(lambda self: self.categorical_column.num_buckets)

    @property
    def parse_example_spec(self):
        spec = dict(self.categorical_column.parse_example_spec)
        if self.weight_feature_key in spec:
            raise ValueError(
                f"Parse config {spec[self.weight_feature_key]} already exists "
                f"for {self.weight_feature_key}."
            )
        spec[self.weight_feature_key] = VarLenFeature(self.dtype)
        return spec

    def _transform(self, cache):
        weights = cache.get(self.weight_feature_key)
        if weights.dtype.base_dtype != self.dtype:
            raise ValueError(f"Bad dtype, expected {self.dtype}, but got {weights.dtype}.")
        if not isinstance(weights, SparseTensor):
            weights = to_sparse_dropping(weights, ignore_value=0.0)
        if not weights.dtype.is_floating:
            weights = _with_values(weights, _arr.cast(weights.values, dtypes.float32))
        ids = self.categorical_column.get_sparse_tensors(cache).id_tensor
        return IdWeightPair(ids, weights)


def weighted_categorical_column(categorical_column, weight_feature_key, dtype=dtypes.float32):
    """weighted_categorical_column(categorical_column, weight_feature_key,
    dtype=tf.float32): ``categorical_column``'s ids weighted by the feature
    ``weight_feature_key`` (same indices)."""
    if not isinstance(categorical_column, CategoricalColumn):
        raise ValueError(
            f"categorical_column must be a CategoricalColumn. Given: {categorical_column}"
        )
    dtype = dtypes.as_dtype(dtype)
    if not (dtype.is_floating or dtype.is_integer):
        raise ValueError(f"dtype {dtype} is not convertible to float.")
    return WeightedCategoricalColumn(
        categorical_column, check_key(weight_feature_key, "weight_feature_key"), dtype
    )


class CrossedColumn(CategoricalColumn):
    """Hashed crosses of several features (see `crossed_column`)."""

    _fields = ("keys", "hash_bucket_size", "hash_key")

    def __init__(self, keys, hash_bucket_size, hash_key):
        self.keys, self.hash_bucket_size, self.hash_key = keys, hash_bucket_size, hash_key

    @property
    def name(self):
        return "_X_".join(sorted(k if isinstance(k, str) else k.name for k in self.keys))

    num_buckets = property(lambda self: self.hash_bucket_size)

    @property
    def parse_example_spec(self):
        spec = {}
        for k in self.keys:
            spec.update(
                {k: VarLenFeature(dtypes.string)} if isinstance(k, str) else k.parse_example_spec
            )
        return spec

    def _transform(self, cache):
        inputs = []
        for k in self.keys:
            if isinstance(k, str):
                # As TF: a raw feature is crossed as given (a dense one is not filtered
                # of ""/-1, and the cross puts the sparse inputs first).
                raw = cache.get(k)
                if raw.dtype.is_integer and raw.dtype != dtypes.int64:
                    raw = (
                        _with_values(raw, _arr.cast(raw.values, dtypes.int64))
                        if isinstance(raw, SparseTensor)
                        else _arr.cast(raw, dtypes.int64)
                    )
                inputs.append(raw)
            else:
                pair = k.get_sparse_tensors(cache)
                if pair.weight_tensor is not None:
                    raise ValueError(
                        f"crossed_column does not support weight_tensor, but "
                        f"the given column populates weight_tensor. Given "
                        f"column: {k.name}"
                    )
                inputs.append(pair.id_tensor)
        return sparse_cross_hashed(
            inputs, num_buckets=self.hash_bucket_size, hash_key=self.hash_key
        )


def crossed_column(keys, hash_bucket_size, hash_key=None):
    """crossed_column(keys, hash_bucket_size, hash_key=None): per example, every
    combination of one value of each key (feature names or categorical columns), hashed
    into ``hash_bucket_size`` ids as TF's SparseCrossHashed (FingerprintCat64)."""
    if not hash_bucket_size or hash_bucket_size < 1:
        raise ValueError(f"hash_bucket_size must be > 1. hash_bucket_size: {hash_bucket_size}")
    if not keys or len(keys) < 2:
        raise ValueError(f"keys must be a list with length > 1. Given: {keys}")
    for k in keys:
        if isinstance(k, HashedCategoricalColumn):
            raise ValueError(
                f"categorical_column_with_hash_bucket is not supported for "
                f"crossing. Hashing before crossing will increase probability "
                f"of collision. Instead, use the feature name as a string. "
                f"Given: {k}"
            )
        if not isinstance(k, str | CategoricalColumn):
            raise ValueError(
                f"Unsupported key type. All keys must be either string, or "
                f"categorical column except HashedCategoricalColumn. Given: {k}"
            )
    return CrossedColumn(tuple(keys), int(hash_bucket_size), hash_key)
