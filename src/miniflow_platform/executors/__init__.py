"""Executors by name. ``get_executor("local", settings)`` builds one.

The public names are loaded on first use (PEP 562), so the sandbox init process,
which imports ``executors.sandbox`` as pid 1 of every isolated run, starts fast.
"""

from __future__ import annotations

import importlib

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs the init ~20 ms
if TYPE_CHECKING:
    from typing import Any

    from miniflow_platform.config import Settings
    from miniflow_platform.executors.base import Executor

EXECUTORS = {
    "local": "miniflow_platform.executors.local:LocalExecutor",
    "kubernetes": "miniflow_platform.executors.kubernetes:KubernetesExecutor",
}
_FROM_BASE = ("Endpoint", "Executor", "Resources", "RunSpec", "RunState", "RunStatus")


def get_executor(name: str, settings: Settings) -> Executor:
    """Build the executor registered under ``name`` (a key of ``EXECUTORS``)."""
    if name not in EXECUTORS:
        raise ValueError(f"unknown executor {name!r}; expected one of {sorted(EXECUTORS)}")
    module_name, _, cls_name = EXECUTORS[name].partition(":")
    cls = getattr(importlib.import_module(module_name), cls_name)
    executor: Executor = cls(settings)
    return executor


def __getattr__(name: str) -> Any:
    if name in _FROM_BASE:
        return getattr(importlib.import_module("miniflow_platform.executors.base"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["EXECUTORS", *_FROM_BASE, "get_executor"]
