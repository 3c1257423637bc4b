"""The reconcile loop: every tick, poll what runs and start what fits.

Each step is a plain function ``step(platform, session)`` owned by its domain
(``jobs.service.sync_running`` ...). The first tick after start-up is the restart
reconciliation: runs that survived a server crash are found again through their run
directories, runs that vanished are marked FAILED with a reason, and queued jobs
simply stay queued.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

from sqlalchemy.orm import Session

from miniflow_platform.context import Platform

log = logging.getLogger(__name__)
Step = Callable[[Platform, Session], object]


class Scheduler:
    def __init__(self, platform: Platform, steps: Sequence[Step]):
        self.platform = platform
        self.steps = list(steps)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self) -> None:
        for step in self.steps:
            try:
                with self.platform.lock, self.platform.sessions() as session:
                    step(self.platform, session)
            except Exception:  # one failing step must not stop the loop
                log.exception("scheduler step %s failed", getattr(step, "__qualname__", step))

    def start(self) -> None:
        self.tick()  # reconcile before serving the first request
        self._thread = threading.Thread(target=self._loop, name="miniflow-scheduler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _loop(self) -> None:
        while not self._stop.wait(self.platform.settings.poll_interval_s):
            self.tick()
