"""`tf.estimator`: Estimator, its specs and run config, train_and_evaluate, exporters,
and the canned linear, DNN and wide & deep models."""

from miniflow.estimator import export as export
from miniflow.estimator.estimator import Estimator as Estimator
from miniflow.estimator.estimator import WarmStartSettings as WarmStartSettings
from miniflow.estimator.exporter import Exporter as Exporter
from miniflow.estimator.exporter import FinalExporter as FinalExporter
from miniflow.estimator.exporter import LatestExporter as LatestExporter
from miniflow.estimator.model_fn import EstimatorSpec as EstimatorSpec
from miniflow.estimator.model_fn import ModeKeys as ModeKeys
from miniflow.estimator.run_config import RunConfig as RunConfig
from miniflow.estimator.training import EvalSpec as EvalSpec
from miniflow.estimator.training import TrainSpec as TrainSpec
from miniflow.estimator.training import train_and_evaluate as train_and_evaluate
from miniflow.estimator.canned.dnn import DNNClassifier as DNNClassifier
from miniflow.estimator.canned.dnn import DNNRegressor as DNNRegressor
from miniflow.estimator.canned.dnn_linear_combined import (
    DNNLinearCombinedClassifier as DNNLinearCombinedClassifier,
    DNNLinearCombinedRegressor as DNNLinearCombinedRegressor,
)
from miniflow.estimator.canned.linear import LinearClassifier as LinearClassifier
from miniflow.estimator.canned.linear import LinearRegressor as LinearRegressor
from miniflow.estimator import inputs as inputs
from miniflow.estimator.canned.parsing_utils import (
    classifier_parse_example_spec as classifier_parse_example_spec,
    regressor_parse_example_spec as regressor_parse_example_spec,
)
