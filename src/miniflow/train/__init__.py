"""`tf.train`: optimizers (in-place update ops beside each one) and training utilities."""

# Optimizer family, global step, learning-rate schedules, moving averages (issue 5).
from miniflow.train.adadelta import AdadeltaOptimizer as AdadeltaOptimizer
from miniflow.train.adagrad import AdagradOptimizer as AdagradOptimizer
from miniflow.train.adam import AdamOptimizer as AdamOptimizer
from miniflow.train.ftrl import FtrlOptimizer as FtrlOptimizer
from miniflow.train.gradient_descent import GradientDescentOptimizer as GradientDescentOptimizer
from miniflow.train.learning_rate_decay import (
    cosine_decay as cosine_decay,
    exponential_decay as exponential_decay,
    inverse_time_decay as inverse_time_decay,
    natural_exp_decay as natural_exp_decay,
    piecewise_constant as piecewise_constant,
    polynomial_decay as polynomial_decay,
)
from miniflow.train.momentum import MomentumOptimizer as MomentumOptimizer
from miniflow.train.moving_averages import (
    ExponentialMovingAverage as ExponentialMovingAverage,
)
from miniflow.train.optimizer import Optimizer as Optimizer
from miniflow.train.rmsprop import RMSPropOptimizer as RMSPropOptimizer
from miniflow.train.training_util import (
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
from miniflow.summary.reader import summary_iterator as summary_iterator
from miniflow.train.checkpoint import (
    CheckpointState as CheckpointState,
    checkpoint_exists as checkpoint_exists,
    get_checkpoint_mtimes as get_checkpoint_mtimes,
    get_checkpoint_state as get_checkpoint_state,
    latest_checkpoint as latest_checkpoint,
    list_variables as list_variables,
    load_variable as load_variable,
    update_checkpoint_state as update_checkpoint_state,
)
from miniflow.train.meta_graph import (
    MetaGraphDef as MetaGraphDef,
    export_meta_graph as export_meta_graph,
)
from miniflow.train.saver import Saver as Saver
from miniflow.train.tf_graph_proto import import_meta_graph as import_meta_graph

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
from miniflow.core.example_proto import (  # noqa: E402
    BytesList as BytesList,
    Example as Example,
    Feature as Feature,
    FeatureList as FeatureList,
    FeatureLists as FeatureLists,
    Features as Features,
    FloatList as FloatList,
    Int64List as Int64List,
    SequenceExample as SequenceExample,
)
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
from miniflow.train import remote_session as _remote_session  # noqa: E402, F401  grpc:// targets
from miniflow.train.adagrad_da import AdagradDAOptimizer as AdagradDAOptimizer  # noqa: E402
from miniflow.train.checkpoint_management import (  # noqa: E402
    NewCheckpointReader as NewCheckpointReader,
    checkpoints_iterator as checkpoints_iterator,
    generate_checkpoint_state_proto as generate_checkpoint_state_proto,
    load_checkpoint as load_checkpoint,
    remove_checkpoint as remove_checkpoint,
)
from miniflow.train.cluster_spec import (  # noqa: E402
    ClusterDef as ClusterDef,
    ClusterSpec as ClusterSpec,
    JobDef as JobDef,
    ServerDef as ServerDef,
)
from miniflow.train.cosine_decays import (  # noqa: E402
    cosine_decay_restarts as cosine_decay_restarts,
    linear_cosine_decay as linear_cosine_decay,
    noisy_linear_cosine_decay as noisy_linear_cosine_decay,
)
from miniflow.train.global_step_check import assert_global_step as assert_global_step  # noqa: E402
from miniflow.train.graph_def import write_graph as write_graph  # noqa: E402
from miniflow.train.learning_rate_decay import (  # noqa: E402
    piecewise_constant as piecewise_constant_decay,
)
from miniflow.train.object_checkpoint import (  # noqa: E402
    Checkpoint as Checkpoint,
    CheckpointManager as CheckpointManager,
    CheckpointOptions as CheckpointOptions,
)
from miniflow.train.proximal_adagrad import (  # noqa: E402
    ProximalAdagradOptimizer as ProximalAdagradOptimizer,
)
from miniflow.train.proximal_gradient_descent import (  # noqa: E402
    ProximalGradientDescentOptimizer as ProximalGradientDescentOptimizer,
)
from miniflow.train.replica_device_setter import (  # noqa: E402
    replica_device_setter as replica_device_setter,
)
from miniflow.train.saver_def import SaverDef as SaverDef  # noqa: E402
from miniflow.train.sdca_shrink import sdca_shrink_l1 as sdca_shrink_l1  # noqa: E402
from miniflow.train.server import Server as Server  # noqa: E402
from miniflow.train.sync_replicas_optimizer import (  # noqa: E402
    SyncReplicasOptimizer as SyncReplicasOptimizer,
)
from miniflow.train.warm_starting import (  # noqa: E402
    VocabInfo as VocabInfo,
    init_from_checkpoint as init_from_checkpoint,
    warm_start as warm_start,
)

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
    "Server",
    "SyncReplicasOptimizer",
    "replica_device_setter",
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
from miniflow.train.coordinator import (  # noqa: E402
    Coordinator as Coordinator,
    LooperThread as LooperThread,
)
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
from miniflow.train.session_run_hook import (  # noqa: E402
    SessionRunArgs as SessionRunArgs,
    SessionRunContext as SessionRunContext,
    SessionRunHook as SessionRunHook,
    SessionRunValues as SessionRunValues,
)
from miniflow.train.supervisor import (  # noqa: E402
    Supervisor as Supervisor,
    basic_train_loop as basic_train_loop,
)

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
from miniflow.train.input import (  # noqa: E402
    batch as batch,
    batch_join as batch_join,
    input_producer as input_producer,
    limit_epochs as limit_epochs,
    maybe_batch as maybe_batch,
    maybe_batch_join as maybe_batch_join,
    maybe_shuffle_batch as maybe_shuffle_batch,
    maybe_shuffle_batch_join as maybe_shuffle_batch_join,
    range_input_producer as range_input_producer,
    shuffle_batch as shuffle_batch,
    shuffle_batch_join as shuffle_batch_join,
    slice_input_producer as slice_input_producer,
    string_input_producer as string_input_producer,
)
from miniflow.train.queue_runner import (  # noqa: E402
    QueueRunner as QueueRunner,
    add_queue_runner as add_queue_runner,
    start_queue_runners as start_queue_runners,
)

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
