"""`tf.data`: input pipelines in graph mode."""

from miniflow.data.dataset_ops import Dataset as Dataset  # first: its modules import it
from miniflow.data import experimental as experimental  # noqa: I001
from miniflow.data.dataset_ops import make_initializable_iterator as make_initializable_iterator
from miniflow.data.dataset_ops import make_one_shot_iterator as make_one_shot_iterator
from miniflow.data.iterator_ops import Iterator as Iterator
from miniflow.data.structure import TensorSpec as TensorSpec

# -- issue 13: tf.data ----------------------------------------------------------------------
from miniflow.data.options import AUTOTUNE as AUTOTUNE  # noqa: E402
from miniflow.data.options import INFINITE_CARDINALITY as INFINITE_CARDINALITY  # noqa: E402
from miniflow.data.options import UNKNOWN_CARDINALITY as UNKNOWN_CARDINALITY  # noqa: E402
from miniflow.data.options import Options as Options  # noqa: E402
from miniflow.data.options import ThreadingOptions as ThreadingOptions  # noqa: E402
from miniflow.data.readers import FixedLengthRecordDataset as FixedLengthRecordDataset  # noqa: E402
from miniflow.data.readers import TFRecordDataset as TFRecordDataset  # noqa: E402
from miniflow.data.readers import TextLineDataset as TextLineDataset  # noqa: E402
from miniflow.data.structures import DatasetSpec as DatasetSpec  # noqa: E402
from miniflow.data.structures import NumpyIterator as NumpyIterator  # noqa: E402
from miniflow.data.structures import get_output_classes as get_output_classes  # noqa: E402
from miniflow.data.structures import get_output_shapes as get_output_shapes  # noqa: E402
from miniflow.data.structures import get_output_types as get_output_types  # noqa: E402
