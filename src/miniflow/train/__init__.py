"""`tf.train`: optimizers (in-place update ops beside each one) and training utilities."""

from miniflow.train.gradient_descent import GradientDescentOptimizer as GradientDescentOptimizer
from miniflow.train.optimizer import Optimizer as Optimizer

# Optimizer family, global step, learning-rate schedules, moving averages (issue 5).
from miniflow.train.adadelta import AdadeltaOptimizer as AdadeltaOptimizer  # noqa: E402
from miniflow.train.adagrad import AdagradOptimizer as AdagradOptimizer  # noqa: E402
from miniflow.train.adam import AdamOptimizer as AdamOptimizer  # noqa: E402
from miniflow.train.ftrl import FtrlOptimizer as FtrlOptimizer  # noqa: E402
from miniflow.train.learning_rate_decay import (  # noqa: E402
    cosine_decay as cosine_decay,
    exponential_decay as exponential_decay,
    inverse_time_decay as inverse_time_decay,
    natural_exp_decay as natural_exp_decay,
    piecewise_constant as piecewise_constant,
    polynomial_decay as polynomial_decay,
)
from miniflow.train.momentum import MomentumOptimizer as MomentumOptimizer  # noqa: E402
from miniflow.train.moving_averages import (  # noqa: E402
    ExponentialMovingAverage as ExponentialMovingAverage,
)
from miniflow.train.rmsprop import RMSPropOptimizer as RMSPropOptimizer  # noqa: E402
from miniflow.train.training_util import (  # noqa: E402
    create_global_step as create_global_step,
    get_global_step as get_global_step,
    get_or_create_global_step as get_or_create_global_step,
    global_step as global_step,
)

__all__ = [
    "GradientDescentOptimizer",
    "Optimizer",
    "AdadeltaOptimizer",
    "AdagradOptimizer",
    "AdamOptimizer",
    "ExponentialMovingAverage",
    "FtrlOptimizer",
    "MomentumOptimizer",
    "RMSPropOptimizer",
    "cosine_decay",
    "create_global_step",
    "exponential_decay",
    "get_global_step",
    "get_or_create_global_step",
    "global_step",
    "inverse_time_decay",
    "natural_exp_decay",
    "piecewise_constant",
    "polynomial_decay",
]

# -- persistence: checkpoints and meta graphs ----------------------------------------------
from miniflow.train.checkpoint import CheckpointState as CheckpointState  # noqa: E402
from miniflow.train.checkpoint import checkpoint_exists as checkpoint_exists  # noqa: E402
from miniflow.train.checkpoint import get_checkpoint_mtimes as get_checkpoint_mtimes  # noqa: E402
from miniflow.train.checkpoint import get_checkpoint_state as get_checkpoint_state  # noqa: E402
from miniflow.train.checkpoint import latest_checkpoint as latest_checkpoint  # noqa: E402
from miniflow.train.checkpoint import list_variables as list_variables  # noqa: E402
from miniflow.train.checkpoint import load_variable as load_variable  # noqa: E402
from miniflow.train.checkpoint import (  # noqa: E402
    update_checkpoint_state as update_checkpoint_state,
)
from miniflow.train.meta_graph import MetaGraphDef as MetaGraphDef  # noqa: E402
from miniflow.train.meta_graph import export_meta_graph as export_meta_graph  # noqa: E402
from miniflow.train.meta_graph import import_meta_graph as import_meta_graph  # noqa: E402
from miniflow.train.saver import Saver as Saver  # noqa: E402
from miniflow.summary.reader import summary_iterator as summary_iterator  # noqa: E402

__all__ += [
    "CheckpointState",
    "MetaGraphDef",
    "Saver",
    "checkpoint_exists",
    "export_meta_graph",
    "get_checkpoint_mtimes",
    "get_checkpoint_state",
    "import_meta_graph",
    "latest_checkpoint",
    "list_variables",
    "load_variable",
    "summary_iterator",
    "update_checkpoint_state",
]

# -- issue 13: the Example protocol buffers -----------------------------------------------
from miniflow.core.example_proto import BytesList as BytesList  # noqa: E402
from miniflow.core.example_proto import Example as Example  # noqa: E402
from miniflow.core.example_proto import Feature as Feature  # noqa: E402
from miniflow.core.example_proto import FeatureList as FeatureList  # noqa: E402
from miniflow.core.example_proto import FeatureLists as FeatureLists  # noqa: E402
from miniflow.core.example_proto import Features as Features  # noqa: E402
from miniflow.core.example_proto import FloatList as FloatList  # noqa: E402
from miniflow.core.example_proto import Int64List as Int64List  # noqa: E402
from miniflow.core.example_proto import SequenceExample as SequenceExample  # noqa: E402
from miniflow.ops.parsing_ops import match_filenames_once as match_filenames_once  # noqa: E402

