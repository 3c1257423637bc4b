"""`tf.train.Supervisor` (TF1's older training helper) and `basic_train_loop`.

A Supervisor initializes or restores a session through a `SessionManager` and, on the
chief, runs the *standard services* as `LooperThread`s: a checkpoint every
``save_model_secs`` and summaries plus steps/sec every ``save_summaries_secs``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time

from miniflow import errors
from miniflow.graph.graph import GraphKeys, get_default_graph
from miniflow.ops import control_flow_ops, lookup_ops, summary_ops, variables
from miniflow.ops.counter_ops import report_uninitialized_variables
from miniflow.ops.summary_ops import summary_pb2
from miniflow.summary.writer import FileWriter
from miniflow.train import training_util
from miniflow.train.basic_session_run_hooks import _session_log
from miniflow.train.coordinator import Coordinator, LooperThread
from miniflow.train.monitored_session import READY_FOR_LOCAL_INIT_OP, READY_OP, SUMMARY_OP
from miniflow.train.saver import Saver
from miniflow.train.session_manager import SessionManager

_log = logging.getLogger("miniflow")


def _first(graph, key):
    found = graph.get_collection(key)
    return found[0] if found else None


class Supervisor:
    """Creates, initializes or restores a session and runs the standard services.

    Example:
        >>> sv = tf.train.Supervisor(logdir="/tmp/run")
        >>> with sv.managed_session() as sess:
        ...     while not sv.should_stop():
        ...         sess.run(train_op)
    """

    USE_DEFAULT = 0

    def __init__(
        self,
        graph=None,
        ready_op=USE_DEFAULT,
        ready_for_local_init_op=USE_DEFAULT,
        is_chief=True,
        init_op=USE_DEFAULT,
        init_feed_dict=None,
        local_init_op=USE_DEFAULT,
        logdir=None,
        summary_op=USE_DEFAULT,
        saver=USE_DEFAULT,
        global_step=USE_DEFAULT,
        save_summaries_secs=120,
        save_model_secs=600,
        recovery_wait_secs=30,
        stop_grace_secs=120,
        checkpoint_basename="model.ckpt",
        session_manager=None,
        summary_writer=USE_DEFAULT,
        init_fn=None,
        local_init_run_options=None,
    ):
        default = Supervisor.USE_DEFAULT
        graph = graph or get_default_graph()
        with graph.as_default():
            if ready_op is default:
                ready_op = _first(graph, READY_OP)
                if ready_op is None:
                    ready_op = report_uninitialized_variables()
                    graph.add_to_collection(READY_OP, ready_op)
            if ready_for_local_init_op is default:
                ready_for_local_init_op = _first(graph, READY_FOR_LOCAL_INIT_OP)
            if init_op is default:
                init_op = _first(graph, GraphKeys.INIT_OP)
                if init_op is None:
                    init_op = variables.global_variables_initializer()
                    graph.add_to_collection(GraphKeys.INIT_OP, init_op)
            if local_init_op is default:
                local_init_op = _first(graph, GraphKeys.LOCAL_INIT_OP)
                if local_init_op is None:
                    local_init_op = control_flow_ops.group(
                        variables.local_variables_initializer(), lookup_ops.tables_initializer()
                    )
                    graph.add_to_collection(GraphKeys.LOCAL_INIT_OP, local_init_op)
            if saver is default:
                saver = _first(graph, GraphKeys.SAVERS)
                if saver is None and variables.global_variables():
                    saver = Saver()
                    graph.add_to_collection(GraphKeys.SAVERS, saver)
            if summary_op is default:
                summary_op = _first(graph, SUMMARY_OP)
                if summary_op is None:
                    summary_op = summary_ops.merge_all()
                    if summary_op is not None:
                        graph.add_to_collection(SUMMARY_OP, summary_op)
            if global_step is default:
                global_step = training_util.get_global_step(graph)
        self._graph = graph
        self._ready_op, self._ready_for_local_init_op = ready_op, ready_for_local_init_op
        self._init_op, self._init_feed_dict = init_op, init_feed_dict
        self._local_init_op = local_init_op
        self._saver, self._summary_op, self._global_step = saver, summary_op, global_step
        self._is_chief = is_chief
        self._coord = Coordinator()
        self._recovery_wait_secs = recovery_wait_secs
        self._stop_grace_secs = stop_grace_secs
        self._init_fn = init_fn
        self._logdir = self._save_path = self._summary_writer = None
        self._save_summaries_secs = self._save_model_secs = None
        if is_chief:
            self._logdir = logdir
            self._save_summaries_secs, self._save_model_secs = (
                save_summaries_secs,
                save_model_secs,
            )
            if logdir:
                self._save_path = os.path.join(logdir, checkpoint_basename)
            if summary_writer is default:
                self._summary_writer = FileWriter(logdir) if logdir else None
            else:
                self._summary_writer = summary_writer
            self._graph_added_to_summary = False
        self._session_manager = session_manager or SessionManager(
            local_init_op=local_init_op,
            ready_op=ready_op,
            ready_for_local_init_op=ready_for_local_init_op,
            graph=graph,
            recovery_wait_secs=recovery_wait_secs,
            local_init_run_options=local_init_run_options,
        )
        graph.finalize()

    is_chief = property(lambda self: self._is_chief)
    session_manager = property(lambda self: self._session_manager)
    coord = property(lambda self: self._coord)
    init_op = property(lambda self: self._init_op)
    init_feed_dict = property(lambda self: self._init_feed_dict)
    ready_op = property(lambda self: self._ready_op)
    ready_for_local_init_op = property(lambda self: self._ready_for_local_init_op)
    summary_writer = property(lambda self: self._summary_writer)
    summary_op = property(lambda self: self._summary_op)
    save_summaries_secs = property(lambda self: self._save_summaries_secs)
    global_step = property(lambda self: self._global_step)
    saver = property(lambda self: self._saver)
    save_model_secs = property(lambda self: self._save_model_secs)
    save_path = property(lambda self: self._save_path)

    def _write_graph(self):
        if self._summary_writer and not self._graph_added_to_summary:
            self._summary_writer.add_graph(self._graph)
            self._graph_added_to_summary = True

    def start_standard_services(self, sess):
        """Starts the summary, step-counter and checkpoint threads (chief only)."""
        if not self._is_chief:
            raise RuntimeError(
                "Only chief supervisor can start standard services. Because "
                "only chief supervisors can write events."
            )
        if not self._logdir:
            _log.warning("Standard services need a 'logdir' passed to the SessionManager")
            return None
        if self._global_step is not None and self._summary_writer:
            self._summary_writer.add_session_log(
                _session_log("START"), training_util.global_step(sess, self._global_step)
            )
        threads = []
        if self._save_summaries_secs and self._summary_writer:
            if self._summary_op is not None:
                threads.append(_SummaryThread(self, sess))
            if self._global_step is not None:
                threads.append(_StepCounterThread(self, sess))
        if self._saver and self._save_model_secs:
            threads.append(_CheckpointThread(self, sess))
        for t in threads:
            t.start()
        return threads

    def prepare_or_wait_for_session(
        self,
        master="",
        config=None,
        wait_for_checkpoint=False,
        max_wait_secs=7200,
        start_standard_services=True,
    ):
        """A ready session: the chief restores from ``logdir`` or initializes; other
        workers wait for the model to be ready."""
        self._coord.clear_stop()
        if self._summary_writer:
            self._summary_writer.reopen()
        if self._is_chief:
            sess = self._session_manager.prepare_session(
                master,
                init_op=self._init_op,
                saver=self._saver,
                checkpoint_dir=self._logdir,
                wait_for_checkpoint=wait_for_checkpoint,
                max_wait_secs=max_wait_secs,
                config=config,
                init_feed_dict=self._init_feed_dict,
                init_fn=self._init_fn,
            )
            self._write_graph()
            if start_standard_services:
                _log.info("Starting standard services.")
                self.start_standard_services(sess)
        else:
            sess = self._session_manager.wait_for_session(
                master, config=config, max_wait_secs=max_wait_secs
            )
        if start_standard_services:
            _log.info("Starting queue runners.")
            self.start_queue_runners(sess)
        return sess

    def start_queue_runners(self, sess, queue_runners=None):
        """Starts the threads of the graph's queue runners under this coordinator."""
        if queue_runners is None:
            queue_runners = self._graph.get_collection(GraphKeys.QUEUE_RUNNERS)
        threads = []
        for runner in queue_runners:
            threads.extend(runner.create_threads(sess, coord=self._coord, daemon=True, start=True))
        return threads

    def loop(self, timer_interval_secs, target, args=None, kwargs=None):
        """Starts a `LooperThread` calling ``target`` every ``timer_interval_secs``."""
        return LooperThread.loop(self._coord, timer_interval_secs, target, args, kwargs)

    def stop(self, threads=None, close_summary_writer=True, ignore_live_threads=False):
        """Requests stop, joins the threads (re-raising a reported exception), and
        closes the summary writer."""
        self._coord.request_stop()
        try:
            self._coord.join(
                threads,
                stop_grace_period_secs=self._stop_grace_secs,
                ignore_live_threads=ignore_live_threads,
            )
        finally:
            if close_summary_writer and self._summary_writer:
                self._summary_writer.add_session_log(_session_log("STOP"))
                self._summary_writer.close()
                self._graph_added_to_summary = False

    def request_stop(self, ex=None):
        self._coord.request_stop(ex=ex)

    def should_stop(self) -> bool:
        return self._coord.should_stop()

    def stop_on_exception(self):
        return self._coord.stop_on_exception()

    def wait_for_stop(self):
        self._coord.wait_for_stop()

    def summary_computed(self, sess, summary, global_step=None):
        """Writes a summary computed by the caller."""
        if not self._summary_writer:
            raise RuntimeError("Writing a summary requires a summary writer.")
        if global_step is None and self._global_step is not None:
            global_step = training_util.global_step(sess, self._global_step)
        self._summary_writer.add_summary(summary, global_step)

    @contextlib.contextmanager
    def managed_session(
        self, master="", config=None, start_standard_services=True, close_summary_writer=True
    ):
        """Context manager yielding a ready session; on exit stops the services and
        closes the session. An exception in the block stops the coordinator and is
        re-raised (`OutOfRangeError` ends the block cleanly)."""
        sess = None
        try:
            sess = self.prepare_or_wait_for_session(
                master=master, config=config, start_standard_services=start_standard_services
            )
            yield sess
        except Exception as e:  # noqa: BLE001  reported to the coordinator, re-raised by join
            self.request_stop(e)
        finally:
            try:
                self.stop(close_summary_writer=close_summary_writer)
            finally:
                if sess is not None:
                    sess.close()

    PrepareSession = prepare_or_wait_for_session
    StartQueueRunners = start_queue_runners
    StartStandardServices = start_standard_services
    Stop = stop
    RequestStop = request_stop
    Loop = loop
    ShouldStop = should_stop
    StopOnException = stop_on_exception
    WaitForStop = wait_for_stop
    SummaryComputed = summary_computed


