"""`tf.logging`: TF1's logging functions over Python's ``logging`` (logger "miniflow").

As in TF1, the default verbosity is WARN; `set_verbosity(tf.logging.INFO)` shows more.
"""

from __future__ import annotations

import logging as _logging
import sys

DEBUG = _logging.DEBUG
INFO = _logging.INFO
WARN = _logging.WARN
ERROR = _logging.ERROR
FATAL = _logging.FATAL

_counts: dict = {}


def get_logger() -> _logging.Logger:
    """The "miniflow" logger (given a stderr handler on first use if logging is not
    configured)."""
    logger = _logging.getLogger("miniflow")
    if not logger.handlers and not _logging.getLogger().handlers:
        # Only when the program configured no logging itself (as TF1 does), so records
        # are never printed twice.
        handler = _logging.StreamHandler(sys.stderr)
        handler.setFormatter(_logging.Formatter("%(levelname)s:miniflow:%(message)s"))
        logger.addHandler(handler)
    if logger.level == _logging.NOTSET:
        logger.setLevel(WARN)
    return logger


def log(level, msg, *args, **kwargs):
    get_logger().log(level, msg, *args, **kwargs)


def debug(msg, *args, **kwargs):
    get_logger().debug(msg, *args, **kwargs)


def info(msg, *args, **kwargs):
    get_logger().info(msg, *args, **kwargs)


def warning(msg, *args, **kwargs):
    get_logger().warning(msg, *args, **kwargs)


warn = warning


def error(msg, *args, **kwargs):
    get_logger().error(msg, *args, **kwargs)


def fatal(msg, *args, **kwargs):
    """Logs at FATAL (like TF1, this does not exit)."""
    get_logger().critical(msg, *args, **kwargs)


def vlog(level, msg, *args, **kwargs):
    get_logger().log(level, msg, *args, **kwargs)


def log_if(level, msg, condition, *args):
    if condition:
        log(level, msg, *args)


def _caller_key():
    f = sys._getframe(2)
    return (f.f_code.co_filename, f.f_lineno)


def log_every_n(level, msg, n, *args):
    """Logs on the 1st, (n+1)th, (2n+1)th... call from the same line."""
    key = _caller_key()
    count = _counts.get(key, 0)
    _counts[key] = count + 1
    if count % max(int(n), 1) == 0:
        log(level, msg, *args)


def log_first_n(level, msg, n, *args):
    """Logs only the first ``n`` calls from the same line."""
    key = _caller_key()
    count = _counts.get(key, 0)
    _counts[key] = count + 1
    if count < n:
        log(level, msg, *args)


def set_verbosity(v) -> None:
    get_logger().setLevel(v)


def get_verbosity() -> int:
    return get_logger().getEffectiveLevel()


def flush() -> None:
    for h in get_logger().handlers:
        h.flush()


def TaskLevelStatusMessage(msg):  # noqa: N802  TF's name
    """Logs a task-level status message (TF logs it at ERROR level)."""
    error(msg)
