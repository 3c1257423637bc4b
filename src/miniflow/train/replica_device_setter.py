"""``tf.train.replica_device_setter``: the device function of between-graph replication.

Variables (ops in ``ps_ops``) go to ``/job:ps/task:k``, ``k`` chosen by ``ps_strategy``
(round robin by default, in creation order: the global step first, then each part of a
partitioned variable); every other op goes to ``worker_device``. Fields an inner
``tf.device`` scope already set win over both. Slot variables (and moving averages)
are created under ``colocate_with(var)``, so they follow their variable; as in TF they
still take their turn of the round robin. The device strings are TF's (checked against TF 2.21 in
``tests/distributed/test_replica_device_setter.py``).
"""

from __future__ import annotations

from miniflow.ops.device_spec import DeviceSpec
from miniflow.train.cluster_spec import ClusterSpec

__all__ = ["replica_device_setter", "STANDARD_PS_OPS"]

STANDARD_PS_OPS = (
    "Variable",
    "VariableV2",
    "AutoReloadVariable",
    "MutableHashTable",
    "MutableHashTableV2",
    "MutableHashTableOfTensors",
    "MutableHashTableOfTensorsV2",
    "MutableDenseHashTable",
    "MutableDenseHashTableV2",
    "VarHandleOp",
    "BoostedTreesEnsembleResourceHandleOp",
    "BoostedTreesQuantileStreamResourceHandleOp",
    "ResourceConditionalAccumulator",
    "DecisionTree",
    "TensorForestTreeResourceHandleOp",
    "TensorForestFertileStatsResourceHandleOp",
)


class _RoundRobinStrategy:
    """Task 0, 1, ..., n-1, 0, ... for successive ps ops."""

    def __init__(self, num_tasks: int):
        self._num_tasks = num_tasks
        self._next_task = 0

    def __call__(self, unused_op):
        task = self._next_task
        self._next_task = (self._next_task + 1) % self._num_tasks
        return task


class _ReplicaDeviceChooser:
    def __init__(self, ps_tasks, ps_device, worker_device, merge_devices, ps_ops, ps_strategy):
        self._ps_tasks = ps_tasks
        self._ps_device = ps_device
        self._worker_device = worker_device
        self._merge_devices = merge_devices
        self._ps_ops = ps_ops
        self._ps_strategy = ps_strategy

    def device_function(self, op):
        if not self._merge_devices and op.device:
            return op.device
        current = DeviceSpec.from_string(op.device or "")
        if self._ps_tasks and self._ps_device and op.type in self._ps_ops:
            ps = DeviceSpec.from_string(self._ps_device)
            if ps.job and (not current.job or current.job == ps.job):
                ps = ps.replace(task=self._ps_strategy(op))
            return ps.make_merged_spec(current).to_string()
        worker = DeviceSpec.from_string(self._worker_device or "")
        return worker.make_merged_spec(current).to_string()


def replica_device_setter(
    ps_tasks=0,
    ps_device="/job:ps",
    worker_device="/job:worker",
    merge_devices=True,
    cluster=None,
    ps_ops=None,
    ps_strategy=None,
):
    """A device function for ``tf.device``: variables on the ps tasks, the rest on
    ``worker_device``. Returns None (no placement) when there are no ps tasks.

    Args:
        ps_tasks: the number of ps tasks (ignored when ``cluster`` is given).
        ps_device, worker_device: the device strings of the two roles.
        merge_devices: let fields set by inner scopes win (TF's only supported mode).
        cluster: a `ClusterSpec` (or its dict); its ``ps`` job gives ``ps_tasks``.
        ps_ops: op types placed on the ps (default: the variable ops).
        ps_strategy: ``f(op) -> task index``; round robin by default.

    Raises:
        TypeError: ``ps_strategy`` is not callable.
    """
    if cluster is not None:
        spec = (cluster if isinstance(cluster, ClusterSpec) else ClusterSpec(cluster)).as_dict()
        ps_job = DeviceSpec.from_string(ps_device).job
        if ps_job not in spec or spec[ps_job] is None:
            return None
        ps_tasks = len(spec[ps_job])
    if ps_tasks == 0:
        return None
    if ps_ops is None:
        ps_ops = list(STANDARD_PS_OPS)
    if ps_strategy is None:
        ps_strategy = _RoundRobinStrategy(ps_tasks)
    if not callable(ps_strategy):
        raise TypeError("ps_strategy must be callable")
    chooser = _ReplicaDeviceChooser(
        ps_tasks, ps_device, worker_device, merge_devices, ps_ops, ps_strategy
    )
    return chooser.device_function