__all__ += [
    "BytesList",
    "Example",
    "Feature",
    "FeatureList",
    "FeatureLists",
    "Features",
    "FloatList",
    "Int64List",
    "SequenceExample",
    "match_filenames_once",
]

# -- issue 13: misc train (proximal/dual-averaging optimizers) ----------------------------
from miniflow.train.adagrad_da import AdagradDAOptimizer as AdagradDAOptimizer  # noqa: E402
from miniflow.train.proximal_adagrad import (  # noqa: E402
    ProximalAdagradOptimizer as ProximalAdagradOptimizer,
)
from miniflow.train.proximal_gradient_descent import (  # noqa: E402
    ProximalGradientDescentOptimizer as ProximalGradientDescentOptimizer,
)

from miniflow.train.cosine_decays import cosine_decay_restarts as cosine_decay_restarts  # noqa: E402,E501
from miniflow.train.cosine_decays import linear_cosine_decay as linear_cosine_decay  # noqa: E402
from miniflow.train.cosine_decays import (  # noqa: E402
    noisy_linear_cosine_decay as noisy_linear_cosine_decay,
)
from miniflow.train.learning_rate_decay import (  # noqa: E402
    piecewise_constant as piecewise_constant_decay,
)

from miniflow.train.checkpoint_management import (  # noqa: E402
    NewCheckpointReader as NewCheckpointReader,
    checkpoints_iterator as checkpoints_iterator,
    generate_checkpoint_state_proto as generate_checkpoint_state_proto,
    load_checkpoint as load_checkpoint,
    remove_checkpoint as remove_checkpoint,
)
from miniflow.train.cluster_spec import ClusterDef as ClusterDef  # noqa: E402
from miniflow.train.cluster_spec import ClusterSpec as ClusterSpec  # noqa: E402
from miniflow.train.cluster_spec import JobDef as JobDef  # noqa: E402
from miniflow.train.cluster_spec import ServerDef as ServerDef  # noqa: E402
from miniflow.train.global_step_check import assert_global_step as assert_global_step  # noqa: E402,E501
from miniflow.train.graph_def import write_graph as write_graph  # noqa: E402
from miniflow.train.object_checkpoint import Checkpoint as Checkpoint  # noqa: E402
from miniflow.train.object_checkpoint import CheckpointManager as CheckpointManager  # noqa: E402,E501
from miniflow.train.object_checkpoint import CheckpointOptions as CheckpointOptions  # noqa: E402,E501
from miniflow.train.saver_def import SaverDef as SaverDef  # noqa: E402
from miniflow.train.sdca_shrink import sdca_shrink_l1 as sdca_shrink_l1  # noqa: E402
from miniflow.train.warm_starting import VocabInfo as VocabInfo  # noqa: E402
from miniflow.train.warm_starting import init_from_checkpoint as init_from_checkpoint  # noqa: E402,E501
from miniflow.train.warm_starting import warm_start as warm_start  # noqa: E402

__all__ += [
    "AdagradDAOptimizer",
    "ProximalAdagradOptimizer",
    "ProximalGradientDescentOptimizer",
    "cosine_decay_restarts",
    "linear_cosine_decay",
    "noisy_linear_cosine_decay",
    "piecewise_constant_decay",
    "Checkpoint",
    "CheckpointManager",
    "CheckpointOptions",
    "ClusterDef",
    "ClusterSpec",
    "JobDef",
    "NewCheckpointReader",
    "SaverDef",
    "ServerDef",
    "VocabInfo",
    "assert_global_step",
    "checkpoints_iterator",
    "generate_checkpoint_state_proto",
    "init_from_checkpoint",
    "load_checkpoint",
    "remove_checkpoint",
    "sdca_shrink_l1",
    "warm_start",
    "write_graph",
]

