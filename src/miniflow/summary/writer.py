"""`tf.summary.FileWriter`: TensorBoard event files, written through tensorboardX's
record writer (the optional ``tensorboard`` extra)."""

from __future__ import annotations

import itertools
import os
import time
import weakref

from miniflow import errors
from miniflow.ops.summary_ops import summary_pb2


def _tbx():
    try:
        from tensorboardX import event_file_writer
        from tensorboardX.proto import event_pb2, graph_pb2, node_def_pb2
    except ImportError:
        summary_pb2()  # raises the error naming the extra
        raise
    return event_file_writer, event_pb2, graph_pb2, node_def_pb2


class FileWriter:
    """Writes summaries and graphs to an event file in ``logdir`` for TensorBoard.

    Args:
        logdir: the directory (created if needed).
        graph: a `Graph` to write at once (as `add_graph` does).

    Example:
        >>> writer = tf.summary.FileWriter("/tmp/logs", sess.graph)
        >>> writer.add_summary(sess.run(merged), global_step=step)
        >>> writer.close()
    """

    def __init__(
        self,
        logdir,
        graph=None,
        max_queue=10,
        flush_secs=120,
        graph_def=None,
        filename_suffix=None,
        session=None,
    ):
        efw, self._event_pb2, self._graph_pb2, self._node_def_pb2 = _tbx()
        self._logdir = os.fspath(logdir)
        os.makedirs(self._logdir, exist_ok=True)
        self._max_queue, self._flush_secs = max_queue, flush_secs
        self._suffix = filename_suffix or ""
        self._efw = efw
        self._open()
        if graph is not None or graph_def is not None:
            self.add_graph(graph, graph_def=graph_def)

    def _open(self):
        # Events are written synchronously (no writer thread): a flush really is on disk.
        # pid and a counter keep two writers in one second from sharing a file name.
        unique = f".{os.getpid()}.{next(_counter)}{self._suffix}"
        self._writer = self._efw.EventsWriter(os.path.join(self._logdir, "events"), unique)
        # A writer dropped (or alive at exit) without close() still gets its events on disk.
        # finalize runs its function at most once, so close() goes through it too.
        self._finalizer = weakref.finalize(self, self._writer.close)
        self._pending = 0
        self._last_flush = time.time()
        self._closed = False

    def get_logdir(self) -> str:
        return self._logdir

    def add_event(self, event) -> None:
        if self._closed:
            raise RuntimeError(f"FileWriter for {self._logdir} is closed; call reopen().")
        self._writer.write_event(event)
        self._pending += 1
        if self._pending >= self._max_queue or time.time() - self._last_flush > self._flush_secs:
            self.flush()

    def add_summary(self, summary, global_step=None) -> None:
        """Adds a ``Summary`` (serialized bytes from a summary op, or a proto) at step
        ``global_step``.

        Raises:
            InvalidArgumentError: ``summary`` is not a serialized Summary.
        """
        pb = summary_pb2()
        if not isinstance(summary, pb.Summary):
            raw = summary.item() if hasattr(summary, "item") else summary
            parsed = pb.Summary()
            try:
                parsed.ParseFromString(bytes(raw))
            except Exception as e:  # noqa: BLE001  protobuf raises its own DecodeError
                raise errors.InvalidArgumentError(
                    None,
                    None,
                    f"add_summary needs a serialized Summary (a summary op's value): {e}",
                ) from None
            summary = parsed
        event = self._event_pb2.Event(wall_time=time.time(), summary=summary)
        if global_step is not None:
            event.step = int(global_step)
        self.add_event(event)

    def add_graph(self, graph, global_step=None, graph_def=None) -> None:
        """Adds ``graph`` (ops, inputs, control inputs) for TensorBoard's graph view."""
        if graph_def is None:
            graph_def = self._graph_pb2.GraphDef(
                node=[
                    self._node_def_pb2.NodeDef(
                        name=op.name,
                        op=op.type,
                        input=[t.name if t.value_index else t.op.name for t in op.inputs]
                        + [f"^{c.name}" for c in op.control_inputs],
                    )
                    for op in graph.get_operations()
                ]
            )
        event = self._event_pb2.Event(
            wall_time=time.time(), graph_def=graph_def.SerializeToString()
        )
        if global_step is not None:
            event.step = int(global_step)
        self.add_event(event)

    def add_session_log(self, session_log, global_step=None) -> None:
        event = self._event_pb2.Event(wall_time=time.time(), session_log=session_log)
        if global_step is not None:
            event.step = int(global_step)
        self.add_event(event)

    def add_run_metadata(self, run_metadata, tag, global_step=None) -> None:
        """Accepted for TF compatibility; miniflow records no run metadata."""

    def flush(self) -> None:
        """Writes pending events to disk."""
        if not self._closed:
            self._writer.flush()
            self._pending = 0
            self._last_flush = time.time()

    def close(self) -> None:
        """Flushes and closes the event file."""
        if not self._closed:
            self._finalizer()  # EventsWriter.close flushes
            self._closed = True

    def reopen(self) -> None:
        """After `close`, continues in a new event file in the same directory."""
        if self._closed:
            self._open()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


_counter = itertools.count()
