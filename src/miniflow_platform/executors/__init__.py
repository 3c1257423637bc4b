"""Executors by name. ``get_executor("local", settings)`` builds one."""

from __future__ import annotations

from typing import TYPE_CHECKING

from miniflow_platform.executors.base import Executor, Resources, RunSpec, RunState, RunStatus

if TYPE_CHECKING:
    from miniflow_platform.config import Settings

EXECUTORS = {"local": "miniflow_platform.executors.local:LocalExecutor"}


def get_executor(name: str, settings: Settings) -> Executor:
    """Build the executor registered under ``name`` (a key of ``EXECUTORS``)."""
    import importlib

    if name not in EXECUTORS:
        raise ValueError(f"unknown executor {name!r}; expected one of {sorted(EXECUTORS)}")
    module_name, _, cls_name = EXECUTORS[name].partition(":")
    cls = getattr(importlib.import_module(module_name), cls_name)
    executor: Executor = cls(settings)
    return executor


__all__ = ["EXECUTORS", "Executor", "Resources", "RunSpec", "RunState", "RunStatus", "get_executor"]
