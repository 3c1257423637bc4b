"""``tf.train.ClusterSpec`` and the ClusterDef / JobDef / ServerDef messages: pure data
describing a TF cluster, which ``tf.train.Server`` (``train/server.py``) serves."""

from __future__ import annotations


class JobDef:
    """A job: its ``name`` and ``tasks`` (task index -> address)."""

    def __init__(self, name="", tasks=None):
        self.name = name
        self.tasks = dict(tasks or {})

    def __eq__(self, other):
        return isinstance(other, JobDef) and (self.name, self.tasks) == (other.name, other.tasks)

    def __repr__(self):
        return f"JobDef(name={self.name!r}, tasks={self.tasks!r})"


class ClusterDef:
    """The jobs of a cluster (``job``: a list of `JobDef`)."""

    def __init__(self, job=None):
        self.job = list(job or [])

    def __eq__(self, other):
        return isinstance(other, ClusterDef) and self.job == other.job

    def __repr__(self):
        return f"ClusterDef(job={self.job!r})"


class ServerDef:
    """A server's place in a cluster: ``cluster``, ``job_name``, ``task_index``,
    ``default_session_config`` and ``protocol``."""

    def __init__(
        self, cluster=None, job_name="", task_index=0, default_session_config=None, protocol=""
    ):
        self.cluster = cluster if cluster is not None else ClusterDef()
        self.job_name, self.task_index = job_name, task_index
        self.default_session_config, self.protocol = default_session_config, protocol

    def __repr__(self):
        return (
            f"ServerDef(cluster={self.cluster!r}, job_name={self.job_name!r}, "
            f"task_index={self.task_index}, protocol={self.protocol!r})"
        )


class ClusterSpec:
    """The jobs of a cluster and their tasks' network addresses.

    ``tf.train.ClusterSpec(cluster)``: ``cluster`` maps job names to a list of addresses
    (task ``i`` is the ``i``-th) or to a dict task index -> address; or it is a
    `ClusterDef` or another ClusterSpec.

    Raises:
        TypeError: ``cluster`` or a job's tasks have another form (TF's messages).
    """

    def __init__(self, cluster):
        if isinstance(cluster, dict):
            self._spec = {}
            for job, tasks in cluster.items():
                if isinstance(tasks, (list, tuple)):
                    self._spec[job] = dict(enumerate(tasks))
                elif isinstance(tasks, dict):
                    self._spec[job] = {int(i): a for i, a in tasks.items()}
                else:
                    raise TypeError(
                        f"The tasks for job {job!r} must be a list or a "
                        "dictionary from integers to strings."
                    )
        elif isinstance(cluster, ClusterSpec):
            self._spec = {job: dict(tasks) for job, tasks in cluster._spec.items()}
        elif isinstance(cluster, ClusterDef):
            self._spec = {
                j.name: {int(i): a for i, a in sorted(j.tasks.items())} for j in cluster.job
            }
        else:
            raise TypeError(
                "`cluster` must be a dictionary mapping one or more job names "
                "to lists of network addresses, or a `ClusterDef` protocol "
                "buffer"
            )

    def __bool__(self):
        return bool(self._spec)

    def __eq__(self, other):
        return isinstance(other, ClusterSpec) and self._spec == other._spec

    def __ne__(self, other):
        return not self == other

    def __repr__(self):
        return f"ClusterSpec({ {k: self._job_dict(k) for k in sorted(self._spec)}!r})"

    __str__ = __repr__

    def _job_dict(self, job):
        """A dense job as a list of addresses, a sparse one as index -> address."""
        tasks = self._spec[job]
        if sorted(tasks) == list(range(len(tasks))):
            return [tasks[i] for i in range(len(tasks))]
        return dict(sorted(tasks.items()))

    def _tasks(self, job_name):
        try:
            return self._spec[job_name]
        except KeyError:
            raise ValueError(f"No such job in cluster: {job_name!r}") from None

    @property
    def jobs(self) -> list:
        return list(self._spec)

    def as_dict(self) -> dict:
        """Job name -> list of addresses (or index -> address for a sparse job)."""
        return {job: self._job_dict(job) for job in self._spec}

    def as_cluster_def(self) -> ClusterDef:
        return ClusterDef(
            [JobDef(job, dict(sorted(self._spec[job].items()))) for job in sorted(self._spec)]
        )

    def num_tasks(self, job_name) -> int:
        return len(self._tasks(job_name))

    def task_indices(self, job_name) -> list:
        return sorted(self._tasks(job_name))

    def task_address(self, job_name, task_index) -> str:
        tasks = self._tasks(job_name)
        try:
            return tasks[task_index]
        except KeyError:
            raise ValueError(f"No task with index {task_index!r} in job {job_name!r}") from None

    def job_tasks(self, job_name) -> list:
        """The job's addresses by task index, None where an index has no task."""
        tasks = self._tasks(job_name)
        return [tasks.get(i) for i in range(max(tasks) + 1)] if tasks else []
