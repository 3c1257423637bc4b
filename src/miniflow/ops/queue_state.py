"""The state behind a queue op: its elements and the threads waiting on it.

A queue lives in the session that runs its ops (like a variable's value), so two sessions
have independent queues. Every blocking operation waits on one condition variable and
wakes up when the queue changes, when it is closed, when the session closes, or when the
run's deadline (`RunOptions.timeout_in_ms`) passes. Enqueues are served one at a time, in
arrival order, as are dequeues; a batch is taken element by element as elements arrive,
so a batch larger than the capacity still completes, as in TF.
"""

from __future__ import annotations

import collections
import heapq
import itertools
import threading
import time

import numpy as np

from miniflow import errors


class QueueState:
    """A FIFO queue of tuples of arrays (subclasses change the order of removal)."""

    kind = "FIFOQueue"

    def __init__(self, name, capacity, dtypes, shapes, min_after_dequeue=0, seed=None):
        self.name = name
        self.capacity = capacity if capacity is not None and capacity >= 0 else None
        self.dtypes = dtypes
        self.shapes = shapes  # tuple of dims per component, or None when unknown
        self.min_after_dequeue = min_after_dequeue
        self.cond = threading.Condition()
        self.enqueue_turn = threading.Lock()
        self.dequeue_turn = threading.Lock()
        self.closed = False
        self.cancel_enqueues = False
        self.session_gone = False
        self._init_store(seed)

    # -- storage (overridden by the other queue kinds) --------------------------------
    def _init_store(self, seed):
        self.items = collections.deque()

    def _push(self, element):
        self.items.append(element)

    def _pop(self):
        return self.items.popleft()

    def _restore(self, taken):
        self.items.extendleft(reversed(taken))

    def _ready(self):
        return len(self.items) > 0

    def size(self) -> int:
        return len(self.items)

    # -- lifecycle --------------------------------------------------------------------
    def close(self, cancel_pending_enqueues=False):
        with self.cond:
            self.closed = True
            if cancel_pending_enqueues:
                self.cancel_enqueues = True
            self.cond.notify_all()

    def session_closed(self):
        """Called by `Session.close`: every blocked op of this queue is cancelled."""
        with self.cond:
            self.session_gone = True
            self.cond.notify_all()

    # -- blocking ---------------------------------------------------------------------
    def _wait(self, deadline, enqueue):
        """Waits once for a change; raises if the wait itself must end."""
        if self.session_gone:
            raise errors.CancelledError(None, None, "Session has been closed.")
        if enqueue and self.cancel_enqueues:
            raise errors.CancelledError(None, None, "Enqueue operation was cancelled")
        if deadline is None:
            self.cond.wait()
            return
        left = deadline - time.monotonic()
        if left <= 0 or not self.cond.wait(left) and time.monotonic() >= deadline:
            raise errors.DeadlineExceededError(None, None, "Timed out waiting for notification")

    @staticmethod
    def _take_turn(lock, deadline):
        if deadline is None:
            lock.acquire()
        elif not lock.acquire(timeout=max(0.0, deadline - time.monotonic())):
            raise errors.DeadlineExceededError(None, None, "Timed out waiting for notification")

    def _closed_error(self):
        return errors.CancelledError(None, None, f"{self.kind} '{self.name}' is closed.")

    def enqueue(self, elements, deadline=None):
        """Adds the elements in order, waiting for room when the queue is full."""
        self._take_turn(self.enqueue_turn, deadline)
        try:
            with self.cond:
                if self.closed or self.session_gone:
                    raise self._closed_error()
                for element in elements:
                    while self.capacity is not None and self.size() >= self.capacity:
                        self._wait(deadline, enqueue=True)
                    self._push(element)
                    self.cond.notify_all()
        finally:
            self.enqueue_turn.release()

    def dequeue(self, n, up_to=False, deadline=None):
        """Removes ``n`` elements (fewer with ``up_to`` once the queue is closed)."""
        self._take_turn(self.dequeue_turn, deadline)
        try:
            with self.cond:
                taken = []
                try:
                    while len(taken) < n:
                        if self._ready() or self.closed and self.size():
                            taken.append(self._pop())
                            self.cond.notify_all()
                        elif self.closed:
                            if up_to and taken:
                                break
                            raise self._insufficient(n, taken)
                        else:
                            self._wait(deadline, enqueue=False)
                except BaseException:
                    self._restore(taken)
                    raise
                return taken
        finally:
            self.dequeue_turn.release()

    def _insufficient(self, n, taken):
        return errors.OutOfRangeError(
            None,
            None,
            f"{self.kind} '{self.name}' is closed and has insufficient elements "
            f"(requested {n}, current size {self.size() + len(taken)})",
        )


class RandomShuffleQueueState(QueueState):
    """Removes a uniformly random element, keeping ``min_after_dequeue`` until closed."""

    kind = "RandomShuffleQueue"

    def _init_store(self, seed):
        self.items = []
        self.rng = np.random.default_rng(seed)

    def _push(self, element):
        self.items.append(element)

    def _pop(self):
        i = int(self.rng.integers(len(self.items)))
        items = self.items
        items[i], items[-1] = items[-1], items[i]
        return items.pop()

    def _restore(self, taken):
        self.items.extend(taken)

    def _ready(self):
        return len(self.items) > self.min_after_dequeue


class PaddingFIFOQueueState(QueueState):
    kind = "PaddingFIFOQueue"


class PriorityQueueState(QueueState):
    """Removes the element with the smallest priority (component 0) first; equal
    priorities leave in insertion order."""

    kind = "PriorityQueue"

    def _init_store(self, seed):
        self.items = []
        self.counter = itertools.count()

    def _push(self, element):
        heapq.heappush(self.items, (int(element[0]), next(self.counter), element))

    def _pop(self):
        return heapq.heappop(self.items)[2]

    def _restore(self, taken):
        for element in taken:
            self._push(element)
