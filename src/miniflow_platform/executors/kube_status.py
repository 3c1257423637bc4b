"""A run's state read from its Kubernetes objects: Job conditions and pod containers.

Pure functions of the objects the client returns (or the watch caches hold): no API
calls, so the mapping is the same whether the objects came from a watch or a read.
``Complete`` -> exit 0, ``DeadlineExceeded`` -> TIMED_OUT, a container terminated with
``OOMKilled`` -> OOM_KILLED, a container waiting for a reason that never resolves
(``FATAL_WAITING``) -> exit 127.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from miniflow_platform.executors.base import RunState, RunStatus

# Waiting reasons that never resolve on their own: the run failed to start.
FATAL_WAITING = frozenset({"InvalidImageName", "ErrImageNeverPull", "CreateContainerError"})


def job_status(job: Any, pods_of: Callable[[bool], list[Any]]) -> RunStatus:
    """A Job's state; ``pods_of(cached)`` lists its pods oldest first (a failed Job's
    pods are asked for uncached: the pod cache may not have their end yet)."""
    conds = {
        c.type: c for c in ((job.status and job.status.conditions) or []) if c.status == "True"
    }
    if "Complete" in conds:
        return RunStatus(RunState.EXITED, 0)
    failed = conds.get("Failed") or conds.get("FailureTarget")
    pods = pods_of(failed is None)
    if failed is None:
        waiting = fatal_waiting(pods)
        if waiting:
            return RunStatus(RunState.EXITED, 127, waiting)
        return RunStatus(RunState.RUNNING)
    if failed.reason == "DeadlineExceeded":
        limit = job.spec.active_deadline_seconds
        return RunStatus(RunState.TIMED_OUT, None, f"the job ran past its {limit} s deadline")
    end = pods_status(pods)
    if end.state == RunState.RUNNING:  # the pods are gone already: the Job's word
        return RunStatus(RunState.EXITED, 1, failed.message or failed.reason or "failed")
    return end


def pod_status(pod: Any) -> RunStatus:
    """A bare Pod's state (a notebook): its deadline, else its container."""
    if pod.status is not None and pod.status.reason == "DeadlineExceeded":
        return RunStatus(RunState.TIMED_OUT, None, "the pod ran past its deadline")
    return pods_status([pod])


def pods_status(pods: list[Any]) -> RunStatus:
    """The newest pod's container: terminated (now or before a restart) ends the run."""
    for pod in reversed(pods):
        for cs in (pod.status and pod.status.container_statuses) or []:
            term = (cs.state and cs.state.terminated) or (
                cs.last_state and cs.last_state.terminated
            )
            if term is None:
                continue
            if term.reason == "OOMKilled":
                return RunStatus(
                    RunState.OOM_KILLED, term.exit_code, "the job exceeded its memory limit"
                )
            reason = f"{term.reason}: {term.message}" if term.message else ""
            return RunStatus(RunState.EXITED, term.exit_code, reason)
        waiting = fatal_waiting([pod])
        if waiting:
            return RunStatus(RunState.EXITED, 127, waiting)
        if pod.status is not None and pod.status.phase in ("Succeeded", "Failed"):
            code = 0 if pod.status.phase == "Succeeded" else 1
            return RunStatus(RunState.EXITED, code, pod.status.message or "")
        break
    return RunStatus(RunState.RUNNING)


def fatal_waiting(pods: list[Any]) -> str:
    """Why a container of ``pods`` can never start, or ""."""
    for pod in pods:
        for cs in (pod.status and pod.status.container_statuses) or []:
            waiting = cs.state and cs.state.waiting
            if waiting is not None and waiting.reason in FATAL_WAITING:
                return f"the container cannot start: {waiting.reason}: {waiting.message or ''}"
    return ""
