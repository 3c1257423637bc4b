"""`tf.estimator`: Estimator, its specs and run config, train_and_evaluate, exporters,
and the canned linear, DNN and wide & deep models."""

from miniflow.estimator import export as export, inputs as inputs
from miniflow.estimator.canned.dnn import (
    DNNClassifier as DNNClassifier,
    DNNRegressor as DNNRegressor,
)
from miniflow.estimator.canned.dnn_linear_combined import (
    DNNLinearCombinedClassifier as DNNLinearCombinedClassifier,
    DNNLinearCombinedRegressor as DNNLinearCombinedRegressor,
)
from miniflow.estimator.canned.linear import (
    LinearClassifier as LinearClassifier,
    LinearRegressor as LinearRegressor,
)
from miniflow.estimator.canned.parsing_utils import (
    classifier_parse_example_spec as classifier_parse_example_spec,
    regressor_parse_example_spec as regressor_parse_example_spec,
)
from miniflow.estimator.estimator import (
    Estimator as Estimator,
    WarmStartSettings as WarmStartSettings,
)
from miniflow.estimator.exporter import (
    Exporter as Exporter,
    FinalExporter as FinalExporter,
    LatestExporter as LatestExporter,
)
from miniflow.estimator.model_fn import EstimatorSpec as EstimatorSpec, ModeKeys as ModeKeys
from miniflow.estimator.run_config import RunConfig as RunConfig
from miniflow.estimator.training import (
    EvalSpec as EvalSpec,
    TrainSpec as TrainSpec,
    train_and_evaluate as train_and_evaluate,
)
