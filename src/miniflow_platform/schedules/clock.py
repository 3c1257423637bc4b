"""A clock tests can move: the schedules read time only through ``Platform.clock``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path


class ManualClock:
    """Returns the time it was set to; ``advance`` moves it (seconds-level cron in tests)."""

    def __init__(self, start: datetime):
        self.now = start.astimezone(UTC)

    def __call__(self) -> datetime:
        return self.now

    def set(self, t: datetime) -> None:
        self.now = t.astimezone(UTC)

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


class FileClock:
    """The time written in a file (ISO 8601), read at each call: a server in another
    process whose clock a test moves (``--clock-file``)."""

    def __init__(self, path: Path):
        self.path = path

    def __call__(self) -> datetime:
        t = datetime.fromisoformat(self.path.read_text().strip())
        return (t if t.tzinfo else t.replace(tzinfo=UTC)).astimezone(UTC)

    def set(self, t: datetime) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(t.isoformat())
        tmp.replace(self.path)  # readers never see a half-written time
