"""`tf.train.QueueRunner`: threads that keep running a queue's enqueue ops.

Each enqueue op gets its own thread, running it until it fails. An `OutOfRangeError`
(an input queue upstream was closed and drained) ends that thread; the last one to end
closes the queue, so its consumers drain it and then see `OutOfRangeError` themselves.
With a `Coordinator`, one more thread waits for a stop request and then closes the queue
with ``cancel_pending_enqueues``, which wakes every blocked enqueue: `coord.join` then
finds all threads ended.
"""

from __future__ import annotations

import logging
import threading
import weakref

from miniflow import errors
from miniflow.graph.graph import GraphKeys, get_default_graph
from miniflow.graph.session import get_default_session

_log = logging.getLogger("miniflow")


class QueueRunner:
    """Holds a queue, the ops that enqueue into it, and the ops that close it.

    QueueRunner(queue=None, enqueue_ops=None, close_op=None, cancel_op=None,
    queue_closed_exception_types=None, queue_runner_def=None, import_scope=None)
    """

    def __init__(
        self,
        queue=None,
        enqueue_ops=None,
        close_op=None,
        cancel_op=None,
        queue_closed_exception_types=None,
        queue_runner_def=None,
        import_scope=None,
    ):
        if queue_runner_def is not None:
            raise errors.UnimplementedError(
                None, None, "QueueRunner from a QueueRunnerDef is not supported by miniflow"
            )
        if not queue or not enqueue_ops:
            raise ValueError("Must provide queue and enqueue_ops.")
        self._queue = queue
        self._enqueue_ops = list(enqueue_ops)
        self._close_op = close_op if close_op is not None else queue.close()
        self._cancel_op = (
            cancel_op if cancel_op is not None else queue.close(cancel_pending_enqueues=True)
        )
        types = queue_closed_exception_types or (errors.OutOfRangeError,)
        if not isinstance(types, tuple) or not all(
            isinstance(t, type) and issubclass(t, errors.OpError) for t in types
        ):
            raise TypeError(
                "queue_closed_exception_types, if provided, must be a tuple of "
                f"tf.error types, but saw: {queue_closed_exception_types}"
            )
        self._queue_closed_exception_types = types
        self._lock = threading.Lock()
        self._runs_per_session: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._exceptions_raised: list = []

    @property
    def queue(self):
        return self._queue

    @property
    def enqueue_ops(self):
        return self._enqueue_ops

    @property
    def close_op(self):
        return self._close_op

    @property
    def cancel_op(self):
        return self._cancel_op

    @property
    def queue_closed_exception_types(self):
        return self._queue_closed_exception_types

    @property
    def exceptions_raised(self) -> list:
        """Exceptions raised by the threads when no coordinator was given."""
        return self._exceptions_raised

    @property
    def name(self) -> str:
        return self._queue.name

    def _run(self, sess, enqueue_op, coord=None):
        decremented = False
        try:
            while not (coord and coord.should_stop()):
                try:
                    sess.run(enqueue_op)
                except self._queue_closed_exception_types:
                    with self._lock:
                        self._runs_per_session[sess] -= 1
                        decremented = True
                        if self._runs_per_session[sess] == 0:
                            try:
                                sess.run(self._close_op)
                            except Exception as e:  # noqa: BLE001  as TF: logged, ignored
                                _log.debug("Ignored exception: %s", e)
                    return
        except Exception as e:  # noqa: BLE001  reported to the coordinator
            if coord:
                coord.request_stop(e)
            else:
                _log.error("Exception in QueueRunner: %s", e)
                with self._lock:
                    self._exceptions_raised.append(e)
                raise
        finally:
            if not decremented:
                with self._lock:
                    self._runs_per_session[sess] -= 1

    def _close_on_stop(self, sess, cancel_op, coord):
        coord.wait_for_stop()
        try:
            sess.run(cancel_op)
        except Exception as e:  # noqa: BLE001  the session may be closed already
            _log.debug("Ignored exception: %s", e)

    def create_threads(self, sess, coord=None, daemon=False, start=False) -> list:
        """Creates (and with ``start`` starts) one thread per enqueue op, plus one that
        closes the queue when ``coord`` is asked to stop. Returns [] if this runner's
        threads are already running in ``sess``."""
        with self._lock:
            if self._runs_per_session.get(sess, 0) > 0:
                return []
            self._runs_per_session[sess] = len(self._enqueue_ops)
            self._exceptions_raised = []
        threads = [
            threading.Thread(
                target=self._run,
                args=(sess, op, coord),
                name=f"QueueRunnerThread-{self.name}-{op.name}",
            )
            for op in self._enqueue_ops
        ]
        if coord:
            threads.append(
                threading.Thread(
                    target=self._close_on_stop,
                    args=(sess, self._cancel_op, coord),
                    name=f"QueueRunnerThread-{self.name}-close",
                )
            )
        for t in threads:
            if coord:
                coord.register_thread(t)
            if daemon:
                t.daemon = True
            if start:
                t.start()
        return threads


def add_queue_runner(qr, collection=GraphKeys.QUEUE_RUNNERS) -> None:
    """Adds ``qr`` to the graph collection (default ``GraphKeys.QUEUE_RUNNERS``)."""
    get_default_graph().add_to_collection(collection, qr)


def start_queue_runners(
    sess=None, coord=None, daemon=True, start=True, collection=GraphKeys.QUEUE_RUNNERS
) -> list:
    """Starts the threads of every queue runner in the graph's collection; returns them.

    Raises:
        ValueError: no session was given and there is no default session.
    """
    from miniflow.core.dispatch import current_frontend

    if current_frontend().eager:
        raise RuntimeError("Queues are not compatible with eager execution.")
    if sess is None:
        sess = get_default_session()
        if not sess:
            raise ValueError(
                "Cannot start queue runners: No default session is registered. "
                "Use `with sess.as_default()` or pass an explicit session to "
                "tf.start_queue_runners(sess=sess)"
            )
    monitored = type(sess).__name__ in ("MonitoredSession", "SingularMonitoredSession")
    if monitored:  # those start their queue runners themselves
        return []
    with sess.graph.as_default():
        threads = []
        for qr in sess.graph.get_collection(collection):
            threads.extend(qr.create_threads(sess, coord=coord, daemon=daemon, start=start))
    return threads
