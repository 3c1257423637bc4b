"""`tf.data.experimental`: the parts TF 1.15 programs commonly use."""

AUTOTUNE = -1


def shuffle_and_repeat(buffer_size, count=None, seed=None):
    """A transformation for `Dataset.apply`: ``shuffle`` then ``repeat``."""
    return lambda dataset: dataset.shuffle(buffer_size, seed=seed).repeat(count)


def map_and_batch(map_func, batch_size, num_parallel_batches=None, drop_remainder=False,
                  num_parallel_calls=None):
    """A transformation for `Dataset.apply`: ``map`` then ``batch``."""
    return lambda dataset: dataset.map(map_func).batch(batch_size, drop_remainder)
