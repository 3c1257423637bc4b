"""`tf.data`: input pipelines in graph mode."""

from miniflow.data import experimental as experimental
from miniflow.data.dataset_ops import Dataset as Dataset
from miniflow.data.sources import TextLineDataset as TextLineDataset
from miniflow.data.dataset_ops import make_initializable_iterator as make_initializable_iterator
from miniflow.data.dataset_ops import make_one_shot_iterator as make_one_shot_iterator
from miniflow.data.iterator_ops import Iterator as Iterator
from miniflow.data.structure import TensorSpec as TensorSpec