# -- issue 13: monitored training loop ------------------------------------------------------
from miniflow.train.basic_session_run_hooks import (  # noqa: E402
    CheckpointSaverHook as CheckpointSaverHook,
    CheckpointSaverListener as CheckpointSaverListener,
    FeedFnHook as FeedFnHook,
    FinalOpsHook as FinalOpsHook,
    GlobalStepWaiterHook as GlobalStepWaiterHook,
    LoggingTensorHook as LoggingTensorHook,
    NanLossDuringTrainingError as NanLossDuringTrainingError,
    NanTensorHook as NanTensorHook,
    ProfilerHook as ProfilerHook,
    SecondOrStepTimer as SecondOrStepTimer,
    StepCounterHook as StepCounterHook,
    StopAtStepHook as StopAtStepHook,
    SummarySaverHook as SummarySaverHook,
)
from miniflow.train.coordinator import Coordinator as Coordinator  # noqa: E402
from miniflow.train.coordinator import LooperThread as LooperThread  # noqa: E402
from miniflow.train.monitored_session import (  # noqa: E402
    ChiefSessionCreator as ChiefSessionCreator,
    MonitoredSession as MonitoredSession,
    MonitoredTrainingSession as MonitoredTrainingSession,
    Scaffold as Scaffold,
    SessionCreator as SessionCreator,
    SingularMonitoredSession as SingularMonitoredSession,
    WorkerSessionCreator as WorkerSessionCreator,
)
from miniflow.train.session_manager import SessionManager as SessionManager  # noqa: E402
from miniflow.train.session_run_hook import SessionRunArgs as SessionRunArgs  # noqa: E402
from miniflow.train.session_run_hook import SessionRunContext as SessionRunContext  # noqa: E402
from miniflow.train.session_run_hook import SessionRunHook as SessionRunHook  # noqa: E402
from miniflow.train.session_run_hook import SessionRunValues as SessionRunValues  # noqa: E402
from miniflow.train.supervisor import Supervisor as Supervisor  # noqa: E402
from miniflow.train.supervisor import basic_train_loop as basic_train_loop  # noqa: E402

__all__ += [
    "CheckpointSaverHook",
    "CheckpointSaverListener",
    "ChiefSessionCreator",
    "Coordinator",
    "FeedFnHook",
    "FinalOpsHook",
    "GlobalStepWaiterHook",
    "LoggingTensorHook",
    "LooperThread",
    "MonitoredSession",
    "MonitoredTrainingSession",
    "NanLossDuringTrainingError",
    "NanTensorHook",
    "ProfilerHook",
    "Scaffold",
    "SecondOrStepTimer",
    "SessionCreator",
    "SessionManager",
    "SessionRunArgs",
    "SessionRunContext",
    "SessionRunHook",
    "SessionRunValues",
    "SingularMonitoredSession",
    "StepCounterHook",
    "StopAtStepHook",
    "SummarySaverHook",
    "Supervisor",
    "WorkerSessionCreator",
    "basic_train_loop",
]

# -- issue 13: queue input pipelines -------------------------------------------------------
from miniflow.train import queue_runner as queue_runner  # noqa: E402
from miniflow.train.input import batch as batch  # noqa: E402
from miniflow.train.input import batch_join as batch_join  # noqa: E402
from miniflow.train.input import input_producer as input_producer  # noqa: E402
from miniflow.train.input import limit_epochs as limit_epochs  # noqa: E402
from miniflow.train.input import maybe_batch as maybe_batch  # noqa: E402
from miniflow.train.input import maybe_batch_join as maybe_batch_join  # noqa: E402
from miniflow.train.input import maybe_shuffle_batch as maybe_shuffle_batch  # noqa: E402
from miniflow.train.input import (  # noqa: E402
    maybe_shuffle_batch_join as maybe_shuffle_batch_join,
)
from miniflow.train.input import range_input_producer as range_input_producer  # noqa: E402
from miniflow.train.input import shuffle_batch as shuffle_batch  # noqa: E402
from miniflow.train.input import shuffle_batch_join as shuffle_batch_join  # noqa: E402
from miniflow.train.input import slice_input_producer as slice_input_producer  # noqa: E402
from miniflow.train.input import string_input_producer as string_input_producer  # noqa: E402
from miniflow.train.queue_runner import QueueRunner as QueueRunner  # noqa: E402
from miniflow.train.queue_runner import add_queue_runner as add_queue_runner  # noqa: E402
from miniflow.train.queue_runner import start_queue_runners as start_queue_runners  # noqa: E402

__all__ += [
    "QueueRunner",
    "add_queue_runner",
    "batch",
    "batch_join",
    "input_producer",
    "limit_epochs",
    "maybe_batch",
    "maybe_batch_join",
    "maybe_shuffle_batch",
    "maybe_shuffle_batch_join",
    "queue_runner",
    "range_input_producer",
    "shuffle_batch",
    "shuffle_batch_join",
    "slice_input_producer",
    "start_queue_runners",
    "string_input_producer",
]

# -- issue 13: mixed precision (tf.train.experimental: loss scaling)
from miniflow.train import experimental as experimental  # noqa: E402

__all__ += ["experimental"]
