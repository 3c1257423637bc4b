"""Cron expressions of schedules: validation, next times against a brute-force evaluator
and hand-computed lists across DST changes (no server)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings, strategies as st

from miniflow_platform.schedules.cron import Cron, CronError


def utc(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def brute_force(expr: str, tz: str, after: datetime, n: int) -> list[datetime]:
    """Walk every minute (UTC) and keep those whose local wall time matches the fields:
    an oracle independent of cronsim, valid where no DST change is crossed."""
    minute, hour, dom, month, dow = expr.split()

    def matches(field: str, value: int, lo: int, hi: int) -> bool:
        for part in field.split(","):
            step = 1
            if "/" in part:
                part, step_text = part.split("/")
                step = int(step_text)
            if part == "*":
                start, stop = lo, hi
            elif "-" in part:
                start, stop = map(int, part.split("-"))
            else:
                start = stop = int(part)
            if start <= value <= stop and (value - start) % step == 0:
                return True
        return False

    out = []
    t = after.replace(second=0, microsecond=0) + timedelta(minutes=1)
    zone = ZoneInfo(tz)
    while len(out) < n:
        local = t.astimezone(zone)
        day_ok = matches(dom, local.day, 1, 31)
        dow_ok = matches(dow, local.isoweekday() % 7, 0, 6)
        # Vixie cron: day-of-month OR day-of-week when both are restricted; a field that
        # starts with "*" (even "*/10") counts as unrestricted, so then both must hold.
        restricted = not dom.startswith("*") and not dow.startswith("*")
        if (
            matches(minute, local.minute, 0, 59)
            and matches(hour, local.hour, 0, 23)
            and matches(month, local.month, 1, 12)
            and ((day_ok or dow_ok) if restricted else (day_ok and dow_ok))
        ):
            out.append(t)
        t += timedelta(minutes=1)
    return out


@settings(max_examples=10, deadline=None)
@given(
    minute=st.sampled_from(["*/15", "0", "5,35", "10-20/5", "59"]),
    hour=st.sampled_from(["*", "3", "9-17", "*/6"]),
    dom=st.sampled_from(["*", "1", "15", "*/10"]),
    dow=st.sampled_from(["*", "1-5", "0", "6"]),
    tz=st.sampled_from(["UTC", "Asia/Tokyo", "America/Sao_Paulo"]),  # no DST in 2026
)
def test_next_times_match_a_brute_force_evaluator(minute, hour, dom, dow, tz):
    expr = f"{minute} {hour} {dom} * {dow}"
    start = utc(2026, 5, 3, 7, 41)
    cron = Cron.parse(expr, tz)
    expected = brute_force(expr, tz, start, 6)
    got = [cron.next_after(start)]
    got += cron.following(got[0], 5)
    assert got == expected
    until = expected[-1]
    assert cron.times(start, until, 100) == expected
    assert cron.latest(start, until, 3) == expected[-3:]
    assert cron.latest(start, until, 100) == expected


def test_seconds_field_comes_first():
    cron = Cron.parse("*/20 * * * * *")
    assert cron.following(utc(2026, 1, 1, 0, 0, 5), 4) == [
        utc(2026, 1, 1, 0, 0, 20),
        utc(2026, 1, 1, 0, 0, 40),
        utc(2026, 1, 1, 0, 1, 0),
        utc(2026, 1, 1, 0, 1, 20),
    ]
    assert Cron.parse("30 15 10 * * *").next_after(utc(2026, 1, 1)) == utc(2026, 1, 1, 10, 15, 30)
    # (after, until]: the lower end is excluded, the upper one included
    assert cron.times(utc(2026, 1, 1), utc(2026, 1, 1, 0, 1), 10) == [
        utc(2026, 1, 1, 0, 0, 20),
        utc(2026, 1, 1, 0, 0, 40),
        utc(2026, 1, 1, 0, 1, 0),
    ]
    assert cron.latest(utc(2026, 1, 1), utc(2026, 1, 1, 0, 1), 1) == [utc(2026, 1, 1, 0, 1)]


def test_daily_time_across_berlin_dst_runs_once_a_day_at_local_time():
    cron = Cron.parse("30 2 * * *", "Europe/Berlin")
    # Hand-computed. 2026-03-29 02:00 CET jumps to 03:00 CEST: 02:30 does not exist and
    # runs at the first moment after the gap (03:00 CEST = 01:00 UTC), as cron does.
    # 2026-10-25 03:00 CEST falls back to 02:00 CET: 02:30 happens twice, runs once.
    spring = cron.following(utc(2026, 3, 27, 12), 4)
    assert spring == [
        utc(2026, 3, 28, 1, 30),  # 02:30 CET (+1)
        utc(2026, 3, 29, 1, 0),  # 03:00 CEST, the gap's end
        utc(2026, 3, 30, 0, 30),  # 02:30 CEST (+2)
        utc(2026, 3, 31, 0, 30),
    ]
    autumn = cron.following(utc(2026, 10, 23, 12), 4)
    assert autumn == [
        utc(2026, 10, 24, 0, 30),  # 02:30 CEST
        utc(2026, 10, 25, 0, 30),  # the first 02:30 (CEST), not also 01:30 UTC
        utc(2026, 10, 26, 1, 30),  # 02:30 CET
        utc(2026, 10, 27, 1, 30),
    ]


def test_hourly_across_new_york_dst_follows_real_hours():
    cron = Cron.parse("@hourly", "America/New_York")
    # 2026-11-01 02:00 EDT falls back to 01:00 EST: the hour 01:xx happens twice and an
    # hourly schedule runs in each real hour (every 60 minutes of UTC time).
    got = cron.following(utc(2026, 11, 1, 3, 30), 4)
    assert got == [
        utc(2026, 11, 1, 4),
        utc(2026, 11, 1, 5),
        utc(2026, 11, 1, 6),
        utc(2026, 11, 1, 7),
    ]
    local = [t.astimezone(ZoneInfo("America/New_York")).strftime("%H:%M%z") for t in got]
    assert local == ["00:00-0400", "01:00-0400", "01:00-0500", "02:00-0500"]
    # 2026-03-08 02:00 EST jumps to 03:00 EDT: no 02:00 that day
    got = cron.following(utc(2026, 3, 8, 5, 30), 3)
    assert got == [utc(2026, 3, 8, 6), utc(2026, 3, 8, 7), utc(2026, 3, 8, 8)]
    local = [t.astimezone(ZoneInfo("America/New_York")).strftime("%H:%M") for t in got]
    assert local == ["01:00", "03:00", "04:00"]


@pytest.mark.parametrize(
    ("expr", "tz", "message"),
    [
        ("* * *", "UTC", "invalid cron expression '* * *': Wrong number of fields"),
        ("61 * * * *", "UTC", "Bad minute"),
        ("* 24 * * *", "UTC", "Bad hour"),
        ("*/0 * * * *", "UTC", "Bad minute"),
        ("0 0 30 2 *", "UTC", "Bad day-of-month"),
        ("0 0 * * 8", "UTC", "Bad day-of-week"),
        ("@reboot", "UTC", "unknown cron alias '@reboot'"),
        ("* * * * *", "Mars/Olympus", "unknown time zone 'Mars/Olympus'"),
        ("* * * * *", "../../etc/passwd", "unknown time zone"),
        ("* * * * *", "", "unknown time zone"),
        ("1 " * 200, "UTC", "at most 256"),
    ],
)
def test_bad_expressions_and_zones_are_refused_with_the_part_named(expr, tz, message):
    with pytest.raises(CronError, match=message.replace("*", r"\*").replace("(", r"\(")):
        Cron.parse(expr, tz)


def test_aliases_expand():
    assert Cron.parse("@daily").expr == "0 0 * * *"
    assert Cron.parse("@WEEKLY").next_after(utc(2026, 12, 7)) == utc(2026, 12, 13)  # a Sunday
