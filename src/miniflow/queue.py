"""`tf.queue`: the queue classes."""

from miniflow.ops.data_flow_ops import FIFOQueue as FIFOQueue
from miniflow.ops.data_flow_ops import PaddingFIFOQueue as PaddingFIFOQueue
from miniflow.ops.data_flow_ops import PriorityQueue as PriorityQueue
from miniflow.ops.data_flow_ops import QueueBase as QueueBase
from miniflow.ops.data_flow_ops import RandomShuffleQueue as RandomShuffleQueue

__all__ = ["FIFOQueue", "PaddingFIFOQueue", "PriorityQueue", "QueueBase", "RandomShuffleQueue"]
