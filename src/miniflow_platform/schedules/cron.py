"""Cron expressions in an IANA time zone, evaluated by cronsim.

Five fields (minute hour day-of-month month day-of-week) or six, where the first is
seconds (cronsim's form, as Quartz and Spring); ``@hourly``, ``@daily`` ... are
expanded here. Times are computed in the schedule's zone, so ``0 2 * * *`` in
Europe/Berlin is 02:00 local time all year; DST follows cron: a time that falls in the
spring-forward gap runs at the first moment after it, and a time in the repeated
autumn hour runs once (an hourly ``0 * * * *`` still runs every real hour).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError

ALIASES = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
MAX_EXPRESSION = 256


class CronError(ValueError):
    """An expression or time zone that cannot be used (the message says which part)."""


def zone(name: str) -> ZoneInfo:
    try:
        if not name or name.startswith(("/", ".")) or ".." in name:
            raise ValueError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise CronError(
            f"unknown time zone {name!r}; use an IANA name such as 'UTC' or 'Europe/Berlin'"
        ) from None


@dataclass(frozen=True)
class Cron:
    """A validated expression in a zone; every time it returns is aware, in UTC."""

    expr: str
    timezone: str

    @classmethod
    def parse(cls, expr: str, timezone: str = "UTC") -> Cron:
        if len(expr) > MAX_EXPRESSION:
            raise CronError(f"cron expression is {len(expr)} characters; at most {MAX_EXPRESSION}")
        tz = zone(timezone)
        text = ALIASES.get(expr.strip().lower(), expr.strip())
        if text.startswith("@"):
            raise CronError(f"unknown cron alias {expr!r}; known: {', '.join(sorted(ALIASES))}")
        try:
            first = next(CronSim(text, datetime(2000, 1, 1, tzinfo=tz)))
        except CronSimError as e:
            raise CronError(f"invalid cron expression {expr!r}: {e}") from None
        except StopIteration:
            first = None
        if first is None:
            raise CronError(f"cron expression {expr!r} never matches a date")
        return cls(text, timezone)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def _iter(self, start: datetime, reverse: bool = False) -> Iterator[datetime]:
        local = start.astimezone(self.zone)
        for t in CronSim(self.expr, local, reverse=reverse):
            yield t.astimezone(UTC)

    def next_after(self, t: datetime) -> datetime | None:
        """The first time strictly after ``t``."""
        return next(self._iter(t), None)

    def following(self, t: datetime, n: int) -> list[datetime]:
        """The ``n`` times after ``t``."""
        return list(itertools.islice(self._iter(t), n))

    def times(self, after: datetime, until: datetime, limit: int) -> list[datetime]:
        """Times in ``(after, until]``, oldest first, at most ``limit`` of them."""
        out: list[datetime] = []
        for t in self._iter(after):
            if t > until or len(out) >= limit:
                break
            out.append(t)
        return out

    def latest(self, after: datetime, until: datetime, limit: int) -> list[datetime]:
        """The newest ``limit`` times in ``(after, until]``, oldest first."""
        out: list[datetime] = []
        if until <= after:
            return out
        for t in self._iter(until + timedelta(microseconds=1), reverse=True):  # until included
            if t <= after or len(out) >= limit:
                break
            out.append(t)
        return out[::-1]
