"""`tf.metrics`: streaming (value, update_op) metrics over local variables."""

from miniflow.ops.metrics_at_k import average_precision_at_k as average_precision_at_k  # noqa: F401
from miniflow.ops.metrics_at_k import precision_at_k as precision_at_k
from miniflow.ops.metrics_at_k import precision_at_top_k as precision_at_top_k
from miniflow.ops.metrics_at_k import recall_at_k as recall_at_k
from miniflow.ops.metrics_at_k import recall_at_top_k as recall_at_top_k
from miniflow.ops.metrics_at_k import sparse_average_precision_at_k as sparse_average_precision_at_k
from miniflow.ops.metrics_at_k import sparse_precision_at_k as sparse_precision_at_k
from miniflow.ops.metrics_impl import accuracy as accuracy
from miniflow.ops.metrics_impl import auc as auc
from miniflow.ops.metrics_impl import false_negatives as false_negatives
from miniflow.ops.metrics_impl import false_negatives_at_thresholds as false_negatives_at_thresholds
from miniflow.ops.metrics_impl import false_positives as false_positives
from miniflow.ops.metrics_impl import false_positives_at_thresholds as false_positives_at_thresholds
from miniflow.ops.metrics_impl import mean as mean
from miniflow.ops.metrics_impl import mean_absolute_error as mean_absolute_error
from miniflow.ops.metrics_impl import mean_cosine_distance as mean_cosine_distance
from miniflow.ops.metrics_impl import mean_iou as mean_iou
from miniflow.ops.metrics_impl import mean_per_class_accuracy as mean_per_class_accuracy
from miniflow.ops.metrics_impl import mean_relative_error as mean_relative_error
from miniflow.ops.metrics_impl import mean_squared_error as mean_squared_error
from miniflow.ops.metrics_impl import mean_tensor as mean_tensor
from miniflow.ops.metrics_impl import percentage_below as percentage_below
from miniflow.ops.metrics_impl import precision as precision
from miniflow.ops.metrics_impl import precision_at_thresholds as precision_at_thresholds
from miniflow.ops.metrics_impl import recall as recall
from miniflow.ops.metrics_impl import recall_at_thresholds as recall_at_thresholds
from miniflow.ops.metrics_impl import root_mean_squared_error as root_mean_squared_error
from miniflow.ops.metrics_impl import sensitivity_at_specificity as sensitivity_at_specificity
from miniflow.ops.metrics_impl import specificity_at_sensitivity as specificity_at_sensitivity
from miniflow.ops.metrics_impl import true_negatives as true_negatives
from miniflow.ops.metrics_impl import true_negatives_at_thresholds as true_negatives_at_thresholds
from miniflow.ops.metrics_impl import true_positives as true_positives
from miniflow.ops.metrics_impl import true_positives_at_thresholds as true_positives_at_thresholds
