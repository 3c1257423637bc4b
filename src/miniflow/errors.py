"""TF1's exception classes (`tf.errors`).

Each subclasses a built-in too, so both ``except tf.errors.NotFoundError`` and
``except KeyError`` work.
"""

from __future__ import annotations

import warnings


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
        if args and type(self) is OpError:  # OpError(node_def, op, message, error_code)
            self.error_code = args[0]

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


class UnauthenticatedError(OpError):
    """The request does not have valid authentication credentials."""


# TF's status codes (``tf.errors.NOT_FOUND`` == 5), in TF's order.
(
    OK,
    CANCELLED,
    UNKNOWN,
    INVALID_ARGUMENT,
    DEADLINE_EXCEEDED,
    NOT_FOUND,
    ALREADY_EXISTS,
    PERMISSION_DENIED,
    RESOURCE_EXHAUSTED,
    FAILED_PRECONDITION,
    ABORTED,
    OUT_OF_RANGE,
    UNIMPLEMENTED,
    INTERNAL,
    UNAVAILABLE,
    DATA_LOSS,
    UNAUTHENTICATED,
) = range(17)

_CODE_TO_EXCEPTION_CLASS = {
    CANCELLED: CancelledError,
    UNKNOWN: UnknownError,
    INVALID_ARGUMENT: InvalidArgumentError,
    DEADLINE_EXCEEDED: DeadlineExceededError,
    NOT_FOUND: NotFoundError,
    ALREADY_EXISTS: AlreadyExistsError,
    PERMISSION_DENIED: PermissionDeniedError,
    RESOURCE_EXHAUSTED: ResourceExhaustedError,
    FAILED_PRECONDITION: FailedPreconditionError,
    ABORTED: AbortedError,
    OUT_OF_RANGE: OutOfRangeError,
    UNIMPLEMENTED: UnimplementedError,
    INTERNAL: InternalError,
    UNAVAILABLE: UnavailableError,
    DATA_LOSS: DataLossError,
    UNAUTHENTICATED: UnauthenticatedError,
}
_EXCEPTION_CLASS_TO_CODE = {cls: code for code, cls in _CODE_TO_EXCEPTION_CLASS.items()}
OpError.error_code = UNKNOWN
for _code, _cls in _CODE_TO_EXCEPTION_CLASS.items():
    _cls.error_code = _code


def exception_type_from_error_code(error_code):
    """The exception class of a TF status code (KeyError for an unknown code)."""
    return _CODE_TO_EXCEPTION_CLASS[error_code]


def error_code_from_exception_type(cls):
    """The TF status code of an exception class. Like TF, an unknown class warns and
    gives an ``UnknownError`` instance."""
    try:
        return _EXCEPTION_CLASS_TO_CODE[cls]
    except KeyError:
        warnings.warn("Unknown class exception", stacklevel=2)
        return UnknownError(None, None, "Unknown class exception", None)


__all__ = [
    "OpError",
    "CancelledError",
    "UnknownError",
    "InvalidArgumentError",
    "DeadlineExceededError",
    "NotFoundError",
    "AlreadyExistsError",
    "PermissionDeniedError",
    "ResourceExhaustedError",
    "FailedPreconditionError",
    "AbortedError",
    "OutOfRangeError",
    "UnimplementedError",
    "InternalError",
    "UnavailableError",
    "DataLossError",
    "UnauthenticatedError",
    "exception_type_from_error_code",
    "error_code_from_exception_type",
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
]