class _SummaryThread(LooperThread):
    def __init__(self, sv, sess):
        super().__init__(sv.coord, sv.save_summaries_secs)
        self._sv, self._sess = sv, sess

    def run_loop(self):
        if self._sv.global_step is not None:
            summary, step = self._sess.run([self._sv.summary_op, self._sv.global_step])
        else:
            summary, step = self._sess.run(self._sv.summary_op), None
        _log.info("Recording summary at step %s.", step)
        self._sv.summary_writer.add_summary(summary, step)


class _StepCounterThread(LooperThread):
    def __init__(self, sv, sess):
        super().__init__(sv.coord, sv.save_summaries_secs)
        self._sv, self._sess = sv, sess
        self._tag = f"{sv.global_step.op.name}/sec"

    def start_loop(self):
        self._last_time = time.time()
        self._last_step = training_util.global_step(self._sess, self._sv.global_step)

    def run_loop(self):
        step = training_util.global_step(self._sess, self._sv.global_step)
        now = time.time()
        elapsed = now - self._last_time
        rate = (step - self._last_step) / elapsed if elapsed > 0 else float("inf")
        self._last_step, self._last_time = step, now
        pb = summary_pb2()
        self._sv.summary_writer.add_summary(
            pb.Summary(value=[pb.Summary.Value(tag=self._tag, simple_value=rate)]), step
        )
        _log.info("%s: %g", self._tag, rate)


class _CheckpointThread(LooperThread):
    def __init__(self, sv, sess):
        super().__init__(sv.coord, sv.save_model_secs)
        self._sv, self._sess = sv, sess

    def run_loop(self):
        _log.info("Saving checkpoint to path %s", self._sv.save_path)
        self._sv.saver.save(self._sess, self._sv.save_path, global_step=self._sv.global_step)
        if self._sv.summary_writer and self._sv.global_step is not None:
            self._sv.summary_writer.add_session_log(
                _session_log("CHECKPOINT", self._sv.save_path),
                training_util.global_step(self._sess, self._sv.global_step),
            )


def basic_train_loop(supervisor, train_step_fn, args=None, kwargs=None, master=""):
    """Calls ``train_step_fn(sess, *args, **kwargs)`` until the supervisor stops,
    retrying with a new session after `AbortedError`."""
    args, kwargs = args or [], kwargs or {}
    retry = True
    while retry:
        retry = False
        try:
            with supervisor.managed_session(master) as sess:
                while not supervisor.should_stop():
                    train_step_fn(sess, *args, **kwargs)
        except errors.AbortedError:
            retry = True
