"""TF1's exception classes (`tf.errors`).

Each subclasses a built-in too, so both ``except tf.errors.NotFoundError`` and
``except KeyError`` work.
"""

from __future__ import annotations


class OpError(Exception):
    """Base of the errors raised while building or running ops.

    Attributes ``node_def``, ``op`` and ``message`` follow TF1's ``tf.errors.OpError``.
    """

    def __init__(self, node_def=None, op=None, message: str = "", *args):
        if node_def is not None and op is None and not message and isinstance(node_def, str):
            message, node_def = node_def, None
        super().__init__(message)
        self.node_def = node_def
        self.op = op
        self.message = message

    def __str__(self) -> str:
        return self.message


class CancelledError(OpError):
    """An operation or step was cancelled."""


class UnknownError(OpError):
    """An error of a kind miniflow does not classify."""


class InvalidArgumentError(OpError, ValueError):
    """An op received an invalid argument: a bad feed, shape or value."""


class DeadlineExceededError(OpError):
    """A deadline expired before the operation could complete."""


class NotFoundError(OpError, KeyError):
    """A requested entity (tensor, op, variable, file) was not found."""


class AlreadyExistsError(OpError):
    """An entity that was to be created already exists."""


class PermissionDeniedError(OpError):
    """The caller may not perform the operation."""


class ResourceExhaustedError(OpError):
    """Some resource (memory, quota) has been exhausted."""


class FailedPreconditionError(OpError, RuntimeError):
    """The system is not in a state where the operation can run, e.g. an
    uninitialized variable was read."""


class AbortedError(OpError):
    """The operation was aborted."""


class OutOfRangeError(OpError, IndexError):
    """Iteration went past the end of the input (e.g. a `tf.data` iterator)."""


class UnimplementedError(OpError, NotImplementedError):
    """The operation is not implemented."""


class InternalError(OpError):
    """An internal invariant broke; please report it."""


class UnavailableError(OpError):
    """The service is unavailable."""


class DataLossError(OpError):
    """Unrecoverable data loss or corruption (e.g. a corrupt checkpoint)."""


__all__ = [
    "OpError", "CancelledError", "UnknownError", "InvalidArgumentError",
    "DeadlineExceededError", "NotFoundError", "AlreadyExistsError",
    "PermissionDeniedError", "ResourceExhaustedError", "FailedPreconditionError",
    "AbortedError", "OutOfRangeError", "UnimplementedError", "InternalError",
    "UnavailableError", "DataLossError",
]
