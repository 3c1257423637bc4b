"""`tf.train.Coordinator` and `LooperThread`: stopping a set of real threads together.

Any thread may `request_stop` (optionally with its exception); the others poll
`should_stop`; `join` waits for them with a grace period and re-raises the first
exception reported.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
import time

from miniflow import errors

_log = logging.getLogger("miniflow")


class Coordinator:
    """Coordinates the termination of a set of threads.

    Args:
        clean_stop_exception_types: exceptions that stop the threads without being
            re-raised by `join` (default: `tf.errors.OutOfRangeError`).

    Example:
        >>> coord = tf.train.Coordinator()
        >>> threads = [threading.Thread(target=work, args=(coord,)) for _ in range(4)]
        >>> for t in threads: t.start()
        >>> coord.join(threads)
    """

    def __init__(self, clean_stop_exception_types=None):
        if clean_stop_exception_types is None:
            clean_stop_exception_types = (errors.OutOfRangeError,)
        self._clean_types = tuple(clean_stop_exception_types)
        self._lock = threading.Lock()
        self._stop_event = threading.Event()
        self._exc_info = None
        self._joined = False
        self._registered_threads: set = set()

    def _filter(self, ex):
        value = ex[1] if isinstance(ex, tuple) else ex
        return None if isinstance(value, self._clean_types) else ex

    def request_stop(self, ex=None) -> None:
        """Asks all threads to stop; ``ex`` (an exception or an ``exc_info`` tuple), if
        given and not a clean-stop type, is re-raised by `join`. Only the first one counts.

        Raises:
            the exception ``ex`` itself if `join` has already been called.
        """
        with self._lock:
            ex = self._filter(ex)
            if self._joined and ex is not None:
                raise ex[1] if isinstance(ex, tuple) else ex
            if self._stop_event.is_set():
                return
            if ex is not None and self._exc_info is None:
                if isinstance(ex, tuple):
                    self._exc_info = ex
                else:
                    current = sys.exc_info()
                    self._exc_info = current if current[1] is ex else (type(ex), ex, None)
                _log.info("Error reported to Coordinator: %s", self._exc_info[1])
            self._stop_event.set()

    def clear_stop(self) -> None:
        """Forgets a stop request and its exception, so the coordinator can be reused."""
        with self._lock:
            self._joined = False
            self._exc_info = None
            self._stop_event.clear()

    def should_stop(self) -> bool:
        return self._stop_event.is_set()

    @contextlib.contextmanager
    def stop_on_exception(self):
        """Context manager: an exception raised inside becomes `request_stop(exc_info)`."""
        try:
            yield
        except BaseException:  # noqa: BLE001  every exception is reported, as in TF
            self.request_stop(ex=sys.exc_info())

    def wait_for_stop(self, timeout=None) -> bool:
        """Waits until a stop is requested (or ``timeout`` seconds); True if requested."""
        return self._stop_event.wait(timeout)

    def register_thread(self, thread) -> None:
        with self._lock:
            self._registered_threads.add(thread)

    def join(self, threads=None, stop_grace_period_secs=120, ignore_live_threads=False):
        """Waits for ``threads`` (and the registered ones) to end.

        Returns when all have ended; once a stop is requested, the threads get
        ``stop_grace_period_secs`` to finish.

        Raises:
            the exception passed to `request_stop`, if any;
            RuntimeError: threads still alive after the grace period (unless
                ``ignore_live_threads``).
        """
        with self._lock:
            threads = list(self._registered_threads.union(threads or ()))
        while any(t.is_alive() for t in threads) and not self.wait_for_stop(1.0):
            pass
        deadline = time.monotonic() + stop_grace_period_secs
        wait = 0.001
        while any(t.is_alive() for t in threads) and time.monotonic() < deadline:
            time.sleep(max(min(wait, deadline - time.monotonic()), 0.001))
            wait *= 2
        stragglers = [t.name for t in threads if t.is_alive()]
        with self._lock:
            self._joined = True
            self._registered_threads = set()
            if self._exc_info:
                raise self._exc_info[1]
            if stragglers:
                message = f"Coordinator stopped with threads still running: {' '.join(stragglers)}"
                if not ignore_live_threads:
                    raise RuntimeError(message)
                _log.info(message)

    @property
    def joined(self) -> bool:
        return self._joined

    def raise_requested_exception(self) -> None:
        """Raises the exception passed to `request_stop`, if any."""
        with self._lock:
            if self._exc_info:
                raise self._exc_info[1]


class LooperThread(threading.Thread):
    """A daemon thread that calls ``target`` (or `run_loop`) repeatedly, every
    ``timer_interval_secs`` (None: back to back) until the coordinator stops.
    An exception in the loop is reported to the coordinator."""

    def __init__(self, coord, timer_interval_secs, target=None, args=None, kwargs=None):
        if not isinstance(coord, Coordinator):
            raise ValueError(f"'coord' argument must be a Coordinator: {coord}")
        super().__init__()
        self.daemon = True
        self._coord = coord
        self._timer_interval_secs = timer_interval_secs
        self._target = target
        if target:
            self._args, self._kwargs = args or (), kwargs or {}
        elif args or kwargs:
            raise ValueError("'args' and 'kwargs' argument require that you also pass 'target'")
        coord.register_thread(self)

    @staticmethod
    def loop(coord, timer_interval_secs, target, args=None, kwargs=None):
        """Starts a `LooperThread` calling ``target`` and returns it."""
        looper = LooperThread(coord, timer_interval_secs, target=target, args=args, kwargs=kwargs)
        looper.start()
        return looper

    def run(self):
        with self._coord.stop_on_exception():
            self.start_loop()
            if self._timer_interval_secs is None:
                while not self._coord.should_stop():
                    self.run_loop()
            else:
                next_time = time.time()
                while not self._coord.wait_for_stop(max(next_time - time.time(), 0)):
                    next_time += self._timer_interval_secs
                    self.run_loop()
            self.stop_loop()

    def start_loop(self):
        """Called once when the thread starts."""

    def stop_loop(self):
        """Called once when the loop ends."""

    def run_loop(self):
        """One iteration: calls ``target``."""
        if self._target:
            self._target(*self._args, **self._kwargs)
